#include "inference/Analytic.h"

#include <cmath>

namespace crossroads::inference {

namespace {

double attentionParameters(const ModelConfig& c) {
    return static_cast<double>(2 * c.qDim() * c.hiddenSize + 2 * c.kvDim() * c.hiddenSize);
}

double expertParameters(const ModelConfig& c) {
    return 3.0 * static_cast<double>(c.hiddenSize * c.expertIntermediateSize);
}

double sharedParameters(const ModelConfig& c) {
    if (c.sharedExpertIntermediateSize == 0)
        return 0.0;
    return 3.0 * static_cast<double>(c.hiddenSize * c.sharedExpertIntermediateSize) +
           static_cast<double>(c.hiddenSize);
}

double denseParameters(const ModelConfig& c) {
    return 3.0 * static_cast<double>(c.hiddenSize * c.denseIntermediateSize);
}

double lmHeadParameters(const ModelConfig& c) {
    return static_cast<double>(c.vocabSize * c.hiddenSize);
}

// Weights read by one step in which `expertsPerLayer` distinct experts are touched.
double stepParameters(const ModelConfig& c, double expertsPerLayer) {
    double params = lmHeadParameters(c);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        params += attentionParameters(c);
        if (c.isMoeLayer(l))
            params += static_cast<double>(c.numExperts * c.hiddenSize) +
                      expertsPerLayer * expertParameters(c) + sharedParameters(c);
        else
            params += denseParameters(c);
    }
    return params;
}

} // namespace

double totalParameters(const ModelConfig& c) {
    double params = static_cast<double>(c.vocabSize * c.hiddenSize);
    if (!c.tieWordEmbeddings)
        params += lmHeadParameters(c);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        params += attentionParameters(c) + 2.0 * static_cast<double>(c.hiddenSize);
        if (c.isMoeLayer(l))
            params += static_cast<double>(c.numExperts * c.hiddenSize) +
                      static_cast<double>(c.numExperts) * expertParameters(c) + sharedParameters(c);
        else
            params += denseParameters(c);
    }
    return params + static_cast<double>(c.hiddenSize);
}

double activeParametersPerToken(const ModelConfig& c) {
    return stepParameters(c, static_cast<double>(c.numExpertsPerToken));
}

double kvBytesPerToken(const ModelConfig& c, double bytesPerElement) {
    return static_cast<double>(c.numLayers) * 2.0 * static_cast<double>(c.kvDim()) *
           bytesPerElement;
}

double expectedExpertsTouched(const ModelConfig& c, int64_t batch) {
    const double e = static_cast<double>(c.numExperts);
    const double k = static_cast<double>(c.numExpertsPerToken);
    return e * (1.0 - std::pow(1.0 - k / e, static_cast<double>(batch)));
}

StepCost decodeStepCost(const ModelConfig& c, double bytesPerParameter, int64_t batch,
                        int64_t context, double kvBytesPerElement) {
    StepCost cost;
    const double b = static_cast<double>(batch);
    cost.flops = b * (2.0 * activeParametersPerToken(c) +
                      4.0 * static_cast<double>(c.numLayers * c.qDim() * context));
    cost.weightBytes = (stepParameters(c, expectedExpertsTouched(c, batch)) +
                        b * static_cast<double>(c.hiddenSize)) *
                       bytesPerParameter;
    cost.kvBytes = b * static_cast<double>(context) * kvBytesPerToken(c, kvBytesPerElement);
    return cost;
}

StepCost prefillCost(const ModelConfig& c, double bytesPerParameter, int64_t tokens,
                     double kvBytesPerElement) {
    StepCost cost;
    const double n = static_cast<double>(tokens);
    // Causal: position p attends to p + 1 keys; summed, n (n + 1) / 2.
    cost.flops = n * 2.0 * activeParametersPerToken(c) +
                 4.0 * static_cast<double>(c.numLayers * c.qDim()) * n * (n + 1.0) / 2.0;
    cost.weightBytes = (stepParameters(c, expectedExpertsTouched(c, tokens)) +
                        n * static_cast<double>(c.hiddenSize)) *
                       bytesPerParameter;
    cost.kvBytes = n * (n + 1.0) / 2.0 * kvBytesPerToken(c, kvBytesPerElement);
    return cost;
}

} // namespace crossroads::inference
