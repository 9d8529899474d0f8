// Matching other datasets' chip names to the store's: the normalised key, form factors and
// memory sizes that must agree, the alias table, and ambiguity reported instead of guessed.
#include "data/ChipNames.h"
#include "data/Store.h"

#include <QTest>

using namespace crossroads::data;

Q_DECLARE_METATYPE(std::string)

namespace {

std::vector<std::string> seededNames() {
    std::vector<std::string> names;
    for (const auto& chip : Store::bundledChips())
        names.push_back(chip.name);
    return names;
}

} // namespace

class TestChipNames : public QObject {
    Q_OBJECT
private slots:
    void keys_data() {
        QTest::addColumn<std::string>("name");
        QTest::addColumn<std::string>("withFormFactor");
        QTest::addColumn<std::string>("withoutFormFactor");
        QTest::addColumn<std::string>("formFactor");
        QTest::addColumn<std::string>("memory");
        QTest::newRow("epoch h100")
            << std::string("NVIDIA H100 SXM5 80GB") << std::string("h100sxm5")
            << std::string("h100") << std::string("sxm") << std::string("80");
        QTest::newRow("store h100")
            << std::string("H100 SXM5 80GB") << std::string("h100sxm5") << std::string("h100")
            << std::string("sxm") << std::string("80");
        QTest::newRow("spaced memory")
            << std::string("NVIDIA A100 PCIe 80 GB") << std::string("a100pcie")
            << std::string("a100") << std::string("pcie") << std::string("80");
        QTest::newRow("memory range in parentheses")
            << std::string("V100 SXM2 (16/32GB)") << std::string("v100sxm2") << std::string("v100")
            << std::string("sxm") << std::string("16,32");
        QTest::newRow("qualifier") << std::string("H20 (China)") << std::string("h20")
                                   << std::string("h20") << std::string() << std::string();
        QTest::newRow("brand words")
            << std::string("AMD Radeon Instinct MI250X") << std::string("mi250x")
            << std::string("mi250x") << std::string() << std::string();
        QTest::newRow("two-word vendor")
            << std::string("Moore Threads MTT S4000") << std::string("mtts4000")
            << std::string("mtts4000") << std::string() << std::string();
        QTest::newRow("digits are not memory")
            << std::string("GB200 (per GPU)") << std::string("gb200") << std::string("gb200")
            << std::string() << std::string();
    }
    void keys() {
        QFETCH(std::string, name);
        QFETCH(std::string, withFormFactor);
        QFETCH(std::string, withoutFormFactor);
        QFETCH(std::string, formFactor);
        QFETCH(std::string, memory);
        const ChipNameKey key = chipNameKey(name);
        QCOMPARE(key.with_form_factor, withFormFactor);
        QCOMPARE(key.without_form_factor, withoutFormFactor);
        QCOMPARE(key.form_factor, formFactor);
        std::string sizes;
        for (const auto& m : key.memory_gb)
            sizes += (sizes.empty() ? "" : ",") + m;
        QCOMPARE(sizes, memory);
    }

    void matchesTheSeed_data() {
        QTest::addColumn<std::string>("row");
        QTest::addColumn<std::string>("expected"); // empty: not matched
        QTest::newRow("exact, other case")
            << std::string("h20 (china)") << std::string("H20 (China)");
        QTest::newRow("vendor prefix")
            << std::string("NVIDIA H100 SXM5 80GB") << std::string("H100 SXM5 80GB");
        QTest::newRow("pcie") << std::string("NVIDIA H100 PCIe") << std::string("H100 PCIe 80GB");
        QTest::newRow("china qualifier") << std::string("NVIDIA H20") << std::string("H20 (China)");
        QTest::newRow("sxm generation aside")
            << std::string("NVIDIA H200 SXM5 141GB") << std::string("H200 SXM 141GB");
        QTest::newRow("tesla") << std::string("NVIDIA Tesla V100 SXM2 32 GB")
                               << std::string("V100 SXM2 (16/32GB)");
        QTest::newRow("radeon instinct")
            << std::string("AMD Radeon Instinct MI250X") << std::string("Instinct MI250X");
        QTest::newRow("alias") << std::string("NVIDIA RTX 6000 Ada Generation")
                               << std::string("RTX 6000 Ada");
        QTest::newRow("alias of a marketing name")
            << std::string("NVIDIA B300") << std::string("B300 / Blackwell Ultra");
        QTest::newRow("China SKU stays apart")
            << std::string("Intel Gaudi2 China") << std::string("Gaudi2 China (HL-225B)");
        // Another memory size is another product: not merged into the 80GB one.
        QTest::newRow("other memory") << std::string("NVIDIA A100 SXM4 40GB") << std::string();
        QTest::newRow("unknown") << std::string("Example Accelerator X100") << std::string();
    }
    void matchesTheSeed() {
        QFETCH(std::string, row);
        QFETCH(std::string, expected);
        const ChipNameMatcher matcher(seededNames(), Store::bundledAliases());
        const ChipNameMatch m = matcher.match(row);
        QVERIFY2(m.ambiguous.empty(), row.c_str());
        QCOMPARE(m.name.value_or(std::string()), expected);
    }

    void ambiguityIsReported() {
        const ChipNameMatcher matcher(seededNames(), Store::bundledAliases());
        // SXM5 or PCIe? Neither is chosen.
        const ChipNameMatch m = matcher.match("NVIDIA H100");
        QVERIFY(!m.name);
        QCOMPARE(m.ambiguous, (std::vector<std::string>{"H100 SXM5 80GB", "H100 PCIe 80GB"}));
        // A form factor that disagrees is no match either.
        const ChipNameMatcher one({"H100 SXM5 80GB"}, {});
        QVERIFY(!one.match("NVIDIA H100 PCIe").name);
        QCOMPARE(one.match("NVIDIA H100").name, std::optional<std::string>("H100 SXM5 80GB"));
    }

    void aliasFileErrorsNameTheEntry() {
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, aliasesFromJsonText("[]"));
        try {
            aliasesFromJsonText(R"({"aliases": [{"alias": "A", "chip": "B"}, {"alias": "C"}]})");
            QFAIL("no error");
        } catch (const std::runtime_error& e) {
            QCOMPARE(QString::fromUtf8(e.what()),
                     QStringLiteral("aliases: entry 2: needs \"alias\" and \"chip\""));
        }
    }
};

QTEST_GUILESS_MAIN(TestChipNames)
#include "test_chip_names.moc"
