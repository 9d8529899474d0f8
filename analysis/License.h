// Licence determination by destination: chip (its classification) x destination x edition, and
// optionally the buyer's headquarters -> does the export need a licence, on which basis, how
// BIS reviews it, which licence exceptions are open, and what else restricts it outside 3A090.
// Country groups, requirements, policies and exceptions are edition data (docs/editions-format.md).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

class LicenseQueryError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct LicenseQuery {
    std::string destination;                 // ISO 3166-1 alpha-2, "CN"
    std::optional<std::string> headquarters; // the buyer's (or its ultimate parent's) country
};

struct AvailableException {
    std::string id; // "NAC"
    std::string summary;
    Citation citation;
    std::vector<std::string> conditions; // "text, citation [mark]"
};

struct LicenseResult {
    std::string chip_name;
    std::string edition_id;
    std::string destination;
    std::optional<std::string> headquarters; // as given

    std::vector<std::string> classes;
    std::optional<std::string> paragraph;
    std::optional<bool> controlled;
    std::optional<bool> license_required; // nullopt: depends on facts or figures not known
    std::vector<std::string> basis;       // one line per deciding rule, each cited with its mark
    std::optional<std::string> review_policy;
    std::vector<std::string> review_conditions; // conditions of that policy, cited
    std::vector<AvailableException> license_exceptions;
    std::vector<std::string> other_restrictions; // named, not modelled; cited
    std::vector<std::string> undetermined;       // missing figures (classification) or facts
};

// Throws LicenseQueryError naming a code that is not ISO 3166-1 alpha-2.
LicenseResult determineLicense(const ChipSpec& chip, const ClassificationResult& classification,
                               const Edition& edition, const LicenseQuery& query);
// Classifies first.
LicenseResult determineLicense(const ChipSpec& chip, const Edition& edition,
                               const LicenseQuery& query);

// Three-valued membership of `code` in a group of the edition (aliases applied): nullopt when
// the group's list is partial and does not name the code, or names it as uncertain.
std::optional<bool> inCountryGroup(const Edition& edition, const std::string& groupId,
                                   const std::string& code);

// The answer in a few words, as the window's licence column and the report show it: "Required:
// presumption of denial", "Not required", "Depends: headquarters"; `label` names each missing
// figure or fact (an interchange key, "headquarters") for the reader (default: the key itself).
std::string licenseSummary(const LicenseResult& result,
                           const std::function<std::string(std::string_view)>& label = {});

// The result object of `crossroads license --json` (DESIGN.md).
nlohmann::json licenseResultToJson(const LicenseResult& result);

} // namespace crossroads::analysis
