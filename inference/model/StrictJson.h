// JSON parsing that rejects duplicate object keys at any depth. nlohmann (like serde) silently
// keeps the last duplicate, and parsers that disagree on which one wins have been exploited.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace crossroads::inference {

// Throws EngineError naming `what` (a file name) on invalid UTF-8, invalid JSON or a duplicate.
nlohmann::json parseStrictJson(std::string_view text, std::string_view what);

} // namespace crossroads::inference
