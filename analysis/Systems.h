// Systems (4A090): computers, electronic assemblies and components containing an IC meeting
// 3A090.a / .b are 4A090.a / .b (docs/reference/export-rules.md [S]). A system of N identical
// chips (DGX H100 = 8 x H100 SXM5) is classified from its chip, and its aggregate TPP (N x the
// chip's, as the 2025-01 caps count it) is given for cap accounting.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <optional>
#include <string>
#include <vector>

namespace crossroads::analysis {

struct SystemSpec {
    std::string name; // "DGX H100"
    ChipSpec chip;
    int chip_count = 0;
};

struct SystemClassification {
    std::string name;
    std::string chip;
    int chip_count = 0;
    std::optional<std::string> chip_paragraph; // classify() of the chip; nullopt: undetermined
    std::vector<std::string> chip_classes;
    std::optional<std::string> eccn;     // "4A090.a", "4A090.b"; "none"; nullopt: undetermined
    std::optional<double> aggregate_tpp; // chip_count x the chip's TPP; nullopt: TPP unknown
    std::string reason;                  // one line, in words
};

// Throws std::invalid_argument naming the problem (chip_count < 1, invalid chip).
SystemClassification classifySystem(const SystemSpec& system, const Edition& edition);

} // namespace crossroads::analysis
