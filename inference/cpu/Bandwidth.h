// Measured memory read bandwidth (a STREAM-like "read" kernel): every thread of the pool sums its
// slices of a buffer far larger than the caches with vector loads, eight sequential streams per
// slice, from huge pages like the weights (LargeBuffer.h). The ceiling the decode benchmark is
// compared with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace crossroads::inference {

class ThreadPool;

struct BandwidthResult {
    double gbPerS = 0; // best of the repetitions (as STREAM reports)
    double meanGbPerS = 0;
    std::size_t bytes = 0;
    int threads = 0;
    double checksum = 0; // keeps the reads alive; equals readChecksumReference
};

BandwidthResult measureReadBandwidth(ThreadPool& pool, std::size_t bytes = std::size_t{1} << 30,
                                     int repetitions = 5);

// The same read, one pass at a time over a buffer kept between passes: for benchmarks that
// alternate a read pass with the work they compare against it, so that both see the same
// machine (a shared machine's bandwidth drifts by tens of percent within seconds).
class ReadBandwidthProbe {
public:
    ReadBandwidthProbe(ThreadPool& pool, std::size_t bytes);
    // One timed pass over the whole buffer, GB/s.
    double passGbPerS();
    std::size_t bytes() const { return floats_ * sizeof(float); }
    double checksum() const { return checksum_; } // of the last pass

private:
    ThreadPool& pool_;
    std::shared_ptr<std::byte[]> storage_;
    float* data_ = nullptr;
    std::size_t floats_ = 0;
    int64_t slices_ = 0;
    std::size_t perSlice_ = 0;
    double checksum_ = 0;
};

// The vectorised read of n floats, and its plain reference (for the test).
double readSum(const float* data, std::size_t n);
double readSumReference(const float* data, std::size_t n);

} // namespace crossroads::inference
