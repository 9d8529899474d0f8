// Two editions (or scenarios) side by side: which chips change paragraph or control status, in
// which direction, and why (the explanation lines that differ). The contract is DESIGN.md's
// `crossroads compare`.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::analysis {

// tightened: from outside (or undetermined) to controlled, or from .b to .a; loosened: the
// reverse; changed: any other difference of paragraph, classes or control status.
enum class ChangeDirection { Tightened, Loosened, Changed };
std::string_view changeDirectionKey(ChangeDirection d);

// A class in words for tables: "3A090.a.1, 3A090.a.2", "outside 3A090" or "undetermined".
std::string classSummary(const ClassificationResult& r);

struct ChipChange {
    std::string chip;
    ClassificationResult from, to;
    ChangeDirection direction = ChangeDirection::Changed;
    // The lines of `to`'s explanation that `from` lacks, then "baseline: ..." for those of `from`
    // that `to` lacks.
    std::vector<std::string> because;
};

// Flags (heuristics, review policies) that one side has and the other not, for a chip whose
// class does not change: the 2025-04 H20 letter, the 2026-01 case-by-case policy.
struct FlagChange {
    std::string chip;
    std::vector<std::string> added, removed;
};

struct EditionComparison {
    std::string baseline, vs;
    int unchanged = 0; // chips with the same paragraph, classes and control status
    std::vector<ChipChange> changes;
    std::vector<FlagChange> flag_changes;
    std::vector<ClassificationResult> baseline_results, vs_results; // every chip, in input order
    // Scenarios (analysis/Scenario.h): which sides are one, and the chips that exist only in one.
    bool baseline_scenario = false, vs_scenario = false;
    std::vector<std::string> hypothetical_chips;
};

// Classifies `chips` followed by the hypothetical chips of either side (a scenario's), under
// both.
EditionComparison compareEditions(const std::vector<ChipSpec>& chips, const Edition& baseline,
                                  const Edition& vs);

// {"baseline", "vs", "unchanged", "changes": [{"chip", "from": {"paragraph", "classes",
// "controlled"}, "to": {...}, "direction", "because"}], "flag_changes": [{"chip", "added",
// "removed"}]}; when a side is a scenario, also "scenario": true, "baseline_scenario",
// "vs_scenario", and "hypothetical": true on the entries of hypothetical chips.
nlohmann::json comparisonToJson(const EditionComparison& c);

} // namespace crossroads::analysis
