#include "analysis/Projection.h"

#include "inference/model/Presets.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace crossroads::analysis {

namespace {

constexpr double kBytesPerGb = 1e9; // datasheet GB and GB/s are decimal
constexpr double kFlopsPerTflop = 1e12;

std::string chipLabel(const ChipRoof& chip) {
    return "chip \"" + chip.name + "\"";
}

} // namespace

std::string_view weightDtypeKey(WeightDtype dtype) {
    return dtype == WeightDtype::Fp8 ? "fp8" : "bf16";
}

std::optional<WeightDtype> weightDtypeFromKey(std::string_view key) {
    if (key == "bf16")
        return WeightDtype::Bf16;
    if (key == "fp8")
        return WeightDtype::Fp8;
    return std::nullopt;
}

inference::WeightBytes weightBytesFor(const inference::ModelConfig& model, WeightDtype dtype) {
    if (dtype == WeightDtype::Bf16)
        return inference::WeightBytes::uniform(2.0);
    const auto& q = model.quantization;
    const double blockScaleBytes = q.fp8() && q.blockRows > 0 && q.blockCols > 0
                                       ? 4.0 / static_cast<double>(q.blockRows * q.blockCols)
                                       : 0.0; // a per-tensor scale: nothing per weight
    return {1.0 + blockScaleBytes, 2.0};
}

std::optional<ChipRoof> chipRoof(const ChipSpec& chip) {
    if (!chip.memory_bandwidth_gb_per_s || !(*chip.memory_bandwidth_gb_per_s > 0.0))
        return std::nullopt;
    ChipRoof roof;
    roof.name = chip.name;
    roof.memory_bandwidth_gb_per_s = *chip.memory_bandwidth_gb_per_s;
    roof.bf16_tflops = chip.dense_tops[Precision::Bf16];
    // A chip without a BF16 figure but an FP16 one computes BF16-like work at the FP16 rate.
    if (!roof.bf16_tflops)
        roof.bf16_tflops = chip.dense_tops[Precision::Fp16];
    roof.fp8_tflops = chip.dense_tops[Precision::Fp8];
    roof.memory_capacity_gb = chip.memory_capacity_gb;
    roof.io_bidirectional_gb_per_s = chip.io_bidirectional_gb_per_s;
    return roof;
}

Projection project(const inference::ModelConfig& model, const ChipRoof& chip,
                   const ProjectionOptions& options) {
    if (options.batch < 1)
        throw std::invalid_argument("batch must be at least 1, got " +
                                    std::to_string(options.batch));
    if (options.context < 1)
        throw std::invalid_argument("context must be at least 1, got " +
                                    std::to_string(options.context));
    for (const auto& [name, value] :
         {std::pair{"bandwidth efficiency", options.bandwidth_efficiency},
          std::pair{"compute efficiency", options.compute_efficiency}})
        if (!(value > 0.0 && value <= 1.0))
            throw std::invalid_argument(std::string(name) + " must be in (0, 1], got " +
                                        std::to_string(value));
    if (!(chip.memory_bandwidth_gb_per_s > 0.0))
        throw std::invalid_argument(chipLabel(chip) + " has no memory bandwidth");
    if (options.expert_parallel_gpus < 1)
        throw std::invalid_argument("expert-parallel GPUs must be at least 1");

    Projection p;
    p.chip = chip.name;

    // The compute roof: FP8 weights run on the FP8 rate where the chip has one (DeepGEMM's
    // path); elsewhere they are widened and run at BF16.
    std::optional<double> tflops = chip.bf16_tflops;
    p.compute_precision = "bf16";
    if (options.dtype == WeightDtype::Fp8 && chip.fp8_tflops) {
        tflops = chip.fp8_tflops;
        p.compute_precision = "fp8";
    }
    if (!tflops || !(*tflops > 0.0))
        throw std::invalid_argument(chipLabel(chip) + " has no BF16 (or FP16) dense rate");
    p.peak_tflops = *tflops * options.compute_efficiency;
    const double flopsPerS = p.peak_tflops * kFlopsPerTflop;
    const double bytesPerS =
        chip.memory_bandwidth_gb_per_s * kBytesPerGb * options.bandwidth_efficiency;
    p.ridge_point_flop_per_byte = flopsPerS / bytesPerS;

    const inference::WeightBytes weightBytes = weightBytesFor(model, options.dtype);
    const inference::StepCost step = inference::decodeStepCost(
        model, weightBytes, options.batch, options.context, options.kv_bytes_per_element);
    p.experts_touched_per_layer = inference::expectedExpertsTouched(model, options.batch);
    p.weight_bytes_per_step = step.weightBytes;
    p.kv_bytes_per_step = step.kvBytes;
    p.bytes_per_step = step.totalBytes();
    p.flops_per_step = step.flops;
    p.flops_per_token = step.flops / static_cast<double>(options.batch);
    p.arithmetic_intensity = step.flops / step.totalBytes();

    p.memory_time_s = p.bytes_per_step / bytesPerS;
    p.compute_time_s = p.flops_per_step / flopsPerS;
    if (options.expert_parallel_gpus > 1) {
        std::optional<double> link = options.interconnect_gb_per_s;
        if (!link && chip.io_bidirectional_gb_per_s)
            link = *chip.io_bidirectional_gb_per_s / 2.0;
        if (!link || !(*link > 0.0))
            throw std::invalid_argument(chipLabel(chip) +
                                        " has no I/O bandwidth for the expert-parallel term");
        int64_t moeLayers = 0;
        for (int64_t l = 0; l < model.numLayers; ++l)
            moeLayers += model.isMoeLayer(l) ? 1 : 0;
        const double g = static_cast<double>(options.expert_parallel_gpus);
        const double bytesOff =
            static_cast<double>(options.batch) * static_cast<double>(moeLayers) * 2.0 *
            static_cast<double>(model.numExpertsPerToken) * static_cast<double>(model.hiddenSize) *
            options.activation_bytes * (g - 1.0) / g;
        p.interconnect_time_s = bytesOff / (*link * kBytesPerGb);
    }
    p.memory_bound = p.memory_time_s >= p.compute_time_s;
    // Communication is not assumed to overlap the step: the conservative reading.
    p.step_time_s = std::max(p.memory_time_s, p.compute_time_s) + p.interconnect_time_s;
    p.decode_tokens_per_s = static_cast<double>(options.batch) / p.step_time_s;
    p.decode_tokens_per_s_per_sequence = 1.0 / p.step_time_s;

    const inference::StepCost prefill =
        inference::prefillCost(model, weightBytes, options.context, options.kv_bytes_per_element);
    // The cost model counts every query row's KV reads (a step without reuse between rows); a
    // prefill kernel tiles queries (FlashAttention/FlashMLA) and touches the prompt's cache about
    // once, so the projection counts the weights plus one pass over the cache.
    const double prefillBytes =
        prefill.weightBytes + static_cast<double>(options.context) *
                                  inference::kvBytesPerToken(model, options.kv_bytes_per_element);
    const double prefillMemory = prefillBytes / bytesPerS;
    const double prefillCompute = prefill.flops / flopsPerS;
    p.prefill_memory_bound = prefillMemory >= prefillCompute;
    p.prefill_tokens_per_s =
        static_cast<double>(options.context) / std::max(prefillMemory, prefillCompute);

    p.kv_bytes_per_token = inference::kvBytesPerToken(model, options.kv_bytes_per_element);
    p.weight_bytes_total = inference::totalParameterSplit(model).bytes(weightBytes);
    p.kv_bytes_total = static_cast<double>(options.batch) * static_cast<double>(options.context) *
                       p.kv_bytes_per_token;
    if (chip.memory_capacity_gb && *chip.memory_capacity_gb > 0.0)
        p.gpus_to_hold = static_cast<int64_t>(std::ceil((p.weight_bytes_total + p.kv_bytes_total) /
                                                        (*chip.memory_capacity_gb * kBytesPerGb)));
    return p;
}

namespace {

std::optional<double> capabilityDecode(const ChipSpec& chip, const inference::ModelConfig& model) {
    const auto roof = chipRoof(chip);
    if (!roof || !roof->bf16_tflops)
        return std::nullopt;
    ProjectionOptions options;
    options.dtype = WeightDtype::Fp8;
    options.batch = 1;
    options.context = 4096;
    return project(model, *roof, options).decode_tokens_per_s;
}

std::optional<double> ratio(const std::optional<double>& a, const std::optional<double>& b) {
    if (!a || !b || !(*b > 0.0))
        return std::nullopt;
    return *a / *b;
}

} // namespace

CapabilityIndex capabilityIndex(const ChipSpec& chip, const ChipSpec& reference,
                                const BitLengths& bits, const inference::ModelConfig& model) {
    CapabilityIndex index;
    index.chip = chip.name;
    index.deepseek_v3_decode_tokens_per_s = capabilityDecode(chip, model);
    index.bf16_tflops = chip.dense_tops[Precision::Bf16];
    index.fp8_tflops = chip.dense_tops[Precision::Fp8];
    const auto tppOf = [&](const ChipSpec& c) -> std::optional<double> {
        const auto t = totalProcessingPerformance(c, bits);
        return t ? std::optional<double>(t->tpp) : std::nullopt;
    };
    index.tpp = tppOf(chip);
    index.h100_equivalents_by_tpp = ratio(index.tpp, tppOf(reference));
    index.h100_equivalents_by_capability =
        ratio(index.deepseek_v3_decode_tokens_per_s, capabilityDecode(reference, model));
    return index;
}

CapabilityIndex capabilityIndex(const ChipSpec& chip, const ChipSpec& reference,
                                const BitLengths& bits) {
    static const inference::ModelConfig deepseekV3 = inference::presetConfig("deepseek-v3");
    return capabilityIndex(chip, reference, bits, deepseekV3);
}

} // namespace crossroads::analysis
