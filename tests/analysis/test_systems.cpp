// Systems (4A090) from their chips: 4A090.a / .b for computers containing ICs meeting
// 3A090.a / .b (docs/reference/export-rules.md [S]); aggregate TPP = N x the chip's TPP
// (docs/reference/chips.csv: H100 SXM5 TPP 15,832; a DGX H100 holds 8, NVIDIA's DGX datasheet).
#include "analysis/Systems.h"
#include "tests/common/ReferenceData.h"

#include <QTest>

#include <map>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

ChipSpec chip(const std::string& name) {
    return bundledChip(name);
}

const Edition& edition(const std::string& id) {
    return bundledEdition(id);
}

} // namespace

class TestSystems : public QObject {
    Q_OBJECT

private slots:
    void systems_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("edition");
        QTest::addColumn<QString>("eccn");
        QTest::addColumn<double>("aggregate_tpp");
        // DGX H100: 8 x H100 SXM5 (TPP 15,832, 3A090.a) -> 4A090.a, 126,656.
        QTest::newRow("DGX H100, 2023-10") << "H100 SXM5 80GB" << 8 << "2023-10"
                                           << "4A090.a" << 8 * 15832.0;
        // HGX H20: 8 x H20 (TPP 2,368; outside 3A090 since 2023-10) -> not 4A090.
        QTest::newRow("8 x H20, 2023-10") << "H20 (China)" << 8 << "2023-10"
                                          << "none" << 8 * 2368.0;
        // L40S (3A090.b... a.2 under 2023-10: PD 9.64 >= 5.92) in a 4-GPU server.
        QTest::newRow("4 x L40S, 2023-10") << "L40S" << 4 << "2023-10"
                                           << "4A090.a" << 4 * 5864.0;
        // 8 x A800 under 2022-10 (NVLink 400 < 600): outside, whatever the aggregate TPP.
        QTest::newRow("8 x A800, 2022-10") << "A800 SXM4 80GB (China)" << 8 << "2022-10"
                                           << "none" << 8 * 4992.0;
    }

    void systems() {
        QFETCH(QString, chip);
        QFETCH(int, count);
        QFETCH(QString, edition);
        QFETCH(QString, eccn);
        QFETCH(double, aggregate_tpp);
        const SystemClassification s = classifySystem({"system", ::chip(chip.toStdString()), count},
                                                      ::edition(edition.toStdString()));
        QCOMPARE(QString::fromStdString(s.eccn.value_or("?")), eccn);
        QVERIFY(s.aggregate_tpp);
        QCOMPARE(*s.aggregate_tpp, aggregate_tpp);
        QVERIFY(QString::fromStdString(s.reason).contains(QString::number(count) + " x "));
    }

    void undeterminedChipLeavesTheSystemUndetermined() {
        // The H20 without its die area: TPP 2,368 is in 3A090.b's TPP range, PD unknown.
        ChipSpec h20 = ::chip("H20 (China)");
        h20.applicable_die_area_mm2.reset();
        const SystemClassification s = classifySystem({"H20 box", h20, 8}, ::edition("2023-10"));
        QVERIFY(!s.chip_paragraph);
        QVERIFY(!s.eccn);
        QVERIFY(QString::fromStdString(s.reason).contains("undetermined"));
    }

    // "NAME=N x CHIP", as --system takes it.
    void parseDefinition_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("count");
        QTest::addColumn<QString>("chip");
        QTest::newRow("spaced") << "DGX H100=8 x H100 SXM5 80GB"
                                << "DGX H100" << 8 << "H100 SXM5 80GB";
        QTest::newRow("tight") << "box=16xH20 (China)"
                               << "box" << 16 << "H20 (China)";
        QTest::newRow("capital X, spaces around =") << " NVL72 = 72 X GB200 (per GPU) "
                                                    << "NVL72" << 72 << "GB200 (per GPU)";
    }
    void parseDefinition() {
        QFETCH(QString, text);
        QFETCH(QString, name);
        QFETCH(int, count);
        QFETCH(QString, chip);
        const SystemDefinition d = parseSystemDefinition(text.toStdString());
        QCOMPARE(QString::fromStdString(d.name), name);
        QCOMPARE(d.chip_count, count);
        QCOMPARE(QString::fromStdString(d.chip), chip);
    }

    void badDefinition_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("problem");
        QTest::newRow("no =") << "DGX H100 8 x H100"
                              << "no \"=\"";
        QTest::newRow("no name") << "=8 x H100"
                                 << "no name";
        QTest::newRow("no count") << "box=x H100"
                                  << "no chip count";
        QTest::newRow("zero") << "box=0 x H100"
                              << "from 1 to";
        QTest::newRow("too many") << "box=99999999 x H100"
                                  << "more than";
        QTest::newRow("no x") << "box=8 H100"
                              << "no \"x\"";
        QTest::newRow("no chip") << "box=8 x "
                                 << "no chip after";
    }
    void badDefinition() {
        QFETCH(QString, text);
        QFETCH(QString, problem);
        try {
            parseSystemDefinition(text.toStdString());
            QFAIL("accepted");
        } catch (const std::invalid_argument& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(problem), qPrintable(message));
            QVERIFY2(message.contains(text), qPrintable(message));
        }
    }

    // The bundled examples name chips of the bundled store, each with a cited count, and
    // classify: DGX H100 -> 4A090.a under 2023-10, HGX H20 -> not 4A090.a/.b.
    void bundledSystems() {
        const auto definitions = systemDefinitionsFromJsonText(
            readText(sourcePath(QStringLiteral("data/seed/systems.json"))));
        QVERIFY(definitions.size() >= 6);
        std::map<std::string, std::string> eccn;
        for (const SystemDefinition& d : definitions) {
            QVERIFY2(!d.citation.text.empty(), d.name.c_str());
            const SystemClassification s =
                classifySystem({d.name, ::chip(d.chip), d.chip_count}, ::edition("2023-10"));
            eccn[d.name] = s.eccn.value_or("undetermined");
        }
        QCOMPARE(eccn.at("DGX H100"), std::string("4A090.a"));
        QCOMPARE(eccn.at("HGX H20"), std::string("none"));
        QCOMPARE(eccn.at("HGX H800"), std::string("4A090.a"));
    }

    void badSystemsFile_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("problem");
        QTest::newRow("unknown key")
            << R"({"systems": [{"name": "a", "chip": "b", "count": 8, "gpus": 8,
                  "citation": {"text": "t", "evidence": "U"}}]})"
            << "unknown key \"gpus\"";
        QTest::newRow("count zero") << R"({"systems": [{"name": "a", "chip": "b", "count": 0,
                  "citation": {"text": "t", "evidence": "U"}}]})"
                                    << "\"count\"";
        QTest::newRow("no citation") << R"({"systems": [{"name": "a", "chip": "b", "count": 8}]})"
                                     << "\"citation\"";
        QTest::newRow("bad evidence") << R"({"systems": [{"name": "a", "chip": "b", "count": 8,
                  "citation": {"text": "t", "evidence": "X"}}]})"
                                      << "evidence";
        QTest::newRow("twice") << R"({"systems": [{"name": "a", "chip": "b", "count": 8,
                  "citation": {"text": "t", "evidence": "U"}},
                  {"name": "a", "chip": "b", "count": 4,
                  "citation": {"text": "t", "evidence": "U"}}]})"
                               << "defined twice";
    }
    void badSystemsFile() {
        QFETCH(QString, text);
        QFETCH(QString, problem);
        try {
            systemDefinitionsFromJsonText(text.toStdString());
            QFAIL("accepted");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(problem), e.what());
        }
    }

    // Whole systems within an allocation: 26,900,000 / (8 x 15,832) = 212.4 DGX H100s.
    void systemsWithinAllocation() {
        const SystemClassification dgx =
            classifySystem({"DGX H100", ::chip("H100 SXM5 80GB"), 8}, ::edition("2025-01"));
        QCOMPARE(systemsWithin(dgx, 26.9e6), std::optional<int64_t>(212));
        QCOMPARE(systemsWithin(dgx, 8 * 15832.0), std::optional<int64_t>(1));
        ChipSpec unknown = ::chip("Instinct MI308X (China)");
        const SystemClassification none =
            classifySystem({"MI308X box", unknown, 8}, ::edition("2025-01"));
        QVERIFY(!systemsWithin(none, 26.9e6));
    }

    void badCountIsRejected() {
        QVERIFY_THROWS_EXCEPTION(
            std::invalid_argument,
            classifySystem({"empty", ::chip("H100 SXM5 80GB"), 0}, ::edition("2023-10")));
    }
};

QTEST_APPLESS_MAIN(TestSystems)
#include "test_systems.moc"
