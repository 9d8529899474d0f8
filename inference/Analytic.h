// Analytic cost of a forward step (docs moe-inference.md "Roofline arithmetic"): FLOPs and the
// bytes a step must read, counting active experts only. Shared with the roofline projection.
#pragma once

#include "inference/ModelConfig.h"

namespace crossroads::inference {

struct StepCost {
    double flops = 0;
    double weightBytes = 0;
    double kvBytes = 0;
    double totalBytes() const { return weightBytes + kvBytes; }
};

// Parameters (not bytes) of the model: all of them, and those one token uses (embedding table
// excluded; one row of it is read).
double totalParameters(const ModelConfig& config);
double activeParametersPerToken(const ModelConfig& config);

// KV cache bytes per token of context: layers x 2 x kv width x element size.
double kvBytesPerToken(const ModelConfig& config, double bytesPerElement = 4.0);

// Distinct experts per MoE layer touched by `batch` tokens under uniform routing:
// E x (1 - (1 - k/E)^B).
double expectedExpertsTouched(const ModelConfig& config, int64_t batch);

// One decode step of `batch` sequences each holding `context` tokens (the new one included).
StepCost decodeStepCost(const ModelConfig& config, double bytesPerParameter, int64_t batch,
                        int64_t context, double kvBytesPerElement = 4.0);
// Prefill of one prompt of `tokens` tokens (causal attention).
StepCost prefillCost(const ModelConfig& config, double bytesPerParameter, int64_t tokens,
                     double kvBytesPerElement = 4.0);

} // namespace crossroads::inference
