#include "inference/cuda/KvCache.h"

#include "inference/cuda/ModelDims.h"

#include <algorithm>
#include <string>
#include <utility>

namespace crossroads::inference::gpu {

namespace {

// A new sequence's cache holds this many positions; it doubles when full.
constexpr int kInitialCapacity = 256;

} // namespace

std::size_t KvCaches::elements(int capacity) const {
    return 2 * static_cast<std::size_t>(layers_) * static_cast<std::size_t>(capacity) *
           static_cast<std::size_t>(kvDim_);
}

SequenceId KvCaches::create() {
    SequenceCache sequence;
    sequence.kv.resize(elements(kInitialCapacity), "a sequence's KV cache");
    sequence.capacity = kInitialCapacity;
    const SequenceId id = next_++;
    sequences_.emplace(id, std::move(sequence));
    return id;
}

SequenceCache& KvCaches::at(SequenceId id) {
    const auto found = sequences_.find(id);
    if (found == sequences_.end())
        throw EngineError("unknown sequence " + std::to_string(id));
    return found->second;
}

const SequenceCache& KvCaches::at(SequenceId id) const {
    const auto found = sequences_.find(id);
    if (found == sequences_.end())
        throw EngineError("unknown sequence " + std::to_string(id));
    return found->second;
}

void KvCaches::erase(SequenceId id) {
    sequences_.erase(id);
}

// The cached positions move in one 2-D copy: one row per layer and K/V, each `length` positions
// of the old block's pitch into the new block's pitch.
void KvCaches::ensureCapacity(SequenceCache& sequence, int64_t positions, cudaStream_t stream) {
    if (positions <= sequence.capacity)
        return;
    int64_t capacity = std::max<int64_t>(positions, 2 * static_cast<int64_t>(sequence.capacity));
    capacity = (capacity + kInitialCapacity - 1) / kInitialCapacity * kInitialCapacity;
    const int newCapacity = toInt(capacity, "the KV cache capacity");
    DeviceBuffer<bf16> grown(elements(newCapacity), "a sequence's KV cache");
    if (sequence.length > 0) {
        const std::size_t rowBytes = static_cast<std::size_t>(kvDim_) * sizeof(bf16);
        CUDA_CHECK(cudaMemcpy2DAsync(
            grown.get(), rowBytes * static_cast<std::size_t>(newCapacity), sequence.kv.get(),
            rowBytes * static_cast<std::size_t>(sequence.capacity),
            rowBytes * static_cast<std::size_t>(sequence.length),
            2 * static_cast<std::size_t>(layers_), cudaMemcpyDeviceToDevice, stream));
    }
    retired_.push_back(std::move(sequence.kv));
    sequence.kv = std::move(grown);
    sequence.capacity = newCapacity;
}

} // namespace crossroads::inference::gpu
