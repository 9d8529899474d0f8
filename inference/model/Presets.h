// Reference model shapes (`preset:NAME[?layers=N]`). Each preset is a real Hugging Face
// config.json kept once in inference/presets/ and compiled into the library.
#pragma once

#include "inference/model/ModelConfig.h"
#include "inference/model/Tensor.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crossroads::inference {

std::vector<std::string> presetNames();
// The config.json text of a preset; throws EngineError listing the known names.
std::string_view presetConfigJson(std::string_view name);
// The parsed preset, truncated to `layers` when layers > 0.
ModelConfig presetConfig(std::string_view name, int64_t layers = 0);

// What --model names: a checkpoint folder or a preset.
struct ModelSpec {
    bool isPreset = false;
    std::string presetName; // when isPreset
    int64_t layers = 0;     // ?layers=N, 0 = all
    // dtype=bf16|f32|fp8: the synthetic weights' type; unset = the preset's own (FP8 when its
    // config has an fp8 quantization_config, as DeepSeek-V3 ships, else BF16).
    std::optional<WeightType> dtype;
    std::filesystem::path folder; // when !isPreset
};

// A weight type's name in a spec's dtype= ("bf16", "f32", "fp8"), and back (weightTypeName's
// "fp8-e4m3" read too); nullopt for another name.
std::string_view dtypeSpecKey(WeightType type);
std::optional<WeightType> weightTypeFromSpecKey(std::string_view key);
// The type a preset's synthetic weights have unless dtype= says otherwise: FP8 when its config
// is fp8-quantised (DeepSeek-V3 ships FP8), else BF16.
WeightType presetWeightType(const ModelConfig& config);

// "preset:NAME", "preset:NAME?OPTION[&OPTION]" (layers=N, dtype=bf16|f32|fp8, each at most once),
// or a folder path. Throws EngineError when malformed.
ModelSpec parseModelSpec(std::string_view text);

namespace detail {
const std::vector<std::pair<std::string_view, std::string_view>>& presetTable();
}

} // namespace crossroads::inference
