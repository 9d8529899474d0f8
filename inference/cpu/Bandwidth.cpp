#include "inference/cpu/Bandwidth.h"

#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/Simd.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

namespace crossroads::inference {

namespace {

// Eight equal parts of the range read in step, one vector from each per iteration: eight
// sequential streams per thread keep more loads in flight than one (on the 2-core EPYC one
// stream per thread read ~10% less), and the decode kernels read their weights the same way, so
// the ceiling is measured the way the engine approaches it.
constexpr int kReadStreams = 8;

__attribute__((target("avx2"))) double readSumAvx2(const float* data, std::size_t n) {
    const std::size_t part = n / kReadStreams / 8 * 8;
    __m256 sums[kReadStreams];
    for (auto& sum : sums)
        sum = _mm256_setzero_ps();
    for (std::size_t i = 0; i < part; i += 8)
        for (int s = 0; s < kReadStreams; ++s)
            sums[s] = _mm256_add_ps(sums[s], _mm256_loadu_ps(data + s * part + i));
    __m256 total = sums[0];
    for (int s = 1; s < kReadStreams; ++s)
        total = _mm256_add_ps(total, sums[s]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, total);
    double sum = 0.0;
    for (const float lane : lanes)
        sum += lane;
    for (std::size_t i = kReadStreams * part; i < n; ++i)
        sum += data[i];
    return sum;
}

// The same with 64-byte loads, where the CPU has them: on the 2-core Xeon they read 2-4% more
// than 32-byte ones, and the ceiling should be the best plain read this machine does.
__attribute__((target("avx512f"))) double readSumAvx512(const float* data, std::size_t n) {
    const std::size_t part = n / kReadStreams / 16 * 16;
    __m512 sums[kReadStreams];
    for (auto& sum : sums)
        sum = _mm512_setzero_ps();
    for (std::size_t i = 0; i < part; i += 16)
        for (int s = 0; s < kReadStreams; ++s)
            sums[s] = _mm512_add_ps(sums[s], _mm512_loadu_ps(data + s * part + i));
    __m512 total = sums[0];
    for (int s = 1; s < kReadStreams; ++s)
        total = _mm512_add_ps(total, sums[s]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, total);
    double sum = 0.0;
    for (const float lane : lanes)
        sum += lane;
    for (std::size_t i = kReadStreams * part; i < n; ++i)
        sum += data[i];
    return sum;
}

} // namespace

// The best plain read this CPU has, whichever kernel family is active: the ceiling a kernel is
// compared with must not move with the kernel.
double readSum(const float* data, std::size_t n) {
    if (isaSupported(Isa::Avx512))
        return readSumAvx512(data, n);
    if (isaSupported(Isa::Avx2))
        return readSumAvx2(data, n);
    return readSumReference(data, n);
}

double readSumReference(const float* data, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i)
        sum += data[i];
    return sum;
}

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, std::size_t bytes)
    : pool_(pool), floats_(bytes / sizeof(float)), slices_(pool.size() * 4) {
    // The weights' kind of memory (LargeBuffer.h), so the ratio compares like with like.
    storage_ = allocateLargeBuffer(floats_ * sizeof(float));
    data_ = reinterpret_cast<float*>(storage_.get());
    perSlice_ = (floats_ / static_cast<std::size_t>(slices_) + 7) & ~std::size_t{7};
    // Pages are first touched by the threads that read them (NUMA placement).
    pool_.parallelFor(slices_, [&](int64_t s) {
        const std::size_t begin = std::min(floats_, static_cast<std::size_t>(s) * perSlice_);
        std::fill(data_ + begin, data_ + std::min(floats_, begin + perSlice_), 1.0f);
    });
}

double ReadBandwidthProbe::passGbPerS() {
    std::vector<double> partial(static_cast<std::size_t>(slices_));
    const auto start = std::chrono::steady_clock::now();
    pool_.parallelFor(slices_, [&](int64_t s) {
        const std::size_t begin = std::min(floats_, static_cast<std::size_t>(s) * perSlice_);
        const std::size_t end = std::min(floats_, begin + perSlice_);
        partial[static_cast<std::size_t>(s)] = readSum(data_ + begin, end - begin);
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    checksum_ = 0.0;
    for (const double p : partial)
        checksum_ += p;
    return static_cast<double>(bytes()) / seconds / 1e9;
}

BandwidthResult measureReadBandwidth(ThreadPool& pool, std::size_t bytes, int repetitions) {
    ReadBandwidthProbe probe(pool, bytes);
    BandwidthResult result;
    result.bytes = probe.bytes();
    result.threads = pool.size();
    double total = 0.0;
    for (int rep = 0; rep < std::max(1, repetitions); ++rep) {
        const double gbPerS = probe.passGbPerS();
        result.gbPerS = std::max(result.gbPerS, gbPerS);
        total += gbPerS;
    }
    result.checksum = probe.checksum();
    result.meanGbPerS = total / std::max(1, repetitions);
    return result;
}

} // namespace crossroads::inference
