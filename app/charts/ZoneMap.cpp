#include "app/charts/ZoneMap.h"

#include "analysis/Classifier.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace crossroads::charts {

namespace {

using analysis::Comparator;
using analysis::Condition;
using analysis::Criterion;

constexpr std::string_view kTpp = "tpp";
constexpr std::string_view kBandwidth = "memory_bandwidth_gb_per_s";
// What the probe chip has of the figure the plane does not show: enough to meet any test.
constexpr double kPassingIoGbPerS = 1e9;
constexpr double kPassingDensity = 1e9;

void visitEditionLeaves(const analysis::Edition& e,
                        const std::function<void(const Criterion&)>& f) {
    for (const analysis::Clause& clause : e.clauses)
        analysis::forEachCriterion(clause.when, f);
    for (const analysis::ExclusionNote& note : e.notes)
        analysis::forEachCriterion(note.when, f);
}

analysis::ChipSpec probeChip(const analysis::Edition& edition, double tpp, double density,
                             double io, bool datacenter) {
    analysis::ChipSpec chip;
    chip.name = "zone probe";
    chip.vendor = "-";
    chip.datacenter = datacenter;
    // TPP = rate x bit length: one precision the edition gives a bit length for carries it all.
    analysis::Precision precision = analysis::Precision::Fp16;
    int bits = 16;
    if (auto it = edition.bit_lengths.find(precision); it != edition.bit_lengths.end())
        bits = it->second;
    else if (!edition.bit_lengths.empty())
        std::tie(precision, bits) = *edition.bit_lengths.begin();
    chip.dense_tops[precision] = tpp / bits;
    chip.applicable_die_area_mm2 = tpp / density;
    chip.io_bidirectional_gb_per_s = io;
    return chip;
}

// Cut points of [lo, hi]: the bounds and the thresholds strictly inside.
std::vector<double> cuts(double lo, double hi, const std::vector<double>& thresholds) {
    std::vector<double> out{lo};
    for (double t : thresholds)
        if (t > lo && t < hi)
            out.push_back(t);
    out.push_back(hi);
    return out;
}

} // namespace

std::string_view zoneAxisMetric(ZoneAxis axis) {
    return axis == ZoneAxis::PerformanceDensity ? "performance_density"
                                                : "io_bidirectional_gb_per_s";
}

std::vector<double> criterionThresholds(const analysis::Edition& edition, std::string_view metric) {
    std::vector<double> out;
    visitEditionLeaves(edition, [&](const Criterion& c) {
        if (c.metric == metric && std::holds_alternative<double>(c.threshold))
            out.push_back(std::get<double>(c.threshold));
    });
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool editionTests(const analysis::Edition& edition, std::string_view metric) {
    bool found = false;
    visitEditionLeaves(edition, [&](const Criterion& c) { found = found || c.metric == metric; });
    return found;
}

std::vector<ZoneCell> zoneCells(const analysis::Edition& edition, ZoneAxis axis, double tppMin,
                                double tppMax, double yMin, double yMax, bool datacenter) {
    const std::vector<double> xs = cuts(tppMin, tppMax, criterionThresholds(edition, kTpp));
    const std::vector<double> ys =
        cuts(yMin, yMax, criterionThresholds(edition, zoneAxisMetric(axis)));
    std::vector<ZoneCell> cells;
    for (size_t i = 0; i + 1 < xs.size(); ++i) {
        for (size_t j = 0; j + 1 < ys.size(); ++j) {
            const double tpp = std::sqrt(xs[i] * xs[i + 1]);
            const double y = std::sqrt(ys[j] * ys[j + 1]);
            const analysis::ChipSpec probe =
                axis == ZoneAxis::PerformanceDensity
                    ? probeChip(edition, tpp, y, kPassingIoGbPerS, datacenter)
                    : probeChip(edition, tpp, kPassingDensity, y, datacenter);
            const analysis::ClassificationResult r = analysis::classify(probe, edition);
            cells.push_back(
                {xs[i], xs[i + 1], ys[j], ys[j + 1], r.paragraph.value_or(""), r.classes});
        }
    }
    return cells;
}

std::vector<ZoneCell> zoneStrip(const analysis::Edition& edition, ZoneAxis axis, double tppMin,
                                double tppMax, bool datacenter) {
    const std::vector<double> xs = cuts(tppMin, tppMax, criterionThresholds(edition, kTpp));
    std::vector<ZoneCell> cells;
    for (size_t i = 0; i + 1 < xs.size(); ++i) {
        analysis::ChipSpec probe =
            probeChip(edition, std::sqrt(xs[i] * xs[i + 1]), 1.0, kPassingIoGbPerS, datacenter);
        if (axis == ZoneAxis::PerformanceDensity)
            probe.applicable_die_area_mm2.reset();
        else
            probe.io_bidirectional_gb_per_s.reset();
        const analysis::ClassificationResult r = analysis::classify(probe, edition);
        cells.push_back({xs[i], xs[i + 1], 0, 0, r.paragraph.value_or(""), r.classes});
    }
    return cells;
}

std::vector<BandwidthRegion> bandwidthRegions(const std::vector<analysis::Edition>& editions) {
    std::vector<BandwidthRegion> out;
    for (const analysis::Edition& e : editions) {
        for (const analysis::Flag& flag : e.flags) {
            BandwidthRegion region{e.id, flag.id, flag.text, flag.citation, {}, {}, {}, {}};
            bool onlyAll = true;
            std::function<void(const Condition&)> walk = [&](const Condition& c) {
                if (c.kind == Condition::Kind::Any)
                    onlyAll = false;
                if (c.kind != Condition::Kind::Leaf) {
                    for (const Condition& child : c.children)
                        walk(child);
                    return;
                }
                const Criterion& k = c.criterion;
                if (!std::holds_alternative<double>(k.threshold))
                    return;
                const double v = std::get<double>(k.threshold);
                const bool lower = k.op == Comparator::Greater || k.op == Comparator::GreaterEqual;
                const bool upper = k.op == Comparator::Less || k.op == Comparator::LessEqual;
                if (k.metric == kTpp && lower)
                    region.tpp_at_least = v;
                if (k.metric == kTpp && upper)
                    region.tpp_below = v;
                if (k.metric == kBandwidth && lower)
                    region.bandwidth_at_least = v;
                if (k.metric == kBandwidth && upper)
                    region.bandwidth_below = v;
            };
            walk(flag.when);
            // A region the plane can draw: a bandwidth bound, every condition a conjunction.
            if (onlyAll && (region.bandwidth_at_least || region.bandwidth_below))
                out.push_back(std::move(region));
        }
    }
    return out;
}

} // namespace crossroads::charts
