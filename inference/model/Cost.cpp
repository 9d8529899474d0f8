#include "inference/model/Cost.h"

#include "inference/base/Error.h"
#include "inference/base/Host.h"

#include <cmath>
#include <string>

namespace crossroads::inference {

namespace {

double attentionParameters(const ModelConfig& c) {
    if (c.attention == AttentionKind::Latent) {
        const LatentAttention& m = c.mla;
        const double hidden = static_cast<double>(c.hiddenSize);
        const double heads = static_cast<double>(c.numHeads);
        const double qOut = heads * static_cast<double>(m.qHeadDim());
        const double q = m.qLoraRank > 0 ? hidden * static_cast<double>(m.qLoraRank) +
                                               static_cast<double>(m.qLoraRank) * qOut
                                         : hidden * qOut;
        const double kvDown = hidden * static_cast<double>(m.cachedWidth()); // kv_a_proj_with_mqa
        const double kvUp = static_cast<double>(m.kvLoraRank) * heads *
                            static_cast<double>(m.qkNopeHeadDim + m.vHeadDim); // kv_b_proj
        const double out = heads * static_cast<double>(m.vHeadDim) * hidden;   // o_proj
        return q + kvDown + kvUp + out;
    }
    return static_cast<double>(2 * c.qDim() * c.hiddenSize + 2 * c.kvDim() * c.hiddenSize);
}

// Norm weights inside attention (MLA's q_a_layernorm and kv_a_layernorm).
double attentionNormParameters(const ModelConfig& c) {
    if (c.attention == AttentionKind::Latent)
        return static_cast<double>(c.mla.qLoraRank + c.mla.kvLoraRank);
    return 0.0;
}

double expertParameters(const ModelConfig& c) {
    return 3.0 * static_cast<double>(c.hiddenSize * c.expertIntermediateSize);
}

double sharedParameters(const ModelConfig& c) {
    if (c.sharedExpertIntermediateSize == 0)
        return 0.0;
    return 3.0 * static_cast<double>(c.hiddenSize * c.sharedExpertIntermediateSize);
}

// Qwen2-MoE gates its shared expert with a [1 x H] sigmoid; DeepSeek's shared experts are ungated.
double sharedGateParameters(const ModelConfig& c) {
    if (c.sharedExpertIntermediateSize == 0 || c.deepseek())
        return 0.0;
    return static_cast<double>(c.hiddenSize);
}

double routerParameters(const ModelConfig& c) {
    return static_cast<double>(c.numExperts * c.hiddenSize) +
           (c.hasRouterBias() ? static_cast<double>(c.numExperts) : 0.0);
}

double denseParameters(const ModelConfig& c) {
    return 3.0 * static_cast<double>(c.hiddenSize * c.denseIntermediateSize);
}

double lmHeadParameters(const ModelConfig& c) {
    return static_cast<double>(c.vocabSize * c.hiddenSize);
}

// Weights read by one step in which `expertsPerLayer` distinct experts are touched.
ParameterSplit stepParameters(const ModelConfig& c, double expertsPerLayer) {
    ParameterSplit params;
    params.other = lmHeadParameters(c);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        params.projection += attentionParameters(c);
        if (c.isMoeLayer(l)) {
            params.projection += expertsPerLayer * expertParameters(c) + sharedParameters(c);
            params.other += routerParameters(c) + sharedGateParameters(c);
        } else {
            params.projection += denseParameters(c);
        }
    }
    return params;
}

} // namespace

ParameterSplit totalParameterSplit(const ModelConfig& c) {
    ParameterSplit params;
    params.other = static_cast<double>(c.vocabSize * c.hiddenSize);
    if (!c.tieWordEmbeddings)
        params.other += lmHeadParameters(c);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        params.projection += attentionParameters(c);
        params.other += 2.0 * static_cast<double>(c.hiddenSize) + attentionNormParameters(c);
        if (c.isMoeLayer(l)) {
            params.projection +=
                static_cast<double>(c.numExperts) * expertParameters(c) + sharedParameters(c);
            params.other += routerParameters(c) + sharedGateParameters(c);
        } else {
            params.projection += denseParameters(c);
        }
    }
    params.other += static_cast<double>(c.hiddenSize); // the final norm
    return params;
}

ParameterSplit activeParameterSplit(const ModelConfig& c) {
    return stepParameters(c, static_cast<double>(c.numExpertsPerToken));
}

double totalParameters(const ModelConfig& c) {
    return totalParameterSplit(c).total();
}

double activeParametersPerToken(const ModelConfig& c) {
    return activeParameterSplit(c).total();
}

double kvBytesPerToken(const ModelConfig& c, double bytesPerElement) {
    if (c.attention == AttentionKind::Latent)
        return static_cast<double>(c.numLayers) * static_cast<double>(c.mla.cachedWidth()) *
               bytesPerElement;
    return static_cast<double>(c.numLayers) * 2.0 * static_cast<double>(c.kvDim()) *
           bytesPerElement;
}

double attentionFlopsPerAttendedPosition(const ModelConfig& c) {
    const double layers = static_cast<double>(c.numLayers);
    if (c.attention == AttentionKind::Latent)
        return layers * 2.0 * static_cast<double>(c.numHeads) *
               static_cast<double>(c.mla.cachedWidth() + c.mla.kvLoraRank);
    return layers * 4.0 * static_cast<double>(c.qDim());
}

double expectedExpertsTouched(const ModelConfig& c, int64_t batch) {
    const double e = static_cast<double>(c.numExperts);
    const double k = static_cast<double>(c.numExpertsPerToken);
    return e * (1.0 - std::pow(1.0 - k / e, static_cast<double>(batch)));
}

StepCost stepCost(const ModelConfig& c, const StepShape& shape, const WeightBytes& weightBytes,
                  double kvBytesPerElement) {
    const auto rows = static_cast<double>(shape.contexts.size());
    const double hidden = static_cast<double>(c.hiddenSize);
    double attended = 0.0; // sum over rows of the positions each attends to
    for (const int64_t context : shape.contexts)
        attended += static_cast<double>(context);
    ParameterSplit parameters;
    parameters.other = lmHeadParameters(c) + rows * hidden; // the head, one embedding row a row
    double flops = 2.0 * static_cast<double>(shape.logitRows) * lmHeadParameters(c);
    flops += attentionFlopsPerAttendedPosition(c) * attended;
    for (int64_t l = 0; l < c.numLayers; ++l) {
        parameters.projection += attentionParameters(c);
        flops += 2.0 * rows * attentionParameters(c);
        if (c.isMoeLayer(l)) {
            const double router = routerParameters(c) + sharedGateParameters(c);
            const double read =
                static_cast<std::size_t>(l) < shape.expertsRead.size() ? shape.expertsRead[l] : 0.0;
            parameters.projection += read * expertParameters(c) + sharedParameters(c);
            parameters.other += router;
            flops += 2.0 * rows *
                     (router + static_cast<double>(c.numExpertsPerToken) * expertParameters(c) +
                      sharedParameters(c));
        } else {
            parameters.projection += denseParameters(c);
            flops += 2.0 * rows * denseParameters(c);
        }
    }
    StepCost cost;
    cost.flops = flops;
    cost.weightBytes = parameters.bytes(weightBytes);
    cost.kvBytes = attended * kvBytesPerToken(c, kvBytesPerElement);
    return cost;
}

StepCost stepCost(const ModelConfig& c, const StepShape& shape, double bytesPerParameter,
                  double kvBytesPerElement) {
    return stepCost(c, shape, WeightBytes::uniform(bytesPerParameter), kvBytesPerElement);
}

StepCost decodeStepCost(const ModelConfig& c, const WeightBytes& weightBytes, int64_t batch,
                        int64_t context, double kvBytesPerElement) {
    StepShape shape;
    shape.contexts.assign(static_cast<std::size_t>(batch), context);
    shape.expertsRead.assign(static_cast<std::size_t>(c.numLayers),
                             expectedExpertsTouched(c, batch));
    shape.logitRows = batch;
    return stepCost(c, shape, weightBytes, kvBytesPerElement);
}

StepCost decodeStepCost(const ModelConfig& c, double bytesPerParameter, int64_t batch,
                        int64_t context, double kvBytesPerElement) {
    return decodeStepCost(c, WeightBytes::uniform(bytesPerParameter), batch, context,
                          kvBytesPerElement);
}

StepCost prefillCost(const ModelConfig& c, const WeightBytes& weightBytes, int64_t tokens,
                     double kvBytesPerElement) {
    StepShape shape;
    for (int64_t p = 0; p < tokens; ++p)
        shape.contexts.push_back(p + 1); // causal: position p attends to p + 1 keys
    shape.expertsRead.assign(static_cast<std::size_t>(c.numLayers),
                             expectedExpertsTouched(c, tokens));
    shape.logitRows = 1;
    return stepCost(c, shape, weightBytes, kvBytesPerElement);
}

StepCost prefillCost(const ModelConfig& c, double bytesPerParameter, int64_t tokens,
                     double kvBytesPerElement) {
    return prefillCost(c, WeightBytes::uniform(bytesPerParameter), tokens, kvBytesPerElement);
}

void requireSynthesisFits(const ModelConfig& config, double bytesPerParameter) {
    const double bytes = totalParameters(config) * bytesPerParameter;
    const std::optional<double> available = availableMemoryBytes();
    if (available && bytes > *available)
        throw EngineError("synthetic weights of " + std::to_string(config.numLayers) + "-layer " +
                          std::string(familyName(config.family)) + " would take " +
                          std::to_string(static_cast<int64_t>(bytes / 1e9)) +
                          " GB, more than the " +
                          std::to_string(static_cast<int64_t>(*available / 1e9)) +
                          " GB of memory available (`?layers=N` keeps fewer layers)");
}

} // namespace crossroads::inference
