// The chip interchange object of DESIGN.md: every figure optional (unknown = nullopt, never 0),
// dense rates per precision, and the sources (citation + confidence) behind the figures.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

enum class Precision { Fp64, Fp32, Tf32, Fp16, Bf16, Fp8, Int8, Int4, Fp4 };
inline constexpr std::array<Precision, 9> kAllPrecisions = {
    Precision::Fp64, Precision::Fp32, Precision::Tf32, Precision::Fp16, Precision::Bf16,
    Precision::Fp8,  Precision::Int8, Precision::Int4, Precision::Fp4};

// "fp64", "tf32", ... as in the interchange object.
std::string_view precisionKey(Precision p);
std::optional<Precision> precisionFromKey(std::string_view key);

enum class ChipKind { Logic, Hbm };
std::string_view chipKindKey(ChipKind k);
std::optional<ChipKind> chipKindFromKey(std::string_view key);

// Dense (non-sparse) throughput per precision, TFLOPS or TOPS. nullopt = unsupported/unknown.
struct DenseRates {
    std::array<std::optional<double>, kAllPrecisions.size()> tops{};

    std::optional<double>& operator[](Precision p) { return tops[static_cast<size_t>(p)]; }
    const std::optional<double>& operator[](Precision p) const {
        return tops[static_cast<size_t>(p)];
    }
    bool any() const;
    bool operator==(const DenseRates&) const = default;
};

struct Source {
    std::string field; // an interchange key, or "*" for the whole row
    std::string citation;
    std::string confidence; // free text as the dataset gives it ("high", "medium (IO)", ...)
    bool operator==(const Source&) const = default;
};

// Another source's value for one figure than the one the chip holds (H800 I/O 300 GB/s beside the
// 400 of its row; Gaudi 3 BF16 1,678 TFLOPS beside 1,835): the figure stays, the alternative
// says which class believing the other source would give (analysis/SourceSensitivity.h).
struct FigureAlternative {
    std::string field; // a rate key ("bf16") or a kFigureFields key ("io_bidirectional_gb_per_s")
    double value = 0;
    std::string citation;
    std::string confidence;
    bool operator==(const FigureAlternative&) const = default;
};

struct ChipSpec {
    std::string name;
    std::string vendor;
    std::optional<int> year;
    ChipKind kind = ChipKind::Logic;
    std::optional<bool> datacenter; // designed or marketed for datacenters; nullopt = ambiguous
    DenseRates dense_tops;
    std::optional<double> applicable_die_area_mm2;
    std::optional<double> package_area_mm2; // HBM stacks
    std::optional<double> memory_capacity_gb;
    std::optional<double> memory_bandwidth_gb_per_s;
    std::optional<double> io_bidirectional_gb_per_s;
    std::optional<double> tdp_w;
    std::optional<double> tpp_reported;
    std::string notes; // free text (an extension of the interchange object: "notes")
    std::vector<Source> sources;
    std::vector<FigureAlternative> alternatives; // an extension of the interchange object

    bool operator==(const ChipSpec&) const = default;
};

// The optional scalar figures of a chip, by interchange key (dense rates are per precision).
// The store's schema v1 takes its figure columns from this list: a figure added here needs a
// store migration that adds its column.
struct FigureField {
    std::string_view key;
    std::optional<double> ChipSpec::*member;
};
inline constexpr std::array<FigureField, 7> kFigureFields = {{
    {"applicable_die_area_mm2", &ChipSpec::applicable_die_area_mm2},
    {"package_area_mm2", &ChipSpec::package_area_mm2},
    {"memory_capacity_gb", &ChipSpec::memory_capacity_gb},
    {"memory_bandwidth_gb_per_s", &ChipSpec::memory_bandwidth_gb_per_s},
    {"io_bidirectional_gb_per_s", &ChipSpec::io_bidirectional_gb_per_s},
    {"tdp_w", &ChipSpec::tdp_w},
    {"tpp_reported", &ChipSpec::tpp_reported},
}};

// Whether `key` names a figure an alternative may give: a rate key or a kFigureFields key.
bool isAlternativeField(std::string_view key);

// Problems that make a chip impossible (empty name, figure <= 0 or not finite, year out of
// range, an alternative for no figure, without a citation or with a value <= 0). Each message
// names the field. Empty when the chip is valid.
std::vector<std::string> validateChip(const ChipSpec& chip);

} // namespace crossroads::analysis
