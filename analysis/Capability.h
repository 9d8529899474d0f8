// The capability table (DESIGN.md `crossroads capability`): for every chip, what the rules make
// of it (TPP, performance density, its 3A090 class under an edition) beside what it can do for
// frontier MoE inference (the capability index of analysis/Projection.h: projected DeepSeek-V3
// decode per GPU, dense BF16/FP8 rates, H100-equivalents by TPP and by that decode), and, where
// the store holds benchmark results of the chip's device, the calibration of the projection:
// the measured decode against the roofline the chip's datasheet bandwidth allows for the same
// workload, and the DeepSeek-V3 figure scaled by that measured fraction.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"
#include "analysis/Projection.h"

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

// The chip H100-equivalents are counted in, by its store name (the caps verb, the capability
// table and the window's column use the same one).
inline constexpr const char* kCapabilityReferenceChip = "H100 SXM5 80GB";

// The figures of one stored `bench --json` result that the tables read; figures the JSON lacks
// are nullopt. The first decode phase is the one at the shortest context (a --context sweep
// adds longer ones).
struct BenchFigures {
    bool readable = false; // the JSON parsed and has its phases
    std::optional<double> prefill_tokens_per_s, decode_tokens_per_s;
    std::optional<double> decode_fraction_of_measured, measured_bandwidth_gb_per_s;
    std::optional<double> spec_bandwidth_gb_per_s, decode_fraction_of_spec;
    std::optional<double> decode_achieved_gb_per_s;
    std::string spec_chip; // the chip the run's spec came from (spec.chip), "" when none
    int decode_contexts = 0;
};
BenchFigures readBenchFigures(std::string_view resultJson);

// The chip of the store a run's device is: none for a CPU run; the run's own spec chip while the
// store still has it (case-insensitive name); else matchDeviceToChip on the device name.
std::optional<std::size_t> benchChip(std::string_view backend, std::string_view device,
                                     const BenchFigures& figures,
                                     const std::vector<ChipSpec>& chips);

// A stored benchmark run, as the store hands it out.
struct BenchRun {
    long long id = 0;
    std::string created_at, device, backend, model, dtype;
    std::string result_json;
};

// One run set against its chip's datasheet: the decode step's bytes are achieved / tokens_per_s,
// so the roofline decode the datasheet bandwidth allows is tokens_per_s x datasheet / achieved.
struct Calibration {
    long long result_id = 0;
    std::string created_at, device, model, dtype;
    double decode_tokens_per_s = 0;
    double achieved_gb_per_s = 0;
    double datasheet_bandwidth_gb_per_s = 0; // the run's spec figure, else the chip's
    double roofline_decode_tokens_per_s = 0;
    double fraction_of_roofline = 0; // achieved / datasheet
};
// nullopt when the run lacks a decode rate or its bytes, or no datasheet bandwidth is known.
std::optional<Calibration> calibrate(const BenchRun& run, const BenchFigures& figures,
                                     const ChipSpec& chip);

struct CapabilityRow {
    CapabilityIndex index;
    std::optional<double> performance_density;
    std::optional<double> memory_bandwidth_gb_per_s;
    std::optional<std::string> paragraph; // the classification under the edition
    std::optional<bool> controlled;
    std::vector<std::string> classes, flags, undetermined;
    std::vector<Calibration> measured; // newest first
    // The projected DeepSeek-V3 decode times the median fraction of roofline of `measured`.
    std::optional<double> calibrated_deepseek_v3_decode_tokens_per_s;
    std::optional<double> calibration_fraction;
};

struct CapabilityReport {
    std::string edition;
    std::string reference_chip; // the H100 the equivalents are counted in ("" when absent)
    std::optional<double> reference_tpp;
    std::optional<double> reference_decode_tokens_per_s;
    std::vector<CapabilityRow> results; // by projected decode, highest first; unknown last
};

// `reference`: the H100 (nullptr: no equivalents). Runs whose device is no chip of `chips` are
// left out of the calibration; a run whose JSON is unreadable likewise.
CapabilityReport capabilityTable(const std::vector<ChipSpec>& chips, const Edition& edition,
                                 const ChipSpec* reference, const std::vector<BenchRun>& runs);

// The assumptions of the decode figure, in words, for the text table and the JSON.
std::string capabilityDecodeAssumption();

nlohmann::json capabilityReportToJson(const CapabilityReport& report);

} // namespace crossroads::analysis
