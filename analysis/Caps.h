// The cap calculator (DESIGN.md `crossroads caps`): what a 2025-01 (AI Diffusion) TPP allocation
// buys, chip by chip. The allocation comes from the edition's cap data (LPP per consignee per
// year, the Tier-2 country allocation, doubled, or a custom TPP); each kind of chip gets the whole
// chips that fit, their H100-equivalents (by TPP, what the rule counts; and by projected
// DeepSeek-V3 decode, what a deployment gets), their aggregate projected DeepSeek-V3 decode, the
// days they would take to train a DeepSeek-V3-scale run at the utilisation DeepSeek-V3's report
// implies, and the operations they could perform in a stated period against the 4E091 line (10^26).
//
// Every figure is a formula over cited inputs, kept in the result's assumptions:
//   training FLOPs          = 6 x active parameters x training tokens            (3.2856e24)
//   implied utilisation     = training FLOPs / (GPU-hours x 3600 x H800 dense rate)
//   training days (chips N) = training FLOPs / (N x chip dense rate x utilisation) / 86400
//   operations in a period  = N x chip dense rate x utilisation x period
// with the dense rate of the utilisation basis (BF16, FP16 where a chip lists no BF16; or FP8).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "analysis/Metrics.h"
#include "analysis/Projection.h"
#include "inference/model/ModelConfig.h"

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

// A TPP budget: "lpp", "tier2", "tier2x2" (from the edition's caps) or "custom".
struct Allocation {
    std::string key;
    double tpp = 0;
    std::string description; // in words, with the period the figure covers
    Citation citation;       // the edition's caps citation; {"user", ""} for a custom figure
};

// `text` is lpp, tier2, tier2x2 (case-insensitive) or a positive TPP ("26900000", "2.69e7",
// "26,900,000"). Throws std::invalid_argument naming the text; a named allocation needs `caps`
// (the message says which edition lacks them).
Allocation parseAllocation(std::string_view text, const CapParameters* caps,
                           std::string_view editionId);

// The published figures of one training run the utilisation is implied from.
struct TrainingRun {
    std::string model;            // "DeepSeek-V3"
    double active_parameters = 0; // per token
    double training_tokens = 0;   // pre-training
    double gpu_hours = 0;         // pre-training
    std::string gpu;              // the chip it ran on, as the report names it ("H800")
    std::string citation;         // where each figure comes from, with its evidence mark
    double trainingFlops() const { return 6.0 * active_parameters * training_tokens; }
};
// DeepSeek-V3 Technical Report (arXiv:2412.19437): 37B active, 14.8T tokens, 2,664K H800
// GPU-hours of pre-training.
TrainingRun deepseekV3TrainingRun();

// 4E091 (90 FR 4544): parameters of a model trained with 10^26 or more operations.
inline constexpr double k4e091Operations = 1e26;
std::string_view k4e091Citation();

// Which dense rate the implied utilisation is measured against (and then applied to).
enum class UtilizationBasis { Bf16, Fp8 };
std::string_view utilizationBasisKey(UtilizationBasis basis); // "bf16", "fp8"
std::optional<UtilizationBasis> utilizationBasisFromKey(std::string_view key);

struct CapOptions {
    UtilizationBasis basis = UtilizationBasis::Bf16;
    // Per-GPU DeepSeek-V3 decode, as the capability index projects it: FP8 weights, batch 1,
    // context 4096, pure roofline, as if one GPU held the weights.
    ProjectionOptions decode = [] {
        ProjectionOptions o;
        o.dtype = WeightDtype::Fp8;
        o.batch = 1;
        o.context = 4096;
        return o;
    }();
    double period_days = 365; // the period of the 4E091 check
};

// What the figures rest on (the result's "assumptions").
struct CapAssumptions {
    TrainingRun run;
    double training_flops = 0;
    std::string utilization_reference_chip; // the store's H800
    std::optional<double> reference_bf16_tflops;
    std::optional<double> reference_fp8_tflops;
    std::optional<double> utilization_bf16; // nullopt when the reference lacks the rate
    std::optional<double> utilization_fp8;
    UtilizationBasis basis = UtilizationBasis::Bf16;
    std::optional<double> utilization; // of the basis
    std::string h100_reference_chip;   // empty: none in the store (H100-equivalents null)
    std::optional<double> h100_tpp;
    std::optional<double> h100_decode_tokens_per_s;
    ProjectionOptions decode;
    double period_days = 365;
    std::string bit_length_edition; // whose bit lengths computed the TPPs
};

struct CapRow {
    std::string chip;
    std::optional<double> tpp;
    std::optional<int64_t> chips;                         // whole chips within the allocation
    std::optional<double> h100_equivalents;               // chips x TPP / H100 TPP
    std::optional<double> h100_equivalents_by_capability; // chips x decode / H100's decode
    std::optional<double> decode_tokens_per_s_per_gpu;    // projected DeepSeek-V3
    std::optional<double> decode_tokens_per_s;            // chips x the per-GPU figure
    std::optional<double> training_tflops;                // the chip's dense rate of the basis
    std::string training_precision;                       // "bf16", "fp16" (no bf16), "fp8"
    std::optional<double> training_days;
    std::optional<double> operations_in_period;   // the chips, the period, the utilisation
    std::optional<double> days_to_4e091;          // the chips, to 10^26 operations
    std::optional<double> days_to_4e091_per_chip; // one chip, to 10^26 operations
    std::optional<bool> reaches_4e091;            // operations_in_period >= 10^26
    std::vector<std::string> undetermined;        // interchange keys of the missing figures
    std::vector<std::string> notes;
};

struct CapReport {
    Allocation allocation;
    CapAssumptions assumptions;
    std::vector<CapRow> results;
    // Whether any chip kind of the results, the whole allocation spent on it, could perform
    // 10^26 operations or more within the period at the implied utilisation. Rows whose figures
    // are unknown do not count; they are named in exceeds_4e091_undetermined.
    bool exceeds_4e091 = false;
    std::vector<std::string> exceeds_4e091_undetermined;
};

// `utilizationReference` is the chip the training run used (the store's H800); `h100` the chip
// the equivalents are counted in (nullptr: none, the equivalents are null); `bits` the edition's
// bit lengths; `model` the shape projected (DeepSeek-V3). Throws std::invalid_argument when the
// reference lacks the rate of the basis, or an option is out of range.
CapReport computeCaps(const Allocation& allocation, const std::vector<ChipSpec>& chips,
                      const ChipSpec& utilizationReference, const ChipSpec* h100,
                      const BitLengths& bits, std::string_view bitLengthEdition,
                      const inference::ModelConfig& model, const CapOptions& options = {});

// The DESIGN.md object: {"allocation", "allocation_tpp", "results": [...], "assumptions": {...},
// "exceeds_4e091"} plus the extensions it lists.
nlohmann::json capReportToJson(const CapReport& report);

// The aggregate decode's basis in words ("chips x one GPU's projected DeepSeek-V3 decode (fp8
// weights, batch 1 per GPU, context 4096, pure roofline, ...)").
std::string capDecodeAssumption(const ProjectionOptions& decode);

// Whole chips of `chipTpp` within `allocationTpp`: floor(allocation / tpp), exact at the edge
// (an allocation of exactly N chips' TPP holds N).
int64_t wholeChipsWithin(double allocationTpp, double chipTpp);

} // namespace crossroads::analysis
