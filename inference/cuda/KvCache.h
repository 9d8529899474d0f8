// The sequences' KV caches on the device. Each sequence owns one BF16 block
// [layers][K, V][capacity][kv width], so that a whole sequence is one pointer and one capacity in
// the tables the kernels read from device memory (which is what lets one captured decode graph
// serve any set of sequences). A block grows by doubling, rounded up to whole initial
// capacities, when a call needs more positions than it holds; the block it replaces is retired,
// not freed, because the copy into the new block is only queued on the stream: it is freed once
// the call has synchronised (releaseRetired).
#pragma once

#include "inference/backend/Backend.h"
#include "inference/cuda/CudaCheck.h"
#include "inference/cuda/CudaKernels.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace crossroads::inference::gpu {

struct SequenceCache {
    DeviceBuffer<bf16> kv; // [layers][2][capacity][kvDim]
    int capacity = 0;
    int64_t length = 0; // positions written
};

class KvCaches {
public:
    KvCaches() = default;
    KvCaches(int layers, int kvDim) : layers_(layers), kvDim_(kvDim) {}

    // A new, empty sequence with room for the initial capacity. Throws EngineError when the
    // device is out of memory (and then no id is used up).
    SequenceId create();
    // Throws EngineError for an id that is not (or no longer) a sequence.
    SequenceCache& at(SequenceId id);
    const SequenceCache& at(SequenceId id) const;
    // Frees the sequence's cache at once: the caller has synchronised the stream, so no queued
    // kernel still reads it.
    void erase(SequenceId id);

    // Room for `positions` in the sequence's cache: a larger block, the cached positions copied
    // over on `stream`, the old block retired.
    void ensureCapacity(SequenceCache& sequence, int64_t positions, cudaStream_t stream);
    // After the call's sync: the stream is idle, so the replaced blocks can go.
    void releaseRetired() noexcept { retired_.clear(); }

private:
    std::size_t elements(int capacity) const;

    int layers_ = 0, kvDim_ = 0;
    std::map<SequenceId, SequenceCache> sequences_;
    SequenceId next_ = 1;
    std::vector<DeviceBuffer<bf16>> retired_; // replaced during a call, freed after it
};

} // namespace crossroads::inference::gpu
