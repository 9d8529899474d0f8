#include "inference/cpu/ComputePeak.h"

#include "inference/base/ThreadPool.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/Simd.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>

namespace crossroads::inference {

namespace {

// a < 1 keeps every chain bounded (it converges to b / (1 - a)); each chain starts elsewhere.
constexpr float kScale = 0.999f;
constexpr float kOffset = 0.001f;
float chainStart(int chain) {
    return 1.0f + 0.25f * static_cast<float>(chain);
}

__attribute__((target("avx2,fma"))) double fmaChainsAvx2(int64_t iterations) {
    __m256 acc[kFmaChains];
    for (int i = 0; i < kFmaChains; ++i)
        acc[i] = _mm256_set1_ps(chainStart(i));
    const __m256 a = _mm256_set1_ps(kScale);
    const __m256 b = _mm256_set1_ps(kOffset);
    for (int64_t n = 0; n < iterations; ++n)
        for (auto& chain : acc)
            chain = _mm256_fmadd_ps(chain, a, b);
    double sum = 0.0;
    for (const auto& chain : acc) {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, chain);
        for (const float lane : lanes)
            sum += lane;
    }
    return sum;
}

__attribute__((target("avx512f"))) double fmaChainsAvx512(int64_t iterations) {
    __m512 acc[kFmaChains];
    for (int i = 0; i < kFmaChains; ++i)
        acc[i] = _mm512_set1_ps(chainStart(i));
    const __m512 a = _mm512_set1_ps(kScale);
    const __m512 b = _mm512_set1_ps(kOffset);
    for (int64_t n = 0; n < iterations; ++n)
        for (auto& chain : acc)
            chain = _mm512_fmadd_ps(chain, a, b);
    double sum = 0.0;
    for (const auto& chain : acc) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, chain);
        for (const float lane : lanes)
            sum += lane;
    }
    return sum;
}

} // namespace

int fmaLanes() {
    switch (activeIsa()) {
    case Isa::Avx512:
    case Isa::Avx512Bf16:
        return 16;
    case Isa::Avx2:
        return 8;
    case Isa::Scalar:
        break;
    }
    return 1;
}

double fmaChains(int64_t iterations) {
    switch (activeIsa()) {
    case Isa::Avx512:
    case Isa::Avx512Bf16:
        return fmaChainsAvx512(iterations);
    case Isa::Avx2:
        return fmaChainsAvx2(iterations);
    case Isa::Scalar:
        break;
    }
    return fmaChainsReference(iterations, 1);
}

double fmaChainsReference(int64_t iterations, int lanes) {
    double sum = 0.0;
    for (int i = 0; i < kFmaChains; ++i) {
        float chain = chainStart(i);
        for (int64_t n = 0; n < iterations; ++n)
            chain = std::fma(chain, kScale, kOffset);
        sum += static_cast<double>(chain) * lanes;
    }
    return sum;
}

ComputePeakResult measureFmaPeak(ThreadPool& pool, int64_t iterations, int repetitions) {
    ComputePeakResult result;
    result.threads = pool.size();
    result.lanes = fmaLanes();
    const double flops = 2.0 * kFmaChains * result.lanes * static_cast<double>(iterations) *
                         static_cast<double>(result.threads);
    std::vector<double> checksums(static_cast<std::size_t>(result.threads));
    fmaChains(iterations / 100); // wakes the workers and the vector units
    for (int rep = 0; rep < std::max(1, repetitions); ++rep) {
        const auto start = std::chrono::steady_clock::now();
        pool.parallelFor(result.threads, [&](int64_t t) {
            checksums[static_cast<std::size_t>(t)] = fmaChains(iterations);
        });
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.tflops = std::max(result.tflops, flops / seconds / 1e12);
    }
    result.checksum = checksums.front();
    return result;
}

} // namespace crossroads::inference
