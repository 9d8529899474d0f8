#include "analysis/Capability.h"

#include "analysis/DeviceMatch.h"
#include "analysis/Metrics.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace crossroads::analysis {

namespace {

using nlohmann::json;

std::optional<double> numberAt(const json& object, const char* key) {
    if (!object.is_object())
        return std::nullopt;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number())
        return std::nullopt;
    return it->get<double>();
}

bool sameNameIgnoringCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

json optionalNumber(const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

BenchFigures readBenchFigures(std::string_view resultJson) {
    BenchFigures f;
    const json result = json::parse(resultJson, nullptr, false);
    if (!result.is_object() || !result.contains("phases") || !result["phases"].is_array())
        return f;
    f.readable = true;
    f.measured_bandwidth_gb_per_s = numberAt(result, "measured_bandwidth_gb_per_s");
    if (const auto spec = result.find("spec"); spec != result.end() && spec->is_object()) {
        f.spec_bandwidth_gb_per_s = numberAt(*spec, "bandwidth_gb_per_s");
        if (const auto chip = spec->find("chip"); chip != spec->end() && chip->is_string())
            f.spec_chip = chip->get<std::string>();
    }
    for (const json& phase : result["phases"]) {
        if (!phase.is_object())
            continue;
        const std::string name = phase.value("phase", std::string());
        if (name == "prefill" && !f.prefill_tokens_per_s)
            f.prefill_tokens_per_s = numberAt(phase, "tokens_per_s");
        if (name == "decode" && f.decode_contexts++ == 0) {
            f.decode_tokens_per_s = numberAt(phase, "tokens_per_s");
            f.decode_fraction_of_measured = numberAt(phase, "fraction_of_measured_bandwidth");
            f.decode_fraction_of_spec = numberAt(phase, "fraction_of_spec_bandwidth");
            f.decode_achieved_gb_per_s = numberAt(phase, "achieved_gb_per_s");
        }
    }
    return f;
}

std::optional<std::size_t> benchChip(std::string_view backend, std::string_view device,
                                     const BenchFigures& figures,
                                     const std::vector<ChipSpec>& chips) {
    // A CPU is not an accelerator of the store; `bench` looks up GPUs only.
    if (backend == "cpu")
        return std::nullopt;
    if (!figures.spec_chip.empty())
        for (std::size_t c = 0; c < chips.size(); ++c)
            if (sameNameIgnoringCase(chips[c].name, figures.spec_chip))
                return c;
    return matchDeviceToChip(device, chips);
}

std::optional<Calibration> calibrate(const BenchRun& run, const BenchFigures& figures,
                                     const ChipSpec& chip) {
    const std::optional<double> datasheet = figures.spec_bandwidth_gb_per_s
                                                ? figures.spec_bandwidth_gb_per_s
                                                : chip.memory_bandwidth_gb_per_s;
    if (!figures.decode_tokens_per_s || !figures.decode_achieved_gb_per_s || !datasheet ||
        !(*figures.decode_tokens_per_s > 0) || !(*figures.decode_achieved_gb_per_s > 0) ||
        !(*datasheet > 0))
        return std::nullopt;
    Calibration c;
    c.result_id = run.id;
    c.created_at = run.created_at;
    c.device = run.device;
    c.model = run.model;
    c.dtype = run.dtype;
    c.decode_tokens_per_s = *figures.decode_tokens_per_s;
    c.achieved_gb_per_s = *figures.decode_achieved_gb_per_s;
    c.datasheet_bandwidth_gb_per_s = *datasheet;
    c.roofline_decode_tokens_per_s = c.decode_tokens_per_s * *datasheet / c.achieved_gb_per_s;
    c.fraction_of_roofline = c.achieved_gb_per_s / *datasheet;
    return c;
}

CapabilityReport capabilityTable(const std::vector<ChipSpec>& chips, const Edition& edition,
                                 const ChipSpec* reference, const std::vector<BenchRun>& runs) {
    CapabilityReport report;
    report.edition = edition.id;
    if (reference != nullptr) {
        report.reference_chip = reference->name;
        const CapabilityIndex own = capabilityIndex(*reference, *reference, edition.bit_lengths);
        report.reference_tpp = own.tpp;
        report.reference_decode_tokens_per_s = own.deepseek_v3_decode_tokens_per_s;
    }
    for (const ChipSpec& chip : chips) {
        CapabilityRow row;
        // Without a reference the equivalents stay unknown: the chip is its own reference, and
        // its ratios are dropped below.
        row.index =
            capabilityIndex(chip, reference != nullptr ? *reference : chip, edition.bit_lengths);
        if (reference == nullptr) {
            row.index.h100_equivalents_by_tpp.reset();
            row.index.h100_equivalents_by_capability.reset();
        }
        row.memory_bandwidth_gb_per_s = chip.memory_bandwidth_gb_per_s;
        const ClassificationResult c = classify(chip, edition);
        row.performance_density = c.performance_density;
        row.paragraph = c.paragraph;
        row.controlled = c.controlled;
        row.classes = c.classes;
        row.flags = c.flags;
        row.undetermined = c.undetermined;
        report.results.push_back(std::move(row));
    }
    for (const BenchRun& run : runs) { // the store hands them out newest first
        const BenchFigures figures = readBenchFigures(run.result_json);
        if (!figures.readable)
            continue;
        const auto chip = benchChip(run.backend, run.device, figures, chips);
        if (!chip)
            continue;
        if (auto c = calibrate(run, figures, chips[*chip]))
            report.results[*chip].measured.push_back(std::move(*c));
    }
    for (CapabilityRow& row : report.results) {
        if (row.measured.empty())
            continue;
        std::vector<double> fractions;
        for (const Calibration& c : row.measured)
            fractions.push_back(c.fraction_of_roofline);
        row.calibration_fraction = median(std::move(fractions));
        if (row.index.deepseek_v3_decode_tokens_per_s)
            row.calibrated_deepseek_v3_decode_tokens_per_s =
                *row.index.deepseek_v3_decode_tokens_per_s * *row.calibration_fraction;
    }
    std::stable_sort(report.results.begin(), report.results.end(),
                     [](const CapabilityRow& a, const CapabilityRow& b) {
                         const auto& x = a.index.deepseek_v3_decode_tokens_per_s;
                         const auto& y = b.index.deepseek_v3_decode_tokens_per_s;
                         if (x && y)
                             return *x > *y;
                         return x.has_value() && !y.has_value();
                     });
    return report;
}

std::string capabilityDecodeAssumption() {
    return "DeepSeek-V3 (671B total, 37B active) decode of one GPU: FP8 weights (embeddings, LM "
           "head and norms BF16), batch 1, context 4096, pure roofline on the datasheet memory "
           "bandwidth, as if one GPU held the weights: a bandwidth ceiling, not a deployment";
}

json capabilityReportToJson(const CapabilityReport& report) {
    json results = json::array();
    for (const CapabilityRow& r : report.results) {
        json measured = json::array();
        for (const Calibration& c : r.measured)
            measured.push_back({{"result_id", c.result_id},
                                {"created_at", c.created_at},
                                {"device", c.device},
                                {"model", c.model},
                                {"dtype", c.dtype},
                                {"decode_tokens_per_s", c.decode_tokens_per_s},
                                {"achieved_gb_per_s", c.achieved_gb_per_s},
                                {"datasheet_bandwidth_gb_per_s", c.datasheet_bandwidth_gb_per_s},
                                {"roofline_decode_tokens_per_s", c.roofline_decode_tokens_per_s},
                                {"fraction_of_roofline", c.fraction_of_roofline}});
        results.push_back(
            {{"chip", r.index.chip},
             {"tpp", optionalNumber(r.index.tpp)},
             {"performance_density", optionalNumber(r.performance_density)},
             {"memory_bandwidth_gb_per_s", optionalNumber(r.memory_bandwidth_gb_per_s)},
             {"paragraph", r.paragraph ? json(*r.paragraph) : json(nullptr)},
             {"controlled", r.controlled ? json(*r.controlled) : json(nullptr)},
             {"classes", r.classes},
             {"flags", r.flags},
             {"undetermined", r.undetermined},
             {"deepseek_v3_decode_tokens_per_s",
              optionalNumber(r.index.deepseek_v3_decode_tokens_per_s)},
             {"bf16_tflops", optionalNumber(r.index.bf16_tflops)},
             {"fp8_tflops", optionalNumber(r.index.fp8_tflops)},
             {"h100_equivalents_by_tpp", optionalNumber(r.index.h100_equivalents_by_tpp)},
             {"h100_equivalents_by_capability",
              optionalNumber(r.index.h100_equivalents_by_capability)},
             {"measured", std::move(measured)},
             {"calibration_fraction", optionalNumber(r.calibration_fraction)},
             {"calibrated_deepseek_v3_decode_tokens_per_s",
              optionalNumber(r.calibrated_deepseek_v3_decode_tokens_per_s)}});
    }
    return {{"edition", report.edition},
            {"model", "deepseek-v3"},
            {"assumptions",
             {{"decode", capabilityDecodeAssumption()},
              {"h100_reference_chip",
               report.reference_chip.empty() ? json(nullptr) : json(report.reference_chip)},
              {"h100_tpp", optionalNumber(report.reference_tpp)},
              {"h100_decode_tokens_per_s", optionalNumber(report.reference_decode_tokens_per_s)},
              {"calibration",
               "for each stored benchmark run of the chip's device: fraction_of_roofline = "
               "achieved GB/s / datasheet GB/s of the run's decode; calibrated decode = "
               "projected decode x the median fraction of the chip's runs"}}},
            {"results", std::move(results)}};
}

} // namespace crossroads::analysis
