// The fast path (CompiledEdition: paragraph and controlled only) held equal to classify(), the
// reference, on every bundled chip x edition, and on variants of each chip that move its figures
// across the lines and take figures away (so the undetermined branches are compared too).
#include "analysis/Classifier.h"
#include "analysis/CompiledEdition.h"
#include "tests/common/ReferenceData.h"

#include <QTest>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

std::vector<ChipSpec> variantsOf(const ChipSpec& chip) {
    std::vector<ChipSpec> out{chip};
    for (double f : {0.1, 0.5, 0.98, 1.02, 2.0, 5.0}) {
        ChipSpec rates = chip;
        for (auto& r : rates.dense_tops.tops)
            if (r)
                *r *= f;
        out.push_back(rates);
        for (const FigureField& field : kFigureFields)
            if (chip.*field.member) {
                ChipSpec c = chip;
                c.*field.member = *(chip.*field.member) * f;
                out.push_back(c);
            }
    }
    for (const FigureField& field : kFigureFields)
        if (chip.*field.member) {
            ChipSpec c = chip;
            c.*field.member = std::nullopt;
            out.push_back(c);
        }
    for (std::optional<bool> dc :
         {std::optional<bool>(), std::optional(true), std::optional(false)}) {
        ChipSpec c = chip;
        c.datacenter = dc;
        out.push_back(c);
    }
    ChipSpec noRates = chip;
    noRates.dense_tops = {};
    out.push_back(noRates);
    return out;
}

} // namespace

class TestCompiledEdition : public QObject {
    Q_OBJECT

private slots:
    void equalsClassifyOnEveryBundledChipAndEdition() {
        const auto editions = bundledEditions();
        const auto chips = bundledChips();
        QVERIFY(editions.size() >= 6);
        QVERIFY(chips.size() >= 40);
        int compared = 0, undetermined = 0;
        for (const Edition& e : editions) {
            const CompiledEdition compiled(e);
            for (const ChipSpec& base : chips)
                for (const ChipSpec& chip : variantsOf(base)) {
                    const ClassificationResult reference = classify(chip, e);
                    const ParagraphDecision fast = compiled.classify(chip);
                    const std::optional<std::string> paragraph =
                        fast.paragraph ? std::optional(std::string(paragraphKey(*fast.paragraph)))
                                       : std::nullopt;
                    const QString where = QString::fromStdString(chip.name + " under " + e.id);
                    QVERIFY2(paragraph == reference.paragraph, qPrintable(where));
                    QVERIFY2(fast.controlled == reference.controlled, qPrintable(where));
                    // The numeric metrics design-around reads are the classifier's.
                    QVERIFY2(numericMetric(chip, e, "tpp") == reference.tppValue(),
                             qPrintable(where));
                    QVERIFY2(numericMetric(chip, e, "performance_density") ==
                                 reference.performance_density,
                             qPrintable(where));
                    QVERIFY2(numericMetric(chip, e, "memory_bandwidth_density") ==
                                 reference.memory_bandwidth_density,
                             qPrintable(where));
                    ++compared;
                    undetermined += !reference.paragraph;
                }
        }
        QVERIFY(compared > 1000);
        QVERIFY(undetermined > 0); // the undetermined branches were exercised
        qInfo("compared %d chip x edition pairs (%d undetermined)", compared, undetermined);
    }

    void numericMetricRejectsNonNumericMetrics() {
        const auto editions = bundledEditions();
        const auto chips = bundledChips();
        QVERIFY(!numericMetric(chips.front(), editions.front(), "kind"));
        QVERIFY(!numericMetric(chips.front(), editions.front(), "no_such_metric"));
    }
};

QTEST_APPLESS_MAIN(TestCompiledEdition)
#include "test_compiled_edition.moc"
