// A scenario is an edition of the analyst's (DESIGN.md, `crossroads scenario`): it extends an
// edition (its base), gives some of the base's numeric criteria new thresholds, adds
// hypothetical chips that exist only in it, and carries a note. It is stored as JSON (the
// store's scenarios.definition_json) and resolved on its base into an Edition named after the
// scenario, which every verb that takes an edition id then takes. The base may itself be a
// scenario.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Compare.h"
#include "analysis/Edition.h"

#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

// Bad scenario input: the message names what is wrong (the clause, the metric, the chip).
class ScenarioError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The criterion of `clause` on `metric` whose operator has the direction of `op` gets `op
// threshold`. ">=" and ">" share a direction (a lower bound), "<" and "<=" another; "==" and
// "!=" each stand alone. `clause` is a clause id of the base ("3A090.a.1"); an exclusion note's
// or a flag's id works too (an extension: the 2025-04 bandwidth line is a flag).
struct ThresholdOverride {
    std::string clause;
    std::string metric; // a numeric metric: "tpp", "performance_density", ...
    Comparator op = Comparator::GreaterEqual;
    double threshold = 0;
    bool operator==(const ThresholdOverride&) const = default;
};

struct Scenario {
    std::string name;
    std::string base; // the id of the edition (or scenario) it extends
    // Applied in order: a later override of the same criterion wins.
    std::vector<ThresholdOverride> overrides;
    std::vector<ChipSpec> hypothetical_chips;
    std::string note;
    bool operator==(const Scenario&) const = default;
};

// The numeric metrics a criterion may compare, as the edition format names them.
const std::vector<std::string>& numericMetrics();
bool sameDirection(Comparator a, Comparator b);

// Reads "CLAUSE:METRIC OP VALUE" ("3A090.a.1:tpp >= 4000"; the spaces around the operator are
// optional). Checks the form, that METRIC is a numeric metric and VALUE a finite number of zero
// or more; throws ScenarioError naming what is wrong. Whether the clause exists is the base's
// business (overriddenCriterion).
ThresholdOverride parseThresholdOverride(std::string_view text);
// What parseThresholdOverride reads back: "3A090.a.1:tpp >= 4000".
std::string thresholdOverrideText(const ThresholdOverride& o);

// A numeric criterion of an edition's clauses, notes or flags: what a scenario may change.
struct NumericCriterion {
    std::string clause; // the clause's, note's or flag's id
    std::string kind;   // "clause", "note" or "flag"
    std::string metric;
    Comparator op = Comparator::GreaterEqual;
    double threshold = 0;
};
// Clauses first, then notes, then flags, each in the edition's order, leaves depth first; two
// criteria of one item on the same metric and direction are listed once (an override sets both).
std::vector<NumericCriterion> numericCriteria(const Edition& edition);

// The criterion of `base` that `o` replaces (its present operator and threshold). Throws
// ScenarioError when the base has no clause (note, flag) of that id, the clause tests no
// `o.metric`, or none of its criteria on it has the direction of `o.op`.
NumericCriterion overriddenCriterion(const Edition& base, const ThresholdOverride& o);

// A scenario name: 1 to 80 characters, no control characters, no leading or trailing space, not
// starting with "-". Throws ScenarioError. (Whether it is free is the store's business.)
void checkScenarioName(std::string_view name);

// Everything resolveScenario checks, plus the hypothetical chips: each valid (validateChip),
// their names unique and none the name of a stored chip (both case-insensitive). Throws
// ScenarioError naming the override or the chip.
void validateScenario(const Scenario& scenario, const Edition& base,
                      const std::vector<std::string>& storedChipNames);

// The scenario as an edition: the base with the overrides applied (an overridden clause's
// citation says so, with the threshold it replaced, evidence "U"), id = the name, scenario =
// true, base = the base's id, the base's hypothetical chips (a scenario of a scenario) followed
// by its own (a chip of the same name replaces the base's), the note. Throws ScenarioError (as
// overriddenCriterion).
Edition resolveScenario(const Scenario& scenario, const Edition& base);

// definition_json: {"format": 1, "name", "base", "overrides": [{"clause", "metric", "op",
// "threshold"}], "chips": [chip interchange objects], "note"}. Reading is strict: an unknown key
// or a wrong type is a ScenarioError naming it.
nlohmann::json scenarioToJson(const Scenario& scenario);
Scenario scenarioFromJson(const nlohmann::json& object);

// `stored` followed by the hypothetical chips of `a` and then of `b` (when given); a chip whose
// name is already listed (case-insensitive) is left out, so calling it on its own output changes
// nothing.
std::vector<ChipSpec> chipsWithHypothetical(const std::vector<ChipSpec>& stored, const Edition& a,
                                            const Edition* b = nullptr);
// The hypothetical chip of that name (case-insensitive); nullptr when none.
const ChipSpec* findHypotheticalChip(const Edition& edition, std::string_view name);
bool isHypotheticalChip(const Edition& edition, std::string_view name);

// A scenario against its base: each override beside the threshold it replaces, what the
// hypothetical chips are under the scenario, and the comparison base -> scenario over the stored
// chips and the hypothetical ones.
struct ScenarioDiff {
    struct Threshold {
        ThresholdOverride scenario;
        NumericCriterion base;
    };
    std::string name, base, note;
    std::vector<Threshold> thresholds;
    std::vector<ChipSpec> hypothetical_chips;               // the base's too, when it is one
    std::vector<ClassificationResult> hypothetical_results; // under the scenario
    EditionComparison comparison;
};
// `base` is the scenario's base, `resolved` resolveScenario's answer for it.
ScenarioDiff diffScenario(const Scenario& scenario, const Edition& base, const Edition& resolved,
                          const std::vector<ChipSpec>& storedChips);
// {"name", "scenario": true, "base", "note", "overrides": [{"clause", "metric", "op",
// "threshold", "base_op", "base_threshold"}], "hypothetical_chips": [chip objects],
// "hypothetical_results": [result objects with "hypothetical": true], "comparison": compare's
// object (baseline = the base, vs = the scenario)}
nlohmann::json scenarioDiffToJson(const ScenarioDiff& diff);

} // namespace crossroads::analysis
