// chip x edition -> classification with its reasons (the result object of DESIGN.md).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::analysis {

struct ClassificationResult {
    std::string chip_name;
    std::string edition_id;

    std::optional<TotalProcessingPerformance> tpp; // nullopt: no rate known
    std::optional<double> tpp_reported;
    std::optional<double> tpp_gap_percent; // (computed - reported) / reported x 100
    std::optional<double> performance_density;
    std::optional<double> memory_bandwidth_density;

    std::vector<std::string> classes;      // clause ids met (.a hides .b)
    std::optional<bool> controlled;        // nullopt: undetermined
    std::optional<std::string> paragraph;  // "a", "b", "c", "none"; nullopt: undetermined
    std::vector<std::string> undetermined; // interchange keys of the missing figures
    bool borderline = false;
    std::vector<std::string> borderline_reasons; // "TPP x1.02 (2,415) -> 3A090.b"
    std::vector<std::string> license_exceptions;
    std::vector<std::string> flags;
    std::vector<std::string> explanation; // one line per deciding criterion
    std::vector<std::string> remarks;     // TPP basis, reported-TPP gap, assumptions used

    std::optional<double> tppValue() const { return tpp ? std::optional(tpp->tpp) : std::nullopt; }
};

ClassificationResult classify(const ChipSpec& chip, const Edition& edition);

// A condition of the edition (license requirement, review policy) checked against a chip and its
// classification: `holds` is nullopt when a figure it needs is unknown (`missing` names the
// metrics); `reasons` are the deciding criteria in words ("TPP 2,368 < 21,000").
struct ConditionCheck {
    std::optional<bool> holds;
    std::vector<std::string> missing;
    std::vector<std::string> reasons;
};
ConditionCheck checkCondition(const Condition& condition, const ChipSpec& chip,
                              const Edition& edition, const ClassificationResult& result);

// The DESIGN.md result object (plus tpp_basis, tpp_gap_percent, paragraph, remarks).
nlohmann::json resultToJson(const ClassificationResult& result);

// "15,832", "4,988.8", "3.14": how figures appear in explanations and tables.
std::string formatFigure(double value);
// `value` with exactly `decimals` decimals, "." as the point whatever the locale.
std::string fixedDecimals(double value, int decimals);

} // namespace crossroads::analysis
