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

std::string_view dtypeSpecKey(WeightType type) {
    return type == WeightType::FP8E4M3 ? "fp8" : weightTypeName(type);
}

std::optional<WeightType> weightTypeFromSpecKey(std::string_view key) {
    for (const WeightType type : {WeightType::BF16, WeightType::F32, WeightType::FP8E4M3})
        if (key == dtypeSpecKey(type) || key == weightTypeName(type))
            return type;
    return std::nullopt;
}

WeightType presetWeightType(const ModelConfig& config) {
    return config.quantization.fp8() ? WeightType::FP8E4M3 : WeightType::BF16;
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
    if (query == std::string_view::npos)
        return spec;
    std::string_view options = rest.substr(query + 1);
    bool sawLayers = false;
    while (true) {
        const auto amp = options.find('&');
        const std::string_view option = options.substr(0, amp);
        const auto equals = option.find('=');
        const std::string_view key = option.substr(0, equals);
        const std::string_view value =
            equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
        if (equals != std::string_view::npos && key == "layers") {
            if (sawLayers)
                throw EngineError("preset option layers= given twice");
            sawLayers = true;
            int64_t layers = 0;
            const auto [end, error] =
                std::from_chars(value.data(), value.data() + value.size(), layers);
            if (error != std::errc() || end != value.data() + value.size() || layers <= 0)
                throw EngineError("preset option layers= needs a positive integer, got '" +
                                  std::string(value) + "'");
            spec.layers = layers;
        } else if (equals != std::string_view::npos && key == "dtype") {
            if (spec.dtype)
                throw EngineError("preset option dtype= given twice");
            spec.dtype = weightTypeFromSpecKey(value);
            if (!spec.dtype)
                throw EngineError("preset option dtype= takes bf16, f32 or fp8, got '" +
                                  std::string(value) + "'");
        } else {
            throw EngineError("unknown preset option '" + std::string(option) +
                              "' (expected layers=N or dtype=bf16|f32|fp8)");
        }
        if (amp == std::string_view::npos)
            break;
        options = options.substr(amp + 1);
    }
    return spec;
}

} // namespace crossroads::inference
