// Design-around search: for a chip under an edition, how far each figure sits from every numeric
// threshold of the edition's clauses, exclusion notes and flags, and the smallest single change
// that leaves each line (outside 3A090.a, outside 3A090, outside the 2025-04 heuristic), or
// "not reachable" when no such change exists. Every change is checked by classify() itself:
// its result paragraph is what classify() says for the changed chip. The real derivatives
// (analysis/Precedents) come beside it.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "analysis/Precedents.h"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::analysis {

struct ThresholdMargin {
    std::string clause;           // the clause, note or flag id ("3A090.a.1", "Note 2 to 3A090")
    std::string source;           // "clause", "note" or "flag"
    std::string metric;           // "tpp", "performance_density", ...
    std::optional<double> figure; // the chip's value; nullopt when unknown
    Comparator op = Comparator::GreaterEqual;
    double threshold = 0;
    std::optional<double> margin_percent; // (figure - threshold) / threshold x 100
    std::optional<bool> holds;            // the criterion alone; nullopt when unknown
};

enum class ChangeKind { Derate, DieArea, Io, MemoryBandwidth };
std::string_view changeKindKey(ChangeKind k); // "derate", "die_area", "io", "memory_bandwidth"

inline constexpr const char* kOutsideA = "outside 3A090.a";
inline constexpr const char* kOutside3A090 = "outside 3A090";
inline constexpr const char* kOutsideHeuristic = "outside the 2025-04 heuristic";

struct DesignChange {
    std::string to; // kOutsideA, kOutside3A090 or kOutsideHeuristic
    ChangeKind kind = ChangeKind::Derate;
    std::optional<double> factor; // derate: every dense rate times it; die_area: area times it
    std::optional<double> value;  // io, memory_bandwidth: the new figure (GB/s)
    std::optional<std::string> result_paragraph; // classify() of the changed chip; nullopt:
                                                 // not reachable
    bool reachable = false;
    // Heuristic flags (kind "heuristic") that still hold after the change: a memory-bandwidth
    // cut leaves the memory-bandwidth flag, but an H20 keeps its interconnect one.
    std::vector<std::string> remaining_flags;
    std::string note; // what the change gives (TPP, PD, ...) or why it is not reachable
};

struct DesignAroundResult {
    std::string chip;
    std::string edition;
    std::optional<std::string> paragraph; // as classify() says; nullopt: undetermined
    std::vector<std::string> classes;
    std::vector<std::string> flags;
    std::vector<ThresholdMargin> margins;
    std::vector<DesignChange> changes;
    std::vector<Precedent> precedents; // derived from this chip, or this chip itself
};

// Throws std::invalid_argument naming the problem when the chip is invalid (validateChip).
DesignAroundResult designAround(const ChipSpec& chip, const Edition& edition);

// The DESIGN.md object: {"chip", "edition", "paragraph", "margins", "changes", "precedents"}
// (plus "classes", "flags" and per-entry extensions).
nlohmann::json designAroundToJson(const DesignAroundResult& result);

} // namespace crossroads::analysis
