// Measured memory read bandwidth (STREAM-like "read" kernel): every thread of the pool sums its
// slice of a buffer far larger than the caches with vector loads. The ceiling the decode
// benchmark is compared with.
#pragma once

#include <cstddef>
#include <cstdint>

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

// The vectorised read of n floats, and its plain reference (for the test).
double readSum(const float* data, std::size_t n);
double readSumReference(const float* data, std::size_t n);

} // namespace crossroads::inference
