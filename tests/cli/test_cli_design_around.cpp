// `crossroads design-around` as tools see it (DESIGN.md contract): the JSON shape, the cases of
// tests/analysis/test_design_around.cpp through the binary (sources named there), the default
// edition, the table for people, and usage errors naming the unknown chip or edition.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

namespace {

const json* findChange(const json& out, const std::string& to, const std::string& kind) {
    for (const json& c : out["changes"])
        if (c["to"] == to && c["kind"] == kind)
            return &c;
    return nullptr;
}

} // namespace

class TestCliDesignAround : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    using Run = crossroads::testing::CliRun;

    Run crossroads(const QStringList& arguments) {
        return crossroads::testing::runCrossroads(dir_.filePath(QStringLiteral("store.sqlite")),
                                                  arguments);
    }

    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(dir_.filePath(QStringLiteral("store.sqlite")),
                                                      arguments);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void jsonFollowsTheContract() {
        const json out = runJson(
            {"design-around", "--chip", "H100 SXM5 80GB", "--edition", "2023-10", "--json"});
        QVERIFY(out["chip"] == "H100 SXM5 80GB");
        QVERIFY(out["edition"] == "2023-10");
        QVERIFY(out["paragraph"] == "a");
        QVERIFY(!out["margins"].empty());
        for (const json& m : out["margins"])
            for (const char* key :
                 {"clause", "metric", "figure", "op", "threshold", "margin_percent"})
                QVERIFY2(m.contains(key), key);
        for (const json& c : out["changes"])
            for (const char* key : {"to", "kind", "factor", "value", "result_paragraph"})
                QVERIFY2(c.contains(key), key);
        for (const json& p : out["precedents"])
            QVERIFY(p.contains("chip") && p.contains("note"));
        // 3A090.a.1: TPP 15,832 -> under 4,800 (export-rules.md; chips.csv): x0.3031 -> .b.
        const json* derate = findChange(out, "outside 3A090.a", "derate");
        QVERIFY(derate);
        const double f = (*derate)["factor"].get<double>();
        QVERIFY(f < 4800.0 / 15832 && f > 4800.0 / 15832 * 0.999);
        QVERIFY((*derate)["result_paragraph"] == "b");
        QVERIFY((*derate)["value"].is_null());
        // a.1 tests TPP only: no die area leaves .a.
        const json* area = findChange(out, "outside 3A090.a", "die_area");
        QVERIFY(area);
        QVERIFY((*area)["factor"].is_null() && (*area)["result_paragraph"].is_null());
    }

    void a100UnderTheFirstRule() {
        // 2022-10 a.1: I/O >= 600 GB/s and TPP >= 4,800; the A800 cut NVLink to 400 GB/s.
        const json out = runJson(
            {"design-around", "--chip", "A100 SXM4 80GB", "--edition", "2022-10", "--json"});
        const json* io = findChange(out, "outside 3A090", "io");
        QVERIFY(io);
        const double v = (*io)["value"].get<double>();
        QVERIFY(v < 600 && v > 599);
        QVERIFY((*io)["result_paragraph"] == "none");
        bool a800 = false;
        for (const json& p : out["precedents"])
            a800 = a800 || p["chip"] == "A800 SXM4 80GB (China)";
        QVERIFY(a800);
    }

    void h20UnderTheLetters() {
        // The 2025-04 letters: the H20's 4,000 GB/s memory bandwidth (NVIDIA 8-K 2025-04-15).
        const json out =
            runJson({"design-around", "--chip", "H20 (China)", "--edition", "2025-04", "--json"});
        QVERIFY(out["paragraph"] == "none");
        const json* mb = findChange(out, "outside the 2025-04 heuristic", "memory_bandwidth");
        QVERIFY(mb);
        const double v = (*mb)["value"].get<double>();
        QVERIFY(v < 4000 && v > 3990);
        QVERIFY(findChange(out, "outside 3A090", "derate") == nullptr);
    }

    void defaultEditionAndTable() {
        const Run r = crossroads({"design-around", "--chip", "H100 SXM5 80GB"});
        QCOMPARE(r.code, 0);
        const QString text = QString::fromUtf8(r.out);
        QVERIFY2(text.contains("under 2026-01"), qPrintable(text)); // the newest in force
        QVERIFY(text.contains("Margins to the thresholds"));
        QVERIFY(text.contains("not reachable"));
        QVERIFY(text.contains("H800 SXM5 (China)"));
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown chip")
            << QStringList{"design-around", "--chip", "No Such Chip"} << "No Such Chip";
        QTest::newRow("unknown edition")
            << QStringList{"design-around", "--chip", "H100 SXM5 80GB", "--edition", "1999-01"}
            << "1999-01";
        QTest::newRow("no chip") << QStringList{"design-around"} << "--chip";
    }

    void usageErrors() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, 2);
        QVERIFY(r.out.isEmpty());
        const QString err = QString::fromUtf8(r.err);
        QVERIFY2(err.contains(message), qPrintable(err));
        QCOMPARE(err.trimmed().count(QLatin1Char('\n')), 0); // one line
    }
};

QTEST_GUILESS_MAIN(TestCliDesignAround)
#include "test_cli_design_around.moc"
