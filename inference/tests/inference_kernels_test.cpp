#include "Check.h"
#include "IsaCheck.h"
#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/cpu/Bandwidth.h"
#include "inference/cpu/ComputePeak.h"
#include "inference/cpu/Kernels.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

using namespace crossroads::inference;

namespace {

struct TestMatrix {
    std::vector<float> f32;
    std::vector<uint16_t> bf16;
    Matrix matrix(WeightType type, int64_t rows, int64_t cols) const {
        return Matrix{type, rows, cols,
                      type == WeightType::F32 ? static_cast<const void*>(f32.data()) : bf16.data()};
    }
};

// matmulRows holds to its double-accumulating reference on every ISA, dtype, tail and stride,
// with the decode kernels' software prefetch off and on (the default differs by CPU vendor).
// Runs under the ISA the caller made active.
void matmulMatchesReference() {
    std::mt19937 random(3);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const Isa isa = activeIsa();
    for (const int64_t prefetch : {int64_t{0}, int64_t{1024}}) {
        setDecodePrefetchBytes(prefetch);
        for (const auto type : {WeightType::F32, WeightType::BF16}) {
            for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1},
                                                                                     {5, 7},
                                                                                     {37, 64},
                                                                                     {64, 200},
                                                                                     {130, 33},
                                                                                     {16, 1024},
                                                                                     {203, 48},
                                                                                     {41, 1040},
                                                                                     {48, 600}}) {
                for (const int64_t tokens : {1, 2, 3, 5, 9, 16, 23, 37}) {
                    TestMatrix storage;
                    for (int64_t i = 0; i < rows * cols; ++i) {
                        storage.bf16.push_back(floatToBf16(uniform(random)));
                        storage.f32.push_back(bf16ToFloat(storage.bf16.back()) +
                                              uniform(random) * 1e-3f);
                    }
                    const Matrix w = storage.matrix(type, rows, cols);
                    const int64_t xStride = cols + 3;
                    const int64_t yStride = rows + 2;
                    std::vector<float> x(static_cast<std::size_t>(tokens * xStride));
                    for (auto& value : x)
                        value = uniform(random);
                    std::vector<float> rounded = x;
                    if (matmulActivationRounding(w.type) == ActivationRounding::Bf16)
                        for (auto& value : rounded)
                            value = bf16ToFloat(floatToBf16(value));
                    std::vector<float> y(static_cast<std::size_t>(tokens * yStride), -7.0f);
                    std::vector<float> expected = y;
                    // Only rows [1, rows) are asked for: row 0 must stay untouched.
                    const int64_t first = rows > 1 ? 1 : 0;
                    matmulRows(w, first, rows, x.data(), xStride, tokens, y.data(), yStride);
                    matmulRowsReference(w, first, rows, rounded.data(), xStride, tokens,
                                        expected.data(), yStride);
                    double worst = 0.0;
                    for (std::size_t i = 0; i < y.size(); ++i)
                        worst = std::max(worst, std::fabs(static_cast<double>(y[i]) - expected[i]));
                    // F32 accumulation of |terms| <= 1: error grows like sqrt(cols) x 2^-24.
                    const double tolerance = 1e-5 * std::sqrt(static_cast<double>(cols)) + 1e-6;
                    if (worst > tolerance)
                        check::fail(
                            __FILE__, __LINE__,
                            std::string(isaName(isa)) + " prefetch " + std::to_string(prefetch) +
                                " " + std::string(weightTypeName(type)) + " " +
                                std::to_string(rows) + "x" + std::to_string(cols) + " t" +
                                std::to_string(tokens) + ": error " + std::to_string(worst));
                }
            }
        }
        std::vector<float> a(301), b(301), y(301), yRef(301);
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = uniform(random);
            b[i] = uniform(random);
            y[i] = yRef[i] = uniform(random);
        }
        CHECK_NEAR(dotF32(a.data(), b.data(), 301), dotF32Reference(a.data(), b.data(), 301), 1e-4);
        axpyF32(0.37f, a.data(), y.data(), 301);
        axpyF32Reference(0.37f, a.data(), yRef.data(), 301);
        for (std::size_t i = 0; i < y.size(); ++i)
            CHECK_NEAR(y[i], yRef[i], 1e-6);
        std::vector<float> buffer(100003);
        for (auto& value : buffer)
            value = uniform(random);
        CHECK_NEAR(readSum(buffer.data(), buffer.size()),
                   readSumReference(buffer.data(), buffer.size()), 1e-2);
        // The FMA-peak chains compute what their scalar reference computes, bit for bit.
        CHECK(fmaChains(1000) == fmaChainsReference(1000, fmaLanes()));
    }
    setDecodePrefetchBytes(defaultDecodePrefetchBytes());
    std::printf("kernels checked on %s\n", std::string(isaName(isa)).c_str());
}

// attendPart holds to its reference on every ISA: maxima, sums and outputs of a part, for
// groups of 1 to 8 heads, head sizes with and without a vector tail, and empty parts.
void attentionMatchesReference() {
    std::mt19937 random(5);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    {
        for (const int64_t group : {1, 4, 8})
            for (const int64_t headDim : {64, 128, 72, 36}) {
                const int64_t kvHeads = 2, stride = kvHeads * headDim + 5, positions = 300;
                std::vector<float> q(static_cast<std::size_t>(group * headDim));
                std::vector<float> keys(static_cast<std::size_t>(positions * stride));
                std::vector<float> values(keys.size());
                for (auto* v : {&q, &keys, &values})
                    for (auto& x : *v)
                        x = 3.0f * uniform(random);
                const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
                for (const auto& [begin, end] : std::vector<std::pair<int64_t, int64_t>>{
                         {0, 1}, {0, 300}, {17, 160}, {40, 40}}) {
                    const auto g = static_cast<std::size_t>(group);
                    std::vector<float> scores(g * static_cast<std::size_t>(end - begin + 1));
                    std::vector<float> maxScore(g), sumExp(g), out(g * headDim, 9.0f);
                    std::vector<float> refMax(g), refSum(g), refOut(g * headDim);
                    // The second KV head: rows start headDim floats in.
                    attendPart(q.data(), group, headDim, keys.data() + headDim,
                               values.data() + headDim, stride, begin, end, scale, scores.data(),
                               maxScore.data(), sumExp.data(), out.data());
                    attendPartReference(q.data(), group, headDim, keys.data() + headDim,
                                        values.data() + headDim, stride, begin, end, scale,
                                        refMax.data(), refSum.data(), refOut.data());
                    for (std::size_t h = 0; h < g; ++h) {
                        if (begin == end) {
                            CHECK(std::isinf(maxScore[h]) && sumExp[h] == 0.0f);
                            for (int64_t d = 0; d < headDim; ++d)
                                CHECK(out[h * headDim + d] == 0.0f);
                            continue;
                        }
                        CHECK_NEAR(maxScore[h], refMax[h], 1e-5);
                        CHECK_NEAR(sumExp[h] / refSum[h], 1.0, 1e-5);
                        for (int64_t d = 0; d < headDim; ++d)
                            CHECK_NEAR(out[h * headDim + d] / sumExp[h],
                                       refOut[h * headDim + d] / refSum[h], 1e-5);
                    }
                }
            }
    }
}

// The vector rounding to BF16 is floatToBf16 bit for bit: ties to even both ways, NaN, both
// infinities, the largest finite values (which round to infinity), denormals and zeros.
void bf16RoundingIsExact() {
    std::vector<float> x;
    std::mt19937 random(9);
    for (int i = 0; i < 4000; ++i) {
        uint32_t bits = static_cast<uint32_t>(random());
        if (i % 4 == 0)
            bits = (bits & 0xffff0000u) | 0x8000u; // exactly halfway
        float value;
        std::memcpy(&value, &bits, sizeof value);
        x.push_back(value);
    }
    for (const float special : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 3.4028235e38f, 1e-40f,
                                -1e-40f, 1.0f, 1.00390625f, 1.01171875f})
        x.push_back(special);
    std::vector<uint16_t> out(x.size());
    roundToBf16(x.data(), static_cast<int64_t>(x.size()), out.data());
    int wrong = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        wrong += out[i] != floatToBf16(x[i]) ? 1 : 0;
    CHECK(wrong == 0);
}

void threadPoolRunsEveryTaskOnce() {
    ThreadPool pool(3);
    CHECK(pool.size() == 3);
    for (int round = 0; round < 200; ++round) {
        const int64_t tasks = round % 17;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
        pool.parallelFor(tasks, [&](int64_t t) { hits[static_cast<std::size_t>(t)]++; });
        for (auto& hit : hits)
            CHECK(hit.load() == 1);
    }
}

// A task that throws does not stop the others; its exception reaches the caller once every
// claimed task is done, and the pool keeps working.
void threadPoolPassesExceptionsOn() {
    ThreadPool pool(3);
    for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> hits(40);
        bool threw = false;
        try {
            pool.parallelFor(40, [&](int64_t t) {
                hits[static_cast<std::size_t>(t)]++;
                if (t == round)
                    throw EngineError("task " + std::to_string(t) + " failed");
            });
        } catch (const EngineError& error) {
            threw = std::string(error.what()) == "task " + std::to_string(round) + " failed";
        }
        CHECK(threw);
        for (auto& hit : hits)
            CHECK(hit.load() == 1);
    }
    std::atomic<int64_t> sum{0};
    pool.parallelFor(100, [&](int64_t t) { sum += t; });
    CHECK(sum.load() == 4950);
}

// More threads than cores (workers get descheduled mid-dispatch, arrive late or not at all),
// dispatches back to back and after the workers fell asleep: every task runs exactly once and
// never under a later dispatch's function.
void threadPoolUnderOversubscription() {
    ThreadPool pool(static_cast<int>(std::thread::hardware_concurrency()) + 3);
    std::atomic<int> current{-1};
    std::atomic<int> outOfTurn{0};
    bool everyTaskOnce = true;
    for (int round = 0; round < 3000; ++round) {
        const int64_t tasks = round % 64 + 1;
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
        current = round;
        pool.parallelFor(tasks, [&, round](int64_t t) {
            // A stale worker running an earlier dispatch's function would see a newer round.
            if (current.load() != round)
                outOfTurn++;
            hits[static_cast<std::size_t>(t)]++;
        });
        for (auto& hit : hits)
            everyTaskOnce = everyTaskOnce && hit.load() == 1;
    }
    CHECK(everyTaskOnce);
    CHECK(outOfTurn.load() == 0);
    for (int round = 0; round < 3; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30)); // the workers fall asleep
        std::atomic<int> count{0};
        pool.parallelFor(1000, [&](int64_t) { count++; });
        CHECK(count.load() == 1000);
    }
}

void computePeakRuns() {
    ThreadPool pool(2);
    const ComputePeakResult result = measureFmaPeak(pool, 100'000, 2);
    CHECK(result.tflops > 0.0 && result.threads == 2 && result.lanes == fmaLanes());
    CHECK(result.checksum == fmaChainsReference(100'000, result.lanes));
}

void bandwidthKernelRuns() {
    ThreadPool pool(2);
    const BandwidthResult result = measureReadBandwidth(pool, std::size_t{16} << 20, 2);
    CHECK(result.gbPerS > 0.0 && result.threads == 2);
    CHECK_NEAR(result.checksum, static_cast<double>(result.bytes / sizeof(float)), 1.0);
    ReadBandwidthProbe probe(pool, (std::size_t{8} << 20) + 44); // not a whole number of slices
    CHECK(probe.passGbPerS() > 0.0 && probe.passGbPerS() > 0.0);
    CHECK_NEAR(probe.checksum(), static_cast<double>(probe.bytes() / sizeof(float)), 1.0);
}

// Large buffers: zeroed, writable to the last byte, aligned for vectors and, from a huge page
// up, for huge pages.
void largeBuffers() {
    for (const std::size_t bytes : {std::size_t{0}, std::size_t{100}, std::size_t{1} << 20,
                                    kHugePageBytes, (std::size_t{5} << 20) + 123}) {
        const auto buffer = allocateLargeBuffer(bytes);
        CHECK(buffer != nullptr);
        const auto address = reinterpret_cast<std::uintptr_t>(buffer.get());
        CHECK(address % 64 == 0);
        if (bytes >= kHugePageBytes)
            CHECK(address % kHugePageBytes == 0);
        bool zero = true;
        for (std::size_t i = 0; i < bytes; ++i)
            zero = zero && buffer[i] == std::byte{0};
        CHECK(zero);
        if (bytes > 0) {
            buffer[0] = std::byte{1};
            buffer[bytes - 1] = std::byte{2};
            CHECK(buffer[bytes - 1] == std::byte{2});
        }
    }
}

} // namespace

// inference_kernels_test ISA: the kernels of one instruction set against their references;
// exits 77 (CTest: skipped) with the reason when this CPU lacks it. inference_kernels_test
// common: thread pool, probes and buffers. No argument: all of it, on every ISA this CPU has.
int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "";
    try {
        std::vector<Isa> isas;
        if (const auto stop = check::isasFromArgument(what, isas))
            return *stop;
        const Isa original = activeIsa();
        for (const Isa isa : isas) {
            setActiveIsa(isa);
            matmulMatchesReference();
            attentionMatchesReference();
        }
        setActiveIsa(original);
        if (what.empty() || what == "common") {
            bf16RoundingIsExact();
            threadPoolRunsEveryTaskOnce();
            threadPoolPassesExceptionsOn();
            threadPoolUnderOversubscription();
            computePeakRuns();
            bandwidthKernelRuns();
            largeBuffers();
            CHECK_THROWS_WITH(
                [] {
                    for (const Isa isa : {Isa::Avx512Bf16, Isa::Avx512, Isa::Avx2})
                        if (!isaSupported(isa))
                            setActiveIsa(isa);
                    throw EngineError("this CPU does not support anything missing");
                }(),
                "this CPU does not support");
        }
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_kernels_test");
}
