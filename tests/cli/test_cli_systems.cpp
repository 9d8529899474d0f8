// `crossroads systems` as tools see it on a fresh store: the bundled examples (DGX H100 = 8 x H100
// SXM5 -> 4A090.a, aggregate TPP 126,656; HGX H20 -> not 4A090.a/.b), --system "NAME=N x CHIP",
// systems within an allocation (26,900,000 / 126,656 = 212 DGX H100s), usage errors.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

namespace {

const json* resultFor(const json& out, const std::string& name) {
    for (const json& r : out["results"])
        if (r["name"] == name)
            return &r;
    return nullptr;
}

} // namespace

class TestCliSystems : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    using Run = crossroads::testing::CliRun;

    QString db() const { return dir_.filePath(QStringLiteral("store.sqlite")); }
    Run crossroads(const QStringList& arguments) {
        return crossroads::testing::runCrossroads(db(), arguments);
    }
    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(db(), arguments);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void bundledExamples_data() {
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("system");
        QTest::addColumn<QString>("eccn");
        QTest::addColumn<double>("aggregateTpp");
        QTest::newRow("DGX H100, 2023-10") << "2023-10"
                                           << "DGX H100"
                                           << "4A090.a" << 8 * 15832.0;
        QTest::newRow("HGX H20, 2023-10") << "2023-10"
                                          << "HGX H20"
                                          << "none" << 8 * 2368.0;
        // Under 2022-10 the H800's NVLink (400 GB/s < 600) keeps it, and its box, out.
        QTest::newRow("HGX H800, 2022-10") << "2022-10"
                                           << "HGX H800"
                                           << "none" << 8 * 15832.0;
        QTest::newRow("HGX H800, 2023-10") << "2023-10"
                                           << "HGX H800"
                                           << "4A090.a" << 8 * 15832.0;
    }
    void bundledExamples() {
        QFETCH(QString, edition);
        QFETCH(QString, system);
        QFETCH(QString, eccn);
        QFETCH(double, aggregateTpp);
        const json out = runJson({"systems", "--edition", edition, "--json"});
        QVERIFY(out.is_object());
        QCOMPARE(QString::fromStdString(out["edition"].get<std::string>()), edition);
        QVERIFY(out["allocation"].is_null());
        QVERIFY(out["missing"].empty());
        const json* r = resultFor(out, system.toStdString());
        QVERIFY(r);
        QCOMPARE(QString::fromStdString((*r)["eccn"].get<std::string>()), eccn);
        QCOMPARE((*r)["aggregate_tpp"].get<double>(), aggregateTpp);
        QCOMPARE((*r)["chip_count"].get<int>(), 8);
        QVERIFY((*r)["systems_within_allocation"].is_null());
        QVERIFY(!(*r)["citation"]["text"].get<std::string>().empty());
        for (const char* key : {"name", "chip", "chip_paragraph", "chip_classes", "reason"})
            QVERIFY2(r->contains(key), key);
    }

    void givenSystemsAndAllocation() {
        const json out =
            runJson({"systems", "--system", "DGX H100=8 x H100 SXM5 80GB", "--system",
                     "CloudMatrix=384 x Ascend 910C", "--allocation", "lpp", "--json"});
        QCOMPARE(out["results"].size(), size_t(2));
        QCOMPARE(out["allocation"]["allocation_tpp"].get<double>(), 26.9e6);
        QCOMPARE(out["allocation"]["edition"].get<std::string>(), std::string("2025-01"));
        const json& dgx = *resultFor(out, "DGX H100");
        QCOMPARE(dgx["systems_within_allocation"].get<int>(), 212); // 26.9e6 / 126,656
        QCOMPARE(dgx["chips_within_allocation"].get<int>(), 212 * 8);
        // 384 x 12,032 (Ascend 910C: BF16 752 x 16) = 4,620,288 -> 5 within 26,900,000.
        const json& cm = *resultFor(out, "CloudMatrix");
        QCOMPARE(cm["aggregate_tpp"].get<double>(), 384 * 752.0 * 16);
        QCOMPARE(cm["systems_within_allocation"].get<int>(), 5);
        QCOMPARE(cm["citation"]["text"].get<std::string>(),
                 std::string("given on the command line"));
    }

    void textOutput() {
        const Run r = crossroads({"systems", "--allocation", "tier2"});
        QCOMPARE(r.code, 0);
        const QString text = QString::fromUtf8(r.out);
        QVERIFY2(text.contains(QStringLiteral("DGX H100")), r.out.constData());
        QVERIFY(text.contains(QStringLiteral("4A090.a")));
        QVERIFY(text.contains(QStringLiteral("126,656")));
        QVERIFY(text.contains(QStringLiteral("Systems within")));
    }

    void errors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("named");
        QTest::newRow("bad syntax")
            << QStringList{"systems", "--system", "DGX H100 8 H100"} << 2 << "DGX H100 8 H100";
        QTest::newRow("bad count") << QStringList{"systems", "--system", "box=0 x H20 (China)"} << 2
                                   << "box=0 x H20 (China)";
        QTest::newRow("bad allocation")
            << QStringList{"systems", "--allocation", "lots"} << 2 << "lots";
        QTest::newRow("unknown edition")
            << QStringList{"systems", "--edition", "1999-01"} << 2 << "1999-01";
        QTest::newRow("unknown chip")
            << QStringList{"systems", "--system", "box=8 x Nope 9000"} << 1 << "Nope 9000";
    }
    void errors() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, named);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, code);
        const QString err = QString::fromUtf8(r.err).trimmed();
        QVERIFY2(err.contains(named), r.err.constData());
        QVERIFY2(!err.contains(QLatin1Char('\n')), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliSystems)
#include "test_cli_systems.moc"
