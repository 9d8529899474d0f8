// `classify` says when the class depends on which source is believed (the "source_sensitive"
// extension), on a fresh store: the H800 (I/O 400 vs 300 GB/s, both under 2022-10's 600) and
// Gaudi 3 (FP16/BF16 1,835 vs 1,678: TPP 29,360 vs 26,848, both over every line) hold; a --spec
// chip whose sources straddle 600 GB/s does not. `chips --json` carries the alternatives.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

class TestCliSourceSensitivity : public QObject {
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

    // The store's H800 with I/O 650 GB/s in its row and another source's 550.
    QString straddlerSpec() {
        const json chips = runJson({"chips", "--json"});
        json h800;
        for (const json& c : chips)
            if (c["name"] == "H800 SXM5 (China)")
                h800 = c;
        h800["name"] = "Straddler";
        h800["io_bidirectional_gb_per_s"] = 650;
        h800["alternatives"] = json::array({{{"field", "io_bidirectional_gb_per_s"},
                                             {"value", 550},
                                             {"citation", "another datasheet"},
                                             {"confidence", "low"}}});
        const QString path = dir_.filePath(QStringLiteral("straddler.json"));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QByteArray::fromStdString(h800.dump()));
        return path;
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void chipsCarryTheAlternatives() {
        const json chips = runJson({"chips", "--json"});
        bool found = false;
        for (const json& c : chips)
            if (c["name"] == "H800 SXM5 (China)") {
                found = true;
                QCOMPARE(c["alternatives"].size(), size_t(1));
                QCOMPARE(c["alternatives"][0]["value"].get<double>(), 300.0);
            }
        QVERIFY(found);
    }

    void holdsWhicheverSource_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("paragraph");
        QTest::newRow("H800, 2022-10") << "H800 SXM5 (China)"
                                       << "2022-10"
                                       << "none";
        QTest::newRow("H800, 2023-10") << "H800 SXM5 (China)"
                                       << "2023-10"
                                       << "a";
        QTest::newRow("Gaudi3, 2023-10") << "Gaudi3 (HL-325L)"
                                         << "2023-10"
                                         << "a";
        QTest::newRow("Gaudi3, 2026-01") << "Gaudi3 (HL-325L)"
                                         << "2026-01"
                                         << "a";
        QTest::newRow("A100, no alternatives") << "A100 SXM4 80GB"
                                               << "2023-10"
                                               << "a";
    }
    void holdsWhicheverSource() {
        QFETCH(QString, chip);
        QFETCH(QString, edition);
        QFETCH(QString, paragraph);
        const json out = runJson({"classify", "--edition", edition, "--chip", chip, "--json"});
        const json& r = out["results"][0];
        QCOMPARE(QString::fromStdString(r["paragraph"].get<std::string>()), paragraph);
        QVERIFY(r["source_sensitive"].is_array());
        QVERIFY(r["source_sensitive"].empty());
    }

    void straddlingSourcesAreReported() {
        const QString spec = straddlerSpec();
        QVERIFY(!spec.isEmpty());
        const json out = runJson({"classify", "--edition", "2022-10", "--spec", spec, "--json"});
        const json& r = out["results"][0];
        QCOMPARE(r["paragraph"].get<std::string>(), std::string("a"));
        QCOMPARE(r["source_sensitive"].size(), size_t(1));
        const json& s = r["source_sensitive"][0];
        QCOMPARE(s["field"].get<std::string>(), std::string("io_bidirectional_gb_per_s"));
        QCOMPARE(s["value"].get<double>(), 550.0);
        QCOMPARE(s["citation"].get<std::string>(), std::string("another datasheet"));
        QCOMPARE(s["paragraph"].get<std::string>(), std::string("none"));
        QVERIFY(s["classes"].empty());

        const Run text = crossroads({"classify", "--edition", "2022-10", "--spec", spec});
        QCOMPARE(text.code, 0);
        QVERIFY2(text.out.contains("Source-sensitive: Straddler: io_bidirectional_gb_per_s 550 "
                                   "(another datasheet): outside 3A090 instead of 3A090.a.1"),
                 text.out.constData());
    }

    void textSaysWhenItHolds() {
        const Run r =
            crossroads({"classify", "--edition", "2022-10", "--chip", "H800 SXM5 (China)"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("hold whichever source is believed (alternatives tried: 1)"),
                 r.out.constData());
        QVERIFY(!r.out.contains("Source-sensitive"));
    }

    void badAlternativeInASpec() {
        const QString path = dir_.filePath(QStringLiteral("bad.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"name": "X", "vendor": "V", "dense_tops": {"bf16": 100},
                    "alternatives": [{"field": "io", "value": 1, "citation": "c"}]})");
        f.close();
        const Run r = crossroads({"classify", "--spec", path});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("alternative for \"io\""), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliSourceSensitivity)
#include "test_cli_source_sensitivity.moc"
