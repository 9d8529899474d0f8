// The zones of an edition on a chart's plane, computed by the classifier itself: the thresholds
// of the edition's criteria cut the plane into cells, and a probe chip at each cell's centre is
// classified, so a scenario's edited thresholds show exactly as the rules apply them. Plain C++
// over analysis/ (no Qt).
#pragma once

#include "analysis/Edition.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::charts {

// The y axis of a zone plane; x is always TPP.
enum class ZoneAxis { PerformanceDensity, IoBandwidth };

std::string_view zoneAxisMetric(ZoneAxis axis); // "performance_density", ...

struct ZoneCell {
    double tpp_from = 0, tpp_to = 0; // log-axis cell bounds
    double y_from = 0, y_to = 0;
    std::string paragraph;            // "a", "b", "none"
    std::vector<std::string> classes; // clause ids met at the cell's centre
};

// The numeric thresholds the edition's clauses and exclusion notes compare `metric` with,
// ascending, without repeats.
std::vector<double> criterionThresholds(const analysis::Edition& edition, std::string_view metric);
bool editionTests(const analysis::Edition& edition, std::string_view metric);

// The plane TPP x axis over [tppMin, tppMax] x [yMin, yMax] cut at the thresholds. The probe
// chip of a cell is a datacenter chip (or not, as asked); the figure the plane does not show is
// taken as meeting its tests (I/O on the density plane, density on the I/O plane).
std::vector<ZoneCell> zoneCells(const analysis::Edition& edition, ZoneAxis axis, double tppMin,
                                double tppMax, double yMin, double yMax, bool datacenter);

// The TPP axis alone, for the chips whose other figure is unknown (the "PD unknown" strip):
// cells where TPP settles the class without it; y_from/y_to are 0, paragraph "" where the class
// stays undetermined.
std::vector<ZoneCell> zoneStrip(const analysis::Edition& edition, ZoneAxis axis, double tppMin,
                                double tppMax, bool datacenter);

// A flag of an edition (heuristic or review policy) that bounds memory bandwidth, with the TPP
// bounds it has: the 2025-04 H20 line (bandwidth >= 4,000 GB/s), the 2026-01 box (TPP < 21,000,
// bandwidth < 6,500 GB/s).
struct BandwidthRegion {
    std::string edition_id, flag_id, text;
    analysis::Citation citation;
    std::optional<double> tpp_at_least, tpp_below;
    std::optional<double> bandwidth_at_least, bandwidth_below;
};
std::vector<BandwidthRegion> bandwidthRegions(const std::vector<analysis::Edition>& editions);

} // namespace crossroads::charts
