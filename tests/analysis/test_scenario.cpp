// Scenarios (analysis/Scenario.h): reading "CLAUSE:METRIC OP VALUE" with an error naming each
// kind of mistake, applying overrides to the base's criterion of the same direction only, the
// resolved edition (id, marks, citations, hypothetical chips), the JSON of the store, and the
// comparison with the base over stored and hypothetical chips.
#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"
#include "analysis/Scenario.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <cmath>

using namespace crossroads;
using analysis::Comparator;
using analysis::Edition;
using analysis::Scenario;
using analysis::ScenarioError;
using analysis::ThresholdOverride;
using nlohmann::json;

namespace {

const std::vector<Edition>& editions() {
    static const std::vector<Edition> e = testing::bundledEditions();
    return e;
}

const Edition& edition(const char* id) {
    const Edition* e = analysis::findEdition(editions(), id);
    if (!e)
        qFatal("no bundled edition %s", id);
    return *e;
}

// The message of the ScenarioError `f` throws; empty when it throws none.
template <typename F> QString errorOf(F f) {
    try {
        f();
    } catch (const ScenarioError& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// TPP 2,080 (BF16 130 x 16), PD 2.08: outside 2023-10 (b.1 starts at 2,400, b.2 at PD 3.2).
analysis::ChipSpec hypotheticalChip(const std::string& name) {
    analysis::ChipSpec c;
    c.name = name;
    c.vendor = "Analyst";
    c.datacenter = true;
    c.dense_tops[analysis::Precision::Bf16] = 130;
    c.applicable_die_area_mm2 = 1000;
    c.memory_bandwidth_gb_per_s = 3000;
    c.io_bidirectional_gb_per_s = 400;
    return c;
}

const analysis::ChipSpec& storedChip(const char* name) {
    static const std::vector<analysis::ChipSpec> chips = testing::bundledChips();
    for (const auto& c : chips)
        if (c.name == name)
            return c;
    qFatal("no bundled chip %s", name);
}

const analysis::Criterion* leaf(const analysis::Condition& c, const std::string& metric,
                                Comparator op) {
    if (c.kind == analysis::Condition::Kind::Leaf)
        return c.criterion.metric == metric && c.criterion.op == op ? &c.criterion : nullptr;
    for (const auto& child : c.children)
        if (const auto* k = leaf(child, metric, op))
            return k;
    return nullptr;
}

const analysis::Clause& clause(const Edition& e, const std::string& id) {
    for (const auto& c : e.clauses)
        if (c.id == id)
            return c;
    qFatal("no clause %s", id.c_str());
}

double threshold(const analysis::Clause& c, const std::string& metric, Comparator op) {
    const auto* k = leaf(c.when, metric, op);
    return k ? std::get<double>(k->threshold) : -1;
}

} // namespace

class TestScenario : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesOverrides_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("clause");
        QTest::addColumn<QString>("metric");
        QTest::addColumn<int>("op");
        QTest::addColumn<double>("value");
        QTest::newRow("spaced") << "3A090.a.1:tpp >= 4000"
                                << "3A090.a.1"
                                << "tpp" << int(Comparator::GreaterEqual) << 4000.0;
        QTest::newRow("unspaced") << "3A090.b.1:tpp<4000"
                                  << "3A090.b.1"
                                  << "tpp" << int(Comparator::Less) << 4000.0;
        QTest::newRow("a note's id, with spaces") << " Note 2 to 3A090 : tpp < 6000 "
                                                  << "Note 2 to 3A090"
                                                  << "tpp" << int(Comparator::Less) << 6000.0;
        QTest::newRow("decimal density")
            << "3A090.a.2:performance_density > 6.5"
            << "3A090.a.2"
            << "performance_density" << int(Comparator::Greater) << 6.5;
        QTest::newRow("exponent") << "3A090.a.1:tpp >= 4.8e3"
                                  << "3A090.a.1"
                                  << "tpp" << int(Comparator::GreaterEqual) << 4800.0;
    }
    void parsesOverrides() {
        QFETCH(QString, text);
        QFETCH(QString, clause);
        QFETCH(QString, metric);
        QFETCH(int, op);
        QFETCH(double, value);
        const ThresholdOverride o = analysis::parseThresholdOverride(text.toStdString());
        QCOMPARE(QString::fromStdString(o.clause), clause);
        QCOMPARE(QString::fromStdString(o.metric), metric);
        QCOMPARE(int(o.op), op);
        QCOMPARE(o.threshold, value);
        // The text it prints reads back as the same override.
        QVERIFY(analysis::parseThresholdOverride(analysis::thresholdOverrideText(o)) == o);
    }

    void refusesMalformedOverrides_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("named"); // what the message must contain
        QTest::newRow("no colon") << "3A090.a.1 tpp >= 4000"
                                  << "CLAUSE:METRIC OP VALUE";
        QTest::newRow("no clause") << ":tpp >= 4000"
                                   << "names no clause";
        QTest::newRow("no metric") << "3A090.a.1: >= 4000"
                                   << "names no metric";
        QTest::newRow("unknown metric") << "3A090.a.1:tppx >= 4000"
                                        << "unknown metric \"tppx\"";
        QTest::newRow("not numeric") << "3A090.a.1:datacenter == 1"
                                     << "unknown metric \"datacenter\"";
        QTest::newRow("no operator") << "3A090.a.1:tpp 4000"
                                     << "has no operator";
        QTest::newRow("unknown operator") << "3A090.a.1:tpp => 4000"
                                          << "unknown operator \"=>\"";
        QTest::newRow("no value") << "3A090.a.1:tpp >="
                                  << "has no value";
        QTest::newRow("not a number") << "3A090.a.1:tpp >= four"
                                      << "\"four\" in \"3A090.a.1:tpp >= four\" is not a number";
        QTest::newRow("trailing text") << "3A090.a.1:tpp >= 4000 TOPS"
                                       << "is not a number";
        QTest::newRow("comma") << "3A090.a.1:tpp >= 4,000"
                               << "is not a number";
        QTest::newRow("nan") << "3A090.a.1:tpp >= nan"
                             << "not a finite number";
        QTest::newRow("infinity") << "3A090.a.1:tpp >= inf"
                                  << "not a finite number";
        QTest::newRow("negative") << "3A090.a.1:tpp >= -1"
                                  << "negative";
    }
    void refusesMalformedOverrides() {
        QFETCH(QString, text);
        QFETCH(QString, named);
        const QString message =
            errorOf([&] { analysis::parseThresholdOverride(text.toStdString()); });
        QVERIFY2(message.contains(named), qPrintable(message));
    }

    void findsTheCriterionOfTheSameDirection() {
        const Edition& base = edition("2023-10");
        const auto upper = analysis::overriddenCriterion(
            base, analysis::parseThresholdOverride("3A090.b.1:tpp <= 4000"));
        QCOMPARE(int(upper.op), int(Comparator::Less));
        QCOMPARE(upper.threshold, 4800.0);
        const auto lower = analysis::overriddenCriterion(
            base, analysis::parseThresholdOverride("3A090.b.1:tpp > 2000"));
        QCOMPARE(int(lower.op), int(Comparator::GreaterEqual));
        QCOMPARE(lower.threshold, 2400.0);
        QCOMPARE(QString::fromStdString(lower.kind), QStringLiteral("clause"));
    }

    void refusesOverridesTheBaseCannotTake_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("named");
        QTest::newRow("unknown clause") << "3A090.z:tpp >= 1"
                                        << "has no clause \"3A090.z\" (its clauses: 3A090.a.1,";
        QTest::newRow("metric not tested")
            << "3A090.a.1:performance_density >= 5"
            << "clause 3A090.a.1 of 2023-10 has no criterion on performance_density (it tests tpp)";
        QTest::newRow("opposite direction")
            << "3A090.a.1:tpp < 4000"
            << "no criterion on tpp with an operator of the direction of < (it has tpp >= 4,800)";
        QTest::newRow("equality is its own direction") << "3A090.a.1:tpp == 4000"
                                                       << "direction of ==";
    }
    void refusesOverridesTheBaseCannotTake() {
        QFETCH(QString, text);
        QFETCH(QString, named);
        const ThresholdOverride o = analysis::parseThresholdOverride(text.toStdString());
        const QString message =
            errorOf([&] { analysis::overriddenCriterion(edition("2023-10"), o); });
        QVERIFY2(message.contains(named), qPrintable(message));
        Scenario s{"s", "2023-10", {o}, {}, ""};
        QVERIFY(!errorOf([&] { analysis::resolveScenario(s, edition("2023-10")); }).isEmpty());
    }

    void resolvesOnItsBase() {
        const Edition& base = edition("2023-10");
        Scenario s{"lower-a1",
                   "2023-10",
                   {analysis::parseThresholdOverride("3A090.a.1:tpp > 2000")},
                   {hypotheticalChip("Hypo X1")},
                   "What if the TPP line were 2,000?"};
        const Edition e = analysis::resolveScenario(s, base);
        QCOMPARE(QString::fromStdString(e.id), QStringLiteral("lower-a1"));
        QVERIFY(e.scenario);
        QCOMPARE(QString::fromStdString(e.base), QStringLiteral("2023-10"));
        QCOMPARE(QString::fromStdString(e.note),
                 QStringLiteral("What if the TPP line were 2,000?"));
        QVERIFY(QString::fromStdString(e.title).startsWith(QStringLiteral("Scenario of 2023-10")));
        QCOMPARE(e.hypothetical_chips.size(), size_t(1));
        // The lower bound of a.1 changes, operator included; nothing else does.
        QCOMPARE(threshold(clause(e, "3A090.a.1"), "tpp", Comparator::Greater), 2000.0);
        QCOMPARE(threshold(clause(e, "3A090.a.1"), "tpp", Comparator::GreaterEqual), -1.0);
        QCOMPARE(threshold(clause(e, "3A090.b.1"), "tpp", Comparator::Less), 4800.0);
        QCOMPARE(threshold(clause(e, "3A090.b.1"), "tpp", Comparator::GreaterEqual), 2400.0);
        // The overridden clause says whose threshold it is and what it replaced.
        const auto& cite = clause(e, "3A090.a.1").citation;
        QVERIFY2(cite.text.find("scenario lower-a1, was tpp >= 4,800 (88 FR 73458") == 0,
                 cite.text.c_str());
        QCOMPARE(QString::fromStdString(cite.evidence), QStringLiteral("U"));
        QCOMPARE(clause(e, "3A090.a.2").citation.text, clause(base, "3A090.a.2").citation.text);
        // The base is left as it was.
        QCOMPARE(threshold(clause(base, "3A090.a.1"), "tpp", Comparator::GreaterEqual), 4800.0);

        // H20 (TPP 2,368) is outside 2023-10 and inside the scenario, with the scenario cited.
        const auto before = analysis::classify(storedChip("H20 (China)"), base);
        const auto after = analysis::classify(storedChip("H20 (China)"), e);
        QVERIFY(before.controlled == std::optional<bool>(false));
        QVERIFY(after.controlled == std::optional<bool>(true));
        QVERIFY(after.classes == std::vector<std::string>{"3A090.a.1"});
        bool cited = false;
        for (const auto& line : after.explanation)
            cited = cited || line.find("scenario lower-a1") != std::string::npos;
        QVERIFY(cited);
        // The hypothetical chip (TPP 2,080) too.
        const auto hypo = analysis::classify(e.hypothetical_chips.front(), e);
        QVERIFY(hypo.classes == std::vector<std::string>{"3A090.a.1"});
        QVERIFY(analysis::classify(e.hypothetical_chips.front(), base).controlled ==
                std::optional<bool>(false));
    }

    void overridesNotesAndFlags() {
        // Note 2's TPP line (items not for datacenters) and the 2025-04 bandwidth letter.
        Scenario s{"s",
                   "2025-04",
                   {analysis::parseThresholdOverride("Note 2 to 3A090:tpp < 20000"),
                    analysis::parseThresholdOverride(
                        "2025-04-h20-memory-bandwidth:memory_bandwidth_gb_per_s >= 5000")},
                   {},
                   ""};
        const Edition e = analysis::resolveScenario(s, edition("2025-04"));
        QCOMPARE(e.notes.front().citation.evidence, std::string("U"));
        bool found = false;
        for (const auto& f : e.flags)
            if (f.id == "2025-04-h20-memory-bandwidth") {
                const auto* k = leaf(f.when, "memory_bandwidth_gb_per_s", Comparator::GreaterEqual);
                QVERIFY(k);
                QCOMPARE(std::get<double>(k->threshold), 5000.0);
                found = true;
            }
        QVERIFY(found);
        // The H20 (4,000 GB/s) no longer meets the letter's bandwidth line.
        const auto r = analysis::classify(storedChip("H20 (China)"), e);
        for (const auto& flag : r.flags)
            QVERIFY2(flag.find("memory bandwidth") == std::string::npos, flag.c_str());
    }

    void laterOverrideOfTheSameCriterionWins() {
        Scenario s{"s",
                   "2023-10",
                   {analysis::parseThresholdOverride("3A090.a.1:tpp >= 3000"),
                    analysis::parseThresholdOverride("3A090.a.1:tpp >= 3500")},
                   {},
                   ""};
        const Edition e = analysis::resolveScenario(s, edition("2023-10"));
        QCOMPARE(threshold(clause(e, "3A090.a.1"), "tpp", Comparator::GreaterEqual), 3500.0);
        // The citation names the regulation's threshold once, not the first override's.
        QVERIFY2(clause(e, "3A090.a.1").citation.text.find("was tpp >= 4,800 (") !=
                     std::string::npos,
                 clause(e, "3A090.a.1").citation.text.c_str());
    }

    void scenarioOfAScenarioStacks() {
        Scenario first{"first",
                       "2023-10",
                       {analysis::parseThresholdOverride("3A090.a.1:tpp >= 3000")},
                       {hypotheticalChip("Hypo A")},
                       ""};
        const Edition a = analysis::resolveScenario(first, edition("2023-10"));
        Scenario second{"second",
                        "first",
                        {analysis::parseThresholdOverride("3A090.b.1:tpp >= 2000")},
                        {hypotheticalChip("Hypo B"), hypotheticalChip("hypo a")},
                        ""};
        const Edition b = analysis::resolveScenario(second, a);
        QCOMPARE(QString::fromStdString(b.base), QStringLiteral("first"));
        QCOMPARE(threshold(clause(b, "3A090.a.1"), "tpp", Comparator::GreaterEqual), 3000.0);
        QCOMPARE(threshold(clause(b, "3A090.b.1"), "tpp", Comparator::GreaterEqual), 2000.0);
        // The base's chips first; one of the same name (any case) is replaced, not doubled.
        QCOMPARE(b.hypothetical_chips.size(), size_t(2));
        QCOMPARE(QString::fromStdString(b.hypothetical_chips[0].name), QStringLiteral("hypo a"));
        QCOMPARE(QString::fromStdString(b.hypothetical_chips[1].name), QStringLiteral("Hypo B"));
    }

    void neverTheDefault() {
        std::vector<Edition> all = editions();
        Scenario s{"zz-later", "2026-01", {}, {}, ""};
        Edition e = analysis::resolveScenario(s, edition("2026-01"));
        e.effective = "2099-01-01"; // even a later date does not make it the default
        all.push_back(e);
        QCOMPARE(QString::fromStdString(analysis::newestInForce(all)->id),
                 QStringLiteral("2026-01"));
        const json summary = analysis::editionSummaryJson(e);
        QVERIFY(summary["scenario"] == true);
        QVERIFY(summary["base"] == "2026-01");
        QVERIFY(!analysis::editionSummaryJson(edition("2026-01")).contains("scenario"));
    }

    void jsonRoundTrip() {
        analysis::ChipSpec chip = hypotheticalChip("Hypo X1");
        chip.sources.push_back({"*", "analyst's estimate", "low"});
        Scenario s{"round trip",
                   "2025-04",
                   {analysis::parseThresholdOverride("3A090.a.2:performance_density >= 5.5"),
                    analysis::parseThresholdOverride("3A090.b.1:tpp < 0.1")},
                   {chip},
                   "a note, with \"quotes\""};
        const json j = analysis::scenarioToJson(s);
        QVERIFY(j["format"] == 1);
        QVERIFY(analysis::scenarioFromJson(json::parse(j.dump())) == s);
    }

    void strictJson_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("named");
        QTest::newRow("not an object") << "[]"
                                       << "must be a JSON object";
        QTest::newRow("unknown key") << R"({"name": "s", "base": "2023-10", "colour": 1})"
                                     << "unknown key \"colour\"";
        QTest::newRow("newer format") << R"({"format": 2, "name": "s", "base": "2023-10"})"
                                      << "\"format\" 2 is not 1";
        QTest::newRow("no base") << R"({"name": "s"})"
                                 << "\"base\" is required";
        QTest::newRow("override key")
            << R"({"name": "s", "base": "b", "overrides": [{"clause": "c", "metric": "tpp", "op": ">=", "threshold": 1, "x": 2}]})"
            << "unknown key \"overrides.x\"";
        QTest::newRow("override operator")
            << R"({"name": "s", "base": "b", "overrides": [{"clause": "c", "metric": "tpp", "op": "~", "threshold": 1}]})"
            << "unknown operator \"~\"";
        QTest::newRow("chip key")
            << R"({"name": "s", "base": "b", "chips": [{"name": "X", "fp16": 1}]})"
            << "unknown key \"fp16\"";
    }
    void strictJson() {
        QFETCH(QString, text);
        QFETCH(QString, named);
        const QString message =
            errorOf([&] { analysis::scenarioFromJson(json::parse(text.toStdString())); });
        QVERIFY2(message.contains(named), qPrintable(message));
    }

    void validatesHypotheticalChips_data() {
        QTest::addColumn<QString>("problem");
        QTest::addColumn<QString>("named");
        QTest::newRow("stored name, other case") << "stored"
                                                 << "has the name of the stored chip \"H100 SXM5 "
                                                    "80GB\"";
        QTest::newRow("twice") << "twice"
                               << "\"hypo\" is given twice";
        QTest::newRow("invalid figure") << "invalid"
                                        << "applicable_die_area_mm2";
        QTest::newRow("bad name") << "name"
                                  << "starts with \"-\"";
    }
    void validatesHypotheticalChips() {
        QFETCH(QString, problem);
        QFETCH(QString, named);
        Scenario s{"s", "2023-10", {}, {hypotheticalChip("Hypo")}, ""};
        if (problem == "stored")
            s.hypothetical_chips.front().name = "h100 sxm5 80gb";
        if (problem == "twice")
            s.hypothetical_chips.push_back(hypotheticalChip("hypo"));
        if (problem == "invalid")
            s.hypothetical_chips.front().applicable_die_area_mm2 = -5;
        if (problem == "name")
            s.name = "-s";
        const QString message = errorOf([&] {
            analysis::validateScenario(s, edition("2023-10"), {"H100 SXM5 80GB", "A100"});
        });
        QVERIFY2(message.contains(named), qPrintable(message));
        // The same scenario without the problem passes.
        Scenario fine{"s", "2023-10", {}, {hypotheticalChip("Hypo")}, ""};
        QVERIFY(errorOf([&] {
                    analysis::validateScenario(fine, edition("2023-10"), {"H100 SXM5 80GB"});
                }).isEmpty());
    }

    void names_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << "tight-2026" << true;
        QTest::newRow("spaces inside") << "What if 4000" << true;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("leading space") << " s" << false;
        QTest::newRow("trailing space") << "s " << false;
        QTest::newRow("option-like") << "--edition" << false;
        QTest::newRow("control character") << "a\tb" << false;
        QTest::newRow("too long") << QString(81, QLatin1Char('x')) << false;
    }
    void names() {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QCOMPARE(errorOf([&] { analysis::checkScenarioName(name.toStdString()); }).isEmpty(),
                 valid);
    }

    void comparesStoredAndHypotheticalChips() {
        const Edition& base = edition("2023-10");
        Scenario s{"lower-a1",
                   "2023-10",
                   {analysis::parseThresholdOverride("3A090.a.1:tpp >= 2000")},
                   {hypotheticalChip("Hypo X1")},
                   ""};
        const Edition e = analysis::resolveScenario(s, base);
        const auto stored = std::vector<analysis::ChipSpec>{storedChip("H20 (China)"),
                                                            storedChip("H100 SXM5 80GB")};
        // Idempotent: the union of its own output is the same.
        const auto all = analysis::chipsWithHypothetical(stored, base, &e);
        QCOMPARE(all.size(), size_t(3));
        QCOMPARE(analysis::chipsWithHypothetical(all, base, &e).size(), size_t(3));

        const auto cmp = analysis::compareEditions(stored, base, e);
        QCOMPARE(cmp.baseline_results.size(), size_t(3));
        QCOMPARE(cmp.changes.size(), size_t(2)); // the H20 and the hypothetical chip
        QCOMPARE(cmp.unchanged, 1);              // the H100
        const json j = analysis::comparisonToJson(cmp);
        QVERIFY(j["scenario"] == true);
        QVERIFY(j["baseline_scenario"] == false);
        QVERIFY(j["vs_scenario"] == true);
        int hypothetical = 0;
        for (const json& c : j["changes"]) {
            QVERIFY(c["direction"] == "tightened");
            if (c.value("hypothetical", false)) {
                QVERIFY(c["chip"] == "Hypo X1");
                ++hypothetical;
            }
        }
        QCOMPARE(hypothetical, 1);
        // Between two editions of the regulation nothing says "scenario".
        QVERIFY(!analysis::comparisonToJson(analysis::compareEditions(stored, base, base))
                     .contains("scenario"));

        const auto diff = analysis::diffScenario(s, base, e, stored);
        QCOMPARE(diff.thresholds.size(), size_t(1));
        QCOMPARE(diff.thresholds.front().base.threshold, 4800.0);
        QCOMPARE(diff.hypothetical_results.size(), size_t(1));
        const json d = analysis::scenarioDiffToJson(diff);
        QVERIFY(d["overrides"][0]["base_threshold"] == 4800.0);
        QVERIFY(d["overrides"][0]["threshold"] == 2000.0);
        QVERIFY(d["hypothetical_results"][0]["hypothetical"] == true);
        QVERIFY(d["comparison"]["baseline"] == "2023-10");
        QVERIFY(d["comparison"]["vs"] == "lower-a1");
    }

    void numericCriteriaListEveryThreshold() {
        const auto criteria = analysis::numericCriteria(edition("2026-01"));
        int clauses = 0, notes = 0, flags = 0;
        for (const auto& k : criteria) {
            clauses += k.kind == "clause";
            notes += k.kind == "note";
            flags += k.kind == "flag";
            // Every listed criterion is one an override can name.
            ThresholdOverride o{k.clause, k.metric, k.op, k.threshold};
            QVERIFY(
                errorOf([&] { analysis::overriddenCriterion(edition("2026-01"), o); }).isEmpty());
        }
        // a.1, a.2 (2), b.1 (4), b.2 (3), c (1); Note 2 (1); the flags' bandwidth, I/O, TPP.
        QCOMPARE(clauses, 11);
        QCOMPARE(notes, 1);
        QVERIFY(flags >= 4);
    }
};

QTEST_GUILESS_MAIN(TestScenario)
#include "test_scenario.moc"
