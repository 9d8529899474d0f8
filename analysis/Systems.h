// Systems (4A090): computers, electronic assemblies and components containing an IC meeting
// 3A090.a / .b are 4A090.a / .b (docs/reference/export-rules.md [S]). A system of N identical
// chips (DGX H100 = 8 x H100 SXM5) is classified from its chip, and its aggregate TPP (N x the
// chip's, as the 2025-01 caps count it) is given for cap accounting.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// A system as data, its chip named as the store names it: the bundled examples
// (data/seed/systems.json) or one given as "NAME=N x CHIP".
struct SystemDefinition {
    std::string name;
    std::string chip;
    int chip_count = 0;
    Citation citation; // where the count comes from
};

inline constexpr int kMaxSystemChips = 1000000;

// "DGX H100=8 x H100 SXM5 80GB" ("8x CHIP", "8 X CHIP" too; spaces around "=" and "x" optional).
// The count is a whole number from 1 to kMaxSystemChips. Throws std::invalid_argument naming the
// text and what is wrong with it.
SystemDefinition parseSystemDefinition(std::string_view text);

// {"about": "...", "systems": [{"name", "chip", "count", "citation": {"text", "evidence"}}]}.
// Unknown keys, a missing name or chip, a count out of range and names given twice are errors
// (std::invalid_argument) naming the entry and the key.
std::vector<SystemDefinition> systemDefinitionsFromJsonText(const std::string& text);

// Whole systems within a TPP allocation: floor(allocation / aggregate TPP); nullopt when the
// aggregate TPP is unknown or 0.
std::optional<int64_t> systemsWithin(const SystemClassification& system, double allocationTpp);

} // namespace crossroads::analysis
