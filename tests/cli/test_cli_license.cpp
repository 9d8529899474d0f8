// `crossroads license` as tools see it (DESIGN.md contract): the JSON shape, the public cases
// of tests/analysis/test_license.cpp through the binary (sources named there), the default
// edition, and usage errors naming the bad country code.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

using nlohmann::json;

namespace {} // namespace

class TestCliLicense : public QObject {
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
        const json out = runJson({"license", "--chip", "H100 SXM5 80GB", "--chip", "H20 (China)",
                                  "--destination", "CN", "--edition", "2023-10", "--json"});
        QVERIFY(out["edition"] == "2023-10");
        QVERIFY(out["destination"] == "CN");
        QVERIFY(out["headquarters"].is_null());
        QCOMPARE(out["results"].size(), size_t(2));
        for (const json& r : out["results"])
            for (const char* key : {"chip", "classes", "license_required", "basis", "review_policy",
                                    "license_exceptions", "other_restrictions", "undetermined"})
                QVERIFY2(r.contains(key), key);
        const json& h100 = out["results"][0];
        QVERIFY(h100["chip"] == "H100 SXM5 80GB");
        QVERIFY(h100["license_required"] == true);
        QVERIFY(h100["review_policy"] == "presumption of denial");
        QVERIFY(h100["classes"] == json({"3A090.a.1", "3A090.a.2"}));
        const json& h20 = out["results"][1];
        QVERIFY(h20["license_required"] == false); // outside 3A090 in 2023 (export-rules.md)
        QVERIFY(h20["review_policy"].is_null());
    }

    void cases_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("required"); // "true", "false", "null"
        QTest::addColumn<QString>("policy");   // "null" or the policy
        // NVIDIA 8-K 2025-04-15: the letters; 2026-01 extends 2025-04 (edition data).
        QTest::newRow("H20 to China, default edition (2026-01)")
            << QStringList{"--chip", "h20 (china)", "--destination", "cn"} << "true"
            << "\"case-by-case\"";
        QTest::newRow("H20 to China, 2025-04")
            << QStringList{"--chip", "H20 (China)", "--destination", "CN", "--edition", "2025-04"}
            << "true"
            << "null";
        // Germany is A:5: excepted from the destination rule.
        QTest::newRow("H100 to Germany")
            << QStringList{"--chip", "H100 SXM5 80GB", "--destination", "DE"} << "false"
            << "null";
        // BIS guidance 2025-05-13 (Wilmarth [Q]): D:5-headquartered buyers anywhere.
        QTest::newRow("H100 to a China-headquartered buyer in Malaysia")
            << QStringList{"--chip", "H100 SXM5 80GB", "--destination", "MY", "--headquarters",
                           "CN",     "--edition",      "2023-10"}
            << "true"
            << "\"presumption of denial\"";
        QTest::newRow("H100 to Malaysia, headquarters not given")
            << QStringList{"--chip", "H100 SXM5 80GB", "--destination",
                           "MY",     "--edition",      "2023-10"}
            << "null"
            << "null";
    }
    void cases() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, required);
        QFETCH(QString, policy);
        const json out = runJson(QStringList{"license"} + arguments + QStringList{"--json"});
        const json& r = out["results"][0];
        QCOMPARE(QString::fromStdString(r["license_required"].dump()), required);
        QCOMPARE(QString::fromStdString(r["review_policy"].dump()), policy);
    }

    void defaultEditionIsNewestInForce() {
        const json out =
            runJson({"license", "--chip", "H200 SXM 141GB", "--destination", "CN", "--json"});
        QVERIFY(out["edition"] == "2026-01");
        bool testing = false;
        for (const json& line : out["results"][0]["review_conditions"])
            testing =
                testing || line.get<std::string>().find("third-party testing") != std::string::npos;
        QVERIFY(testing);
    }

    void russiaNamesTheEmbargo() {
        const json out = runJson({"license", "--chip", "H20 (China)", "--destination", "RU",
                                  "--edition", "2023-10", "--json"});
        bool embargo = false;
        for (const json& line : out["results"][0]["other_restrictions"])
            embargo = embargo || line.get<std::string>().find("Embargo") != std::string::npos;
        QVERIFY(embargo);
    }

    void textOutput() {
        const Run r = crossroads(
            {"license", "--chip", "H100 SXM5 80GB", "--destination", "CN", "--edition", "2023-10"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("H100 SXM5 80GB: licence required (presumption of denial)"),
                 r.out.constData());
        QVERIFY(r.out.contains("88 FR 73458"));
    }

    void errors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown destination")
            << QStringList{"license", "--chip", "H100 SXM5 80GB", "--destination", "XX"} << 2
            << "unknown country code \"XX\" for --destination";
        QTest::newRow("three-letter code")
            << QStringList{"license", "--chip", "H100 SXM5 80GB", "--destination", "DEU"} << 2
            << "unknown country code \"DEU\"";
        QTest::newRow("unknown headquarters")
            << QStringList{"license", "--chip",         "H100 SXM5 80GB", "--destination",
                           "DE",      "--headquarters", "Narnia"}
            << 2 << "unknown country code \"Narnia\" for --headquarters";
        QTest::newRow("no destination")
            << QStringList{"license", "--chip", "H100 SXM5 80GB"} << 2 << "--destination";
        QTest::newRow("no chip") << QStringList{"license", "--destination", "DE"} << 2 << "--chip";
        QTest::newRow("unknown chip")
            << QStringList{"license", "--chip", "Nope 9000", "--destination", "DE"} << 1
            << "no chip named \"Nope 9000\"";
        QTest::newRow("unknown edition")
            << QStringList{"license", "--chip",    "H100 SXM5 80GB", "--destination",
                           "DE",      "--edition", "1999-01"}
            << 2 << "unknown edition \"1999-01\"";
    }
    void errors() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one clear line
    }
};

QTEST_GUILESS_MAIN(TestCliLicense)
#include "test_cli_license.moc"
