// Roofline projection of MoE decode and prefill on a chip of the store (DESIGN.md `crossroads
// project`): the bytes and FLOPs of a step come from the engine's one analytic cost model
// (inference/model/Cost.h), the chip's peaks from its ChipSpec. A pure roofline unless
// efficiencies are given: every figure is a formula over the model's shape and the chip's
// datasheet, so a reader can redo it by hand (docs/reference/moe-inference.md).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Metrics.h"
#include "inference/model/Cost.h"
#include "inference/model/ModelConfig.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crossroads::analysis {

// Weight precision of a projection. Fp8 applies to the weights a DeepSeek-V3-style FP8
// checkpoint stores in FP8 (the projections); embeddings, LM head, routers and norms stay BF16.
enum class WeightDtype { Bf16, Fp8 };
std::string_view weightDtypeKey(WeightDtype dtype); // "bf16", "fp8"
std::optional<WeightDtype> weightDtypeFromKey(std::string_view key);

// Bytes per parameter of each kind of weight at `dtype`. FP8 adds the F32 scale of each block of
// the checkpoint's weight_block_size (4 / (128 x 128) bytes per weight for DeepSeek-V3).
inference::WeightBytes weightBytesFor(const inference::ModelConfig& model, WeightDtype dtype);

// The figures of a chip the roofline reads. The peaks are dense (not sparse) rates.
struct ChipRoof {
    std::string name;
    double memory_bandwidth_gb_per_s = 0;
    std::optional<double> bf16_tflops;
    std::optional<double> fp8_tflops;
    std::optional<double> memory_capacity_gb;
    std::optional<double> io_bidirectional_gb_per_s;
};
// nullopt when the chip has no memory bandwidth (nothing to project with).
std::optional<ChipRoof> chipRoof(const ChipSpec& chip);

struct ProjectionOptions {
    WeightDtype dtype = WeightDtype::Bf16;
    int64_t batch = 1;      // sequences decoded together
    int64_t context = 4096; // tokens each sequence attends to (its KV reads count)
    // Fractions of the datasheet peaks a real implementation reaches; 1 = pure roofline.
    double bandwidth_efficiency = 1.0;
    double compute_efficiency = 1.0;
    double kv_bytes_per_element = 2.0; // BF16 cache
    // Expert parallelism over this many GPUs adds an all-to-all term: every token's hidden state
    // goes to the GPUs of its k experts and comes back (dispatch + combine), a fraction
    // (G - 1) / G of it off this GPU, over the interconnect at interconnect_gb_per_s per direction
    // (default: half the chip's bidirectional I/O). 1 = no term.
    int64_t expert_parallel_gpus = 1;
    std::optional<double> interconnect_gb_per_s;
    double activation_bytes = 2.0; // BF16 hidden states on the wire
};

struct Projection {
    std::string chip;
    double experts_touched_per_layer = 0; // E (1 - (1 - k/E)^B)
    // One decode step of the whole batch.
    double weight_bytes_per_step = 0;
    double kv_bytes_per_step = 0;
    double bytes_per_step = 0;
    double flops_per_step = 0;
    double flops_per_token = 0;           // flops_per_step / batch
    double arithmetic_intensity = 0;      // FLOP per byte of the step
    double ridge_point_flop_per_byte = 0; // achievable FLOP/s / achievable bytes/s
    double peak_tflops = 0;               // the compute roof used, times compute_efficiency
    std::string compute_precision;        // "fp8" or "bf16" (fp8 without an FP8 rate: bf16)
    double memory_time_s = 0;
    double compute_time_s = 0;
    double interconnect_time_s = 0; // 0 without expert parallelism
    double step_time_s = 0;         // max(memory, compute) + interconnect
    bool memory_bound = true;
    double decode_tokens_per_s = 0; // whole batch
    double decode_tokens_per_s_per_sequence = 0;
    // Prefill of one prompt of `context` tokens, on the same roofs.
    double prefill_tokens_per_s = 0;
    bool prefill_memory_bound = false;
    // Memory to hold: every weight, and the KV cache of batch x context tokens.
    double kv_bytes_per_token = 0;
    double weight_bytes_total = 0;
    double kv_bytes_total = 0;
    std::optional<int64_t> gpus_to_hold; // nullopt when the capacity is unknown
};

// Throws std::invalid_argument naming the bad option (batch, context, efficiency) or the missing
// chip figure (no compute rate; no I/O figure for the expert-parallel term).
Projection project(const inference::ModelConfig& model, const ChipRoof& chip,
                   const ProjectionOptions& options = {});

// What a chip can do for frontier MoE inference beside its export metrics: the projected
// DeepSeek-V3 decode of one GPU (FP8 weights, batch 1, context 4096, pure roofline), its dense
// rates, and H100-equivalents two ways: by TPP (what the rules count) and by that decode (what a
// DeepSeek-V3 deployment gets). Figures the chip lacks are nullopt.
struct CapabilityIndex {
    std::string chip;
    std::optional<double> deepseek_v3_decode_tokens_per_s;
    std::optional<double> bf16_tflops;
    std::optional<double> fp8_tflops;
    std::optional<double> tpp;
    std::optional<double> h100_equivalents_by_tpp;
    std::optional<double> h100_equivalents_by_capability;
};

// `reference` is the H100 the equivalents are counted in; `bits` the edition's bit lengths for
// TPP; `model` the shape projected (DeepSeek-V3 by default, the preset).
CapabilityIndex capabilityIndex(const ChipSpec& chip, const ChipSpec& reference,
                                const BitLengths& bits);
CapabilityIndex capabilityIndex(const ChipSpec& chip, const ChipSpec& reference,
                                const BitLengths& bits, const inference::ModelConfig& model);

} // namespace crossroads::analysis
