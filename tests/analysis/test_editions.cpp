// Editions as data: the six bundled editions load, "extends" inherits and overrides, and a
// malformed edition is an error naming the edition and the problem.
#include "analysis/Edition.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

using namespace crossroads::analysis;
using namespace crossroads::testing;
using nlohmann::json;

class TestEditions : public QObject {
    Q_OBJECT

    static json minimal(const std::string& id) {
        json e = json::parse(R"({"title": "t", "citation": {"text": "X FR 1", "evidence": "P"},
            "effective": "2030-01-01", "status": "in force", "bit_lengths": {"fp16": 16},
            "clauses": [{"id": "3A090.a.1", "paragraph": "a", "citation": {"text": "X FR 1",
            "evidence": "Q"}, "when": {"metric": "tpp", "op": ">=", "value": 4800}}]})");
        e["id"] = id;
        return e;
    }

private slots:
    void bundledEditionsLoad() {
        const auto editions = bundledEditions();
        QStringList ids;
        for (const Edition& e : editions)
            ids << QString::fromStdString(e.id);
        QCOMPARE(ids,
                 QStringList({"2022-10", "2023-10", "2024-12", "2025-01", "2025-04", "2026-01"}));
        QCOMPARE(newestInForce(editions)->id, std::string("2026-01"));
        for (const Edition& e : editions) {
            QVERIFY(!e.citation.text.empty());
            for (const Clause& c : e.clauses)
                QVERIFY2(!c.citation.text.empty() && !c.citation.evidence.empty(), c.id.c_str());
            QCOMPARE(e.bit_lengths.at(Precision::Tf32), 32);
            QVERIFY(!e.bit_length_assumption.empty());
        }
    }

    void inheritance() {
        const auto editions = bundledEditions();
        const Edition* e2026 = findEdition(editions, "2026-01");
        const Edition* e2025 = findEdition(editions, "2025-01");
        const Edition* e2022 = findEdition(editions, "2022-10");
        QVERIFY(e2026 && e2025 && e2022);
        QCOMPARE(e2026->clauses.size(), size_t(5)); // a.1 a.2 b.1 b.2 c
        QCOMPARE(e2026->notes.size(), size_t(1));
        // 2026-01 extends 2025-04: the letters' two heuristic flags carry forward (narrowed to
        // items outside 3A090), beside its own review-policy flag.
        QCOMPARE(e2026->flags.size(), size_t(3));
        QCOMPARE(e2026->flags[2].kind, std::string("review-policy"));
        QCOMPARE(e2026->flags[0].kind, std::string("heuristic"));
        // destinations, headquarters, 3A090.c (2024-12), the letters (2025-04)
        QCOMPARE(e2026->license_requirements.size(), size_t(4));
        QCOMPARE(e2026->review_policies.size(), size_t(2));
        QCOMPARE(e2026->review_policies[1].conditions.size(), size_t(6));
        QVERIFY(!e2026->caps);
        QVERIFY(e2025->caps);
        QCOMPARE(e2025->caps->lpp_tpp_per_consignee_per_year, 26900000.0);
        QCOMPARE(e2025->caps->tier2_allocation_tpp, 790000000.0);
        QCOMPARE(e2025->caps->tier1_countries.size(), size_t(19));
        QCOMPARE(e2025->status, std::string("not enforced")); // stopped 2025-05-13, no rescission
        // 2024-12's three, and the worldwide .a requirement
        QCOMPARE(e2025->license_requirements.size(), size_t(4));
        QCOMPARE(e2022->clauses.size(), size_t(1));
        QVERIFY(e2022->license_exceptions.empty());
        QCOMPARE(findEdition(editions, "2025-04")->status, std::string("heuristic"));
    }

    // "not enforced" (2025-01 since 2025-05-13) is never the default edition, however new.
    void notEnforcedIsNotInForce() {
        json older = minimal("older");
        json newer = minimal("newer");
        newer["effective"] = "2031-01-01";
        newer["status"] = "not enforced";
        const auto editions = editionsFromJson({older, newer});
        QCOMPARE(newestInForce(editions)->id, std::string("older"));
    }

    void overrideAndRemove() {
        json base = minimal("base");
        json child = json::parse(R"({"id": "child", "extends": "base", "title": "c",
            "citation": {"text": "Y FR 2", "evidence": "P"}, "effective": "2031-01-01",
            "status": "in force", "clauses": [{"id": "3A090.a.1", "paragraph": "a",
            "citation": {"text": "Y FR 2", "evidence": "Q"},
            "when": {"metric": "tpp", "op": ">=", "value": 9000}}]})");
        json grandchild = json::parse(R"({"id": "gc", "extends": "child", "title": "g",
            "citation": {"text": "Z", "evidence": "S"}, "effective": "2032-01-01",
            "status": "superseded", "remove": ["3A090.a.1"]})");
        const auto editions = editionsFromJson({grandchild, child, base});
        QCOMPARE(editions.size(), size_t(3));
        const Edition* c = findEdition(editions, "child");
        QCOMPARE(c->clauses.size(), size_t(1));
        QCOMPARE(std::get<double>(c->clauses[0].when.criterion.threshold), 9000.0);
        QCOMPARE(c->bit_lengths.at(Precision::Fp16), 16);
        QVERIFY(findEdition(editions, "gc")->clauses.empty());
    }

    void errors_data() {
        QTest::addColumn<QString>("patch"); // JSON merged into a minimal edition "e"
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown key") << R"({"thresholds": 1})"
                                     << "unknown key \"thresholds\"";
        QTest::newRow("unknown metric")
            << R"({"clauses": [{"id": "x", "paragraph": "a", "citation": {"text": "t", "evidence": "Q"}, "when": {"metric": "tops", "op": ">=", "value": 1}}]})"
            << "unknown metric \"tops\"";
        QTest::newRow("bad operator")
            << R"({"clauses": [{"id": "x", "paragraph": "a", "citation": {"text": "t", "evidence": "Q"}, "when": {"metric": "tpp", "op": "=>", "value": 1}}]})"
            << "unknown operator \"=>\"";
        QTest::newRow("outcome metric in a clause")
            << R"({"clauses": [{"id": "x", "paragraph": "a", "citation": {"text": "t", "evidence": "Q"}, "when": {"metric": "controlled", "op": "==", "value": true}}]})"
            << "known only after classification";
        QTest::newRow("evidence mark") << R"({"citation": {"text": "t", "evidence": "maybe"}})"
                                       << "evidence mark \"maybe\"";
        QTest::newRow("status") << R"({"status": "draft"})"
                                << "status \"draft\"";
        QTest::newRow("missing base") << R"({"extends": "nowhere"})"
                                      << "unknown edition \"nowhere\"";
        QTest::newRow("self cycle") << R"({"extends": "e"})"
                                    << "cycle";
        QTest::newRow("bool with >=")
            << R"({"notes": [{"id": "n", "citation": {"text": "t", "evidence": "Q"}, "when": {"metric": "datacenter", "op": ">=", "value": true}}]})"
            << "takes only == or !=";
        QTest::newRow("number for bool")
            << R"({"notes": [{"id": "n", "citation": {"text": "t", "evidence": "Q"}, "when": {"metric": "datacenter", "op": "==", "value": 1}}]})"
            << "compares with true or false";
        QTest::newRow("bit length") << R"({"bit_lengths": {"fp16": 0}})"
                                    << "bit length of fp16";
    }
    void errors() {
        QFETCH(QString, patch);
        QFETCH(QString, message);
        json e = minimal("e");
        e.update(json::parse(patch.toStdString()));
        try {
            editionsFromJson({e});
            QFAIL("no error");
        } catch (const EditionFormatError& err) {
            const QString what = QString::fromUtf8(err.what());
            QVERIFY2(what.contains(message) && what.contains(QLatin1String("\"e\"")),
                     qPrintable(what));
        }
    }

    void duplicateIdsAndBadJson() {
        QVERIFY_THROWS_EXCEPTION(EditionFormatError,
                                 editionsFromJson({minimal("x"), minimal("x")}));
        QVERIFY_THROWS_EXCEPTION(EditionFormatError, editionsFromJsonTexts({"{not json"}));
    }

    void summaryJson() {
        const auto editions = bundledEditions();
        const json s = editionSummaryJson(*findEdition(editions, "2023-10"));
        QCOMPARE(s.size(), size_t(5));
        QVERIFY(s["citation"] == json("88 FR 73458, FR Doc 2023-23055"));
        QVERIFY(s["effective"] == json("2023-11-17"));
    }
};

QTEST_APPLESS_MAIN(TestEditions)
#include "test_editions.moc"
