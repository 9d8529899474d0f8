#include "analysis/ChipSpec.h"

#include <cmath>

namespace crossroads::analysis {

namespace {
constexpr std::array<std::string_view, kAllPrecisions.size()> kPrecisionKeys = {
    "fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4"};
} // namespace

std::string_view precisionKey(Precision p) {
    return kPrecisionKeys[static_cast<size_t>(p)];
}

std::optional<Precision> precisionFromKey(std::string_view key) {
    for (Precision p : kAllPrecisions)
        if (precisionKey(p) == key)
            return p;
    return std::nullopt;
}

std::string_view chipKindKey(ChipKind k) {
    return k == ChipKind::Hbm ? "hbm" : "logic";
}

std::optional<ChipKind> chipKindFromKey(std::string_view key) {
    if (key == "logic")
        return ChipKind::Logic;
    if (key == "hbm")
        return ChipKind::Hbm;
    return std::nullopt;
}

bool DenseRates::any() const {
    for (const auto& r : tops)
        if (r)
            return true;
    return false;
}

std::vector<std::string> validateChip(const ChipSpec& chip) {
    std::vector<std::string> problems;
    auto positive = [&](const std::optional<double>& v, std::string_view field) {
        if (!v)
            return;
        if (!std::isfinite(*v) || *v <= 0)
            problems.push_back(std::string(field) +
                               " must be a positive number (null when unknown)");
    };
    if (chip.name.empty())
        problems.push_back("name must not be empty");
    if (chip.vendor.empty())
        problems.push_back("vendor must not be empty");
    if (chip.year && (*chip.year < 1950 || *chip.year > 2100))
        problems.push_back("year " + std::to_string(*chip.year) + " is out of range");
    for (Precision p : kAllPrecisions)
        positive(chip.dense_tops[p], "dense_tops." + std::string(precisionKey(p)));
    positive(chip.applicable_die_area_mm2, "applicable_die_area_mm2");
    positive(chip.package_area_mm2, "package_area_mm2");
    positive(chip.memory_capacity_gb, "memory_capacity_gb");
    positive(chip.memory_bandwidth_gb_per_s, "memory_bandwidth_gb_per_s");
    positive(chip.io_bidirectional_gb_per_s, "io_bidirectional_gb_per_s");
    positive(chip.tdp_w, "tdp_w");
    positive(chip.tpp_reported, "tpp_reported");
    for (const Source& s : chip.sources)
        if (s.citation.empty())
            problems.push_back("a source for field \"" + s.field + "\" has no citation");
    for (const FigureAlternative& a : chip.alternatives) {
        const std::string where = "alternative for \"" + a.field + "\"";
        if (!isAlternativeField(a.field))
            problems.push_back(where + ": not a figure (a rate key such as \"bf16\", or a figure "
                                       "such as \"io_bidirectional_gb_per_s\")");
        else if (!std::isfinite(a.value) || a.value <= 0)
            problems.push_back(where + ": the value must be a positive number");
        else if (a.citation.empty())
            problems.push_back(where + " has no citation");
    }
    return problems;
}

bool isAlternativeField(std::string_view key) {
    if (precisionFromKey(key))
        return true;
    for (const FigureField& f : kFigureFields)
        if (f.key == key)
            return true;
    return false;
}

} // namespace crossroads::analysis
