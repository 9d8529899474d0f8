// Prefill arithmetic against the measured FMA peak of this machine (ComputePeak.h).
//   bench_engine_prefill_gemm [--model M]... [--tokens N]... [--prompt N] [--rounds N]
//                             [--threads T]
// Two parts, each paired with an FMA-peak pass right before it (a shared machine's speed drifts;
// both figures of a pair see the same machine), median of the per-pair ratios:
//  - matmulRows alone on BF16 matrices of the reference MoE shapes, over the pool in row blocks
//    as the backend dispatches them, at the token counts an expert sees in prefill;
//  - the whole prefill of an N-token prompt through the CPU backend on presets (attention,
//    routing, gathers and all), analytic FLOPs over wall time.
// Prints the ratios; never fails on them (a benchmark, not a test).
#include "inference/base/ThreadPool.h"
#include "inference/bench/Bench.h"
#include "inference/cpu/ComputePeak.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace crossroads::inference;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::vector<std::string> models;
    std::vector<int64_t> tokens;
    int64_t prompt = 256;
    int rounds = 5;
    int threads = 0;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc)
            throw std::runtime_error("usage: bench_engine_prefill_gemm [--model M]... "
                                     "[--tokens N]... [--prompt N] [--rounds N] [--threads T]");
        const char* value = argv[++i];
        if (arg == "--model")
            options.models.push_back(value);
        else if (arg == "--tokens")
            options.tokens.push_back(std::max<int64_t>(1, std::atoll(value)));
        else if (arg == "--prompt")
            options.prompt = std::max<int64_t>(1, std::atoll(value));
        else if (arg == "--rounds")
            options.rounds = std::max(1, std::atoi(value));
        else if (arg == "--threads")
            options.threads = std::atoi(value);
        else
            throw std::runtime_error("unknown option " + arg);
    }
    if (options.models.empty())
        options.models = {"preset:mixtral-8x7b?layers=1", "preset:qwen3-30b-a3b?layers=2"};
    if (options.tokens.empty())
        options.tokens = {8, 16, 32, 128, 512};
    return options;
}

// One FMA-peak pass of about a tenth of a second.
double peakPass(ThreadPool& pool) {
    return measureFmaPeak(pool, 10'000'000, 1).tflops;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        ThreadPool pool(options.threads);
        std::printf("%s, %d threads, FMA peak %.1f GFLOP/s (best of 5)\n",
                    std::string(isaName(activeIsa())).c_str(), pool.size(),
                    measureFmaPeak(pool).tflops * 1e3);

        // Shapes [rows x cols] of expert projections: Mixtral gate/up and down, Qwen3 and OLMoE
        // expert gate/up, Qwen3 expert down.
        const std::vector<std::pair<int64_t, int64_t>> shapes = {
            {14336, 4096}, {4096, 14336}, {768, 2048}, {1024, 2048}, {2048, 768}};
        std::mt19937 random(7);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        for (const auto& shape : shapes) {
            // Plain locals: lambdas below capture them (clang 14 does not capture bindings).
            const int64_t rows = shape.first;
            const int64_t cols = shape.second;
            std::vector<uint16_t> weights(static_cast<std::size_t>(rows * cols));
            for (auto& w : weights)
                w = floatToBf16(uniform(random));
            const Matrix w{WeightType::BF16, rows, cols, weights.data()};
            for (const int64_t tokens : options.tokens) {
                std::vector<float> x(static_cast<std::size_t>(tokens * cols));
                std::vector<float> y(static_cast<std::size_t>(tokens * rows));
                for (auto& value : x)
                    value = uniform(random);
                const int64_t block = 64;
                const auto run = [&] {
                    pool.parallelFor((rows + block - 1) / block, [&](int64_t task) {
                        const int64_t begin = task * block;
                        matmulRows(w, begin, std::min(rows, begin + block), x.data(), cols, tokens,
                                   y.data(), rows);
                    });
                };
                // The AVX-512 families' two kernels at this count, interleaved round by round:
                // the packed GEMM, then the dot-product kernels.
                const int64_t defaultMin = packedGemmMinTokens();
                const bool both = activeIsa() == Isa::Avx512 || activeIsa() == Isa::Avx512Bf16;
                run(); // warm-up
                std::vector<double> ratios, rates, dotRatios, dotRates;
                for (int round = 0; round < options.rounds; ++round) {
                    for (int kernel = 0; kernel < (both ? 2 : 1); ++kernel) {
                        if (both)
                            setPackedGemmMinTokens(kernel == 0 ? 1 : tokens + 1);
                        const double peak = peakPass(pool);
                        const auto start = Clock::now();
                        run();
                        const double seconds =
                            std::chrono::duration<double>(Clock::now() - start).count();
                        const double tflops =
                            2.0 * static_cast<double>(rows * cols * tokens) / seconds / 1e12;
                        (kernel == 0 ? rates : dotRates).push_back(tflops);
                        (kernel == 0 ? ratios : dotRatios).push_back(tflops / peak);
                    }
                }
                setPackedGemmMinTokens(defaultMin);
                std::printf("RATIO gemm %5lldx%-5lld x %3lld tokens: %5.1f%% of the FMA peak "
                            "(median of %d pairs; %.1f GFLOP/s)",
                            static_cast<long long>(rows), static_cast<long long>(cols),
                            static_cast<long long>(tokens), 100.0 * quantile(ratios, 0.5),
                            options.rounds, quantile(rates, 0.5) * 1e3);
                if (both)
                    std::printf("; dot-product kernels %5.1f%% (%.1f GFLOP/s)",
                                100.0 * quantile(dotRatios, 0.5), quantile(dotRates, 0.5) * 1e3);
                std::printf("\n");
                std::fflush(stdout);
            }
        }

        for (const std::string& spec : options.models) {
            const Model model = loadModel(spec, &pool);
            CpuBackend backend(model, options.threads);
            std::vector<int32_t> prompt;
            for (int64_t i = 0; i < options.prompt; ++i)
                prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % model.config.vocabSize));
            const auto prefill = [&] {
                const SequenceId sequence = backend.newSequence();
                const auto start = Clock::now();
                backend.prefill(sequence, prompt);
                const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
                backend.releaseSequence(sequence);
                return seconds;
            };
            prefill(); // warm-up: faults the weights in, grows the scratch
            std::vector<double> ratios, rates, speeds;
            for (int round = 0; round < options.rounds; ++round) {
                const double peak = peakPass(backend.pool());
                const double seconds = prefill();
                const double tflops = backend.lastStats().flops / seconds / 1e12;
                rates.push_back(tflops);
                ratios.push_back(tflops / peak);
                speeds.push_back(static_cast<double>(options.prompt) / seconds);
            }
            std::printf("RATIO prefill %-32s %lld tokens: %5.1f%% of the FMA peak (median of %d "
                        "pairs; %.1f GFLOP/s, %.1f tok/s)\n",
                        spec.c_str(), static_cast<long long>(options.prompt),
                        100.0 * quantile(ratios, 0.5), options.rounds, quantile(rates, 0.5) * 1e3,
                        quantile(speeds, 0.5));
            std::fflush(stdout);
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_prefill_gemm: %s\n", error.what());
        return 1;
    }
}
