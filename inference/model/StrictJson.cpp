#include "inference/model/StrictJson.h"

#include "inference/model/Tensor.h"

#include <set>
#include <string>
#include <vector>

namespace crossroads::inference {

namespace {

struct DuplicateKey {
    std::string key;
};

} // namespace

nlohmann::json parseStrictJson(std::string_view text, std::string_view what) {
    // One key set per open object; arrays push nothing because their elements have no keys.
    std::vector<std::set<std::string>> open;
    const auto callback = [&open](int /*depth*/, nlohmann::json::parse_event_t event,
                                  nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) {
            open.emplace_back();
        } else if (event == Event::object_end) {
            if (!open.empty())
                open.pop_back();
        } else if (event == Event::key) {
            if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second)
                throw DuplicateKey{parsed.get<std::string>()};
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text.begin(), text.end(), callback);
    } catch (const DuplicateKey& duplicate) {
        throw EngineError(std::string(what) + ": duplicate JSON key \"" + duplicate.key + "\"");
    } catch (const nlohmann::json::exception& error) {
        throw EngineError(std::string(what) + ": invalid JSON (" + error.what() + ")");
    }
}

} // namespace crossroads::inference
