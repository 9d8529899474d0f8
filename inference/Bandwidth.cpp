#include "inference/Bandwidth.h"

#include "inference/Kernels.h"
#include "inference/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <immintrin.h>
#include <memory>
#include <vector>

namespace crossroads::inference {

namespace {

__attribute__((target("avx2"))) double readSumAvx2(const float* data, std::size_t n) {
    // Four independent accumulators keep several loads in flight per core.
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(data + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(data + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(data + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(data + i + 24));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    double sum = 0.0;
    for (const float lane : lanes)
        sum += lane;
    for (; i < n; ++i)
        sum += data[i];
    return sum;
}

} // namespace

double readSum(const float* data, std::size_t n) {
    if (activeIsa() != Isa::Scalar)
        return readSumAvx2(data, n);
    return readSumReference(data, n);
}

double readSumReference(const float* data, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i)
        sum += data[i];
    return sum;
}

BandwidthResult measureReadBandwidth(ThreadPool& pool, std::size_t bytes, int repetitions) {
    const std::size_t floats = bytes / sizeof(float);
    const std::unique_ptr<float[]> buffer(new float[floats]);
    const int64_t slices = pool.size() * 4;
    const std::size_t perSlice = (floats / static_cast<std::size_t>(slices) + 7) & ~std::size_t{7};
    const auto sliceRange = [&](int64_t s) {
        const std::size_t begin = std::min(floats, static_cast<std::size_t>(s) * perSlice);
        return std::pair{begin, std::min(floats, begin + perSlice)};
    };
    // Pages are first touched by the threads that read them (NUMA placement).
    pool.parallelFor(slices, [&](int64_t s) {
        const auto [begin, end] = sliceRange(s);
        std::fill(buffer.get() + begin, buffer.get() + end, 1.0f);
    });
    BandwidthResult result;
    result.bytes = floats * sizeof(float);
    result.threads = pool.size();
    std::vector<double> partial(static_cast<std::size_t>(slices));
    double total = 0.0;
    for (int rep = 0; rep < std::max(1, repetitions); ++rep) {
        const auto start = std::chrono::steady_clock::now();
        pool.parallelFor(slices, [&](int64_t s) {
            const auto [begin, end] = sliceRange(s);
            partial[static_cast<std::size_t>(s)] = readSum(buffer.get() + begin, end - begin);
        });
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double gbPerS = static_cast<double>(result.bytes) / seconds / 1e9;
        result.gbPerS = std::max(result.gbPerS, gbPerS);
        total += gbPerS;
        result.checksum = 0.0;
        for (const double p : partial)
            result.checksum += p;
    }
    result.meanGbPerS = total / std::max(1, repetitions);
    return result;
}

} // namespace crossroads::inference
