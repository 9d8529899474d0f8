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

enum class ModelFamily { Mixtral, Qwen2Moe, Qwen3Moe, Olmoe };

std::string_view familyName(ModelFamily family); // the HF model_type: "mixtral", ...

// How q and k are normalised before RoPE.
enum class QkNorm {
    None,
    PerHead,   // Qwen3: RMSNorm over head_dim, one weight vector of head_dim shared by heads
    WholeProj, // OLMoE: RMSNorm over the whole q (heads x head_dim) or k projection
};

struct ModelConfig {
    ModelFamily family = ModelFamily::Mixtral;
    std::string modelType;  // as found in config.json
    std::string torchDtype; // "bfloat16", ... ("" when absent)
    int64_t hiddenSize = 0;
    int64_t numLayers = 0;
    int64_t numHeads = 0;
    int64_t numKvHeads = 0;
    int64_t headDim = 0;
    int64_t vocabSize = 0;
    int64_t maxPositionEmbeddings = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;

    int64_t numExperts = 0;
    int64_t numExpertsPerToken = 0;
    int64_t expertIntermediateSize = 0;       // per routed expert
    int64_t denseIntermediateSize = 0;        // dense MLP layers (Qwen mlp_only_layers), 0 if none
    int64_t sharedExpertIntermediateSize = 0; // Qwen2-MoE shared expert, 0 when absent
    bool normTopkProb = false;
    int64_t decoderSparseStep = 1;
    std::vector<int64_t> mlpOnlyLayers;

    bool attentionBias = false; // q/k/v biases (Qwen2-MoE always)
    QkNorm qkNorm = QkNorm::None;
    double clipQkv = 0.0; // OLMoE; 0 = no clipping
    bool tieWordEmbeddings = false;

    // Set when `?layers=N` kept fewer layers than the model has: the original depth.
    int64_t truncatedFromLayers = 0;
    bool truncated() const { return truncatedFromLayers != 0; }

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
void truncateLayers(ModelConfig& config, int64_t layers);

} // namespace crossroads::inference
