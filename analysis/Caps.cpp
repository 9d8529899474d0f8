#include "analysis/Caps.h"

#include "analysis/Classifier.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace crossroads::analysis {

namespace {

using nlohmann::json;

constexpr double kSecondsPerHour = 3600.0;
constexpr double kSecondsPerDay = 86400.0;
// A custom allocation above this is a typo, not a budget (about 63 billion H100s).
constexpr double kLargestCustomAllocationTpp = 1e15;

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::optional<double> parsePositiveNumber(std::string_view text) {
    std::string digits;
    for (char c : text)
        if (c != ',' && c != '_')
            digits += c;
    if (digits.empty() || std::isspace(static_cast<unsigned char>(digits.front())))
        return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(digits.c_str(), &end);
    if (errno != 0 || end != digits.c_str() + digits.size() || !std::isfinite(value) ||
        !(value > 0.0))
        return std::nullopt;
    return value;
}

json optional(const std::optional<double>& v) {
    return v ? json(*v) : json();
}
json optional(const std::optional<int64_t>& v) {
    return v ? json(*v) : json();
}
json optional(const std::optional<bool>& v) {
    return v ? json(*v) : json();
}

void addUndetermined(CapRow& row, const std::string& key) {
    if (std::find(row.undetermined.begin(), row.undetermined.end(), key) == row.undetermined.end())
        row.undetermined.push_back(key);
}

// The dense rate a chip trains at under the basis: BF16 (FP16 where the chip lists no BF16, as
// the roofline projection reads it), or FP8. `precision` says which was used.
std::optional<double> trainingRateTflops(const ChipSpec& chip, UtilizationBasis basis,
                                         std::string& precision) {
    if (basis == UtilizationBasis::Fp8) {
        precision = "fp8";
        return chip.dense_tops[Precision::Fp8];
    }
    if (chip.dense_tops[Precision::Bf16]) {
        precision = "bf16";
        return chip.dense_tops[Precision::Bf16];
    }
    if (chip.dense_tops[Precision::Fp16]) {
        precision = "fp16";
        return chip.dense_tops[Precision::Fp16];
    }
    precision = "bf16";
    return std::nullopt;
}

std::optional<double> decodePerGpu(const ChipSpec& chip, const inference::ModelConfig& model,
                                   const ProjectionOptions& options, CapRow* row) {
    const auto roof = chipRoof(chip);
    if (!roof) {
        if (row)
            addUndetermined(*row, "memory_bandwidth_gb_per_s");
        return std::nullopt;
    }
    if (!roof->bf16_tflops) { // project() needs a 16-bit compute roof
        if (row)
            addUndetermined(*row, "dense_tops.bf16");
        return std::nullopt;
    }
    return project(model, *roof, options).decode_tokens_per_s;
}

std::optional<double> tppOf(const ChipSpec& chip, const BitLengths& bits) {
    const auto t = totalProcessingPerformance(chip, bits);
    return t ? std::optional<double>(t->tpp) : std::nullopt;
}

} // namespace

std::string capDecodeAssumption(const ProjectionOptions& o) {
    return "chips x one GPU's projected DeepSeek-V3 decode (" +
           std::string(weightDtypeKey(o.dtype)) + " weights, batch " + std::to_string(o.batch) +
           " per GPU, context " + std::to_string(o.context) + ", " +
           (o.bandwidth_efficiency < 1.0 ? fixedDecimals(o.bandwidth_efficiency, 2) + " of peak"
                                         : std::string("pure roofline")) +
           ", as if each GPU held the weights): a bandwidth ceiling, not a deployment";
}

std::string_view utilizationBasisKey(UtilizationBasis basis) {
    return basis == UtilizationBasis::Fp8 ? "fp8" : "bf16";
}

std::optional<UtilizationBasis> utilizationBasisFromKey(std::string_view key) {
    if (key == "bf16")
        return UtilizationBasis::Bf16;
    if (key == "fp8")
        return UtilizationBasis::Fp8;
    return std::nullopt;
}

Allocation parseAllocation(std::string_view text, const CapParameters* caps,
                           std::string_view editionId) {
    const std::string key = lower(text);
    if (key == "lpp" || key == "tier2" || key == "tier2x2") {
        if (!caps)
            throw std::invalid_argument("edition " + std::string(editionId) +
                                        " has no cap parameters, so \"" + key +
                                        "\" has no figure (the 2025-01 edition sets them)");
        Allocation a;
        a.key = key;
        a.citation = caps->citation;
        if (key == "lpp") {
            a.tpp = caps->lpp_tpp_per_consignee_per_year;
            a.description = "LPP (Low Processing Performance) exception: " + formatFigure(a.tpp) +
                            " TPP per ultimate consignee per calendar year";
        } else {
            const std::string period = caps->tier2_allocation_period.empty()
                                           ? std::string()
                                           : " (" + caps->tier2_allocation_period + ")";
            a.tpp = caps->tier2_allocation_tpp * (key == "tier2x2" ? 2.0 : 1.0);
            a.description =
                key == "tier2"
                    ? "Tier-2 country allocation: " + formatFigure(a.tpp) + " TPP" + period
                    : "Tier-2 country allocation doubled (government-to-government "
                      "arrangement): 2 x " +
                          formatFigure(caps->tier2_allocation_tpp) + " = " + formatFigure(a.tpp) +
                          " TPP" + period;
        }
        return a;
    }
    const auto value = parsePositiveNumber(text);
    if (!value)
        throw std::invalid_argument("allocation \"" + std::string(text) +
                                    "\" is not lpp, tier2, tier2x2 or a positive TPP");
    if (*value > kLargestCustomAllocationTpp)
        throw std::invalid_argument("allocation \"" + std::string(text) + "\" is above " +
                                    formatFigure(kLargestCustomAllocationTpp) +
                                    " TPP (about 63 billion H100s): a typo?");
    Allocation a;
    a.key = "custom";
    a.tpp = *value;
    a.description = "custom allocation of " + formatFigure(a.tpp) + " TPP";
    a.citation = {"given on the command line", ""};
    return a;
}

TrainingRun deepseekV3TrainingRun() {
    TrainingRun run;
    run.model = "DeepSeek-V3";
    run.active_parameters = 37e9;
    run.training_tokens = 14.8e12;
    run.gpu_hours = 2.664e6;
    run.gpu = "H800";
    run.citation = "DeepSeek-AI, DeepSeek-V3 Technical Report, arXiv:2412.19437 (2024-12-27): "
                   "671B total parameters, 37B activated per token, pre-trained on 14.8T tokens "
                   "[P, abstract]; pre-training 2,664K H800 GPU-hours of the 2,788K in all [Q, "
                   "as quoted by secondary sources]";
    return run;
}

std::string_view k4e091Citation() {
    return "90 FR 4544, ECCN 4E091 [P]: \"'Parameters' for an artificial intelligence model "
           "trained utilizing 10^26 or more 'operations'\"; published-weights models are "
           "excluded [S]";
}

int64_t wholeChipsWithin(double allocationTpp, double chipTpp) {
    if (!(chipTpp > 0.0) || !(allocationTpp >= 0.0))
        throw std::invalid_argument("whole chips need a positive chip TPP and allocation");
    const double quotient = std::floor(allocationTpp / chipTpp);
    if (quotient > 9e15)
        throw std::overflow_error("more than 9e15 chips: too many to count exactly");
    auto n = static_cast<int64_t>(quotient);
    // The division rounds: settle the edge with the products the allocation is compared with.
    while (static_cast<double>(n + 1) * chipTpp <= allocationTpp)
        ++n;
    while (n > 0 && static_cast<double>(n) * chipTpp > allocationTpp)
        --n;
    return n;
}

CapReport computeCaps(const Allocation& allocation, const std::vector<ChipSpec>& chips,
                      const ChipSpec& utilizationReference, const ChipSpec* h100,
                      const BitLengths& bits, std::string_view bitLengthEdition,
                      const inference::ModelConfig& model, const CapOptions& options) {
    if (!(allocation.tpp > 0.0) || !std::isfinite(allocation.tpp))
        throw std::invalid_argument("the allocation must be a positive TPP");
    if (!(options.period_days > 0.0) || !std::isfinite(options.period_days))
        throw std::invalid_argument("the period must be a positive number of days");

    CapReport report;
    report.allocation = allocation;
    CapAssumptions& a = report.assumptions;
    a.run = deepseekV3TrainingRun();
    a.training_flops = a.run.trainingFlops();
    a.utilization_reference_chip = utilizationReference.name;
    a.reference_bf16_tflops = utilizationReference.dense_tops[Precision::Bf16];
    a.reference_fp8_tflops = utilizationReference.dense_tops[Precision::Fp8];
    const double runSeconds = a.run.gpu_hours * kSecondsPerHour;
    const auto implied = [&](const std::optional<double>& tflops) -> std::optional<double> {
        if (!tflops)
            return std::nullopt;
        return a.training_flops / (runSeconds * *tflops * 1e12);
    };
    a.utilization_bf16 = implied(a.reference_bf16_tflops);
    a.utilization_fp8 = implied(a.reference_fp8_tflops);
    a.basis = options.basis;
    a.utilization = options.basis == UtilizationBasis::Fp8 ? a.utilization_fp8 : a.utilization_bf16;
    if (!a.utilization)
        throw std::invalid_argument("chip \"" + utilizationReference.name + "\" has no dense " +
                                    std::string(utilizationBasisKey(options.basis)) +
                                    " rate to imply the training utilisation from");
    a.decode = options.decode;
    a.period_days = options.period_days;
    a.bit_length_edition = std::string(bitLengthEdition);
    if (h100) {
        a.h100_reference_chip = h100->name;
        a.h100_tpp = tppOf(*h100, bits);
        a.h100_decode_tokens_per_s = decodePerGpu(*h100, model, options.decode, nullptr);
    }

    for (const ChipSpec& chip : chips) {
        CapRow row;
        row.chip = chip.name;
        row.tpp = tppOf(chip, bits);
        if (!row.tpp)
            addUndetermined(row, "dense_tops");
        else if (!(*row.tpp > 0.0))
            row.notes.push_back("TPP 0 (no processing units): not counted against a TPP cap");
        else {
            try {
                row.chips = wholeChipsWithin(allocation.tpp, *row.tpp);
            } catch (const std::exception& e) {
                row.notes.push_back(e.what());
            }
            if (row.chips && *row.chips == 0)
                row.notes.push_back("one chip's TPP (" + formatFigure(*row.tpp) +
                                    ") exceeds the allocation");
        }
        if (row.chips && a.h100_tpp && *a.h100_tpp > 0.0)
            row.h100_equivalents = static_cast<double>(*row.chips) * *row.tpp / *a.h100_tpp;

        row.decode_tokens_per_s_per_gpu = decodePerGpu(chip, model, options.decode, &row);
        if (row.chips && row.decode_tokens_per_s_per_gpu) {
            row.decode_tokens_per_s =
                static_cast<double>(*row.chips) * *row.decode_tokens_per_s_per_gpu;
            if (a.h100_decode_tokens_per_s && *a.h100_decode_tokens_per_s > 0.0)
                row.h100_equivalents_by_capability =
                    *row.decode_tokens_per_s / *a.h100_decode_tokens_per_s;
        }

        row.training_tflops = trainingRateTflops(chip, options.basis, row.training_precision);
        if (!row.training_tflops) {
            addUndetermined(row, "dense_tops." + row.training_precision);
        } else {
            const double perChipFlopsPerS = *row.training_tflops * 1e12 * *a.utilization;
            row.days_to_4e091_per_chip = k4e091Operations / perChipFlopsPerS / kSecondsPerDay;
            if (row.chips) {
                const double n = static_cast<double>(*row.chips);
                row.operations_in_period =
                    n * perChipFlopsPerS * options.period_days * kSecondsPerDay;
                row.reaches_4e091 = *row.operations_in_period >= k4e091Operations;
                if (*row.chips > 0) {
                    row.training_days = a.training_flops / (n * perChipFlopsPerS) / kSecondsPerDay;
                    row.days_to_4e091 = k4e091Operations / (n * perChipFlopsPerS) / kSecondsPerDay;
                }
            }
            if (row.training_precision == "fp16")
                row.notes.push_back("no BF16 figure: trains at its FP16 rate");
        }
        if (row.reaches_4e091)
            report.exceeds_4e091 = report.exceeds_4e091 || *row.reaches_4e091;
        else
            report.exceeds_4e091_undetermined.push_back(row.chip);
        report.results.push_back(std::move(row));
    }
    return report;
}

json capReportToJson(const CapReport& report) {
    const CapAssumptions& a = report.assumptions;
    json results = json::array();
    for (const CapRow& r : report.results)
        results.push_back({
            {"chip", r.chip},
            {"tpp", optional(r.tpp)},
            {"chips", optional(r.chips)},
            {"h100_equivalents", optional(r.h100_equivalents)},
            {"deepseek_v3_decode_tokens_per_s", optional(r.decode_tokens_per_s)},
            {"deepseek_v3_training_days", optional(r.training_days)},
            // Extensions (ours).
            {"h100_equivalents_by_capability", optional(r.h100_equivalents_by_capability)},
            {"deepseek_v3_decode_tokens_per_s_per_gpu", optional(r.decode_tokens_per_s_per_gpu)},
            {"training_tflops", optional(r.training_tflops)},
            {"training_precision", r.training_precision},
            {"operations_in_period", optional(r.operations_in_period)},
            {"days_to_4e091", optional(r.days_to_4e091)},
            {"days_to_4e091_per_chip", optional(r.days_to_4e091_per_chip)},
            {"reaches_4e091", optional(r.reaches_4e091)},
            {"undetermined", r.undetermined},
            {"notes", r.notes},
        });
    const ProjectionOptions& d = a.decode;
    json assumptions = {
        {"training_utilization", optional(a.utilization)},
        {"training_utilization_basis", std::string(utilizationBasisKey(a.basis))},
        {"training_utilization_bf16", optional(a.utilization_bf16)},
        {"training_utilization_fp8", optional(a.utilization_fp8)},
        {"training_utilization_formula",
         "training FLOPs / (GPU-hours x 3600 s x the reference chip's dense rate of the basis)"},
        {"training_flops", a.training_flops},
        {"training_flops_formula", "6 x active parameters x training tokens"},
        {"training_run",
         {{"model", a.run.model},
          {"active_parameters", a.run.active_parameters},
          {"training_tokens", a.run.training_tokens},
          {"gpu_hours", a.run.gpu_hours},
          {"gpu", a.run.gpu},
          {"citation", a.run.citation}}},
        {"utilization_reference_chip", a.utilization_reference_chip},
        {"utilization_reference_bf16_tflops", optional(a.reference_bf16_tflops)},
        {"utilization_reference_fp8_tflops", optional(a.reference_fp8_tflops)},
        {"training_days_formula",
         "training FLOPs / (chips x the chip's dense rate of the basis x utilisation) / 86400 s "
         "(BF16 basis: the FP16 rate where a chip lists no BF16)"},
        {"h100_reference_chip",
         a.h100_reference_chip.empty() ? json() : json(a.h100_reference_chip)},
        {"h100_tpp", optional(a.h100_tpp)},
        {"h100_equivalents_formula", "chips x TPP / the H100's TPP"},
        {"h100_decode_tokens_per_s", optional(a.h100_decode_tokens_per_s)},
        {"h100_equivalents_by_capability_formula",
         "chips x projected DeepSeek-V3 decode / the H100's"},
        {"decode_weights", std::string(weightDtypeKey(d.dtype))},
        {"decode_batch_per_gpu", d.batch},
        {"decode_context", d.context},
        {"decode_efficiency", d.bandwidth_efficiency},
        {"decode_formula", capDecodeAssumption(d)},
        {"period_days", a.period_days},
        {"operations_threshold", k4e091Operations},
        {"operations_threshold_citation", std::string(k4e091Citation())},
        {"exceeds_4e091_definition",
         "true when, for any chip kind listed, the whole chips the allocation buys, run for "
         "period_days at the training utilisation, perform 10^26 operations or more (chips whose "
         "figures are unknown do not count)"},
        {"bit_lengths_edition", a.bit_length_edition},
    };
    return {
        {"allocation", report.allocation.key},
        {"allocation_tpp", report.allocation.tpp},
        {"results", results},
        {"assumptions", assumptions},
        {"exceeds_4e091", report.exceeds_4e091},
        // Extensions (ours).
        {"allocation_description", report.allocation.description},
        {"allocation_citation",
         {{"text", report.allocation.citation.text},
          {"evidence", report.allocation.citation.evidence}}},
        {"exceeds_4e091_undetermined", report.exceeds_4e091_undetermined},
    };
}

} // namespace crossroads::analysis
