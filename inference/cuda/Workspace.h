// Scratch of the forward calls, on the device and in pinned host memory, sized for the largest
// call so far and grown, never shrunk, so that a steady decode allocates nothing. Prefill and
// decode each own a Workspace, so that a prefill never moves buffers a captured decode graph
// points at; a decode whose sizing moved anything tells its caller, which drops the graphs.
//
// Growing may run out of device memory part-way. A buffer's resize frees before it allocates,
// so the failing buffer is left empty; the workspace's row count is cleared before the first
// resize and set after the last, so a failed growth holds no size and the next call sizes it
// again rather than launching kernels on the empty buffer.
#pragma once

#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"
#include "inference/cuda/ModelDims.h"

#include <cstddef>

namespace crossroads::inference::gpu {

struct Workspace {
    int rows = 0; // every per-row buffer below holds this many rows
    DeviceBuffer<int> tokenIds, positions, slots, kvCapacity;
    DeviceBuffer<bf16*> kvPointers;
    DeviceBuffer<float> hidden, qkv, routerLogits, topkWeights, sharedGate, sharedOut, logits;
    DeviceBuffer<bf16> normed, q, attention, gathered, gateUp, act, sharedAct, expertOut;
    DeviceBuffer<int> topkIds, counts, offsets, active, activeCount, sortedPair, pairRow;
    DeviceBuffer<int> activeRecord; // [layers] active experts per layer (decode statistics)
    DeviceBuffer<const void*> gemmA, gemmB;
    DeviceBuffer<void*> gemmC;
    DeviceBuffer<float> attentionPartial, scores;
    DeviceBuffer<bf16> probs;

    ExpertGroups groups() const {
        return {counts.get(),      offsets.get(),    active.get(),
                activeCount.get(), sortedPair.get(), pairRow.get()};
    }
    TokenTable tokenTable() const { return {positions.get(), slots.get()}; }
    KvTable kvTable() const { return {kvPointers.get(), kvCapacity.get()}; }

    // Sizes every per-row buffer for `rows` tokens; true when something moved.
    bool reserve(const ModelDims& dims, int rows);
    // A prefill of `rows` tokens attending to `context` positions, `outputs` logit rows: the
    // per-row buffers, prefill attention's score and probability chunks, the logits.
    void reservePrefill(const ModelDims& dims, int rows, int context, int outputs);
    // A decode step of `batch` tokens with `splits` attention chunks: the per-row buffers, the
    // attention partials, the logits. True when something moved (captured graphs are stale).
    bool reserveDecode(const ModelDims& dims, int batch, int splits);
};

// Pinned host memory a call stages through (asynchronous copies need it).
struct HostStaging {
    PinnedBuffer<int> ints;       // per row: token ids, positions, slots; per slot: capacities
    PinnedBuffer<int> counts;     // [experts + 1] a prefill MoE layer's pairs per expert
    PinnedBuffer<int> active;     // [layers] a decode step's active experts per layer
    PinnedBuffer<bf16*> pointers; // per slot: the sequence's KV cache
    PinnedBuffer<float> logits;

    // The buffers whose size follows from the model alone.
    void allocate(const ModelDims& dims);
    // Room for a call of `rows` rows (and as many slots) and `outputs` logit rows.
    void reserve(const ModelDims& dims, int rows, int outputs);
};

// Copies the staged token ids, positions and slots (`rows` each) and, per slot, the cache
// pointer and its capacity into the workspace, on `stream`.
void stageInputs(Workspace& w, const HostStaging& host, int rows, int slotCount,
                 cudaStream_t stream);

} // namespace crossroads::inference::gpu
