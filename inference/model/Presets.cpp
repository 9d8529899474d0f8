#include "inference/model/Presets.h"

#include "inference/model/Tensor.h"

#include <charconv>

namespace crossroads::inference {

std::vector<std::string> presetNames() {
    std::vector<std::string> names;
    for (const auto& [name, text] : detail::presetTable())
        names.emplace_back(name);
    return names;
}

std::string_view presetConfigJson(std::string_view name) {
    std::string known;
    for (const auto& [presetName, text] : detail::presetTable()) {
        if (presetName == name)
            return text;
        known += (known.empty() ? "" : ", ") + std::string(presetName);
    }
    throw EngineError("unknown preset '" + std::string(name) + "' (known: " + known + ")");
}

ModelConfig presetConfig(std::string_view name, int64_t layers) {
    ModelConfig config =
        parseModelConfigText(presetConfigJson(name), "preset " + std::string(name));
    if (layers > 0)
        truncateLayers(config, layers);
    return config;
}

ModelSpec parseModelSpec(std::string_view text) {
    constexpr std::string_view kPrefix = "preset:";
    ModelSpec spec;
    if (text.substr(0, kPrefix.size()) != kPrefix) {
        if (text.empty())
            throw EngineError("empty --model");
        spec.folder = std::filesystem::path(std::string(text));
        return spec;
    }
    spec.isPreset = true;
    std::string_view rest = text.substr(kPrefix.size());
    const auto query = rest.find('?');
    spec.presetName = std::string(rest.substr(0, query));
    presetConfigJson(spec.presetName); // throws on an unknown name
    if (query != std::string_view::npos) {
        constexpr std::string_view kLayers = "layers=";
        const std::string_view option = rest.substr(query + 1);
        if (option.substr(0, kLayers.size()) != kLayers)
            throw EngineError("unknown preset option '" + std::string(option) +
                              "' (expected layers=N)");
        const std::string_view number = option.substr(kLayers.size());
        int64_t layers = 0;
        const auto [end, error] =
            std::from_chars(number.data(), number.data() + number.size(), layers);
        if (error != std::errc() || end != number.data() + number.size() || layers <= 0)
            throw EngineError("preset option layers= needs a positive integer, got '" +
                              std::string(number) + "'");
        spec.layers = layers;
    }
    return spec;
}

} // namespace crossroads::inference
