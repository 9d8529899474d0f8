// ChipSpec <-> the JSON interchange object (DESIGN.md). Strict: unknown keys and wrong types are
// errors naming the key; a missing optional figure is null.
#pragma once

#include "analysis/ChipSpec.h"

#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace crossroads::analysis {

class ChipFormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws ChipFormatError ("chip 3 (\"H100\"): unknown key \"fp16x\""). `context` prefixes messages.
ChipSpec chipFromJson(const nlohmann::json& object, const std::string& context = "chip");
nlohmann::json chipToJson(const ChipSpec& chip);

// The "alternatives" array of the interchange object: [{"field", "value", "citation",
// "confidence"}] (an extension; chipToJson leaves it out when there are none). The reader checks
// shape and keys; validateChip checks the fields and values.
std::vector<FigureAlternative> alternativesFromJson(const nlohmann::json& array,
                                                    const std::string& context);
nlohmann::json alternativesToJson(const std::vector<FigureAlternative>& alternatives);

// A JSON text holding one chip object or an array of them. Validates every chip
// (validateChip); throws ChipFormatError naming the entry and the problem.
std::vector<ChipSpec> chipsFromJsonText(const std::string& text);

} // namespace crossroads::analysis
