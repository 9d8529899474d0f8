#include "analysis/Metrics.h"

namespace crossroads::analysis {

std::optional<TotalProcessingPerformance> totalProcessingPerformance(const ChipSpec& chip,
                                                                     const BitLengths& bits) {
    if (chip.kind == ChipKind::Hbm && !chip.dense_tops.any())
        return TotalProcessingPerformance{};
    std::optional<TotalProcessingPerformance> best;
    for (Precision p : kAllPrecisions) {
        const auto& rate = chip.dense_tops[p];
        auto bit = bits.find(p);
        if (!rate || bit == bits.end())
            continue;
        double tpp = *rate * bit->second;
        // On a tie the basis moves off TF32, so a TPP that other precisions reach as well is
        // not reported as resting on the TF32 bit-length assumption.
        if (!best || tpp > best->tpp || (tpp == best->tpp && best->basis == Precision::Tf32))
            best = TotalProcessingPerformance{tpp, p, *rate, bit->second};
    }
    return best;
}

std::optional<double> performanceDensity(std::optional<double> tpp,
                                         std::optional<double> applicable_die_area_mm2) {
    if (!tpp || !applicable_die_area_mm2 || *applicable_die_area_mm2 <= 0)
        return std::nullopt;
    return *tpp / *applicable_die_area_mm2;
}

std::optional<double> memoryBandwidthDensityGbPerSPerMm2(const ChipSpec& chip) {
    if (!chip.memory_bandwidth_gb_per_s || !chip.package_area_mm2 || *chip.package_area_mm2 <= 0)
        return std::nullopt;
    return *chip.memory_bandwidth_gb_per_s / *chip.package_area_mm2;
}

} // namespace crossroads::analysis
