// Which chip of the store a detected device is ("NVIDIA H100 80GB HBM3" -> "H100 SXM5 80GB"), so
// a benchmark can be set against the datasheet figures of the hardware it ran on.
#pragma once

#include "analysis/ChipSpec.h"

#include <optional>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

// Index of the best-matching chip, or nullopt when no chip shares the device's model token (the
// first word with a digit, e.g. "h100", "4090", "mi300x"). Among candidates the one sharing the
// most words wins; a tie goes to the SXM/OAM part, as CUDA names SXM boards without a form factor.
std::optional<std::size_t> matchDeviceToChip(std::string_view deviceName,
                                             const std::vector<ChipSpec>& chips);

} // namespace crossroads::analysis
