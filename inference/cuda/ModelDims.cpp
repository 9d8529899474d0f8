#include "inference/cuda/ModelDims.h"

#include "inference/base/Error.h"

#include <climits>
#include <string>

namespace crossroads::inference::gpu {

int toInt(int64_t value, const char* what) {
    if (value < 0 || value > INT_MAX)
        throw EngineError(std::string("the CUDA backend cannot handle ") + what + " = " +
                          std::to_string(value) + " (limit " + std::to_string(INT_MAX) + ")");
    return static_cast<int>(value);
}

ModelDims modelDims(const ModelConfig& config) {
    const auto multipleOf8 = [](int64_t value, const char* what) {
        if (value % 8 != 0)
            throw EngineError(std::string("the CUDA backend needs ") + what +
                              " to be a multiple of 8 (16-byte BF16 rows), got " +
                              std::to_string(value));
    };
    ModelDims d;
    d.hidden = toInt(config.hiddenSize, "hidden_size");
    d.vocab = toInt(config.vocabSize, "vocab_size");
    d.layers = toInt(config.numLayers, "num_hidden_layers");
    d.experts = toInt(config.numExperts, "num_experts");
    d.topK = toInt(config.numExpertsPerToken, "num_experts_per_tok");
    d.inter = toInt(config.expertIntermediateSize, "moe_intermediate_size");
    d.sharedInter = toInt(config.sharedExpertIntermediateSize, "shared_expert_intermediate_size");
    d.denseInter = toInt(config.denseIntermediateSize, "intermediate_size");
    d.shape = {toInt(config.numHeads, "num_attention_heads"),
               toInt(config.numKvHeads, "num_key_value_heads"), toInt(config.headDim, "head_dim")};
    multipleOf8(d.hidden, "hidden_size");
    multipleOf8(d.shape.qDim(), "the q width");
    multipleOf8(d.inter, "the expert intermediate size");
    multipleOf8(d.sharedInter, "the shared expert intermediate size");
    multipleOf8(d.denseInter, "the dense intermediate size");
    if (d.shape.headDim > kMaxHeadDim || d.shape.headDim % 2 != 0)
        throw EngineError("the CUDA backend supports even head_dim up to " +
                          std::to_string(kMaxHeadDim) + ", got " + std::to_string(d.shape.headDim));
    if (d.shape.kvHeads <= 0 || d.shape.heads % d.shape.kvHeads != 0)
        throw EngineError("num_attention_heads must be a multiple of num_key_value_heads");
    if (d.experts > kMaxExperts || d.topK > 16 || d.topK > d.experts || d.topK <= 0)
        throw EngineError("the CUDA backend supports up to " + std::to_string(kMaxExperts) +
                          " experts and top-k up to 16, got " + std::to_string(d.experts) +
                          " and " + std::to_string(d.topK));
    if (d.layers <= 0 || d.vocab <= 0 || d.hidden <= 0)
        throw EngineError("the CUDA backend needs at least one layer, a vocabulary and a width");
    d.hasShared = d.sharedInter > 0;
    d.qkvRows = d.shape.qDim() + 2 * d.shape.kvDim();
    d.routerRows = d.experts + (d.hasShared ? 1 : 0);
    d.eps = static_cast<float>(config.rmsNormEps);
    return d;
}

} // namespace crossroads::inference::gpu
