#include "analysis/CompiledEdition.h"

#include "analysis/Metrics.h"

#include <map>
#include <stdexcept>

namespace crossroads::analysis {

namespace {

using Slot = CompiledEdition::Slot;
constexpr size_t kSlots = static_cast<size_t>(Slot::Outcome) + 1;

Slot slotOf(const std::string& metric) {
    static const std::map<std::string, Slot, std::less<>> slots = {
        {"tpp", Slot::Tpp},
        {"performance_density", Slot::PerformanceDensity},
        {"memory_bandwidth_density", Slot::MemoryBandwidthDensity},
        {"io_bidirectional_gb_per_s", Slot::Io},
        {"memory_bandwidth_gb_per_s", Slot::MemoryBandwidth},
        {"memory_capacity_gb", Slot::MemoryCapacity},
        {"tdp_w", Slot::Tdp},
        {"datacenter", Slot::Datacenter},
        {"kind", Slot::Kind},
    };
    auto it = slots.find(metric);
    return it == slots.end() ? Slot::Outcome : it->second; // paragraph, controlled
}

// The metric slots of one chip; `known` false where the figure is unknown. Kept in step with
// computeMetrics() of Classifier.cpp (the equality test of test_compiled_edition holds them).
template <typename Bits>
void fillSlots(const ChipSpec& chip, const Bits& bitOf, double* values, bool* known) {
    for (size_t i = 0; i < kSlots; ++i)
        known[i] = false;
    auto put = [&](Slot s, const std::optional<double>& v) {
        if (v) {
            values[static_cast<size_t>(s)] = *v;
            known[static_cast<size_t>(s)] = true;
        }
    };
    std::optional<double> tpp;
    if (chip.kind == ChipKind::Hbm && !chip.dense_tops.any()) {
        tpp = 0.0;
    } else {
        for (size_t i = 0; i < kAllPrecisions.size(); ++i) {
            const std::optional<double>& rate = chip.dense_tops.tops[i];
            const int bits = bitOf(i);
            if (!rate || bits < 0)
                continue;
            const double t = *rate * bits;
            if (!tpp || t > *tpp)
                tpp = t;
        }
    }
    put(Slot::Tpp, tpp);
    if (tpp && chip.applicable_die_area_mm2 && *chip.applicable_die_area_mm2 > 0)
        put(Slot::PerformanceDensity, *tpp / *chip.applicable_die_area_mm2);
    if (chip.memory_bandwidth_gb_per_s && chip.package_area_mm2 && *chip.package_area_mm2 > 0)
        put(Slot::MemoryBandwidthDensity, *chip.memory_bandwidth_gb_per_s / *chip.package_area_mm2);
    put(Slot::Io, chip.io_bidirectional_gb_per_s);
    put(Slot::MemoryBandwidth, chip.memory_bandwidth_gb_per_s);
    put(Slot::MemoryCapacity, chip.memory_capacity_gb);
    put(Slot::Tdp, chip.tdp_w);
    if (chip.datacenter)
        put(Slot::Datacenter, *chip.datacenter ? 1.0 : 0.0);
    known[static_cast<size_t>(Slot::Kind)] = true;
}

} // namespace

std::string_view paragraphKey(Paragraph p) {
    switch (p) {
    case Paragraph::A:
        return "a";
    case Paragraph::B:
        return "b";
    case Paragraph::C:
        return "c";
    case Paragraph::None:
        return "none";
    }
    return "none";
}

std::optional<double> numericMetric(const ChipSpec& chip, const Edition& edition,
                                    std::string_view metric) {
    const Slot slot = slotOf(std::string(metric));
    if (slot == Slot::Outcome || slot == Slot::Datacenter || slot == Slot::Kind)
        return std::nullopt;
    double values[kSlots];
    bool known[kSlots];
    fillSlots(
        chip,
        [&](size_t i) {
            auto it = edition.bit_lengths.find(kAllPrecisions[i]);
            return it == edition.bit_lengths.end() ? -1 : it->second;
        },
        values, known);
    const size_t i = static_cast<size_t>(slot);
    return known[i] ? std::optional(values[i]) : std::nullopt;
}

CompiledEdition::CompiledEdition(const Edition& edition) : id_(edition.id) {
    bits_.fill(-1);
    for (const auto& [precision, bits] : edition.bit_lengths)
        bits_[static_cast<size_t>(precision)] = bits;
    for (const Clause& clause : edition.clauses) {
        std::optional<Paragraph> p;
        if (clause.paragraph == "a")
            p = Paragraph::A;
        else if (clause.paragraph == "b")
            p = Paragraph::B;
        else if (clause.paragraph == "c")
            p = Paragraph::C;
        if (p) // classify() reads only .a, .b and .c clauses for the paragraph
            clauses_.push_back({compile(clause.when), *p});
    }
    for (const ExclusionNote& note : edition.notes)
        notes_.push_back(compile(note.when));
}

unsigned CompiledEdition::compile(const Condition& c) {
    Node n;
    if (c.kind == Condition::Kind::Leaf) {
        n.type = Node::Type::Leaf;
        n.slot = slotOf(c.criterion.metric);
        n.op = c.criterion.op;
        const MetricValue& t = c.criterion.threshold;
        if (n.slot == Slot::Kind) {
            const std::string* s = std::get_if<std::string>(&t);
            auto holds = [&](ChipKind k) {
                const bool equal = s && *s == chipKindKey(k);
                return n.op == Comparator::NotEqual ? !equal : equal;
            };
            n.kind_logic_holds = holds(ChipKind::Logic);
            n.kind_hbm_holds = holds(ChipKind::Hbm);
        } else if (const double* d = std::get_if<double>(&t)) {
            n.number = *d;
        } else if (const bool* b = std::get_if<bool>(&t)) {
            n.number = *b ? 1.0 : 0.0;
        }
        nodes_.push_back(n);
        return static_cast<unsigned>(nodes_.size() - 1);
    }
    n.type = c.kind == Condition::Kind::All ? Node::Type::All : Node::Type::Any;
    std::vector<unsigned> kids;
    for (const Condition& child : c.children)
        kids.push_back(compile(child));
    n.first_child = static_cast<unsigned>(children_.size());
    n.child_count = static_cast<unsigned>(kids.size());
    children_.insert(children_.end(), kids.begin(), kids.end());
    nodes_.push_back(n);
    return static_cast<unsigned>(nodes_.size() - 1);
}

int CompiledEdition::evaluate(unsigned index, const double* values, const bool* known,
                              ChipKind kind) const {
    const Node& n = nodes_[index];
    if (n.type == Node::Type::Leaf) {
        const size_t s = static_cast<size_t>(n.slot);
        if (!known[s])
            return 2;
        if (n.slot == Slot::Kind)
            return (kind == ChipKind::Logic ? n.kind_logic_holds : n.kind_hbm_holds) ? 1 : 0;
        return compareNumbers(values[s], n.op, n.number) ? 1 : 0;
    }
    // Kleene logic, as classify(): for All a false child decides, for Any a true one.
    const int decisive = n.type == Node::Type::All ? 0 : 1;
    bool unknown = false;
    for (unsigned i = 0; i < n.child_count; ++i) {
        const int v = evaluate(children_[n.first_child + i], values, known, kind);
        if (v == decisive)
            return decisive;
        unknown = unknown || v == 2;
    }
    return unknown ? 2 : 1 - decisive;
}

ParagraphDecision CompiledEdition::classify(const ChipSpec& chip) const {
    double values[kSlots];
    bool known[kSlots];
    fillSlots(
        chip, [&](size_t i) { return bits_[i]; }, values, known);
    known[static_cast<size_t>(Slot::Outcome)] = false;

    // The paragraph an item is reported under: .a before .b before .c.
    std::optional<Paragraph> candidate = Paragraph::None;
    bool anyMet = false;
    for (Paragraph p : {Paragraph::A, Paragraph::B, Paragraph::C}) {
        bool met = false, unknown = false;
        for (const Root& r : clauses_) {
            if (r.paragraph != p)
                continue;
            const int v = evaluate(r.node, values, known, chip.kind);
            met = met || v == 1;
            unknown = unknown || v == 2;
        }
        anyMet = anyMet || met;
        if (met) {
            candidate = p;
            break;
        }
        if (unknown) {
            candidate.reset();
            break;
        }
    }
    int excluded = 0; // 0 false, 1 true, 2 unknown
    for (unsigned note : notes_) {
        const int v = evaluate(note, values, known, chip.kind);
        if (v == 1)
            excluded = 1;
        else if (v == 2 && excluded == 0)
            excluded = 2;
    }
    ParagraphDecision d;
    if (excluded == 1) {
        d.paragraph = Paragraph::None;
        d.controlled = false;
    } else if (excluded == 2 && candidate != std::optional(Paragraph::None)) {
        // undetermined both
    } else {
        d.paragraph = candidate;
        if (candidate)
            d.controlled = *candidate != Paragraph::None;
        else if (anyMet && excluded == 0)
            d.controlled = true;
    }
    return d;
}

} // namespace crossroads::analysis
