// A rule edition as data: clauses (criteria over named metrics), exclusion notes, license
// exceptions, flags (heuristics and review policies, never clauses) and cap parameters.
// Loaded from the JSON files of data/seed/editions/ (format: docs/editions-format.md).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Metrics.h"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace crossroads::analysis {

class EditionFormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Comparator { Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };
std::string_view comparatorSymbol(Comparator c); // "<", "<=", ...
// x OP y, as the classifier compares a figure with its threshold.
bool compareNumbers(double x, Comparator op, double y);

// A metric's value: a number (tpp, performance_density, ..._gb_per_s), a bool (datacenter,
// controlled) or a string (kind: "logic"/"hbm"; paragraph: "a"/"b"/"c"/"none").
using MetricValue = std::variant<double, bool, std::string>;

struct Criterion {
    std::string metric;
    Comparator op = Comparator::GreaterEqual;
    MetricValue threshold;
};

// A leaf criterion, or all/any over children.
struct Condition {
    enum class Kind { Leaf, All, Any };
    Kind kind = Kind::All; // an empty All holds
    Criterion criterion;   // Leaf only
    std::vector<Condition> children;
};

// Calls `f` with every leaf criterion of `c`, depth first.
void forEachCriterion(const Condition& c, const std::function<void(const Criterion&)>& f);

struct Citation {
    std::string text;     // "88 FR 73458"
    std::string evidence; // P, Q, S, D or U (docs/reference/export-rules.md)
};

// A condition attached to a review policy or a license exception, in words, with its source.
struct CitedText {
    std::string text;
    Citation citation;
};

// Destinations: group ids and ISO codes ("*" = every country), less the excluded ones.
struct DestinationSet {
    std::vector<std::string> include;
    std::vector<std::string> exclude;
};

struct Clause {
    std::string id;        // the regulation's paragraph id: "3A090.a.1"
    std::string paragraph; // "a", "b" or "c"
    std::string summary;   // one line in words
    Citation citation;
    Condition when;
};

// A note that takes items out of the ECCN when its condition holds (Note 2 to 3A090).
struct ExclusionNote {
    std::string id; // "Note 2 to 3A090"
    std::string summary;
    Citation citation;
    Condition when;
};

// Evaluated after the paragraph is known: conditions may use "paragraph" and "controlled".
struct LicenseException {
    std::string id; // "NAC", "ACA", "HBM"
    std::string summary;
    Citation citation;
    Condition when;
    // Where the exception may be used (licence determination); absent: no destination limit
    // in the data. Available when the destination is in `destinations` or the buyer's
    // headquarters in `headquarters`.
    std::optional<DestinationSet> destinations;
    std::optional<DestinationSet> headquarters;
    std::vector<CitedText> conditions;
};

struct Flag {
    std::string id;
    std::string kind; // "heuristic" or "review-policy"
    std::string text; // what the result's flags list shows
    Citation citation;
    Condition when;
};

// Members of a country group, as one source lists them (ISO 3166-1 alpha-2 codes).
struct CountryGroupMembers {
    std::vector<std::string> codes;
    Citation citation;
    bool uncertain = false; // the sources disagree or are dated: membership is unknown
};

// A country group of the EAR (Supplement No. 1 to part 740: "D:5", "A:5") or of a rule ("Tier 1").
// A group that is not complete lists only the members the sources give: a code it does not list
// is of unknown membership, never a non-member.
struct CountryGroup {
    std::string id;
    std::string title;
    bool complete = false;
    std::string note; // what is partial or uncertain, and why
    std::vector<CountryGroupMembers> members;
};

// "HK" is looked up as "CN" too (Hong Kong is treated as China under the EAR).
struct CountryAlias {
    std::string id; // the code that is aliased: "HK"
    std::string as; // "CN"
    Citation citation;
};

// A licence requirement: for items meeting `when` (or named in `named_items`), to the
// destinations in `destinations` and/or for buyers headquartered in `headquarters` (every set
// given must hold). A `heuristic` requirement (the 2025-04 letters, no published thresholds)
// binds its named items; an item that only meets its heuristic condition is undetermined.
struct LicenseRequirement {
    std::string id;
    std::string summary;
    Citation citation;
    Condition when; // outcome metrics allowed (paragraph, controlled)
    std::vector<std::string> named_items;
    bool heuristic = false;
    std::optional<DestinationSet> destinations;
    std::optional<DestinationSet> headquarters;
};

// How BIS reviews a licence application: where it applies, for which items, under which
// conditions; `supersedes` names the policies it replaces where both apply.
struct ReviewPolicy {
    std::string id;
    std::string policy; // "presumption of denial", "case-by-case", "presumption of approval"
    std::string summary;
    Citation citation;
    Condition when;
    std::optional<DestinationSet> destinations; // applies when the destination is in it, or
    std::optional<DestinationSet> headquarters; // ... the buyer's headquarters is in this one
    std::vector<CitedText> conditions;
    std::vector<std::string> supersedes;
};

// A restriction outside 3A090 that Crossroads names but does not model (embargoes, end-use
// controls): shown when the destination is in `destinations`, the item is named, or always
// when neither is given.
struct OtherRestriction {
    std::string id;
    std::string text;
    Citation citation;
    std::optional<DestinationSet> destinations;
    std::vector<std::string> named_items;
};

// AI Diffusion (2025-01) quantity controls, for the cap calculator.
struct CapParameters {
    double lpp_tpp_per_consignee_per_year = 0;
    double tier2_allocation_tpp = 0;
    std::string tier2_allocation_period;
    std::vector<std::string> tier1_countries;
    std::string tier3_description;
    Citation citation;
};

struct Edition {
    std::string id; // "2023-10"
    std::string title;
    Citation citation;
    std::string effective; // ISO date
    std::string status;    // "in force", "superseded", "rescinded", "not enforced", "heuristic"
    std::string status_note;
    BitLengths bit_lengths;
    std::string bit_length_assumption; // shown wherever TF32 decides a TPP
    std::vector<Clause> clauses;
    std::vector<ExclusionNote> notes;
    std::vector<LicenseException> license_exceptions;
    std::vector<Flag> flags;
    std::optional<CapParameters> caps;
    // Licence determination by destination (analysis/License.h).
    std::vector<CountryGroup> country_groups;
    std::vector<CountryAlias> country_aliases;
    std::vector<LicenseRequirement> license_requirements;
    std::vector<ReviewPolicy> review_policies;
    std::vector<OtherRestriction> other_restrictions;
    // A scenario (analysis/Scenario.h) is an analyst's edition: it extends `base` with its own
    // thresholds, carries chips that exist only in it, and a note. It is never the default.
    bool scenario = false;
    std::string base; // the edition id a scenario extends; empty for the regulation's editions
    std::vector<ChipSpec> hypothetical_chips;
    std::string note;
};

const CountryGroup* findCountryGroup(const Edition& edition, std::string_view id);

// Parses edition JSON objects; an edition may "extends" another (its clauses, notes, license
// exceptions, bit lengths and flags are inherited, then the edition's own replace same-id items
// and add new ones). Order of the input does not matter. Throws EditionFormatError naming the
// edition and the key. The result is sorted by effective date.
std::vector<Edition> editionsFromJson(const std::vector<nlohmann::json>& objects);
// Convenience: parse texts (each one edition object).
std::vector<Edition> editionsFromJsonTexts(const std::vector<std::string>& texts);

// {"id", "title", "citation", "effective", "status"} as `crossroads editions --json` prints
// (+ "scenario": true and "base" for a scenario).
nlohmann::json editionSummaryJson(const Edition& e);

// The newest edition whose status is "in force", never a scenario; nullptr when none.
const Edition* newestInForce(const std::vector<Edition>& editions);
const Edition* findEdition(const std::vector<Edition>& editions, std::string_view id);

} // namespace crossroads::analysis
