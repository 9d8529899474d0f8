#include "inference/model/ModelConfig.h"

#include "inference/model/StrictJson.h"
#include "inference/model/Tensor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace crossroads::inference {

using nlohmann::json;

std::string_view familyName(ModelFamily family) {
    switch (family) {
    case ModelFamily::Mixtral:
        return "mixtral";
    case ModelFamily::Qwen2Moe:
        return "qwen2_moe";
    case ModelFamily::Qwen3Moe:
        return "qwen3_moe";
    case ModelFamily::Olmoe:
        return "olmoe";
    case ModelFamily::DeepseekV2:
        return "deepseek_v2";
    case ModelFamily::DeepseekV3:
        return "deepseek_v3";
    }
    return "?";
}

bool ModelConfig::isMoeLayer(int64_t layer) const {
    if (layer < firstKDenseReplace)
        return false;
    if (deepseek())
        return numExperts > 0 && moeLayerFreq > 0 && layer % moeLayerFreq == 0;
    if (std::find(mlpOnlyLayers.begin(), mlpOnlyLayers.end(), layer) != mlpOnlyLayers.end())
        return false;
    return numExperts > 0 && decoderSparseStep > 0 && (layer + 1) % decoderSparseStep == 0;
}

namespace {

struct Family {
    std::string_view modelType;
    std::string_view architecture;
    ModelFamily family;
};
constexpr std::array<Family, 6> kFamilies = {{
    {"mixtral", "MixtralForCausalLM", ModelFamily::Mixtral},
    {"qwen2_moe", "Qwen2MoeForCausalLM", ModelFamily::Qwen2Moe},
    {"qwen3_moe", "Qwen3MoeForCausalLM", ModelFamily::Qwen3Moe},
    {"olmoe", "OlmoeForCausalLM", ModelFamily::Olmoe},
    {"deepseek_v2", "DeepseekV2ForCausalLM", ModelFamily::DeepseekV2},
    {"deepseek_v3", "DeepseekV3ForCausalLM", ModelFamily::DeepseekV3},
}};

// Fields are looked up in text_config first (multimodal wrappers nest the language model there),
// then at the top level.
class Fields {
public:
    explicit Fields(const json& root) : root_(root) {
        if (!root.is_object())
            throw EngineError("config.json: the top level is not a JSON object");
        const auto text = root.find("text_config");
        if (text != root.end() && text->is_object())
            text_ = &*text;
    }

    // nullptr when absent or null.
    const json* find(std::string_view name) const {
        for (const json* scope : {text_, &root_}) {
            if (scope == nullptr)
                continue;
            const auto it = scope->find(name);
            if (it != scope->end() && !it->is_null())
                return &*it;
        }
        return nullptr;
    }

    const json* findAny(std::initializer_list<std::string_view> names) const {
        for (const auto name : names)
            if (const json* value = find(name))
                return value;
        return nullptr;
    }

    static std::string alternatives(std::initializer_list<std::string_view> names) {
        std::string text;
        for (const auto name : names) {
            if (!text.empty())
                text += "' or '";
            text += name;
        }
        return "'" + text + "'";
    }

    int64_t positiveInt(std::initializer_list<std::string_view> names) const {
        const json* value = findAny(names);
        if (value == nullptr)
            throw EngineError("config.json: missing field " + alternatives(names));
        return checkedPositive(*value, names);
    }

    int64_t positiveIntOr(std::initializer_list<std::string_view> names, int64_t fallback) const {
        const json* value = findAny(names);
        return value == nullptr ? fallback : checkedPositive(*value, names);
    }

    // 0 is allowed (DeepSeek's first_k_dense_replace, n_shared_experts).
    int64_t nonNegativeIntOr(std::string_view name, int64_t fallback) const {
        const json* value = find(name);
        if (value == nullptr)
            return fallback;
        if (!value->is_number_integer() || value->get<int64_t>() < 0 ||
            value->get<int64_t>() > (int64_t{1} << 40))
            throw EngineError("config.json: field '" + std::string(name) +
                              "' must be a non-negative integer, got " + value->dump());
        return value->get<int64_t>();
    }

    std::string stringOr(std::string_view name, std::string fallback) const {
        const json* value = find(name);
        if (value == nullptr)
            return fallback;
        if (!value->is_string())
            throw EngineError("config.json: field '" + std::string(name) + "' is not a string");
        return value->get<std::string>();
    }

    double numberOr(std::string_view name, double fallback) const {
        const json* value = find(name);
        if (value == nullptr)
            return fallback;
        if (!value->is_number())
            throw EngineError("config.json: field '" + std::string(name) + "' is not a number");
        return value->get<double>();
    }

    bool boolOr(std::string_view name, bool fallback) const {
        const json* value = find(name);
        if (value == nullptr)
            return fallback;
        if (!value->is_boolean())
            throw EngineError("config.json: field '" + std::string(name) + "' is not a boolean");
        return value->get<bool>();
    }

private:
    static int64_t checkedPositive(const json& value,
                                   std::initializer_list<std::string_view> names) {
        if (!value.is_number_integer() || value.get<int64_t>() <= 0 ||
            value.get<int64_t>() > (int64_t{1} << 40))
            throw EngineError("config.json: field " + alternatives(names) +
                              " must be a positive integer, got " + value.dump());
        return value.get<int64_t>();
    }

    const json& root_;
    const json* text_ = nullptr;
};

ModelFamily detectFamily(const Fields& fields, std::string& modelType) {
    if (const json* type = fields.find("model_type"); type != nullptr && type->is_string()) {
        modelType = type->get<std::string>();
        for (const auto& family : kFamilies)
            if (family.modelType == modelType)
                return family.family;
    } else if (const json* archs = fields.find("architectures");
               archs != nullptr && archs->is_array() && !archs->empty() &&
               archs->front().is_string()) {
        modelType = archs->front().get<std::string>();
        for (const auto& family : kFamilies)
            if (family.architecture == modelType)
                return family.family;
    } else {
        throw EngineError("config.json: missing field 'model_type' (and no 'architectures')");
    }
    throw EngineError("config.json: unsupported architecture '" + modelType +
                      "' (supported: mixtral, qwen2_moe, qwen3_moe, olmoe, deepseek_v2, "
                      "deepseek_v3)");
}

// MLA (DeepSeek-V2/V3): the query through an optional low-rank q_lora_rank bottleneck, keys and
// values through the kv_lora_rank latent; heads split into a no-RoPE and a RoPE part.
void parseLatentAttention(const Fields& fields, ModelConfig& config) {
    config.attention = AttentionKind::Latent;
    LatentAttention& mla = config.mla;
    mla.qLoraRank = fields.positiveIntOr({"q_lora_rank"}, 0); // null in V2-Lite: no bottleneck
    mla.kvLoraRank = fields.positiveInt({"kv_lora_rank"});
    mla.qkNopeHeadDim = fields.positiveInt({"qk_nope_head_dim"});
    mla.qkRopeHeadDim = fields.positiveInt({"qk_rope_head_dim"});
    mla.vHeadDim = fields.positiveInt({"v_head_dim"});
    if (mla.qkRopeHeadDim % 2 != 0)
        throw EngineError("config.json: qk_rope_head_dim must be even for RoPE");
    config.headDim = mla.qHeadDim();
}

void parseDeepseekExperts(const Fields& fields, ModelConfig& config) {
    config.expertIntermediateSize = fields.positiveInt({"moe_intermediate_size"});
    config.numSharedExperts = fields.nonNegativeIntOr("n_shared_experts", 0);
    config.sharedExpertIntermediateSize = config.numSharedExperts * config.expertIntermediateSize;
    config.firstKDenseReplace = fields.nonNegativeIntOr("first_k_dense_replace", 0);
    config.moeLayerFreq = fields.positiveIntOr({"moe_layer_freq"}, 1);
    if (config.firstKDenseReplace > 0 || config.moeLayerFreq > 1)
        config.denseIntermediateSize = fields.positiveInt({"intermediate_size"});
    else
        config.denseIntermediateSize = fields.positiveIntOr({"intermediate_size"}, 0);
    config.numExpertGroups = fields.positiveIntOr({"n_group"}, 1);
    config.topkGroups = fields.positiveIntOr({"topk_group"}, 1);
    if (config.numExperts % config.numExpertGroups != 0)
        throw EngineError("config.json: n_routed_experts (" + std::to_string(config.numExperts) +
                          ") is not a multiple of n_group (" +
                          std::to_string(config.numExpertGroups) + ")");
    if (config.topkGroups > config.numExpertGroups)
        throw EngineError("config.json: topk_group exceeds n_group");
    config.routedScalingFactor = fields.numberOr("routed_scaling_factor", 1.0);
    if (!(config.routedScalingFactor > 0.0))
        throw EngineError("config.json: routed_scaling_factor must be positive");
    config.scoringFunc = fields.stringOr("scoring_func", "softmax");
    if (config.scoringFunc != "softmax" && config.scoringFunc != "sigmoid")
        throw EngineError("config.json: unsupported scoring_func '" + config.scoringFunc +
                          "' (softmax or sigmoid)");
    config.topkMethod = fields.stringOr("topk_method", "greedy");
}

// quantization_config: DeepSeek-V3 ships FP8 e4m3 weights with one F32 scale per 128x128 block.
WeightQuantization parseQuantization(const Fields& fields) {
    WeightQuantization quant;
    const json* q = fields.find("quantization_config");
    if (q == nullptr)
        return quant;
    if (!q->is_object())
        throw EngineError("config.json: field 'quantization_config' is not an object");
    const auto method = q->find("quant_method");
    if (method == q->end() || !method->is_string())
        throw EngineError("config.json: quantization_config.quant_method is missing or not a "
                          "string");
    quant.method = method->get<std::string>();
    if (const auto fmt = q->find("fmt"); fmt != q->end()) {
        if (!fmt->is_string())
            throw EngineError("config.json: quantization_config.fmt is not a string");
        quant.format = fmt->get<std::string>();
    }
    if (const auto block = q->find("weight_block_size"); block != q->end() && !block->is_null()) {
        if (!block->is_array() || block->size() != 2 || !(*block)[0].is_number_integer() ||
            !(*block)[1].is_number_integer() || (*block)[0].get<int64_t>() <= 0 ||
            (*block)[1].get<int64_t>() <= 0)
            throw EngineError("config.json: quantization_config.weight_block_size must be two "
                              "positive integers, got " +
                              block->dump());
        quant.blockRows = (*block)[0].get<int64_t>();
        quant.blockCols = (*block)[1].get<int64_t>();
    }
    return quant;
}

// rope_scaling of type yarn: factor is required, the rest default as DeepSeek's code does.
YarnScaling parseYarn(const json& rope, const std::string& field) {
    YarnScaling yarn;
    const auto number = [&](const char* key, double& out, bool required) {
        const auto it = rope.find(key);
        if (it == rope.end() || it->is_null()) {
            if (required)
                throw EngineError("config.json: " + field + "." + key + " is missing (yarn)");
            return;
        }
        if (!it->is_number())
            throw EngineError("config.json: " + field + "." + key + " is not a number");
        out = it->get<double>();
    };
    number("factor", yarn.factor, true);
    number("beta_fast", yarn.betaFast, false);
    number("beta_slow", yarn.betaSlow, false);
    number("mscale", yarn.mscale, false);
    number("mscale_all_dim", yarn.mscaleAllDim, false);
    double original = static_cast<double>(yarn.originalMaxPositionEmbeddings);
    number("original_max_position_embeddings", original, false);
    if (!(yarn.factor > 0.0))
        throw EngineError("config.json: " + field + ".factor must be positive");
    if (!(yarn.betaFast > 0.0) || !(yarn.betaSlow > 0.0))
        throw EngineError("config.json: " + field + ".beta_fast and beta_slow must be positive");
    if (!(original >= 1.0) || original != std::floor(original))
        throw EngineError("config.json: " + field +
                          ".original_max_position_embeddings must be a positive integer");
    yarn.originalMaxPositionEmbeddings = static_cast<int64_t>(original);
    return yarn;
}

} // namespace

ModelConfig parseModelConfig(const json& root) {
    const Fields fields(root);
    ModelConfig config;
    config.family = detectFamily(fields, config.modelType);
    const bool qwen =
        config.family == ModelFamily::Qwen2Moe || config.family == ModelFamily::Qwen3Moe;

    config.hiddenSize = fields.positiveInt({"hidden_size"});
    config.numLayers = fields.positiveInt({"num_hidden_layers"});
    config.numHeads = fields.positiveInt({"num_attention_heads"});
    config.numKvHeads = fields.positiveIntOr({"num_key_value_heads"}, config.numHeads);
    config.vocabSize = fields.positiveInt({"vocab_size"});
    config.maxPositionEmbeddings = fields.positiveIntOr({"max_position_embeddings"}, 0);
    if (config.numHeads % config.numKvHeads != 0)
        throw EngineError("config.json: num_attention_heads (" + std::to_string(config.numHeads) +
                          ") is not a multiple of num_key_value_heads (" +
                          std::to_string(config.numKvHeads) + ")");
    if (config.deepseek()) {
        parseLatentAttention(fields, config);
    } else if (fields.find("head_dim") != nullptr) {
        config.headDim = fields.positiveInt({"head_dim"});
    } else {
        if (config.hiddenSize % config.numHeads != 0)
            throw EngineError("config.json: no 'head_dim' and hidden_size is not a multiple of "
                              "num_attention_heads");
        config.headDim = config.hiddenSize / config.numHeads;
    }
    if (config.headDim % 2 != 0)
        throw EngineError("config.json: head_dim must be even for RoPE");

    const bool epsSmall = qwen;
    config.rmsNormEps = fields.numberOr("rms_norm_eps", epsSmall ? 1e-6 : 1e-5);

    // transformers v5 moved rope_theta and rope_scaling into rope_parameters.
    const double defaultTheta = config.family == ModelFamily::Mixtral ? 1e6 : 10000.0;
    config.ropeTheta = fields.numberOr("rope_theta", defaultTheta);
    for (const char* scalingField : {"rope_parameters", "rope_scaling"}) {
        const json* rope = fields.find(scalingField);
        if (rope == nullptr)
            continue;
        if (!rope->is_object())
            throw EngineError(std::string("config.json: field '") + scalingField +
                              "' is not an object");
        if (const auto theta = rope->find("rope_theta"); theta != rope->end()) {
            if (!theta->is_number())
                throw EngineError("config.json: rope_parameters.rope_theta is not a number");
            config.ropeTheta = theta->get<double>();
        }
        for (const char* typeKey : {"rope_type", "type"}) {
            const auto type = rope->find(typeKey);
            if (type == rope->end() || !type->is_string() || *type == "default")
                continue;
            config.ropeScaling = type->get<std::string>();
            // DeepSeek ships YaRN (the reference forward applies it); the other families' forward
            // would silently ignore it.
            if (!config.deepseek())
                throw EngineError("config.json: unsupported RoPE scaling '" +
                                  type->get<std::string>() + "' in " + scalingField);
        }
        if (config.ropeScaling == "yarn")
            config.yarn = parseYarn(*rope, scalingField);
    }
    if (!(config.ropeTheta > 0.0))
        throw EngineError("config.json: rope_theta must be positive");

    config.numExperts =
        fields.positiveInt({"num_local_experts", "num_experts", "n_routed_experts"});
    config.numExpertsPerToken = fields.positiveInt({"num_experts_per_tok"});
    if (config.numExpertsPerToken > config.numExperts)
        throw EngineError("config.json: num_experts_per_tok exceeds the number of experts");
    if (config.deepseek()) {
        parseDeepseekExperts(fields, config);
    } else if (qwen) {
        config.expertIntermediateSize = fields.positiveInt({"moe_intermediate_size"});
        config.denseIntermediateSize = fields.positiveIntOr({"intermediate_size"}, 0);
        config.decoderSparseStep = fields.positiveIntOr({"decoder_sparse_step"}, 1);
        if (const json* dense = fields.find("mlp_only_layers")) {
            if (!dense->is_array())
                throw EngineError("config.json: field 'mlp_only_layers' is not an array");
            for (const auto& layer : *dense) {
                if (!layer.is_number_integer())
                    throw EngineError("config.json: 'mlp_only_layers' holds a non-integer");
                config.mlpOnlyLayers.push_back(layer.get<int64_t>());
            }
        }
        for (int64_t layer = 0; layer < config.numLayers; ++layer)
            if (!config.isMoeLayer(layer) && config.denseIntermediateSize == 0)
                throw EngineError("config.json: layer " + std::to_string(layer) +
                                  " is dense but 'intermediate_size' is missing");
    } else {
        config.expertIntermediateSize = fields.positiveInt({"intermediate_size"});
    }
    if (config.family == ModelFamily::Qwen2Moe) {
        config.sharedExpertIntermediateSize =
            fields.positiveInt({"shared_expert_intermediate_size"});
        config.numSharedExperts = 1;
    }

    // Mixtral always renormalises the top-k weights; the others say so in norm_topk_prob.
    config.normTopkProb =
        config.family == ModelFamily::Mixtral ? true : fields.boolOr("norm_topk_prob", false);

    switch (config.family) {
    case ModelFamily::Mixtral:
        break;
    case ModelFamily::Qwen2Moe:
        config.attentionBias = fields.boolOr("qkv_bias", true);
        break;
    case ModelFamily::Qwen3Moe:
        config.attentionBias = fields.boolOr("attention_bias", false);
        config.qkNorm = QkNorm::PerHead;
        break;
    case ModelFamily::DeepseekV2:
    case ModelFamily::DeepseekV3:
        config.attentionBias = fields.boolOr("attention_bias", false);
        break;
    case ModelFamily::Olmoe:
        config.attentionBias = fields.boolOr("attention_bias", false);
        config.qkNorm = QkNorm::WholeProj;
        config.clipQkv = fields.numberOr("clip_qkv", 0.0);
        if (config.clipQkv < 0.0)
            throw EngineError("config.json: clip_qkv must be positive");
        break;
    }
    config.tieWordEmbeddings = fields.boolOr("tie_word_embeddings", false);
    config.quantization = parseQuantization(fields);
    if (const json* dtype = fields.findAny({"torch_dtype", "dtype"}); dtype && dtype->is_string())
        config.torchDtype = dtype->get<std::string>();
    if (const json* act = fields.find("hidden_act"); act && act->is_string() && *act != "silu")
        throw EngineError("config.json: unsupported hidden_act '" + act->get<std::string>() +
                          "' (only silu)");
    return config;
}

ModelConfig parseModelConfigText(std::string_view text, std::string_view what) {
    return parseModelConfig(parseStrictJson(text, what));
}

ModelConfig loadModelConfig(const std::filesystem::path& configJson) {
    std::ifstream in(configJson, std::ios::binary);
    if (!in)
        throw EngineError("cannot open " + configJson.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parseModelConfigText(text.str(), configJson.string());
}

void truncateLayers(ModelConfig& config, int64_t layers) {
    if (layers <= 0)
        throw EngineError("layers must be positive, got " + std::to_string(layers));
    if (layers >= config.numLayers)
        return;
    config.truncatedFromLayers = config.numLayers;
    config.numLayers = layers;
    config.firstKDenseReplace = std::min<int64_t>(config.firstKDenseReplace, 1);
}

// The CUDA backend has no MLA yet (a later slice); the CPU backend and the reference forward
// (ReferenceForward.cpp) run DeepSeek. makeBackend refuses here.
void requireForwardSupport(const ModelConfig& config, ForwardBackend backend) {
    if (backend == ForwardBackend::Cuda &&
        (config.attention == AttentionKind::Latent || config.deepseek()))
        throw EngineError("the CUDA backend does not run DeepSeek (MLA) yet (model_type '" +
                          std::string(familyName(config.family)) +
                          "'); `--backend cpu` runs it, `crossroads project` projects it");
}

json ModelConfig::toJson() const {
    json out;
    out["model_type"] = modelType.empty() ? std::string(familyName(family)) : modelType;
    for (const auto& f : kFamilies)
        if (f.family == family)
            out["architectures"] = json::array({std::string(f.architecture)});
    out["hidden_size"] = hiddenSize;
    out["num_hidden_layers"] = numLayers;
    out["num_attention_heads"] = numHeads;
    out["num_key_value_heads"] = numKvHeads;
    out["head_dim"] = headDim;
    out["vocab_size"] = vocabSize;
    out["rms_norm_eps"] = rmsNormEps;
    out["rope_theta"] = ropeTheta;
    out["num_experts_per_tok"] = numExpertsPerToken;
    out["tie_word_embeddings"] = tieWordEmbeddings;
    out["hidden_act"] = "silu";
    if (maxPositionEmbeddings > 0)
        out["max_position_embeddings"] = maxPositionEmbeddings;
    if (ropeScaling == "yarn")
        out["rope_scaling"] = {
            {"type", ropeScaling},
            {"factor", yarn.factor},
            {"beta_fast", yarn.betaFast},
            {"beta_slow", yarn.betaSlow},
            {"mscale", yarn.mscale},
            {"mscale_all_dim", yarn.mscaleAllDim},
            {"original_max_position_embeddings", yarn.originalMaxPositionEmbeddings}};
    else if (!ropeScaling.empty())
        out["rope_scaling"] = {{"type", ropeScaling}};
    if (!torchDtype.empty())
        out["torch_dtype"] = torchDtype;
    if (!quantization.method.empty()) {
        json quant = {{"quant_method", quantization.method}};
        if (!quantization.format.empty())
            quant["fmt"] = quantization.format;
        if (quantization.blockRows > 0)
            quant["weight_block_size"] = {quantization.blockRows, quantization.blockCols};
        out["quantization_config"] = quant;
    }
    switch (family) {
    case ModelFamily::Mixtral:
        out["num_local_experts"] = numExperts;
        out["intermediate_size"] = expertIntermediateSize;
        break;
    case ModelFamily::Qwen2Moe:
    case ModelFamily::Qwen3Moe:
        out["num_experts"] = numExperts;
        out["moe_intermediate_size"] = expertIntermediateSize;
        if (denseIntermediateSize > 0)
            out["intermediate_size"] = denseIntermediateSize;
        out["decoder_sparse_step"] = decoderSparseStep;
        out["mlp_only_layers"] = mlpOnlyLayers;
        out["norm_topk_prob"] = normTopkProb;
        if (family == ModelFamily::Qwen2Moe)
            out["shared_expert_intermediate_size"] = sharedExpertIntermediateSize;
        else
            out["attention_bias"] = attentionBias;
        break;
    case ModelFamily::DeepseekV2:
    case ModelFamily::DeepseekV3:
        out["n_routed_experts"] = numExperts;
        out["moe_intermediate_size"] = expertIntermediateSize;
        if (denseIntermediateSize > 0)
            out["intermediate_size"] = denseIntermediateSize;
        out["n_shared_experts"] = numSharedExperts;
        out["first_k_dense_replace"] = firstKDenseReplace;
        out["moe_layer_freq"] = moeLayerFreq;
        out["n_group"] = numExpertGroups;
        out["topk_group"] = topkGroups;
        out["routed_scaling_factor"] = routedScalingFactor;
        out["scoring_func"] = scoringFunc;
        out["topk_method"] = topkMethod;
        out["norm_topk_prob"] = normTopkProb;
        out["attention_bias"] = attentionBias;
        out["q_lora_rank"] = mla.qLoraRank > 0 ? json(mla.qLoraRank) : json(nullptr);
        out["kv_lora_rank"] = mla.kvLoraRank;
        out["qk_nope_head_dim"] = mla.qkNopeHeadDim;
        out["qk_rope_head_dim"] = mla.qkRopeHeadDim;
        out["v_head_dim"] = mla.vHeadDim;
        out.erase("head_dim"); // derived from the MLA head dims
        break;
    case ModelFamily::Olmoe:
        out["num_experts"] = numExperts;
        out["intermediate_size"] = expertIntermediateSize;
        out["norm_topk_prob"] = normTopkProb;
        out["attention_bias"] = attentionBias;
        out["clip_qkv"] = clipQkv > 0.0 ? json(clipQkv) : json(nullptr);
        break;
    }
    return out;
}

} // namespace crossroads::inference
