// The CUDA backend: the Backend interface on one CUDA device. Declared here (plain C++, the device
// state behind a pointer) for the GPU test and the benchmark tools, which reach past the
// interface: CUDA graphs on or off, which cuBLAS path runs the expert GEMMs, the prefill's
// expert-GEMM timing. Everything else uses makeCudaBackend (CudaBackend.h).
//
// Design (see also the kernels' files):
//  - Weights live on the device as BF16 (F32 checkpoints are converted at upload); q/k/v are one
//    fused matrix, each expert's gate and up one [2I x H] matrix, experts of a layer contiguous.
//  - The residual stream is F32; matrix inputs are BF16 (cuBLAS and the GEMVs read BF16 pairs);
//    the KV cache is BF16 [layers][K, V][capacity][kv width] per sequence, grown by doubling.
//  - Prefill: cuBLAS for every projection (BF16 in, F32 accumulate), routing and grouping on the
//    device, then the experts as one grouped GEMM over the active experts. cuBLAS takes the
//    per-expert row counts on the host, so each MoE layer copies E counts back and waits for
//    them: one sync per MoE layer, overlapped with the shared expert and the row gather.
//  - Decode: no host sync inside a step. Routing, grouping and the expert GEMVs read everything
//    from device memory (token ids, positions, KV pointers, the top-k ids), so a step is captured
//    once per (batch size, context bucket) as a CUDA graph and replayed; the host copies the step's
//    inputs in, launches the graph and copies the logits out, then synchronises once.
//  - A call's statistics are stepCost (model/Cost.h) of its rows' contexts and logit rows, with
//    the distinct experts its routing read per MoE layer: counted on the host from the expert
//    counts in a prefill, recorded on the device by the grouping kernel in a decode.
//
// The host side, by what it owns: ModelDims (the sizes, checked once), DeviceWeights (the upload
// and the layout above), KvCache (the sequences' caches and their growth), Workspace (a call's
// scratch), CudaForward.cpp (the launch order and the graphs), CudaBackend.cpp (this interface,
// each call's staging, syncs and cost), CudaState.h (the state those two share).
#pragma once

#include "inference/backend/Backend.h"

#include <memory>
#include <string>

namespace crossroads::inference {

enum class GroupedGemmPath {
    Auto,    // cublasGemmGroupedBatchedEx, falling back to the loop if cuBLAS refuses the types
    Grouped, // cublasGemmGroupedBatchedEx only
    Loop,    // one cublasGemmEx per active expert
};

// GPU timings of the last prefill or decode call, measured with CUDA events when profiling is on.
struct CudaProfile {
    // From the first kernel to the logits, on the GPU's clock (a decode step without the host's
    // copies in and out; a prefill with its per-layer waits for the expert counts).
    double forwardGpuSeconds = 0;
    // Prefill: the routed experts' GEMMs (gate_up and down, not the SwiGLU between them).
    double expertGemmSeconds = 0;
    double expertGemmFlops = 0;
    std::string expertGemmPath; // "cublasGemmGroupedBatchedEx" or "cublasGemmEx loop"
};

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(const Model& model);
    ~CudaBackend() override;
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    const Model& model() const override;
    DeviceInfo device() const override;
    SequenceId newSequence() override;
    void releaseSequence(SequenceId id) override;
    int64_t sequenceLength(SequenceId id) const override;
    std::vector<float> prefill(SequenceId id, std::span<const int32_t> tokens,
                               bool allPositions = false) override;
    std::vector<float> decode(std::span<const SequenceId> ids,
                              std::span<const int32_t> tokens) override;
    const StepStats& lastStats() const override;
    double measureReadBandwidthGbPerS(std::size_t bytes) override;
    // cuBLAS BF16 GEMM of 8192^3 (gpu::measureMatmulRate): best of 10 after a warm-up; a smaller
    // N when the free device memory lacks room for the operands (matmulN() says which).
    double measureMatmulTflops() override;
    // "cuBLAS BF16 GEMM N^3" with the N of the last measurement.
    std::string matmulRateMethod() const override;
    double kvBytesPerToken() const override;
    // The high-water mark of the device memory this backend allocated itself: weights, KV caches
    // (a growing cache's old and new blocks both count until the call ends), workspaces and
    // attention scratch, counted at each cudaMalloc and cudaFree (gpu::MemoryCounter). Not
    // counted: the CUDA context, cuBLAS's own workspace, instantiated graphs, and the transient
    // buffers of measureReadBandwidthGbPerS and measureMatmulTflops.
    std::optional<double> peakDeviceMemoryBytes() const override;

    void setUseGraphs(bool use);
    int capturedGraphs() const;
    void setGroupedGemmPath(GroupedGemmPath path);
    void setProfiling(bool on);
    const CudaProfile& lastProfile() const;
    // Device memory this backend holds now (weights, caches, scratch), counted as for
    // peakDeviceMemoryBytes.
    std::size_t deviceBytes() const;
    // The N of the last measureMatmulTflops (8192 unless the device lacked memory); 0 before.
    int matmulN() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace crossroads::inference
