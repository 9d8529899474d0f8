// The shape of a Mixture-of-Experts model, read from a Hugging Face config.json. Field names vary
// between families and transformers versions (see docs moe-inference.md); every variant lands
// here under one name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::inference {

enum class ModelFamily { Mixtral, Qwen2Moe, Qwen3Moe, Olmoe, DeepseekV2, DeepseekV3 };

std::string_view familyName(ModelFamily family); // the HF model_type: "mixtral", ...

// How q and k are normalised before RoPE.
enum class QkNorm {
    None,
    PerHead,   // Qwen3: RMSNorm over head_dim, one weight vector of head_dim shared by heads
    WholeProj, // OLMoE: RMSNorm over the whole q (heads x head_dim) or k projection
};

// How attention projects and caches keys and values.
enum class AttentionKind {
    Grouped, // MHA/GQA: numKvHeads x headDim keys and values cached per layer
    Latent,  // DeepSeek MLA: one compressed latent (kvLoraRank) plus a shared RoPE key cached
};

// DeepSeek multi-head latent attention (all 0 for the other families).
struct LatentAttention {
    int64_t qLoraRank = 0; // 0 when q is projected directly (V2-Lite: q_lora_rank null)
    int64_t kvLoraRank = 0;
    int64_t qkNopeHeadDim = 0;
    int64_t qkRopeHeadDim = 0;
    int64_t vHeadDim = 0;
    int64_t qHeadDim() const { return qkNopeHeadDim + qkRopeHeadDim; }
    // Elements cached per token per layer: the latent and the shared RoPE key.
    int64_t cachedWidth() const { return kvLoraRank + qkRopeHeadDim; }
};

// YaRN RoPE scaling (rope_scaling type "yarn", DeepSeek): the defaults are those of DeepSeek's
// DeepseekV3YarnRotaryEmbedding when a field is absent.
struct YarnScaling {
    double factor = 1.0;
    double betaFast = 32.0;
    double betaSlow = 1.0;
    double mscale = 1.0;
    double mscaleAllDim = 0.0;
    int64_t originalMaxPositionEmbeddings = 4096;
};

// The checkpoint's own weight quantisation (quantization_config), when it has one.
struct WeightQuantization {
    std::string method;    // "fp8", "" when the checkpoint is unquantised
    std::string format;    // "e4m3"
    int64_t blockRows = 0; // weight_block_size: one F32 scale per blockRows x blockCols
    int64_t blockCols = 0;
    bool fp8() const { return method == "fp8"; }
};

struct ModelConfig {
    ModelFamily family = ModelFamily::Mixtral;
    std::string modelType;  // as found in config.json
    std::string torchDtype; // "bfloat16", ... ("" when absent)
    int64_t hiddenSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0; // MLA: the query/key head (qk_nope_head_dim + qk_rope_head_dim)
    int64_t vocabSize = 0;
    int64_t maxPositionEmbeddings = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    std::string ropeScaling; // rope_scaling type when not default ("yarn": DeepSeek only)
    YarnScaling yarn;        // when ropeScaling == "yarn"

    int64_t numExperts = 0;
    int64_t numExpertsPerToken = 0;
    int64_t expertIntermediateSize = 0;       // per routed expert
    int64_t denseIntermediateSize = 0;        // dense MLP layers (Qwen mlp_only_layers, DeepSeek's
                                              // first_k_dense_replace), 0 if none
    int64_t sharedExpertIntermediateSize = 0; // Qwen2-MoE shared expert, 0 when absent
    bool normTopkProb = false;
    int64_t decoderSparseStep = 1;
    std::vector<int64_t> mlpOnlyLayers;

    // DeepSeek: n_shared_experts always-on experts of expertIntermediateSize, summed into one
    // ungated MLP of sharedExpertIntermediateSize; the first firstKDenseReplace layers are dense.
    int64_t numSharedExperts = 0;
    int64_t firstKDenseReplace = 0;
    int64_t moeLayerFreq = 1;
    // DeepSeek routing: group-limited top-k (n_group groups, topk_group of them searched).
    int64_t numExpertGroups = 1;
    int64_t topkGroups = 1;
    double routedScalingFactor = 1.0;
    std::string scoringFunc = "softmax"; // "softmax" or "sigmoid" (V3)
    std::string topkMethod;              // "greedy", "group_limited_greedy", "noaux_tc"

    AttentionKind attention = AttentionKind::Grouped;
    LatentAttention mla;
    WeightQuantization quantization;

    bool attentionBias = false; // q/k/v biases (Qwen2-MoE always)
    QkNorm qkNorm = QkNorm::None;
    double clipQkv = 0.0; // OLMoE; 0 = no clipping
    bool tieWordEmbeddings = false;

    // Set when `?layers=N` kept fewer layers than the model has: the original depth.
    int64_t truncatedFromLayers = 0;
    bool truncated() const { return truncatedFromLayers != 0; }

    bool deepseek() const {
        return family == ModelFamily::DeepseekV2 || family == ModelFamily::DeepseekV3;
    }
    // DeepSeek-V3's router (noaux_tc) carries e_score_correction_bias [E], used for selection.
    bool hasRouterBias() const { return deepseek() && topkMethod == "noaux_tc"; }
    int64_t qDim() const { return numHeads * headDim; }
    int64_t kvDim() const { return numKvHeads * headDim; }
    // Layer l uses routed experts (the rest use a dense MLP of denseIntermediateSize).
    bool isMoeLayer(int64_t layer) const;

    // The inverse of parsing: real HF field names, for writing test checkpoints.
    nlohmann::json toJson() const;
};

// Throws EngineError naming the missing/invalid field or the unsupported architecture.
ModelConfig parseModelConfig(const nlohmann::json& config);
ModelConfig parseModelConfigText(std::string_view text, std::string_view what = "config.json");
ModelConfig loadModelConfig(const std::filesystem::path& configJson);

// Keep the first `layers` layers (DESIGN.md `?layers=N`); the config then reports truncated().
// A truncated DeepSeek caps first_k_dense_replace at 1 so that it keeps MoE layers.
void truncateLayers(ModelConfig& config, int64_t layers);

// The engine's optimised forward passes (engine/Engine.h's BackendKind resolves Auto to one).
enum class ForwardBackend { Cpu, Cuda };

// Throws EngineError when that backend's optimised forward pass cannot run this architecture:
// the CUDA backend has no MLA yet (DeepSeek); the CPU backend runs every family, as parsing, the
// cost model, the weights and the reference forward do. makeBackend (engine/Engine.cpp) calls it
// for the backend it builds; loadModel (Weights.h) for the CPU, the backend that runs the most.
void requireForwardSupport(const ModelConfig& config, ForwardBackend backend);

// Throws EngineError when synthesising this model's weights (totalParameters x
// bytesPerParameter) would not fit in the memory available (a full-size synthetic DeepSeek-V3
// is 1.3 TB at BF16). loadModel calls it before it synthesises a preset. Defined in Cost.cpp.
void requireSynthesisFits(const ModelConfig& config, double bytesPerParameter);

} // namespace crossroads::inference
