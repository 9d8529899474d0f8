// `crossroads scenario` as tools see it (DESIGN.md contract): new/list/show/delete, a scenario's
// name wherever an edition id goes (classify, compare, license, design-around, chart, report,
// editions) with "scenario": true and its hypothetical chips marked, and every bad input as one
// line on stderr with its exit code (2 usage, 1 runtime).
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

using crossroads::testing::CliRun;
using nlohmann::json;

namespace {

// TPP 2,080 (BF16 130 x 16), PD 2.08: outside 2023-10, inside once 3A090.a.1 starts at 2,000.
const char* const kHypotheticalChips = R"([{"name": "Hypo X1", "vendor": "Analyst",
  "datacenter": true, "dense_tops": {"bf16": 130}, "applicable_die_area_mm2": 1000,
  "memory_bandwidth_gb_per_s": 3000, "io_bidirectional_gb_per_s": 400}])";

const json* resultOf(const json& results, const char* chip) {
    for (const json& r : results)
        if (r.value("name", r.value("chip", "")) == chip)
            return &r;
    return nullptr;
}

} // namespace

class TestCliScenario : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString store_;
    int stores_ = 0;

    CliRun run(const QStringList& arguments) {
        return crossroads::testing::runCrossroads(store_, arguments);
    }
    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(store_, arguments);
    }
    QString writeFile(const QString& name, const QByteArray& bytes) {
        const QString path = dir_.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }
    // A fresh store holding scenario "lower-a1" of 2023-10 with one hypothetical chip.
    void freshStoreWithScenario() {
        store_ = dir_.filePath(QStringLiteral("store%1.sqlite").arg(stores_++));
        const CliRun r = run({"scenario", "new", "lower-a1", "--from", "2023-10", "--set",
                              "3A090.a.1:tpp >= 2000", "--chips",
                              writeFile(QStringLiteral("hypo.json"), kHypotheticalChips), "--note",
                              "What if the TPP line were 2,000?"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("Saved scenario lower-a1 (extends 2023-10)"), r.out.constData());
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void listAndShow() {
        freshStoreWithScenario();
        const json list = runJson({"scenario", "list", "--json"});
        QCOMPARE(list.size(), size_t(1));
        QVERIFY(list[0]["name"] == "lower-a1");
        QVERIFY(list[0]["scenario"] == true);
        QVERIFY(list[0]["base"] == "2023-10");
        QVERIFY(list[0]["overrides"] == json({"3A090.a.1:tpp >= 2000"}));
        QVERIFY(list[0]["hypothetical_chips"] == json({"Hypo X1"}));
        QVERIFY(list[0]["note"] == "What if the TPP line were 2,000?");
        QVERIFY(list[0]["error"].is_null());

        const json show = runJson({"scenario", "show", "LOWER-A1", "--json"});
        QVERIFY(show["name"] == "lower-a1");
        QVERIFY(show["scenario"] == true);
        QVERIFY(show["base"] == "2023-10");
        QVERIFY(show["overrides"][0]["clause"] == "3A090.a.1");
        QVERIFY(show["overrides"][0]["base_op"] == ">=");
        QVERIFY(show["overrides"][0]["base_threshold"] == 4800.0);
        QVERIFY(show["overrides"][0]["threshold"] == 2000.0);
        QVERIFY(show["hypothetical_chips"][0]["name"] == "Hypo X1");
        QVERIFY(show["hypothetical_results"][0]["classes"] == json({"3A090.a.1"}));
        const json& cmp = show["comparison"];
        QVERIFY(cmp["baseline"] == "2023-10");
        QVERIFY(cmp["vs"] == "lower-a1");
        const json* h20 = resultOf(cmp["changes"], "H20 (China)");
        QVERIFY(h20);
        QVERIFY((*h20)["direction"] == "tightened");
        const json* hypo = resultOf(cmp["changes"], "Hypo X1");
        QVERIFY(hypo);
        QVERIFY((*hypo)["hypothetical"] == true);

        // The text says the same things, the base's threshold beside the scenario's.
        const CliRun text = run({"scenario", "show", "lower-a1"});
        QCOMPARE(text.code, 0);
        QVERIFY(text.out.contains(">= 4,800"));
        QVERIFY(text.out.contains(">= 2,000"));
        QVERIFY(text.out.contains("Hypo X1"));
        QVERIFY(text.out.contains("H20 (China)"));
        const CliRun table = run({"scenario", "list"});
        QVERIFY(table.out.contains("lower-a1"));
        QVERIFY(table.out.contains("3A090.a.1:tpp >= 2000"));
    }

    void usableAsAnEdition() {
        freshStoreWithScenario();
        const json classify = runJson({"classify", "--edition", "lower-a1", "--json"});
        QVERIFY(classify["edition"] == "lower-a1");
        QVERIFY(classify["scenario"] == true);
        QVERIFY(classify["base"] == "2023-10");
        const json* hypo = resultOf(classify["results"], "Hypo X1");
        QVERIFY(hypo);
        QVERIFY((*hypo)["hypothetical"] == true);
        QVERIFY((*hypo)["controlled"] == true);
        const json* h20 = resultOf(classify["results"], "H20 (China)");
        QVERIFY(h20);
        QVERIFY(!h20->contains("hypothetical"));
        QVERIFY((*h20)["classes"] == json({"3A090.a.1"}));
        // The name in any case; a hypothetical chip by name.
        const json one =
            runJson({"classify", "--edition", "Lower-A1", "--chip", "hypo x1", "--json"});
        QCOMPARE(one["results"].size(), size_t(1));
        QVERIFY(one["results"][0]["hypothetical"] == true);
        // Never the default, and no "scenario" key under an edition of the regulation.
        const json plain = runJson({"classify", "--chip", "H20 (China)", "--json"});
        QVERIFY(plain["edition"] == "2026-01");
        QVERIFY(!plain.contains("scenario"));
        // Hypothetical chips exist only in their scenario.
        const CliRun absent = run({"classify", "--edition", "2023-10", "--chip", "Hypo X1"});
        QCOMPARE(absent.code, 1);

        const json editions = runJson({"editions", "--json"});
        QVERIFY(editions.back()["id"] == "lower-a1");
        QVERIFY(editions.back()["scenario"] == true);

        const json compare =
            runJson({"compare", "--baseline", "2023-10", "--vs", "lower-a1", "--json"});
        QVERIFY(compare["scenario"] == true);
        QVERIFY(compare["baseline_scenario"] == false);
        QVERIFY(compare["vs_scenario"] == true);
        QVERIFY(resultOf(compare["changes"], "Hypo X1"));
        // The other way round, against another edition: the chips of either side are compared.
        const json back =
            runJson({"compare", "--baseline", "lower-a1", "--vs", "2026-01", "--json"});
        QVERIFY(back["baseline_scenario"] == true);
        const json* loosened = resultOf(back["changes"], "Hypo X1");
        QVERIFY(loosened);
        QVERIFY((*loosened)["direction"] == "loosened");

        const json license = runJson({"license", "--chip", "Hypo X1", "--destination", "CN",
                                      "--edition", "lower-a1", "--json"});
        QVERIFY(license["scenario"] == true);
        QVERIFY(license["results"][0]["hypothetical"] == true);
        QVERIFY(license["results"][0]["classes"] == json({"3A090.a.1"}));

        const json around =
            runJson({"design-around", "--chip", "Hypo X1", "--edition", "lower-a1", "--json"});
        QVERIFY(around["scenario"] == true);
        QVERIFY(around["hypothetical"] == true);
        bool line = false;
        for (const json& m : around["margins"])
            line = line || (m["clause"] == "3A090.a.1" && m["threshold"] == 2000.0);
        QVERIFY(line);
    }

    void chartAndReport() {
        freshStoreWithScenario();
        const QString png = dir_.filePath(QStringLiteral("scenario.png"));
        const CliRun chart =
            run({"chart", "--kind", "tpp-pd", "--edition", "lower-a1", "--out", png});
        QVERIFY2(chart.code == 0, chart.err.constData());
        QVERIFY(QFileInfo(png).size() > 1000);
        const QString html = dir_.filePath(QStringLiteral("scenario.html"));
        const CliRun report =
            run({"report", "--baseline", "2023-10", "--vs", "lower-a1", "--out", html});
        QVERIFY2(report.code == 0, report.err.constData());
        QFile f(html);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("lower-a1"));
        QVERIFY(text.contains("Hypo X1"));
        // The timeline is the regulation's: a scenario adds no column to it.
        const CliRun timeline = run({"chart", "--kind", "timeline", "--out", png});
        QVERIFY2(timeline.code == 0, timeline.err.constData());
    }

    void replaceAndDelete() {
        freshStoreWithScenario();
        const CliRun again = run({"scenario", "new", "lower-a1", "--from", "2026-01"});
        QCOMPARE(again.code, 1);
        QVERIFY2(again.err.contains("exists already (--replace replaces it)"),
                 again.err.constData());
        const CliRun replaced = run({"scenario", "new", "lower-a1", "--from", "2026-01", "--set",
                                     "3A090.b.1:tpp >= 2000", "--replace"});
        QVERIFY2(replaced.code == 0, replaced.err.constData());
        const json show = runJson({"scenario", "show", "lower-a1", "--json"});
        QVERIFY(show["base"] == "2026-01");
        QVERIFY(show["overrides"][0]["clause"] == "3A090.b.1");
        QVERIFY(show["hypothetical_chips"].empty());

        // A scenario of the scenario, then its base goes: listed with the problem.
        QCOMPARE(run({"scenario", "new", "child", "--from", "lower-a1"}).code, 0);
        const CliRun deleted = run({"scenario", "delete", "lower-a1"});
        QCOMPARE(deleted.code, 0);
        QVERIFY(deleted.out.contains("child"));
        const json list = runJson({"scenario", "list", "--json"});
        QCOMPARE(list.size(), size_t(1));
        QVERIFY(list[0]["name"] == "child");
        QVERIFY(list[0]["error"].get<std::string>().find("lower-a1") != std::string::npos);
        const CliRun broken = run({"scenario", "show", "child"});
        QCOMPARE(broken.code, 1);
        QVERIFY(broken.err.contains("does not resolve"));
        const CliRun gone = run({"classify", "--edition", "lower-a1"});
        QCOMPARE(gone.code, 2);
    }

    void badInput_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("named");
        const QStringList make{"scenario", "new", "x", "--from", "2023-10"};
        QTest::newRow("unknown base") << QStringList{"scenario", "new", "x", "--from", "1999-01"}
                                      << 2 << "unknown edition \"1999-01\"";
        QTest::newRow("unknown clause")
            << make + QStringList{"--set", "3A090.z:tpp >= 1"} << 2 << "has no clause \"3A090.z\"";
        QTest::newRow("unknown metric")
            << make + QStringList{"--set", "3A090.a.1:tppx >= 1"} << 2 << "unknown metric \"tppx\"";
        QTest::newRow("metric the clause lacks")
            << make + QStringList{"--set", "3A090.a.1:performance_density >= 1"} << 2
            << "no criterion on performance_density";
        QTest::newRow("opposite direction")
            << make + QStringList{"--set", "3A090.a.1:tpp < 1"} << 2 << "direction of <";
        QTest::newRow("not finite")
            << make + QStringList{"--set", "3A090.a.1:tpp >= inf"} << 2 << "not a finite number";
        QTest::newRow("malformed")
            << make + QStringList{"--set", "3A090.a.1 tpp 4000"} << 2 << "CLAUSE:METRIC OP VALUE";
        QTest::newRow("no base") << QStringList{"scenario", "new", "x"} << 2 << "--from";
        QTest::newRow("no name") << QStringList{"scenario", "new", "--from", "2023-10"} << 2
                                 << "needs a NAME";
        QTest::newRow("edition's id")
            << QStringList{"scenario", "new", "2026-01", "--from", "2023-10"} << 2
            << "is the id of an edition";
        QTest::newRow("taken") << QStringList{"scenario", "new", "Lower-A1", "--from", "2023-10"}
                               << 1 << "exists already";
        QTest::newRow("chips file missing")
            << make + QStringList{"--chips", "/nonexistent/chips.json"} << 1 << "cannot read";
        QTest::newRow("stored chip's name")
            << make + QStringList{"--chips", "STORED"} << 2 << "has the name of the stored chip";
        QTest::newRow("bad chip figure")
            << make + QStringList{"--chips", "INVALID"} << 1 << "applicable_die_area_mm2";
        QTest::newRow("show unknown") << QStringList{"scenario", "show", "nope"} << 2
                                      << "no scenario named \"nope\" (known: lower-a1)";
        QTest::newRow("delete unknown")
            << QStringList{"scenario", "delete", "nope"} << 2 << "no scenario named \"nope\"";
        QTest::newRow("unknown action")
            << QStringList{"scenario", "frob"} << 2 << "unknown scenario action \"frob\"";
        QTest::newRow("no action") << QStringList{"scenario"} << 2 << "new, list, show or delete";
        QTest::newRow("option of another action")
            << QStringList{"scenario", "list", "--from", "2023-10"} << 2
            << "scenario list takes no --from";
        QTest::newRow("extra argument") << QStringList{"scenario", "show", "lower-a1", "more"} << 2
                                        << "unexpected argument \"more\"";
        QTest::newRow("unknown chip under a scenario")
            << QStringList{"classify", "--edition", "lower-a1", "--chip", "Nope"} << 1
            << "hypothetical chips of scenario lower-a1";
    }
    void badInput() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, named);
        freshStoreWithScenario();
        for (QString& a : arguments) {
            if (a == QLatin1String("STORED"))
                a = writeFile(
                    QStringLiteral("stored.json"),
                    R"({"name": "h100 sxm5 80gb", "vendor": "X", "dense_tops": {"bf16": 1}})");
            if (a == QLatin1String("INVALID"))
                a = writeFile(QStringLiteral("invalid.json"),
                              R"({"name": "Bad", "vendor": "X", "applicable_die_area_mm2": -3})");
        }
        const CliRun r = run(arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(named), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line
        QVERIFY(r.out.isEmpty());
        // Nothing was stored but the first scenario.
        QCOMPARE(runJson({"scenario", "list", "--json"}).size(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestCliScenario)
#include "test_cli_scenario.moc"
