// The forward pass on the device: the order of kernel launches and cuBLAS calls of a prefill
// and of a decode step, layer by layer (attention, then the dense MLP or the MoE layer), and the
// decode step's CUDA graphs. Why it is ordered so is in CudaEngine.h; the kernels are in the .cu
// files, declared in CudaKernels.h.
#include "inference/cuda/CudaState.h"

#include <algorithm>

namespace crossroads::inference {

using gpu::bf16;
using gpu::Workspace;

// ---- cuBLAS ---------------------------------------------------------------------------------

// Column-major cuBLAS sees W as W^T (cols x outRows), hence op T on it: the "TN" layout.
void CudaBackend::State::gemm(const bf16* w, int outRows, int cols, const bf16* x, int tokens,
                              void* y, cudaDataType_t yType, int ldy, float beta) {
    const float alpha = 1.0f;
    CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, outRows, tokens, cols, &alpha, w,
                              CUDA_R_16BF, cols, x, CUDA_R_16BF, cols, &beta, y, yType, ldy,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void CudaBackend::State::expertGemm(Workspace& w, int table, const bf16* expertWeights,
                                    int64_t expertStride, int outRows, int cols, const bf16* x,
                                    bf16* y) {
    const int experts = dims.experts;
    const auto offset = static_cast<std::size_t>(table * experts);
    const bool grouped = groupedPath != GroupedGemmPath::Loop && !groupedRefused;
    const cublasStatus_t status =
        gpu::expertGemm(cublas, grouped ? gpu::ExpertGemmMode::Grouped : gpu::ExpertGemmMode::Loop,
                        host.counts.get(), experts, w.groups(), expertWeights, expertStride,
                        outRows, cols, x, y, w.gemmA.get() + offset, w.gemmB.get() + offset,
                        w.gemmC.get() + offset, gemmArrays[table], stream);
    if (status == CUBLAS_STATUS_SUCCESS)
        return;
    const bool refused =
        status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE;
    if (!refused || groupedPath == GroupedGemmPath::Grouped)
        CUBLAS_CHECK(status);
    groupedRefused = true;
    groupedRefusal = cublasGetStatusName(status);
    CUBLAS_CHECK(gpu::expertGemm(cublas, gpu::ExpertGemmMode::Loop, host.counts.get(), experts,
                                 w.groups(), expertWeights, expertStride, outRows, cols, x, y,
                                 nullptr, nullptr, nullptr, gemmArrays[table], stream));
}

std::string CudaBackend::State::groupedPathName() const {
    if (groupedRefused)
        return "cublasGemmEx loop (grouped GEMM refused: " + groupedRefusal + ")";
    return groupedPath == GroupedGemmPath::Loop ? "cublasGemmEx loop"
                                                : "cublasGemmGroupedBatchedEx";
}

// ---- pieces both phases use -----------------------------------------------------------------

gpu::QkvParams CudaBackend::State::qkvParams(const gpu::DeviceLayer& layer) const {
    gpu::QkvParams p;
    p.shape = dims.shape;
    p.bias = layer.qkvBias.get();
    p.qNorm = layer.qNorm.get();
    p.kNorm = layer.kNorm.get();
    p.perHeadNorm = config.qkNorm == QkNorm::PerHead;
    p.eps = dims.eps;
    p.clip = static_cast<float>(config.clipQkv);
    p.inverseFrequency = weights.inverseFrequency.get();
    return p;
}

gpu::CombineParams CudaBackend::State::combineParams(const Workspace& w) const {
    gpu::CombineParams p;
    p.k = dims.topK;
    p.pairRow = w.pairRow.get();
    p.weight = w.topkWeights.get();
    p.expertOut = w.expertOut.get();
    if (dims.hasShared) {
        p.sharedGate = w.sharedGate.get();
        p.sharedOut = w.sharedOut.get();
    }
    return p;
}

void CudaBackend::State::recordProfile(std::size_t index, bool start) {
    if (!profiling)
        return;
    while (profileEvents.size() <= index) {
        cudaEvent_t begin = nullptr, end = nullptr;
        CUDA_CHECK(cudaEventCreate(&begin));
        CUDA_CHECK(cudaEventCreate(&end));
        profileEvents.emplace_back(begin, end);
    }
    CUDA_CHECK(
        cudaEventRecord(start ? profileEvents[index].first : profileEvents[index].second, stream));
}

// ---- prefill --------------------------------------------------------------------------------

std::size_t CudaBackend::State::prefillLayers(Workspace& w, int n, int start,
                                              const gpu::SequenceCache& sequence) {
    const int h = dims.hidden;
    std::size_t profiled = 0;
    expertsRead.assign(static_cast<std::size_t>(dims.layers), 0.0);
    gpu::embedRows(weights.embed.get(), h, w.tokenIds.get(), n, w.hidden.get(), stream);
    gpu::rmsNormRows(w.hidden.get(), weights.layers[0].inputNorm.get(), h, dims.eps, n,
                     w.normed.get(), stream);
    for (int l = 0; l < dims.layers; ++l) {
        prefillAttentionBlock(w, l, n, start, sequence);
        if (!weights.layers[static_cast<std::size_t>(l)].moe) {
            prefillDenseMlp(w, l, n);
            continue;
        }
        profiled = prefillMoe(w, l, n, profiled);
    }
    return profiled;
}

// From the normed input to the normed input of the MLP: q/k/v, the cache write, attention over
// the sequence's cache, o_proj added to the residual stream.
void CudaBackend::State::prefillAttentionBlock(Workspace& w, int l, int n, int start,
                                               const gpu::SequenceCache& sequence) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const gpu::AttentionShape& shape = dims.shape;
    const int h = dims.hidden;
    const std::size_t layerElements =
        static_cast<std::size_t>(sequence.capacity) * static_cast<std::size_t>(shape.kvDim());
    gemm(layer.qkv.get(), dims.qkvRows, h, w.normed.get(), n, w.qkv.get(), CUDA_R_32F, dims.qkvRows,
         0.0f);
    gpu::qkvPostprocess(w.qkv.get(), n, qkvParams(layer), w.tokenTable(), w.kvTable(), l, w.q.get(),
                        stream);
    const bf16* keys = sequence.kv.get() + 2 * static_cast<std::size_t>(l) * layerElements;
    gpu::prefillAttention(cublas, w.q.get(), n, start, keys, keys + layerElements, shape,
                          {w.scores.get(), w.probs.get(), w.scores.size()}, w.attention.get(),
                          stream);
    gemm(layer.o.get(), h, shape.qDim(), w.attention.get(), n, w.hidden.get(), CUDA_R_32F, h,
         1.0f); // beta 1: the residual add
    if (layer.oBias.get() != nullptr)
        gpu::addBiasRows(w.hidden.get(), layer.oBias.get(), n, h, stream);
    gpu::rmsNormRows(w.hidden.get(), layer.postNorm.get(), h, dims.eps, n, w.normed.get(), stream);
}

void CudaBackend::State::prefillDenseMlp(Workspace& w, int l, int n) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const int h = dims.hidden, denseInter = dims.denseInter;
    gemm(layer.denseGateUp.get(), 2 * denseInter, h, w.normed.get(), n, w.gateUp.get(), CUDA_R_16BF,
         2 * denseInter, 0.0f);
    gpu::siluMulRows(w.gateUp.get(), n, denseInter, w.act.get(), stream);
    gemm(layer.denseDown.get(), h, denseInter, w.act.get(), n, w.hidden.get(), CUDA_R_32F, h, 1.0f);
    gpu::rmsNormRows(w.hidden.get(), weights.nextNorm(l), h, dims.eps, n, w.normed.get(), stream);
}

std::size_t CudaBackend::State::prefillMoe(Workspace& w, int l, int n, std::size_t profiled) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const int h = dims.hidden, experts = dims.experts, topK = dims.topK, inter = dims.inter,
              sharedInter = dims.sharedInter, routerRows = dims.routerRows;
    const int pairs = n * topK;
    gemm(layer.router.get(), routerRows, h, w.normed.get(), n, w.routerLogits.get(), CUDA_R_32F,
         routerRows, 0.0f);
    gpu::routerTopK(w.routerLogits.get(), routerRows, n, experts, topK, config.normTopkProb,
                    dims.hasShared ? w.sharedGate.get() : nullptr, w.topkIds.get(),
                    w.topkWeights.get(), stream);
    gpu::groupByExpert(w.topkIds.get(), pairs, experts, w.groups(), nullptr, stream);
    // The one host sync of an MoE layer: cuBLAS wants the row counts on the host. The work
    // that does not depend on them is queued before waiting.
    CUDA_CHECK(cudaMemcpyAsync(host.counts.get(), w.counts.get(),
                               static_cast<std::size_t>(experts) * sizeof(int),
                               cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaEventRecord(countsReady, stream));
    gpu::gatherRows(w.normed.get(), h, w.sortedPair.get(), topK, pairs, w.gathered.get(), stream);
    if (dims.hasShared) {
        gemm(layer.sharedGateUp.get(), 2 * sharedInter, h, w.normed.get(), n, w.gateUp.get(),
             CUDA_R_16BF, 2 * sharedInter, 0.0f);
        gpu::siluMulRows(w.gateUp.get(), n, sharedInter, w.sharedAct.get(), stream);
        gemm(layer.sharedDown.get(), h, sharedInter, w.sharedAct.get(), n, w.sharedOut.get(),
             CUDA_R_32F, h, 0.0f);
    }
    CUDA_CHECK(cudaEventSynchronize(countsReady));
    int activeExperts = 0;
    for (int e = 0; e < experts; ++e)
        activeExperts += host.counts.get()[e] > 0 ? 1 : 0;
    expertsRead[static_cast<std::size_t>(l)] = activeExperts;

    const int64_t gateUpStride = 2 * static_cast<int64_t>(inter) * h;
    const int64_t downStride = static_cast<int64_t>(h) * inter;
    recordProfile(profiled, true);
    expertGemm(w, 0, layer.expertGateUp.get(), gateUpStride, 2 * inter, h, w.gathered.get(),
               w.gateUp.get());
    recordProfile(profiled++, false);
    gpu::siluMulRows(w.gateUp.get(), pairs, inter, w.act.get(), stream);
    recordProfile(profiled, true);
    expertGemm(w, 1, layer.expertDown.get(), downStride, h, inter, w.act.get(), w.expertOut.get());
    recordProfile(profiled++, false);
    gpu::combineExperts(w.hidden.get(), n, h, combineParams(w), weights.nextNorm(l), dims.eps,
                        w.normed.get(), stream);
    return profiled;
}

// ---- decode ---------------------------------------------------------------------------------

void CudaBackend::State::decodeLayers(Workspace& w, int batch, int splits) {
    const int h = dims.hidden;
    gpu::embedRows(weights.embed.get(), h, w.tokenIds.get(), batch, w.hidden.get(), stream);
    gpu::rmsNormRows(w.hidden.get(), weights.layers[0].inputNorm.get(), h, dims.eps, batch,
                     w.normed.get(), stream);
    for (int l = 0; l < dims.layers; ++l) {
        decodeAttentionBlock(w, l, batch, splits);
        if (!weights.layers[static_cast<std::size_t>(l)].moe)
            decodeDenseMlp(w, l, batch);
        else
            decodeMoe(w, l, batch);
    }
    gpu::gemv(weights.lmHead, dims.vocab, h, w.normed.get(), batch, w.logits.get(), dims.vocab,
              false, stream);
}

// As prefillAttentionBlock, one token per sequence, every sequence its own cache (the tables).
void CudaBackend::State::decodeAttentionBlock(Workspace& w, int l, int batch, int splits) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const gpu::AttentionShape& shape = dims.shape;
    const int h = dims.hidden;
    gpu::gemv(layer.qkv.get(), dims.qkvRows, h, w.normed.get(), batch, w.qkv.get(), dims.qkvRows,
              false, stream);
    gpu::qkvPostprocess(w.qkv.get(), batch, qkvParams(layer), w.tokenTable(), w.kvTable(), l,
                        w.q.get(), stream);
    gpu::decodeAttention(w.q.get(), batch, w.tokenTable(), w.kvTable(), l, shape, splits,
                         w.attentionPartial.get(), w.attention.get(), stream);
    gpu::gemv(layer.o.get(), h, shape.qDim(), w.attention.get(), batch, w.hidden.get(), h, true,
              stream);
    if (layer.oBias.get() != nullptr)
        gpu::addBiasRows(w.hidden.get(), layer.oBias.get(), batch, h, stream);
    gpu::rmsNormRows(w.hidden.get(), layer.postNorm.get(), h, dims.eps, batch, w.normed.get(),
                     stream);
}

void CudaBackend::State::decodeDenseMlp(Workspace& w, int l, int batch) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const int h = dims.hidden, denseInter = dims.denseInter;
    gpu::gemvGateUp(layer.denseGateUp.get(), denseInter, h, w.normed.get(), batch, w.act.get(),
                    stream);
    gpu::gemv(layer.denseDown.get(), h, denseInter, w.act.get(), batch, w.hidden.get(), h, true,
              stream);
    gpu::rmsNormRows(w.hidden.get(), weights.nextNorm(l), h, dims.eps, batch, w.normed.get(),
                     stream);
}

// Routing and grouping on the device, the active count recorded for the step's cost; the
// expert GEMVs' grids cover the most experts the batch can touch, and the blocks past the
// device-side active count return at once.
void CudaBackend::State::decodeMoe(Workspace& w, int l, int batch) {
    const gpu::DeviceLayer& layer = weights.layers[static_cast<std::size_t>(l)];
    const int h = dims.hidden, experts = dims.experts, topK = dims.topK, inter = dims.inter,
              sharedInter = dims.sharedInter, routerRows = dims.routerRows;
    const int maxActive = std::min(batch * topK, experts);
    gpu::gemv(layer.router.get(), routerRows, h, w.normed.get(), batch, w.routerLogits.get(),
              routerRows, false, stream);
    gpu::routeAndGroup(w.routerLogits.get(), routerRows, batch, experts, topK, config.normTopkProb,
                       dims.hasShared ? w.sharedGate.get() : nullptr, w.topkIds.get(),
                       w.topkWeights.get(), w.groups(), w.activeRecord.get() + l, stream);
    gpu::expertGemvGateUp(layer.expertGateUp.get(), inter, h, w.normed.get(), topK, w.groups(),
                          maxActive, batch, w.act.get(), stream);
    gpu::expertGemvDown(layer.expertDown.get(), h, inter, w.act.get(), w.groups(), maxActive, batch,
                        w.expertOut.get(), stream);
    if (dims.hasShared) {
        gpu::gemvGateUp(layer.sharedGateUp.get(), sharedInter, h, w.normed.get(), batch,
                        w.sharedAct.get(), stream);
        gpu::gemv(layer.sharedDown.get(), h, sharedInter, w.sharedAct.get(), batch,
                  w.sharedOut.get(), h, false, stream);
    }
    gpu::combineExperts(w.hidden.get(), batch, h, combineParams(w), weights.nextNorm(l), dims.eps,
                        w.normed.get(), stream);
}

// ---- CUDA graphs ----------------------------------------------------------------------------

void CudaBackend::State::launchDecode(Workspace& w, int batch, int splits) {
    if (!useGraphs) {
        decodeLayers(w, batch, splits);
        return;
    }
    const auto key = std::make_pair(batch, splits);
    auto found = graphs.find(key);
    if (found == graphs.end()) {
        cudaGraph_t graph = nullptr;
        CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        try {
            decodeLayers(w, batch, splits);
        } catch (...) {
            cudaStreamEndCapture(stream, &graph); // leave capture mode before reporting
            if (graph != nullptr)
                cudaGraphDestroy(graph);
            cudaGetLastError();
            throw;
        }
        CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
        cudaGraphExec_t exec = nullptr;
        const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
        cudaGraphDestroy(graph);
        CUDA_CHECK(instantiated);
        found = graphs.emplace(key, exec).first;
    }
    CUDA_CHECK(cudaGraphLaunch(found->second, stream));
}

void CudaBackend::State::dropGraphs() noexcept {
    for (auto& [key, graph] : graphs)
        cudaGraphExecDestroy(graph);
    graphs.clear();
}

} // namespace crossroads::inference
