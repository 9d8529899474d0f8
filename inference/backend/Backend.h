// The engine's device abstraction: a model's forward pass on the CPU or on a CUDA device, with
// sequences (KV caches) held by the backend and named by handles, so the bench harness and the
// run driver work the same on every device.
#pragma once

#include "inference/model/Cost.h"
#include "inference/model/Weights.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crossroads::inference {

// What one forward call touched, for achieved-bandwidth figures: stepCost (model/Cost.h) of the
// call's shape, with the experts its routing read, so every backend counts the same way.
using StepStats = StepCost;

using SequenceId = int64_t;

struct DeviceInfo {
    std::string backend;       // "cpu" | "cuda"
    std::string name;          // "AMD EPYC 7B13" / "NVIDIA H200"
    std::string driver;        // CUDA driver/runtime versions; empty on CPU
    std::string isa;           // CPU: "avx2", "avx512-bf16", ...; GPU: "sm_90"
    int threads = 0;           // CPU threads used; 0 on GPU
    std::string prefillKernel; // CPU: what prefill multiplies with ("oneDNN brg:..." or "native")
    // CPU: the prefetch distance of the decode kernels of the model's weight type (Kernels.h).
    std::optional<int64_t> decodePrefetchBytes;
    // CPU, FP8 weights: the FP8 decode kernel in effect (Kernels.h fp8DecodeKernelInEffect);
    // empty otherwise.
    std::string fp8DecodeKernel;
    double memoryBytes = 0; // device memory (GPU) or 0
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual const Model& model() const = 0;
    virtual DeviceInfo device() const = 0;

    // A new, empty sequence (KV cache). Throws EngineError when the device is out of memory.
    virtual SequenceId newSequence() = 0;
    virtual void releaseSequence(SequenceId id) = 0;
    virtual int64_t sequenceLength(SequenceId id) const = 0;

    // Feeds `tokens` after what the sequence holds. Returns the logits of the last position
    // [vocab], or of every fed position [tokens x vocab] when allPositions.
    virtual std::vector<float> prefill(SequenceId id, std::span<const int32_t> tokens,
                                       bool allPositions = false) = 0;
    // One token per sequence (distinct sequences). Returns [batch x vocab].
    virtual std::vector<float> decode(std::span<const SequenceId> ids,
                                      std::span<const int32_t> tokens) = 0;

    // What the last prefill/decode touched.
    virtual const StepStats& lastStats() const = 0;

    // The device's own read-bandwidth kernel (CPU: all cores over a buffer far larger than the
    // caches; GPU: a device read kernel over HBM), GB/s, best of the repetitions.
    virtual double measureReadBandwidthGbPerS(std::size_t bytes) = 0;

    // A probe whose buffer lives as long as it does, so that one pass of the read kernel can be
    // paired with one decode step (the bench does): a shared machine's bandwidth moves within
    // seconds. Null where the backend has none (the bench then measures around repetitions with
    // measureReadBandwidthGbPerS, which allocates its buffer each time: too slow for each step).
    class ReadProbe {
    public:
        virtual ~ReadProbe() = default;
        virtual double passGbPerS() = 0; // one timed pass over the buffer
    };
    virtual std::unique_ptr<ReadProbe> makeReadProbe(std::size_t /*bytes*/) { return nullptr; }

    // The device's measured dense multiply-add rate, TFLOP/s: the compute ceiling the achieved
    // TFLOP/s are compared with, as the read bandwidth is for GB/s. CPU: F32 FMAs from registers
    // on every thread of the pool (the vector units' physical limit); GPU: cuBLAS BF16 GEMM of
    // 8192^3 (what the best library reaches on that device).
    virtual double measureMatmulTflops() = 0;
    // What the last measureMatmulTflops measured, in words ("F32 FMA peak, 2 threads, avx2",
    // "cuBLAS BF16 GEMM 8192^3").
    virtual std::string matmulRateMethod() const = 0;

    // KV cache bytes stored per token of context (all layers, K and V).
    virtual double kvBytesPerToken() const = 0;

    // The most device memory the backend has held (weights, caches, scratch), bytes; nullopt on
    // the CPU, where the process's peak resident size is the figure.
    virtual std::optional<double> peakDeviceMemoryBytes() const { return std::nullopt; }
};

} // namespace crossroads::inference
