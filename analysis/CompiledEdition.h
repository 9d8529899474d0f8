// The classification proper (paragraph and controlled, no explanation strings, no borderline
// search) over an edition compiled once: metric names resolved to slots, conditions flattened.
// For searches and sweeps that classify millions of chip x edition pairs (design-around,
// benchmarks); classify() stays the reference, and a test holds the two equal on every bundled
// chip x edition.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

enum class Paragraph { A, B, C, None };
std::string_view paragraphKey(Paragraph p); // "a", "b", "c", "none"

struct ParagraphDecision {
    std::optional<Paragraph> paragraph; // nullopt: undetermined
    std::optional<bool> controlled;     // nullopt: undetermined
};

// The numeric metrics the rules compare, as an edition defines them (TPP by its bit lengths).
// nullopt when the figure is unknown or `metric` is no numeric metric.
std::optional<double> numericMetric(const ChipSpec& chip, const Edition& edition,
                                    std::string_view metric);

class CompiledEdition {
public:
    explicit CompiledEdition(const Edition& edition);

    ParagraphDecision classify(const ChipSpec& chip) const;
    const std::string& id() const { return id_; }

    enum class Slot : unsigned char {
        Tpp,
        PerformanceDensity,
        MemoryBandwidthDensity,
        Io,
        MemoryBandwidth,
        MemoryCapacity,
        Tdp,
        Datacenter,
        Kind,
        Outcome, // paragraph / controlled: unknown while the paragraph is decided
    };
    struct Node {
        enum class Type : unsigned char { Leaf, All, Any } type = Type::All;
        Slot slot = Slot::Outcome;
        Comparator op = Comparator::GreaterEqual;
        double number = 0; // numeric threshold; 1/0 for a bool one
        bool kind_logic_holds = false, kind_hbm_holds = false; // a "kind" leaf, precomputed
        unsigned first_child = 0, child_count = 0;             // All/Any: children in `children_`
    };

private:
    struct Root {
        unsigned node;
        Paragraph paragraph; // clauses only
    };
    unsigned compile(const Condition& c);
    int evaluate(unsigned node, const double* values, const bool* known,
                 ChipKind kind) const; // 0 false, 1 true, 2 unknown

    std::string id_;
    std::array<int, kAllPrecisions.size()> bits_{}; // 0: precision not counted
    std::vector<Node> nodes_;
    std::vector<unsigned> children_;
    std::vector<Root> clauses_;
    std::vector<unsigned> notes_;
};

} // namespace crossroads::analysis
