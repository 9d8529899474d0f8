// The capability table: the capability index beside the class under an edition (the headline the
// capability issue asks for: the H20, outside 3A090 since 2023, out-decodes the controlled H100
// on DeepSeek-V3, about 107 against 89 tok/s at 4.0 and 3.35 TB/s), the order, and the
// calibration arithmetic over stored benchmark runs (decode step bytes = achieved / tokens_per_s,
// so roofline = tokens_per_s x datasheet / achieved), with the runs that cannot calibrate left out.
#include "analysis/Capability.h"

#include "tests/common/ReferenceData.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <cmath>

using namespace crossroads::analysis;
using namespace crossroads::testing;

namespace {

std::vector<ChipSpec> chips(const std::vector<std::string>& names) {
    std::vector<ChipSpec> out;
    for (const std::string& n : names)
        out.push_back(bundledChip(n));
    return out;
}

const CapabilityRow& row(const CapabilityReport& report, const std::string& chip) {
    for (const CapabilityRow& r : report.results)
        if (r.index.chip == chip)
            return r;
    throw std::runtime_error("no row for " + chip);
}

// A `bench --json` result with one decode phase (and a prefill), as the store keeps it.
std::string benchJson(double decodeTokensPerS, double achievedGbPerS,
                      std::optional<double> specGbPerS, const std::string& specChip = {}) {
    nlohmann::json spec = nlohmann::json::object();
    if (specGbPerS)
        spec["bandwidth_gb_per_s"] = *specGbPerS;
    if (!specChip.empty())
        spec["chip"] = specChip;
    return nlohmann::json{{"measured_bandwidth_gb_per_s", 4000.0},
                          {"spec", spec},
                          {"phases",
                           {{{"phase", "prefill"}, {"tokens_per_s", 9000.0}},
                            {{"phase", "decode"},
                             {"tokens_per_s", decodeTokensPerS},
                             {"achieved_gb_per_s", achievedGbPerS}},
                            {{"phase", "decode"}, // a longer context of a sweep: not read
                             {"tokens_per_s", 1.0},
                             {"achieved_gb_per_s", 1.0}}}}}
        .dump();
}

BenchRun run(long long id, const std::string& device, const std::string& backend,
             std::string json) {
    return BenchRun{id,
                    "2026-12-0" + std::to_string(id) + "T10:00:00Z",
                    device,
                    backend,
                    "preset:qwen3-30b-a3b?layers=2",
                    "bf16",
                    std::move(json)};
}

bool within(double value, double expected, double fraction) {
    return std::fabs(value - expected) <= fraction * std::fabs(expected);
}

} // namespace

class TestCapability : public QObject {
    Q_OBJECT

private slots:
    void h20OutDecodesTheControlledH100() {
        const auto list = chips({"H100 SXM5 80GB", "H20 (China)", "H800 SXM5 (China)"});
        const ChipSpec h100 = bundledChip("H100 SXM5 80GB");
        const CapabilityReport report = capabilityTable(list, bundledEdition("2023-10"), &h100, {});
        const CapabilityRow& h20 = row(report, "H20 (China)");
        const CapabilityRow& controlled = row(report, "H100 SXM5 80GB");
        QVERIFY(h20.controlled.has_value() && !*h20.controlled);
        QVERIFY(controlled.controlled.has_value() && *controlled.controlled);
        QVERIFY(controlled.paragraph && *controlled.paragraph == "a");
        QVERIFY(within(*h20.index.deepseek_v3_decode_tokens_per_s, 107, 0.03));
        QVERIFY(within(*controlled.index.deepseek_v3_decode_tokens_per_s, 89, 0.03));
        QVERIFY(*h20.index.h100_equivalents_by_capability > 1.15);
        QVERIFY(*h20.index.h100_equivalents_by_tpp < 0.2); // TPP 2,368 of 15,832
        QCOMPARE(*controlled.index.h100_equivalents_by_capability, 1.0);
        // Highest projected decode first.
        QCOMPARE(report.results.front().index.chip, std::string("H20 (China)"));
        QCOMPARE(report.reference_chip, std::string("H100 SXM5 80GB"));
        QVERIFY(within(*report.reference_tpp, 15832, 0.01));
        QVERIFY(controlled.measured.empty());
        QVERIFY(!controlled.calibration_fraction);
    }

    void withoutTheH100NoEquivalents() {
        const CapabilityReport report =
            capabilityTable(chips({"H20 (China)"}), bundledEdition("2023-10"), nullptr, {});
        QVERIFY(!report.results[0].index.h100_equivalents_by_tpp);
        QVERIFY(!report.results[0].index.h100_equivalents_by_capability);
        QVERIFY(report.results[0].index.deepseek_v3_decode_tokens_per_s);
        QVERIFY(report.reference_chip.empty());
    }

    void calibrationFromStoredRuns() {
        const auto list = chips({"H100 SXM5 80GB", "H200 SXM 141GB"});
        const ChipSpec h100 = bundledChip("H100 SXM5 80GB");
        const double h200Bandwidth = *bundledChip("H200 SXM 141GB").memory_bandwidth_gb_per_s;
        const std::vector<BenchRun> runs = {
            // Newest first, as the store hands them out. A device name CUDA reports.
            run(3, "NVIDIA H200", "cuda", benchJson(50.0, 0.6 * h200Bandwidth, std::nullopt)),
            // Its own spec figure wins over the chip's.
            run(2, "NVIDIA H200", "cuda", benchJson(40.0, 3200.0, 4000.0, "H200 SXM 141GB")),
            run(1, "AMD EPYC 9B14", "cpu", benchJson(40.0, 40.0, std::nullopt)), // no chip
            run(4, "NVIDIA H200", "cuda", "not json"),                           // unreadable
            run(5, "NVIDIA H200", "cuda", benchJson(40.0, 0.0, std::nullopt)),   // no bytes
            run(6, "NVIDIA B200", "cuda", benchJson(40.0, 10.0, std::nullopt)),  // not listed
        };
        const CapabilityReport report =
            capabilityTable(list, bundledEdition("2026-01"), &h100, runs);
        const CapabilityRow& h200 = row(report, "H200 SXM 141GB");
        QCOMPARE(h200.measured.size(), std::size_t(2));
        const Calibration& newest = h200.measured[0];
        QCOMPARE(newest.result_id, 3LL);
        QCOMPARE(newest.datasheet_bandwidth_gb_per_s, h200Bandwidth);
        QVERIFY(within(newest.fraction_of_roofline, 0.6, 1e-12));
        QVERIFY(within(newest.roofline_decode_tokens_per_s, 50.0 / 0.6, 1e-12));
        const Calibration& own = h200.measured[1];
        QCOMPARE(own.datasheet_bandwidth_gb_per_s, 4000.0);
        QVERIFY(within(own.fraction_of_roofline, 0.8, 1e-12));
        QVERIFY(within(own.roofline_decode_tokens_per_s, 50.0, 1e-12));
        // Median of 0.6 and 0.8.
        QVERIFY(within(*h200.calibration_fraction, 0.7, 1e-12));
        QVERIFY(within(*h200.calibrated_deepseek_v3_decode_tokens_per_s,
                       0.7 * *h200.index.deepseek_v3_decode_tokens_per_s, 1e-12));
        QVERIFY(row(report, "H100 SXM5 80GB").measured.empty());
    }

    void readsTheFirstDecodePhase() {
        const BenchFigures f = readBenchFigures(benchJson(12.0, 34.0, 56.0, "X"));
        QVERIFY(f.readable);
        QCOMPARE(*f.decode_tokens_per_s, 12.0);
        QCOMPARE(*f.decode_achieved_gb_per_s, 34.0);
        QCOMPARE(*f.spec_bandwidth_gb_per_s, 56.0);
        QCOMPARE(*f.prefill_tokens_per_s, 9000.0);
        QCOMPARE(f.decode_contexts, 2);
        QCOMPARE(f.spec_chip, std::string("X"));
        QVERIFY(!readBenchFigures("{\"phases\": 3}").readable);
        QVERIFY(!readBenchFigures("").readable);
    }

    void jsonCarriesEveryField() {
        const ChipSpec h100 = bundledChip("H100 SXM5 80GB");
        const nlohmann::json j = capabilityReportToJson(capabilityTable(
            chips({"H20 (China)", "H100 SXM5 80GB"}), bundledEdition("2026-01"), &h100, {}));
        QCOMPARE(j["edition"].get<std::string>(), std::string("2026-01"));
        QCOMPARE(j["results"].size(), std::size_t(2));
        for (const char* key :
             {"chip", "tpp", "performance_density", "paragraph", "controlled", "classes",
              "deepseek_v3_decode_tokens_per_s", "bf16_tflops", "fp8_tflops",
              "h100_equivalents_by_tpp", "h100_equivalents_by_capability", "measured",
              "calibration_fraction", "calibrated_deepseek_v3_decode_tokens_per_s"})
            QVERIFY2(j["results"][0].contains(key), key);
        QVERIFY(j["assumptions"]["decode"].get<std::string>().find("batch 1") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestCapability)
#include "test_capability.moc"
