// Licence determination by destination: public cases drawn from docs/reference/export-rules.md
// and the sources the edition data cites (each row says which), country groups three-valued,
// and malformed country data rejected with a message naming the problem.
#include "analysis/License.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QRegularExpression>
#include <QTest>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

const std::vector<Edition>& editions() {
    static const std::vector<Edition> all = bundledEditions();
    return all;
}

const Edition& edition(const std::string& id) {
    const Edition* e = findEdition(editions(), id);
    if (!e)
        throw std::runtime_error("no edition " + id);
    return *e;
}

ChipSpec chip(const QString& name) {
    static const std::vector<ChipSpec> chips = bundledChips();
    for (const ChipSpec& c : chips)
        if (QString::fromStdString(c.name) == name)
            return c;
    throw std::runtime_error("no chip " + name.toStdString());
}

bool anyContains(const std::vector<std::string>& lines, const QString& text) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
        return QString::fromStdString(l).contains(text);
    });
}

QString exceptionIds(const LicenseResult& r) {
    QStringList ids;
    for (const AvailableException& x : r.license_exceptions)
        ids << QString::fromStdString(x.id);
    return ids.join(QLatin1Char(','));
}

// "yes", "no" or "?" (nullopt) for the data rows.
QString tri(const std::optional<bool>& v) {
    return v ? (*v ? QStringLiteral("yes") : QStringLiteral("no")) : QStringLiteral("?");
}

} // namespace

class TestLicense : public QObject {
    Q_OBJECT

private slots:
    void publicCases_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("destination");
        QTest::addColumn<QString>("headquarters"); // empty: not given
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("required"); // yes, no, ?
        QTest::addColumn<QString>("policy");   // empty: null
        QTest::addColumn<QString>("exceptions");
        QTest::addColumn<QString>("basisHas"); // a piece of one basis line

        // export-rules.md 2023-10 "Destinations" [Q] (D:5/Macau, presumption of denial [S]);
        // NVIDIA 8-K 2023-10-17 [P]: the H100 became subject to the licence requirement.
        QTest::newRow("H100 to China, 2023-10") << "H100 SXM5 80GB"
                                                << "CN"
                                                << ""
                                                << "2023-10"
                                                << "yes"
                                                << "presumption of denial"
                                                << ""
                                                << "CN is in D:5";
        QTest::newRow("H100 to Macau, 2023-10") << "H100 SXM5 80GB"
                                                << "MO"
                                                << ""
                                                << "2023-10"
                                                << "yes"
                                                << "presumption of denial"
                                                << ""
                                                << "MO is named";
        // Hong Kong treated as China (edition alias, [U]; the 2025-04 8-K's wording).
        QTest::newRow("H100 to Hong Kong, 2023-10") << "H100 SXM5 80GB"
                                                    << "HK"
                                                    << ""
                                                    << "2023-10"
                                                    << "yes"
                                                    << "presumption of denial"
                                                    << ""
                                                    << "HK is treated as CN";
        // export-rules.md: the requirement excepts A:5/A:6; Germany is A:5 (Supp. No. 1 to
        // part 740 [S]).
        QTest::newRow("H100 to Germany, 2023-10") << "H100 SXM5 80GB"
                                                  << "DE"
                                                  << ""
                                                  << "2023-10"
                                                  << "no"
                                                  << ""
                                                  << ""
                                                  << "DE is in A:5";
        // Mondaq (2023) [S]: the 2023 rules reach the United Arab Emirates (D:4 in the data, [U]).
        // No review policy for D:4 is in the references.
        QTest::newRow("H100 to the UAE, 2023-10") << "H100 SXM5 80GB"
                                                  << "AE"
                                                  << ""
                                                  << "2023-10"
                                                  << "yes"
                                                  << ""
                                                  << ""
                                                  << "AE is in D:4";
        // BIS guidance 2025-05-13 via Wilmarth & Associates [Q]: a licence is required to any
        // destination for entities headquartered in D:5/Macau.
        QTest::newRow("H100 to a China-headquartered buyer in Malaysia, 2023-10")
            << "H100 SXM5 80GB"
            << "MY"
            << "CN"
            << "2023-10"
            << "yes"
            << "presumption of denial"
            << ""
            << "headquarters CN is in D:5";
        // Malaysia's D:1/D:4 membership is not in the (partial) data: the answer stays open.
        QTest::newRow("H100 to Malaysia, no headquarters, 2023-10") << "H100 SXM5 80GB"
                                                                    << "MY"
                                                                    << ""
                                                                    << "2023-10"
                                                                    << "?"
                                                                    << ""
                                                                    << ""
                                                                    << "not in the data";
        QTest::newRow("H100 to a Malaysian buyer in Malaysia, 2023-10") << "H100 SXM5 80GB"
                                                                        << "MY"
                                                                        << "MY"
                                                                        << "2023-10"
                                                                        << "?"
                                                                        << ""
                                                                        << ""
                                                                        << "D:1 is not in the data";
        QTest::newRow("H100 within the United States") << "H100 SXM5 80GB"
                                                       << "US"
                                                       << ""
                                                       << "2023-10"
                                                       << "no"
                                                       << ""
                                                       << ""
                                                       << "US is named, which is excepted";
        // export-rules.md: the H20 (TPP 2,368 < 2,400, PD 2.91) is outside 3A090 under 2023-10.
        QTest::newRow("H20 to China, 2023-10") << "H20 (China)"
                                               << "CN"
                                               << ""
                                               << "2023-10"
                                               << "no"
                                               << ""
                                               << ""
                                               << "Not required by";
        // NVIDIA 8-K 2025-04-15 [P]: licence required for China (incl. HK, Macau) and D:5.
        QTest::newRow("H20 to China, 2025-04") << "H20 (China)"
                                               << "CN"
                                               << ""
                                               << "2025-04"
                                               << "yes"
                                               << ""
                                               << ""
                                               << "H20 (China) is named";
        QTest::newRow("H20 to Hong Kong, 2025-04") << "H20 (China)"
                                                   << "HK"
                                                   << ""
                                                   << "2025-04"
                                                   << "yes"
                                                   << ""
                                                   << ""
                                                   << "HK is named";
        QTest::newRow("H20 to Germany, 2025-04") << "H20 (China)"
                                                 << "DE"
                                                 << ""
                                                 << "2025-04"
                                                 << "no"
                                                 << ""
                                                 << ""
                                                 << "Not required by";
        // 91 FR 1684 [Q/P]: case-by-case for the H200 "as well as less advanced chips", under
        // conditions; the letters' requirement carried forward (edition data, [U]).
        QTest::newRow("H20 to China, 2026-01") << "H20 (China)"
                                               << "CN"
                                               << ""
                                               << "2026-01"
                                               << "yes"
                                               << "case-by-case"
                                               << ""
                                               << "TPP 2,368 < 21,000";
        QTest::newRow("H200 to China, 2026-01") << "H200 SXM 141GB"
                                                << "CN"
                                                << ""
                                                << "2026-01"
                                                << "yes"
                                                << "case-by-case"
                                                << ""
                                                << "91 FR 1684";
        QTest::newRow("MI325X to China, 2026-01") << "Instinct MI325X"
                                                  << "CN"
                                                  << ""
                                                  << "2026-01"
                                                  << "yes"
                                                  << "case-by-case"
                                                  << ""
                                                  << "91 FR 1684";
        // 91 FR 1684: TPP 36,000 is above the 21,000 line: presumption of denial stays.
        QTest::newRow("B200 to China, 2026-01") << "B200"
                                                << "CN"
                                                << ""
                                                << "2026-01"
                                                << "yes"
                                                << "presumption of denial"
                                                << ""
                                                << "D:5";
        // The 2026-01 policy covers end users in China and Macau, not D:5 buyers elsewhere.
        QTest::newRow("H200 to a China-headquartered buyer in Malaysia, 2026-01")
            << "H200 SXM 141GB"
            << "MY"
            << "CN"
            << "2026-01"
            << "yes"
            << "presumption of denial"
            << ""
            << "headquarters CN is in D:5";
        // AMD 8-K 2025-04-16 [P]: the MI308 letter; its figures are not public, the letter
        // names it.
        QTest::newRow("MI308X to China, 2025-04") << "Instinct MI308X (China)"
                                                  << "CN"
                                                  << ""
                                                  << "2025-04"
                                                  << "yes"
                                                  << ""
                                                  << ""
                                                  << "is named";
        QTest::newRow("MI308X to China, 2023-10 (undetermined)") << "Instinct MI308X (China)"
                                                                 << "CN"
                                                                 << ""
                                                                 << "2023-10"
                                                                 << "?"
                                                                 << ""
                                                                 << ""
                                                                 << "undetermined";
        // NVIDIA 8-K 2023-10-17 [P]: the RTX 4090 became subject to the requirement;
        // export-rules.md [Q]: NAC for non-datacenter .a items with TPP >= 4800 (D:5/Macau).
        QTest::newRow("RTX 4090 to China, 2023-10") << "GeForce RTX 4090"
                                                    << "CN"
                                                    << ""
                                                    << "2023-10"
                                                    << "yes"
                                                    << "presumption of denial"
                                                    << "NAC"
                                                    << "CN is in D:5";
        // export-rules.md [P]: ACA for D:1/D:4 not also D:5; the L40 is 3A090.b (NVIDIA 8-K).
        QTest::newRow("L40 to the UAE, 2023-10") << "L40"
                                                 << "AE"
                                                 << ""
                                                 << "2023-10"
                                                 << "yes"
                                                 << ""
                                                 << "ACA"
                                                 << "AE is in D:4";
        // Russia: D:4/D:5 in the data; embargo named as another restriction (Caltech [S]).
        QTest::newRow("H100 to Russia, 2023-10") << "H100 SXM5 80GB"
                                                 << "RU"
                                                 << ""
                                                 << "2023-10"
                                                 << "yes"
                                                 << "presumption of denial"
                                                 << ""
                                                 << "RU is in";
        // 2025-01 (not enforced) as written: the worldwide .a requirement (Wilmarth [Q]); LPP
        // outside D:5/Macau (export-rules.md [S]).
        QTest::newRow("H100 to Malaysia, 2025-01") << "H100 SXM5 80GB"
                                                   << "MY"
                                                   << "MY"
                                                   << "2025-01"
                                                   << "yes"
                                                   << ""
                                                   << "LPP"
                                                   << "not enforced";
        QTest::newRow("H100 to Germany, 2025-01") << "H100 SXM5 80GB"
                                                  << "DE"
                                                  << ""
                                                  << "2025-01"
                                                  << "yes"
                                                  << ""
                                                  << "LPP,AIA"
                                                  << "worldwide";
        // export-rules.md 2022-10: the A800 (I/O 400 < 600) was outside 3A090 until 2023-10.
        QTest::newRow("A800 to China, 2022-10") << "A800 SXM4 80GB (China)"
                                                << "CN"
                                                << ""
                                                << "2022-10"
                                                << "no"
                                                << ""
                                                << ""
                                                << "Not required by";
        QTest::newRow("A800 to China, 2023-10") << "A800 SXM4 80GB (China)"
                                                << "CN"
                                                << ""
                                                << "2023-10"
                                                << "yes"
                                                << "presumption of denial"
                                                << ""
                                                << "CN is in D:5";
    }

    void publicCases() {
        QFETCH(QString, chip);
        QFETCH(QString, destination);
        QFETCH(QString, headquarters);
        QFETCH(QString, edition);
        QFETCH(QString, required);
        QFETCH(QString, policy);
        QFETCH(QString, exceptions);
        QFETCH(QString, basisHas);
        LicenseQuery query{destination.toStdString(), std::nullopt};
        if (!headquarters.isEmpty())
            query.headquarters = headquarters.toStdString();
        const LicenseResult r =
            determineLicense(::chip(chip), ::edition(edition.toStdString()), query);
        const QByteArray basis = QString::fromStdString([&] {
                                     std::string all;
                                     for (const std::string& l : r.basis)
                                         all += l + "\n";
                                     return all;
                                 }())
                                     .toUtf8();
        QVERIFY2(tri(r.license_required) == required, basis.constData());
        QCOMPARE(QString::fromStdString(r.review_policy.value_or("")), policy);
        QCOMPARE(exceptionIds(r), exceptions);
        QVERIFY2(anyContains(r.basis, basisHas), basis.constData());
        // Every basis line about a rule carries its evidence mark.
        for (const std::string& line : r.basis)
            if (line.rfind("Licence", 0) == 0 || line.rfind("Not required", 0) == 0 ||
                line.rfind("Review:", 0) == 0)
                QVERIFY2(QString::fromStdString(line).contains(
                             QRegularExpression(QStringLiteral("\\[[PQSDU]\\]$"))),
                         line.c_str());
    }

    void caseByCaseCarriesItsConditions() {
        const LicenseResult r = determineLicense(chip(QStringLiteral("H200 SXM 141GB")),
                                                 edition("2026-01"), {"CN", std::nullopt});
        QVERIFY(anyContains(r.review_conditions, QStringLiteral("third-party testing")));
        QVERIFY(anyContains(r.review_conditions, QStringLiteral("50%")));
        QVERIFY(anyContains(r.review_conditions, QStringLiteral("US exports only")));
        // Under 2023-10 the same export has no conditions: presumption of denial.
        const LicenseResult before = determineLicense(chip(QStringLiteral("H200 SXM 141GB")),
                                                      edition("2023-10"), {"CN", std::nullopt});
        QVERIFY(before.review_conditions.empty());
    }

    void otherRestrictionsAreNamed() {
        const LicenseResult russia = determineLicense(chip(QStringLiteral("H20 (China)")),
                                                      edition("2023-10"), {"RU", std::nullopt});
        QVERIFY(anyContains(russia.other_restrictions, QStringLiteral("Embargo-level")));
        const LicenseResult germany = determineLicense(chip(QStringLiteral("H20 (China)")),
                                                       edition("2023-10"), {"DE", std::nullopt});
        QVERIFY(!anyContains(germany.other_restrictions, QStringLiteral("Embargo-level")));
        QVERIFY(anyContains(germany.other_restrictions, QStringLiteral("End-use")));
        const LicenseResult ascend = determineLicense(chip(QStringLiteral("Ascend 910C")),
                                                      edition("2026-01"), {"DE", std::nullopt});
        QVERIFY(anyContains(ascend.other_restrictions, QStringLiteral("General Prohibition 10")));
    }

    // Meeting the letters' heuristic without being named leaves the answer open (no thresholds
    // were published: export-rules.md 2025-04).
    void heuristicMatchIsUndetermined() {
        ChipSpec c;
        c.name = "Hypothetical bandwidth part";
        c.datacenter = true;
        c.dense_tops[Precision::Fp16] = 100; // TPP 1,600: outside 3A090 without a die area...
        c.applicable_die_area_mm2 = 800;     // ... PD 2: outside
        c.memory_bandwidth_gb_per_s = 4500;
        c.io_bidirectional_gb_per_s = 400; // unknown I/O could meet the heuristic too
        const LicenseResult r = determineLicense(c, edition("2025-04"), {"CN", std::nullopt});
        QCOMPARE(r.license_required, std::optional<bool>());
        QVERIFY(anyContains(r.basis, QStringLiteral("heuristic")));
        c.memory_bandwidth_gb_per_s = 3000;
        QCOMPARE(determineLicense(c, edition("2025-04"), {"CN", std::nullopt}).license_required,
                 std::optional<bool>(false));
    }

    void countryGroupsAreThreeValued() {
        const Edition& e = edition("2023-10");
        QCOMPARE(inCountryGroup(e, "A:5", "DE"), std::optional<bool>(true));
        QCOMPARE(inCountryGroup(e, "A:5", "MY"), std::optional<bool>(false)); // complete list
        QCOMPARE(inCountryGroup(e, "D:1", "MY"), std::optional<bool>());      // partial list
        QCOMPARE(inCountryGroup(e, "D:5", "HK"), std::optional<bool>(true));  // alias of CN
        QCOMPARE(inCountryGroup(e, "D:5", "CY"), std::optional<bool>());      // uncertain
        QCOMPARE(inCountryGroup(e, "D:5", "KH"), std::optional<bool>(true));
        // Cambodia left D:5 on 2026-02-03 (the 2026-01 data).
        QCOMPARE(inCountryGroup(edition("2026-01"), "D:5", "KH"), std::optional<bool>(false));
        QCOMPARE(inCountryGroup(edition("2025-01"), "Tier 1", "TW"), std::optional<bool>(true));
        // Later editions inherit the groups.
        QCOMPARE(inCountryGroup(edition("2026-01"), "A:6", "SG"), std::optional<bool>(true));
    }

    void badCodesAreErrors() {
        const ChipSpec h100 = chip(QStringLiteral("H100 SXM5 80GB"));
        for (const char* code : {"XX", "de", "DEU", ""}) {
            try {
                determineLicense(h100, edition("2023-10"), {code, std::nullopt});
                QFAIL(code);
            } catch (const LicenseQueryError& e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("\"%1\"").arg(code)),
                         e.what());
            }
        }
        try {
            determineLicense(h100, edition("2023-10"), {"DE", std::string("ZZ")});
            QFAIL("ZZ accepted");
        } catch (const LicenseQueryError& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("headquarters \"ZZ\"")));
        }
    }

    void malformedCountryDataIsRejected_data() {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown code in a group")
            << R"({"country_groups": [{"id": "D:5", "members": [{"codes": ["QQ"],
                  "citation": {"text": "t", "evidence": "S"}}]}]})"
            << "\"QQ\" is not an ISO 3166-1 alpha-2 code";
        QTest::newRow("unknown group in a requirement")
            << R"({"license_requirements": [{"id": "r", "summary": "s",
                  "citation": {"text": "t", "evidence": "S"},
                  "when": {"metric": "controlled", "op": "==", "value": true},
                  "destinations": {"include": ["D:9"]}}]})"
            << "unknown country group \"D:9\"";
        QTest::newRow("requirement without a place")
            << R"({"license_requirements": [{"id": "r", "summary": "s",
                  "citation": {"text": "t", "evidence": "S"},
                  "when": {"metric": "controlled", "op": "==", "value": true}}]})"
            << "needs \"destinations\" or \"headquarters\"";
        QTest::newRow("unknown policy") << R"({"review_policies": [{"id": "p", "policy": "maybe",
                  "citation": {"text": "t", "evidence": "S"},
                  "when": {"metric": "controlled", "op": "==", "value": true},
                  "destinations": {"include": ["CN"]}}]})"
                                        << "policy \"maybe\"";
        QTest::newRow("unknown key in a group")
            << R"({"country_groups": [{"id": "A:5", "members": [], "size": 3}]})"
            << "unknown key \"size\"";
    }
    void malformedCountryDataIsRejected() {
        QFETCH(QString, patch);
        QFETCH(QString, message);
        nlohmann::json e = nlohmann::json::parse(R"({"id": "x", "title": "t",
            "citation": {"text": "X FR 1", "evidence": "P"}, "effective": "2030-01-01",
            "status": "in force", "bit_lengths": {"fp16": 16}})");
        e.update(nlohmann::json::parse(patch.toStdString()));
        try {
            editionsFromJson({e});
            QFAIL("accepted");
        } catch (const EditionFormatError& error) {
            QVERIFY2(QString::fromUtf8(error.what()).contains(message), error.what());
        }
    }

    void jsonFollowsTheContract() {
        const nlohmann::json j = licenseResultToJson(determineLicense(
            chip(QStringLiteral("H100 SXM5 80GB")), edition("2023-10"), {"CN", std::nullopt}));
        for (const char* key : {"chip", "classes", "license_required", "basis", "review_policy",
                                "license_exceptions", "other_restrictions", "undetermined"})
            QVERIFY2(j.contains(key), key);
        QVERIFY(j["license_required"] == true);
        QVERIFY(j["review_policy"] == "presumption of denial");
        QVERIFY(j["classes"] == nlohmann::json({"3A090.a.1", "3A090.a.2"}));
    }
};

QTEST_APPLESS_MAIN(TestLicense)
#include "test_license.moc"
