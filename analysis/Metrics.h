// The derived figures the rules compare: TPP, performance density, memory bandwidth density.
#pragma once

#include "analysis/ChipSpec.h"

#include <map>
#include <optional>

namespace crossroads::analysis {

// Bit length per precision, as an edition defines it (TF32's is an explicit assumption).
using BitLengths = std::map<Precision, int>;

struct TotalProcessingPerformance {
    double tpp = 0;                 // dimensionless (bit x 10^12 op/s)
    std::optional<Precision> basis; // precision giving the maximum; nullopt for HBM (0)
    double basis_rate_tops = 0;
    int basis_bit_length = 0;
};

// TPP = max over supported precisions of dense rate x bit length. nullopt when a logic chip has
// no rate at all (unknown, not zero). An HBM stack has no processing units: TPP 0.
std::optional<TotalProcessingPerformance> totalProcessingPerformance(const ChipSpec& chip,
                                                                     const BitLengths& bits);

// TPP / applicable die area (mm^2). nullopt when either is unknown.
std::optional<double> performanceDensity(std::optional<double> tpp,
                                         std::optional<double> applicable_die_area_mm2);

// Memory bandwidth (GB/s) / package or stack area (mm^2), in GB/s/mm^2.
std::optional<double> memoryBandwidthDensityGbPerSPerMm2(const ChipSpec& chip);

} // namespace crossroads::analysis
