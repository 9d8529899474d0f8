// A rule edition as data: clauses (criteria over named metrics), exclusion notes, license
// exceptions, flags (heuristics and review policies, never clauses) and cap parameters.
// Loaded from the JSON files of data/seed/editions/ (format: docs/editions-format.md).
#pragma once

#include "analysis/Metrics.h"

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

struct Citation {
    std::string text;     // "88 FR 73458"
    std::string evidence; // P, Q, S, D or U (docs/reference/export-rules.md)
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
};

struct Flag {
    std::string id;
    std::string kind; // "heuristic" or "review-policy"
    std::string text; // what the result's flags list shows
    Citation citation;
    Condition when;
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
    std::string status;    // "in force", "superseded", "rescinded", "heuristic"
    std::string status_note;
    BitLengths bit_lengths;
    std::string bit_length_assumption; // shown wherever TF32 decides a TPP
    std::vector<Clause> clauses;
    std::vector<ExclusionNote> notes;
    std::vector<LicenseException> license_exceptions;
    std::vector<Flag> flags;
    std::optional<CapParameters> caps;
};

// Parses edition JSON objects; an edition may "extends" another (its clauses, notes, license
// exceptions, bit lengths and flags are inherited, then the edition's own replace same-id items
// and add new ones). Order of the input does not matter. Throws EditionFormatError naming the
// edition and the key. The result is sorted by effective date.
std::vector<Edition> editionsFromJson(const std::vector<nlohmann::json>& objects);
// Convenience: parse texts (each one edition object).
std::vector<Edition> editionsFromJsonTexts(const std::vector<std::string>& texts);

// {"id", "title", "citation", "effective", "status"} as `crossroads editions --json` prints.
nlohmann::json editionSummaryJson(const Edition& e);

// The newest edition whose status is "in force"; nullptr when none.
const Edition* newestInForce(const std::vector<Edition>& editions);
const Edition* findEdition(const std::vector<Edition>& editions, std::string_view id);

} // namespace crossroads::analysis
