// What CudaBackend holds behind its pointer, in a header of its own because two files implement
// it: CudaBackend.cpp (the Backend interface: sequences, a call's inputs and outputs, its host
// syncs and its cost) and CudaForward.cpp (the order of kernel launches of a forward pass, and
// the decode step's CUDA graphs). Internal to inference/cuda/: the tools and the test reach the
// backend through CudaEngine.h.
#pragma once

#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaEngine.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/DeviceWeights.h"
#include "inference/cuda/KvCache.h"
#include "inference/cuda/ModelDims.h"
#include "inference/cuda/Workspace.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace crossroads::inference {

struct CudaBackend::State {
    // First member, so destroyed last: every buffer below takes its bytes off it when freed.
    gpu::MemoryCounter memory;
    const Model& model;
    const ModelConfig& config;
    gpu::ModelDims dims;

    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;
    cudaEvent_t countsReady = nullptr;
    std::vector<std::pair<cudaEvent_t, cudaEvent_t>> profileEvents; // per expert GEMM

    gpu::DeviceWeights weights;
    gpu::KvCaches caches;
    gpu::Workspace prefillSpace, decodeSpace;
    gpu::HostStaging host;

    bool useGraphs = true;
    std::map<std::pair<int, int>, cudaGraphExec_t> graphs; // (batch, attention splits)
    GroupedGemmPath groupedPath = GroupedGemmPath::Auto;
    bool groupedRefused = false;
    std::string groupedRefusal;
    bool profiling = false;
    int matmulN = 0;
    CudaProfile profile;
    cudaEvent_t forwardStart = nullptr, forwardEnd = nullptr;
    StepStats stats;
    // Per layer: the distinct routed experts the current call's routing read (0 for dense
    // layers), for its cost.
    std::vector<double> expertsRead;
    // Host arrays of cuBLAS's grouped GEMM, one set per pointer table (gate_up, down).
    gpu::ExpertGemmHostArrays gemmArrays[2];

    explicit State(const Model& m) : model(m), config(m.config) {}
    ~State();
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // ---- CudaBackend.cpp ----------------------------------------------------------------------

    // Checks the shapes, creates the stream, cuBLAS and events, uploads the weights.
    void start();
    void markForward(bool start);
    // After the call's sync: the forward's GPU time, when profiled.
    void readForwardTime();
    void finishCall();
    void checkTokens(std::span<const int32_t> tokens) const;

    // ---- CudaForward.cpp ----------------------------------------------------------------------

    // y [tokens x outRows] (row-major, ldy) = x [tokens x cols] W^T, W row-major [outRows x cols].
    void gemm(const gpu::bf16* w, int outRows, int cols, const gpu::bf16* x, int tokens, void* y,
              cudaDataType_t yType, int ldy, float beta);
    // The active experts' GEMMs (gpu::expertGemm), on the path asked for; Auto falls back to the
    // loop for good when cuBLAS refuses the grouped call itself (types or shapes it lacks).
    void expertGemm(gpu::Workspace& w, int table, const gpu::bf16* weights, int64_t expertStride,
                    int outRows, int cols, const gpu::bf16* x, gpu::bf16* y);
    std::string groupedPathName() const;

    gpu::QkvParams qkvParams(const gpu::DeviceLayer& layer) const;
    gpu::CombineParams combineParams(const gpu::Workspace& w) const;
    void recordProfile(std::size_t index, bool start);

    // Prefill of `n` tokens of one sequence whose cache already holds `start` positions. Leaves
    // the final-normed rows in w.normed and the experts read in expertsRead. Returns the number
    // of expert GEMMs profiled.
    std::size_t prefillLayers(gpu::Workspace& w, int n, int start,
                              const gpu::SequenceCache& sequence);
    void prefillAttentionBlock(gpu::Workspace& w, int l, int n, int start,
                               const gpu::SequenceCache& sequence);
    void prefillDenseMlp(gpu::Workspace& w, int l, int n);
    std::size_t prefillMoe(gpu::Workspace& w, int l, int n, std::size_t profiled);

    // One decode step for `batch` tokens, launches only (captured into a graph when enabled).
    // Leaves logits [batch x vocab] in w.logits and active counts per layer in w.activeRecord.
    void decodeLayers(gpu::Workspace& w, int batch, int splits);
    void decodeAttentionBlock(gpu::Workspace& w, int l, int batch, int splits);
    void decodeDenseMlp(gpu::Workspace& w, int l, int batch);
    void decodeMoe(gpu::Workspace& w, int l, int batch);
    // The step as a CUDA graph, captured once per (batch, splits) and replayed; plain launches
    // when graphs are off.
    void launchDecode(gpu::Workspace& w, int batch, int splits);
    void dropGraphs() noexcept;
};

} // namespace crossroads::inference
