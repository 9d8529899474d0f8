#include "inference/model/Cost.h"

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

StepCost stepCost(const ModelConfig& c, const StepShape& shape, double bytesPerParameter,
                  double kvBytesPerElement) {
    const auto rows = static_cast<double>(shape.contexts.size());
    const double hidden = static_cast<double>(c.hiddenSize);
    double attended = 0.0; // sum over rows of the positions each attends to
    for (const int64_t context : shape.contexts)
        attended += static_cast<double>(context);
    double parameters = lmHeadParameters(c) + rows * hidden; // the head, one embedding row a row
    double flops = 2.0 * static_cast<double>(shape.logitRows) * lmHeadParameters(c);
    for (int64_t l = 0; l < c.numLayers; ++l) {
        parameters += attentionParameters(c);
        flops +=
            2.0 * rows * attentionParameters(c) + 4.0 * static_cast<double>(c.qDim()) * attended;
        if (c.isMoeLayer(l)) {
            const double router = static_cast<double>(c.numExperts) * hidden;
            const double read =
                static_cast<std::size_t>(l) < shape.expertsRead.size() ? shape.expertsRead[l] : 0.0;
            parameters += router + read * expertParameters(c) + sharedParameters(c);
            flops += 2.0 * rows *
                     (router + static_cast<double>(c.numExpertsPerToken) * expertParameters(c) +
                      sharedParameters(c));
        } else {
            parameters += denseParameters(c);
            flops += 2.0 * rows * denseParameters(c);
        }
    }
    StepCost cost;
    cost.flops = flops;
    cost.weightBytes = parameters * bytesPerParameter;
    cost.kvBytes = attended * kvBytesPerToken(c, kvBytesPerElement);
    return cost;
}

StepCost decodeStepCost(const ModelConfig& c, double bytesPerParameter, int64_t batch,
                        int64_t context, double kvBytesPerElement) {
    StepShape shape;
    shape.contexts.assign(static_cast<std::size_t>(batch), context);
    shape.expertsRead.assign(static_cast<std::size_t>(c.numLayers),
                             expectedExpertsTouched(c, batch));
    shape.logitRows = batch;
    return stepCost(c, shape, bytesPerParameter, kvBytesPerElement);
}

StepCost prefillCost(const ModelConfig& c, double bytesPerParameter, int64_t tokens,
                     double kvBytesPerElement) {
    StepShape shape;
    for (int64_t p = 0; p < tokens; ++p)
        shape.contexts.push_back(p + 1); // causal: position p attends to p + 1 keys
    shape.expertsRead.assign(static_cast<std::size_t>(c.numLayers),
                             expectedExpertsTouched(c, tokens));
    shape.logitRows = 1;
    return stepCost(c, shape, bytesPerParameter, kvBytesPerElement);
}

} // namespace crossroads::inference
