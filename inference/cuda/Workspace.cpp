#include "inference/cuda/Workspace.h"

#include <algorithm>

namespace crossroads::inference::gpu {

namespace {

// Elements of prefill attention's score matrix per query chunk (F32, plus as many BF16 probs).
constexpr std::size_t kAttentionScratchElements = std::size_t{1} << 26;

} // namespace

bool Workspace::reserve(const ModelDims& d, int wanted) {
    if (wanted <= rows)
        return false;
    const auto n = static_cast<std::size_t>(wanted);
    const auto h = static_cast<std::size_t>(d.hidden);
    const auto k = static_cast<std::size_t>(d.topK);
    const auto e = static_cast<std::size_t>(d.experts);
    const auto i = static_cast<std::size_t>(d.inter);
    const std::size_t gateUpWidth =
        std::max({k * 2 * i, 2 * static_cast<std::size_t>(d.sharedInter),
                  2 * static_cast<std::size_t>(d.denseInter)});
    // No size until every resize below has succeeded (see Workspace.h).
    rows = 0;
    tokenIds.resize(n, "token ids");
    positions.resize(n, "positions");
    slots.resize(n, "slots");
    kvCapacity.resize(n, "KV capacities");
    kvPointers.resize(n, "KV pointers");
    hidden.resize(n * h, "the residual stream");
    normed.resize(n * h, "normed activations");
    qkv.resize(n * static_cast<std::size_t>(d.qkvRows), "q/k/v");
    q.resize(n * static_cast<std::size_t>(d.shape.qDim()), "queries");
    attention.resize(n * static_cast<std::size_t>(d.shape.qDim()), "attention output");
    routerLogits.resize(n * static_cast<std::size_t>(std::max(d.routerRows, 1)), "router logits");
    topkIds.resize(n * k, "top-k ids");
    topkWeights.resize(n * k, "top-k weights");
    sharedGate.resize(n, "shared expert gates");
    counts.resize(e, "expert counts");
    offsets.resize(e + 1, "expert offsets");
    active.resize(e, "active experts");
    activeCount.resize(1, "the active count");
    activeRecord.resize(static_cast<std::size_t>(d.layers), "the active-expert record");
    sortedPair.resize(n * k, "sorted pairs");
    pairRow.resize(n * k, "pair rows");
    gathered.resize(n * k * h, "gathered expert inputs");
    gateUp.resize(n * gateUpWidth, "gate/up outputs");
    act.resize(n * std::max(k * i, static_cast<std::size_t>(d.denseInter)), "SwiGLU outputs");
    sharedAct.resize(n * static_cast<std::size_t>(std::max(d.sharedInter, 1)),
                     "shared SwiGLU outputs");
    expertOut.resize(n * k * h, "expert outputs");
    sharedOut.resize(d.hasShared ? n * h : 1, "shared expert outputs");
    gemmA.resize(2 * e, "grouped GEMM pointers");
    gemmB.resize(2 * e, "grouped GEMM pointers");
    gemmC.resize(2 * e, "grouped GEMM pointers");
    rows = wanted;
    return true;
}

void Workspace::reservePrefill(const ModelDims& d, int wanted, int context, int outputs) {
    reserve(d, wanted);
    const std::size_t chunk =
        prefillAttentionChunkRows(wanted, context, d.shape, kAttentionScratchElements);
    const std::size_t scoreElements =
        chunk * static_cast<std::size_t>(d.shape.heads) * static_cast<std::size_t>(context);
    scores.reserve(scoreElements, "attention scores");
    probs.reserve(scoreElements, "attention probabilities");
    logits.reserve(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(d.vocab), "logits");
}

bool Workspace::reserveDecode(const ModelDims& d, int batch, int splits) {
    bool moved = reserve(d, batch);
    moved |= attentionPartial.reserve(attentionPartialFloats(batch, d.shape, splits),
                                      "attention partials");
    moved |= logits.reserve(static_cast<std::size_t>(batch) * static_cast<std::size_t>(d.vocab),
                            "logits");
    return moved;
}

void HostStaging::allocate(const ModelDims& d) {
    counts.resize(static_cast<std::size_t>(d.experts) + 1, "the expert counts");
    active.resize(static_cast<std::size_t>(d.layers), "the active-expert record");
}

void HostStaging::reserve(const ModelDims& d, int rows, int outputs) {
    ints.reserve(4 * static_cast<std::size_t>(rows), "staged token inputs");
    pointers.reserve(static_cast<std::size_t>(rows), "staged KV pointers");
    logits.reserve(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(d.vocab), "logits");
}

void stageInputs(Workspace& w, const HostStaging& host, int rows, int slotCount,
                 cudaStream_t stream) {
    const auto n = static_cast<std::size_t>(rows);
    const auto slots = static_cast<std::size_t>(slotCount);
    const int* ints = host.ints.get();
    CUDA_CHECK(
        cudaMemcpyAsync(w.tokenIds.get(), ints, n * sizeof(int), cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(w.positions.get(), ints + n, n * sizeof(int), cudaMemcpyHostToDevice,
                               stream));
    CUDA_CHECK(cudaMemcpyAsync(w.slots.get(), ints + 2 * n, n * sizeof(int), cudaMemcpyHostToDevice,
                               stream));
    CUDA_CHECK(cudaMemcpyAsync(w.kvCapacity.get(), ints + 3 * n, slots * sizeof(int),
                               cudaMemcpyHostToDevice, stream));
    CUDA_CHECK(cudaMemcpyAsync(w.kvPointers.get(), host.pointers.get(), slots * sizeof(bf16*),
                               cudaMemcpyHostToDevice, stream));
}

} // namespace crossroads::inference::gpu
