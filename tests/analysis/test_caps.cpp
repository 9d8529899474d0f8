// The cap calculator against the reference figures: the 2025-01 edition's caps (LPP 26,900,000
// TPP, ~1,699 H100 at TPP 15,832; Tier-2 790,000,000, ~49,900 H100: docs/reference/export-rules.md
// [S] and [D]), the utilisation DeepSeek-V3's report implies (6 x 37B x 14.8T FLOPs over 2,664K
// H800 GPU-hours: the H800 allocation must take exactly those GPU-hours), and 4E091 (10^26).
#include "analysis/Caps.h"

#include "inference/model/Presets.h"
#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <cmath>
#include <stdexcept>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

ChipSpec chip(const std::string& name) {
    return bundledChip(name);
}

const Edition& edition(const std::string& id) {
    return bundledEdition(id);
}

const crossroads::inference::ModelConfig& deepseekV3() {
    static const auto config = crossroads::inference::presetConfig("deepseek-v3");
    return config;
}

Allocation allocation(const std::string& text) {
    const Edition& e = edition("2025-01");
    return parseAllocation(text, e.caps ? &*e.caps : nullptr, e.id);
}

CapReport caps(const std::string& allocationText, const std::vector<std::string>& names,
               const CapOptions& options = {}) {
    std::vector<ChipSpec> chips;
    for (const std::string& n : names)
        chips.push_back(chip(n));
    const ChipSpec h800 = chip("H800 SXM5 (China)");
    const ChipSpec h100 = chip("H100 SXM5 80GB");
    return computeCaps(allocation(allocationText), chips, h800, &h100,
                       edition("2025-01").bit_lengths, "2025-01", deepseekV3(), options);
}

bool within(double value, double expected, double fraction) {
    return std::fabs(value - expected) <= fraction * std::fabs(expected);
}

} // namespace

class TestCaps : public QObject {
    Q_OBJECT

private slots:
    // The named allocations come from the edition's cap data, with its citation.
    void allocations_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("key");
        QTest::addColumn<double>("tpp");
        QTest::newRow("lpp") << "lpp"
                             << "lpp" << 26.9e6;
        QTest::newRow("LPP, any case") << "LPP"
                                       << "lpp" << 26.9e6;
        QTest::newRow("tier2") << "tier2"
                               << "tier2" << 790e6;
        QTest::newRow("tier2x2") << "tier2x2"
                                 << "tier2x2" << 1580e6;
        QTest::newRow("custom digits") << "100000000"
                                       << "custom" << 1e8;
        QTest::newRow("custom with commas") << "26,900,000"
                                            << "custom" << 26.9e6;
        QTest::newRow("custom exponent") << "2.5e7"
                                         << "custom" << 2.5e7;
    }
    void allocations() {
        QFETCH(QString, text);
        QFETCH(QString, key);
        QFETCH(double, tpp);
        const Allocation a = allocation(text.toStdString());
        QCOMPARE(QString::fromStdString(a.key), key);
        QCOMPARE(a.tpp, tpp);
        QVERIFY(!a.description.empty());
        if (key != QLatin1String("custom")) {
            QCOMPARE(a.citation.text, edition("2025-01").caps->citation.text);
            QCOMPARE(a.citation.evidence, std::string("S"));
        }
    }

    void badAllocation_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("edition");
        QTest::newRow("word") << "tier3"
                              << "2025-01";
        QTest::newRow("negative") << "-5"
                                  << "2025-01";
        QTest::newRow("zero") << "0"
                              << "2025-01";
        QTest::newRow("empty") << ""
                               << "2025-01";
        QTest::newRow("trailing junk") << "1e6x"
                                       << "2025-01";
        QTest::newRow("infinite") << "inf"
                                  << "2025-01";
        QTest::newRow("absurd") << "1e16"
                                << "2025-01";
        QTest::newRow("lpp without caps") << "lpp"
                                          << "2024-12";
    }
    void badAllocation() {
        QFETCH(QString, text);
        QFETCH(QString, edition);
        const Edition& e = ::edition(edition.toStdString());
        try {
            parseAllocation(text.toStdString(), e.caps ? &*e.caps : nullptr, e.id);
            QFAIL("accepted");
        } catch (const std::invalid_argument& error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(text) || message.contains(edition), qPrintable(message));
        }
    }

    // Whole chips: floor(allocation / TPP), exact at the edge.
    void wholeChips_data() {
        QTest::addColumn<QString>("allocation");
        QTest::addColumn<QString>("chip");
        QTest::addColumn<qlonglong>("chips");
        // 26,900,000 / 15,832 = 1,699.09 (export-rules.md: ~1,699 H100 [D]).
        QTest::newRow("LPP, H100") << "lpp"
                                   << "H100 SXM5 80GB" << 1699LL;
        // 790,000,000 / 15,832 = 49,898.9 (export-rules.md: ~49,900 H100 [D]).
        QTest::newRow("Tier-2, H100") << "tier2"
                                      << "H100 SXM5 80GB" << 49898LL;
        QTest::newRow("Tier-2 doubled, H100") << "tier2x2"
                                              << "H100 SXM5 80GB" << 99797LL;
        // H20: TPP 2,368 (FP8 296 x 8): 26,900,000 / 2,368 = 11,359.8.
        QTest::newRow("LPP, H20") << "lpp"
                                  << "H20 (China)" << 11359LL;
        // Exactly three H100s' TPP holds three.
        QTest::newRow("edge, 3 x H100") << "47496"
                                        << "H100 SXM5 80GB" << 3LL;
        QTest::newRow("below one B200") << "30000"
                                        << "B200" << 0LL;
    }
    void wholeChips() {
        QFETCH(QString, allocation);
        QFETCH(QString, chip);
        QFETCH(qlonglong, chips);
        const CapReport r = caps(allocation.toStdString(), {chip.toStdString()});
        QCOMPARE(r.results.size(), size_t(1));
        const CapRow& row = r.results.front();
        QVERIFY(row.chips);
        QCOMPARE(static_cast<qlonglong>(*row.chips), chips);
        QVERIFY(static_cast<double>(*row.chips) * *row.tpp <= r.allocation.tpp);
        QVERIFY(static_cast<double>(*row.chips + 1) * *row.tpp > r.allocation.tpp);
        if (chips == 0) {
            QVERIFY(!row.training_days);
            QCOMPARE(row.reaches_4e091, std::optional<bool>(false));
        }
    }

    // By TPP every chip's allocation is within one chip of the same H100 count: the rule counts
    // TPP. By projected decode the H20 buys far more than the H100 does.
    void h100Equivalents() {
        const CapReport r = caps("lpp", {"H100 SXM5 80GB", "H20 (China)", "H800 SXM5 (China)"});
        const CapRow& h100 = r.results[0];
        const CapRow& h20 = r.results[1];
        QCOMPARE(*h100.h100_equivalents, 1699.0);
        QVERIFY(within(*h100.h100_equivalents_by_capability, 1699.0, 1e-12));
        QVERIFY2(within(*h20.h100_equivalents, 11359.0 * 2368.0 / 15832.0, 1e-12),
                 qPrintable(QString::number(*h20.h100_equivalents)));
        QVERIFY(*h20.h100_equivalents <= 26.9e6 / 15832.0);
        QVERIFY(*h20.h100_equivalents > 26.9e6 / 15832.0 - 1.0);
        QVERIFY2(*h20.h100_equivalents_by_capability > 5.0 * *h20.h100_equivalents,
                 qPrintable(QString::number(*h20.h100_equivalents_by_capability)));
        // The H800's memory bandwidth is the H100's: the same decode per GPU.
        QVERIFY(within(*r.results[2].decode_tokens_per_s_per_gpu, *h100.decode_tokens_per_s_per_gpu,
                       1e-12));
    }

    // The aggregate decode is the chip count times the capability index's per-GPU figure (FP8,
    // batch 1, context 4096, pure roofline) unless the options say otherwise.
    void aggregateDecode() {
        const CapReport r = caps("tier2", {"H20 (China)", "B200"});
        for (const CapRow& row : r.results) {
            const CapabilityIndex index = capabilityIndex(chip(row.chip), chip("H100 SXM5 80GB"),
                                                          edition("2025-01").bit_lengths);
            QVERIFY(within(*row.decode_tokens_per_s_per_gpu, *index.deepseek_v3_decode_tokens_per_s,
                           1e-12));
            QVERIFY(within(*row.decode_tokens_per_s,
                           static_cast<double>(*row.chips) * *row.decode_tokens_per_s_per_gpu,
                           1e-12));
        }
        CapOptions batched;
        batched.decode.batch = 32;
        const CapReport b = caps("tier2", {"H20 (China)"}, batched);
        QCOMPARE(b.assumptions.decode.batch, int64_t(32));
        QVERIFY(*b.results[0].decode_tokens_per_s > *r.results[0].decode_tokens_per_s);
    }

    // The implied utilisation reproduces DeepSeek's own figure: H800s bought by any allocation
    // take 2,664K GPU-hours (chips x days x 24) to train DeepSeek-V3, on either basis.
    void utilizationReproducesDeepSeek_data() {
        QTest::addColumn<QString>("allocation");
        QTest::addColumn<QString>("basis");
        QTest::newRow("LPP, BF16") << "lpp"
                                   << "bf16";
        QTest::newRow("Tier-2, BF16") << "tier2"
                                      << "bf16";
        QTest::newRow("LPP, FP8") << "lpp"
                                  << "fp8";
        QTest::newRow("custom, FP8") << "123456789"
                                     << "fp8";
    }
    void utilizationReproducesDeepSeek() {
        QFETCH(QString, allocation);
        QFETCH(QString, basis);
        CapOptions options;
        options.basis = *utilizationBasisFromKey(basis.toStdString());
        const CapReport r = caps(allocation.toStdString(), {"H800 SXM5 (China)"}, options);
        const CapRow& h800 = r.results.front();
        const double gpuHours = static_cast<double>(*h800.chips) * *h800.training_days * 24.0;
        QVERIFY2(within(gpuHours, 2.664e6, 1e-12), qPrintable(QString::number(gpuHours)));
        // 6 x 37e9 x 14.8e12 = 3.2856e24 FLOPs, against 2.664e6 h x 3600 s x 989 (BF16) or 1979
        // (FP8) dense TFLOPS of the H800 (docs/reference/chips.csv).
        QCOMPARE(r.assumptions.training_flops, 3.2856e24);
        QVERIFY(
            within(*r.assumptions.utilization_bf16, 3.2856e24 / (2.664e6 * 3600 * 989e12), 1e-12));
        QVERIFY(
            within(*r.assumptions.utilization_fp8, 3.2856e24 / (2.664e6 * 3600 * 1979e12), 1e-12));
        QVERIFY(*r.assumptions.utilization_bf16 > 0.34 && *r.assumptions.utilization_bf16 < 0.35);
        QCOMPARE(*r.assumptions.utilization, basis == QLatin1String("fp8")
                                                 ? *r.assumptions.utilization_fp8
                                                 : *r.assumptions.utilization_bf16);
    }

    // 4E091: LPP's H100s make 1.8e25 operations a year at the implied utilisation (below 10^26);
    // a Tier-2 allocation's make 5.4e26 (above).
    void exceeds4e091_data() {
        QTest::addColumn<QString>("allocation");
        QTest::addColumn<double>("periodDays");
        QTest::addColumn<bool>("exceeds");
        QTest::newRow("LPP, one year") << "lpp" << 365.0 << false;
        QTest::newRow("Tier-2, one year") << "tier2" << 365.0 << true;
        QTest::newRow("Tier-2, one month") << "tier2" << 30.0 << false;
        QTest::newRow("LPP, six years") << "lpp" << 6.0 * 365.0 << true;
    }
    void exceeds4e091() {
        QFETCH(QString, allocation);
        QFETCH(double, periodDays);
        QFETCH(bool, exceeds);
        CapOptions options;
        options.period_days = periodDays;
        const CapReport r = caps(allocation.toStdString(), {"H100 SXM5 80GB"}, options);
        const CapRow& row = r.results.front();
        QCOMPARE(r.exceeds_4e091, exceeds);
        QCOMPARE(*row.reaches_4e091, exceeds);
        QVERIFY(within(*row.operations_in_period,
                       static_cast<double>(*row.chips) * 989.4e12 * *r.assumptions.utilization *
                           periodDays * 86400.0,
                       1e-12));
        QVERIFY(within(*row.days_to_4e091 * static_cast<double>(*row.chips),
                       *row.days_to_4e091_per_chip, 1e-12));
        QCOMPARE(*row.operations_in_period >= 1e26, exceeds);
        QVERIFY(r.exceeds_4e091_undetermined.empty());
    }

    // Exactly at the days to reach 10^26 the line is met ("or more").
    void exceeds4e091AtTheLine() {
        const CapRow first = caps("lpp", {"H100 SXM5 80GB"}).results.front();
        CapOptions at;
        at.period_days = *first.days_to_4e091 * (1 + 1e-12);
        QVERIFY(caps("lpp", {"H100 SXM5 80GB"}, at).exceeds_4e091);
        at.period_days = *first.days_to_4e091 * (1 - 1e-9);
        QVERIFY(!caps("lpp", {"H100 SXM5 80GB"}, at).exceeds_4e091);
    }

    // Missing figures give null fields and an undetermined list, never a crash.
    void undetermined_data() {
        QTest::addColumn<QString>("chip");
        QTest::addColumn<QString>("basis");
        QTest::addColumn<QStringList>("missing");
        QTest::addColumn<bool>("hasChips");
        QTest::addColumn<bool>("hasDays");
        // No published rate at all (docs/reference/chips.csv): nothing can be counted.
        QTest::newRow("MI308X: no rates")
            << "Instinct MI308X (China)"
            << "bf16" << QStringList{"dense_tops", "memory_bandwidth_gb_per_s", "dense_tops.bf16"}
            << false << false;
        QTest::newRow("Gaudi3 China: no rates")
            << "Gaudi3 China (HL-328/HL-388)"
            << "bf16" << QStringList{"dense_tops", "dense_tops.bf16"} << false << false;
        // Ascend 910C lists FP16/BF16 only: on the FP8 basis it has no training rate.
        QTest::newRow("Ascend 910C, FP8 basis")
            << "Ascend 910C"
            << "fp8" << QStringList{"dense_tops.fp8"} << true << false;
        QTest::newRow("Ascend 910C, BF16 basis") << "Ascend 910C"
                                                 << "bf16" << QStringList{} << true << true;
    }
    void undetermined() {
        QFETCH(QString, chip);
        QFETCH(QString, basis);
        QFETCH(QStringList, missing);
        QFETCH(bool, hasChips);
        QFETCH(bool, hasDays);
        CapOptions options;
        options.basis = *utilizationBasisFromKey(basis.toStdString());
        const CapReport r = caps("tier2", {chip.toStdString()}, options);
        const CapRow& row = r.results.front();
        QStringList got;
        for (const std::string& k : row.undetermined)
            got << QString::fromStdString(k);
        QCOMPARE(got, missing);
        QCOMPARE(row.chips.has_value(), hasChips);
        QCOMPARE(row.training_days.has_value(), hasDays);
        QCOMPARE(row.reaches_4e091.has_value(), hasDays);
        QCOMPARE(r.exceeds_4e091_undetermined.empty(), hasDays);
        const nlohmann::json j = capReportToJson(r);
        QCOMPARE(j["results"][0]["chips"].is_null(), !hasChips);
        QCOMPARE(j["results"][0]["deepseek_v3_training_days"].is_null(), !hasDays);
    }

    // A chip without a BF16 figure trains at its FP16 rate, and says so.
    void fp16Fallback() {
        const CapRow row = caps("lpp", {"V100 SXM2 (16/32GB)"}).results.front();
        QCOMPARE(row.training_precision, std::string("fp16"));
        QCOMPARE(*row.training_tflops, 125.0);
        QVERIFY(!row.notes.empty());
    }

    void referenceWithoutRate() {
        ChipSpec bare = chip("H800 SXM5 (China)");
        bare.dense_tops[Precision::Fp8].reset();
        CapOptions fp8;
        fp8.basis = UtilizationBasis::Fp8;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 computeCaps(allocation("lpp"), {chip("H20 (China)")}, bare,
                                             nullptr, edition("2025-01").bit_lengths, "2025-01",
                                             deepseekV3(), fp8));
        // Without an H100 the equivalents are null, the rest stands.
        const CapReport r = computeCaps(allocation("lpp"), {chip("H20 (China)")}, bare, nullptr,
                                        edition("2025-01").bit_lengths, "2025-01", deepseekV3());
        QVERIFY(!r.results[0].h100_equivalents);
        QVERIFY(r.results[0].training_days);
    }

    // The contract's keys, and the extensions' (DESIGN.md `crossroads caps`).
    void jsonShape() {
        const nlohmann::json j = capReportToJson(caps("lpp", {"H100 SXM5 80GB"}));
        for (const char* key : {"allocation", "allocation_tpp", "results", "assumptions",
                                "exceeds_4e091", "allocation_description", "allocation_citation"})
            QVERIFY2(j.contains(key), key);
        for (const char* key :
             {"chip", "tpp", "chips", "h100_equivalents", "deepseek_v3_decode_tokens_per_s",
              "deepseek_v3_training_days", "h100_equivalents_by_capability", "operations_in_period",
              "days_to_4e091", "days_to_4e091_per_chip", "undetermined"})
            QVERIFY2(j["results"][0].contains(key), key);
        for (const char* key :
             {"training_utilization", "training_utilization_basis", "training_utilization_fp8",
              "training_flops", "training_flops_formula", "decode_batch_per_gpu", "decode_context",
              "period_days", "operations_threshold", "exceeds_4e091_definition"})
            QVERIFY2(j["assumptions"].contains(key), key);
        QCOMPARE(j["allocation"].get<std::string>(), std::string("lpp"));
        QCOMPARE(j["results"][0]["chips"].get<int64_t>(), int64_t(1699));
        QCOMPARE(j["assumptions"]["operations_threshold"].get<double>(), 1e26);
        QCOMPARE(j["assumptions"]["training_utilization_basis"].get<std::string>(),
                 std::string("bf16"));
    }
};

QTEST_APPLESS_MAIN(TestCaps)
#include "test_caps.moc"
