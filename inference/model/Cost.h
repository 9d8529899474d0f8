// The one cost model of a forward step (docs moe-inference.md "Roofline arithmetic"): FLOPs and
// the bytes a step must read, counting the experts it reads only. Every backend reports its
// steps through stepCost (with the experts its routing actually read), the bench compares with
// it, and the roofline projection uses the analytic expectations below.
#pragma once

#include "inference/model/ModelConfig.h"

#include <cstdint>
#include <vector>

namespace crossroads::inference {

// Bytes per parameter by kind of weight. A checkpoint quantised as DeepSeek-V3 ships (FP8) holds
// its projections (attention, experts, shared experts, dense MLPs) in FP8 and the rest (embedding,
// LM head, routers, norms) in BF16; an unquantised model has one size for all.
struct WeightBytes {
    double projection = 2.0;
    double other = 2.0;
    static WeightBytes uniform(double bytes) { return {bytes, bytes}; }
};

// Parameters split as WeightBytes splits them.
struct ParameterSplit {
    double projection = 0;
    double other = 0;
    double total() const { return projection + other; }
    double bytes(const WeightBytes& w) const { return projection * w.projection + other * w.other; }
};

struct StepCost {
    double flops = 0;
    double weightBytes = 0;
    double kvBytes = 0;
    double totalBytes() const { return weightBytes + kvBytes; }
};

// What one forward call did, which is all its cost follows from.
struct StepShape {
    std::vector<int64_t> contexts; // per row: the positions it attends to, its own included
    // Per layer: the distinct routed experts read (ignored for dense layers). A backend reports
    // what its routing chose; the analytic expectations put expectedExpertsTouched here.
    std::vector<double> expertsRead;
    int64_t logitRows = 0; // rows whose logits are computed (the LM head is read once)
};

// FLOPs (2 per multiply-add: projections, routers, experts, attention's QK^T and PV, the LM head
// for the logit rows) and bytes (every weight the step reads once, one embedding row per row, the
// KV cache each row attends to) of one step. Weights of bytesPerParameter bytes each, cache
// elements of kvBytesPerElement.
StepCost stepCost(const ModelConfig& config, const StepShape& shape, double bytesPerParameter,
                  double kvBytesPerElement);
StepCost stepCost(const ModelConfig& config, const StepShape& shape, const WeightBytes& weightBytes,
                  double kvBytesPerElement);

// Parameters (not bytes) of the model: all of them, and those one token uses (embedding table
// excluded; one row of it is read).
double totalParameters(const ModelConfig& config);
double activeParametersPerToken(const ModelConfig& config);
// The same two, split into projections and the rest (norms counted in the total only).
ParameterSplit totalParameterSplit(const ModelConfig& config);
ParameterSplit activeParameterSplit(const ModelConfig& config);

// KV cache bytes per token of context. Grouped attention: layers x 2 (K and V) x kv width x
// element size. MLA caches one latent and the shared RoPE key: layers x (kv_lora_rank +
// qk_rope_head_dim) x element size (DeepSeek-V3 at BF16: 61 x 576 x 2 = 70,272 B).
double kvBytesPerToken(const ModelConfig& config, double bytesPerElement = 4.0);

// Attention FLOPs (QK^T and PV) per query per position it attends to, summed over layers.
// Grouped: 4 x q width per layer. MLA as decode runs it, with the up-projections absorbed into the
// query and the output (FlashMLA): 2 x heads x ((kv_lora_rank + qk_rope_head_dim) + kv_lora_rank).
double attentionFlopsPerAttendedPosition(const ModelConfig& config);

// Distinct experts per MoE layer touched by `batch` tokens under uniform routing:
// E x (1 - (1 - k/E)^B).
double expectedExpertsTouched(const ModelConfig& config, int64_t batch);

// One decode step of `batch` sequences each holding `context` tokens (the new one included).
StepCost decodeStepCost(const ModelConfig& config, double bytesPerParameter, int64_t batch,
                        int64_t context, double kvBytesPerElement = 4.0);
StepCost decodeStepCost(const ModelConfig& config, const WeightBytes& weightBytes, int64_t batch,
                        int64_t context, double kvBytesPerElement);
// Prefill of one prompt of `tokens` tokens (causal attention).
StepCost prefillCost(const ModelConfig& config, double bytesPerParameter, int64_t tokens,
                     double kvBytesPerElement = 4.0);
StepCost prefillCost(const ModelConfig& config, const WeightBytes& weightBytes, int64_t tokens,
                     double kvBytesPerElement);

} // namespace crossroads::inference
