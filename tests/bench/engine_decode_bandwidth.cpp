// Batch-1 decode of presets (BF16, or FP8 for DeepSeek-V3) against the measured read bandwidth.
// Goal (issue 7): >= 92% on every ISA (ggml's BF16 mat-vec read at ~63% on the 2-core Xeon, for
// scale).
//   bench_engine_decode_bandwidth [--model M]... [--isa I]... [--prefetch BYTES]... [--steps N]
//                                 [--threads T] [--fp8]
// --fp8 runs, instead of models, FP8 E4M3 matvecs (DeepSeek-V3's block-scaled weights, 128 x 128
// blocks) at DeepSeek-V3's shapes: a step is the gate (2048 x 7168) or the down (7168 x 2048)
// projection of 8 distinct experts, or one dense 18432 x 7168 (a dense layer's up) and
// 7168 x 18432 (its down) matrix; bytes counted are one per weight plus the F32 scales.
// Goal (the DeepSeek issue): >= 85% of the measured read bandwidth.
// --isa (scalar, avx2, avx512, avx512-bf16; repeatable, default the best this CPU has) runs
// each model's decode on those kernel families in turn, in the same run (FP8 on the AVX-512
// families: on each of their FP8 decode kernels in turn, Kernels.h Fp8DecodeKernel); --prefetch
// (repeatable, default this CPU's setting, decodePrefetchBytes, or with --fp8
// fp8DecodePrefetchBytes) does the same for the decode kernels' software prefetch distance, 0 for
// none. Without --model it runs the four reference presets, truncated to a few layers at full
// width. A shared machine's bandwidth drifts by tens of percent within seconds as other work (other
// VMs included) comes and goes, so the benchmark pairs every decode step with a read pass of
// the bandwidth kernel right before it and reports the median of the per-pair ratios: both
// figures of a pair see the same machine. Prints the ratios; never fails on them (a benchmark,
// not a test).
#include "inference/base/LargeBuffer.h"
#include "inference/base/ThreadPool.h"
#include "inference/bench/Bench.h"
#include "inference/cpu/Bandwidth.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"
#include "inference/model/Fp8.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace crossroads::inference;

namespace {

using Clock = std::chrono::steady_clock;

// Layers kept so that each step reads about a gigabyte or less and the model fits a small
// machine; the embedding and the LM head stay whole (Qwen's 151,936-row head alone is 622 MB).
const std::vector<std::string> kDefaultModels = {
    "preset:mixtral-8x7b?layers=1",
    "preset:qwen3-30b-a3b?layers=2",
    "preset:olmoe-1b-7b?layers=2",
    "preset:qwen1.5-moe-a2.7b?layers=2",
};

struct Options {
    std::vector<std::string> models;
    std::vector<Isa> isas;
    std::vector<int64_t> prefetches;
    int steps = 48;
    int threads = 0;
    bool fp8 = false;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--fp8") {
            options.fp8 = true;
            continue;
        }
        if (i + 1 >= argc)
            throw std::runtime_error("usage: bench_engine_decode_bandwidth [--model M]... "
                                     "[--isa I]... [--prefetch BYTES]... [--steps N] "
                                     "[--threads T]");
        const char* value = argv[++i];
        if (arg == "--model")
            options.models.push_back(value);
        else if (arg == "--isa") {
            bool known = false;
            for (const Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16})
                if (isaName(isa) == value) {
                    options.isas.push_back(isa);
                    known = true;
                }
            if (!known)
                throw std::runtime_error(std::string("unknown ISA ") + value);
        } else if (arg == "--prefetch")
            options.prefetches.push_back(std::atoll(value));
        else if (arg == "--steps")
            options.steps = std::max(2, std::atoi(value));
        else if (arg == "--threads")
            options.threads = std::atoi(value);
        else
            throw std::runtime_error("unknown option " + arg);
    }
    if (options.models.empty())
        options.models = kDefaultModels;
    if (options.isas.empty())
        options.isas.push_back(activeIsa());
    if (options.prefetches.empty() && options.fp8)
        options.prefetches.push_back(fp8DecodePrefetchBytes());
    return options;
}

// The FP8 decode kernels to run in turn under `isa`: for an FP8 model on an AVX-512 family each
// that runs as itself there, otherwise just the current one (the choice means nothing else).
std::vector<Fp8DecodeKernel> fp8DecodeKernelsOf(bool fp8, Isa isa) {
    std::vector<Fp8DecodeKernel> kernels;
    if (fp8)
        for (const Fp8DecodeKernel kernel :
             {Fp8DecodeKernel::Widen256, Fp8DecodeKernel::Widen512, Fp8DecodeKernel::Bf16Dot})
            if (fp8DecodeKernelRuns(kernel, isa))
                kernels.push_back(kernel);
    if (kernels.empty())
        kernels.push_back(fp8DecodeKernel());
    return kernels;
}

// FP8 matvecs at DeepSeek-V3's shapes, each step paired with a read pass as for the models.
void benchFp8(const Options& options) {
    struct Shape {
        const char* name;
        int64_t rows, cols, matrices;
    };
    constexpr int64_t kBlock = 128;
    ThreadPool pool(options.threads);
    ReadBandwidthProbe probe(pool, std::size_t{1} << 30);
    std::printf("batch 1, FP8 E4M3 with 128x128 F32 block scales, %d threads, %d paired steps\n",
                pool.size(), options.steps);
    for (const Shape shape : {Shape{"expert gate/up 2048x7168 x8", 2048, 7168, 8},
                              Shape{"expert down 7168x2048 x8", 7168, 2048, 8},
                              Shape{"dense up 18432x7168", 18432, 7168, 1},
                              Shape{"dense down 7168x18432", 7168, 18432, 1}}) {
        const int64_t scaleCount =
            ((shape.rows + kBlock - 1) / kBlock) * ((shape.cols + kBlock - 1) / kBlock);
        std::vector<std::shared_ptr<std::byte[]>> storage;
        std::vector<std::vector<float>> scales;
        std::vector<Matrix> matrices;
        uint32_t state = 12345;
        for (int64_t m = 0; m < shape.matrices; ++m) {
            const auto bytes = static_cast<std::size_t>(shape.rows * shape.cols);
            storage.push_back(allocateLargeBuffer(bytes));
            auto* weights = reinterpret_cast<uint8_t*>(storage.back().get());
            // As the synthetic models draw them (Weights.cpp): uniform in [-448, 448] rounded
            // to E4M3, so exponent-0 bytes are as rare as in trained weights (random bytes
            // would send most lines of the dot-product kernel down its exact path).
            for (std::size_t i = 0; i < bytes; ++i) {
                state = state * 1664525u + 1013904223u;
                weights[i] =
                    floatToFp8E4M3(static_cast<float>(state >> 8) / 16777216.0f * 896.0f - 448.0f);
            }
            scales.emplace_back(static_cast<std::size_t>(scaleCount), 1.0f / 448.0f);
            Matrix w{WeightType::FP8E4M3, shape.rows, shape.cols, weights};
            w.scales = scales.back().data();
            w.blockRows = w.blockCols = kBlock;
            matrices.push_back(w);
        }
        std::vector<float> x(static_cast<std::size_t>(shape.cols), 0.01f);
        std::vector<float> y(static_cast<std::size_t>(shape.rows));
        double stepBytes = 0;
        for (const Matrix& w : matrices)
            stepBytes += static_cast<double>(w.bytes() + w.scaleBytes());
        // Row tasks of 64 rows at least, a few per thread, as the backend splits a projection.
        const int64_t tasks = std::min<int64_t>(shape.rows / 64, 4 * pool.size());
        const auto step = [&] {
            for (const Matrix& w : matrices)
                pool.parallelFor(tasks, [&](int64_t t) {
                    matmulRows(w, t * w.rows / tasks, (t + 1) * w.rows / tasks, x.data(), w.cols, 1,
                               y.data(), w.rows);
                });
        };
        for (const Isa isa : options.isas)
            for (const int64_t prefetch : options.prefetches)
                for (const Fp8DecodeKernel kernel : fp8DecodeKernelsOf(true, isa)) {
                    setActiveIsa(isa);
                    setFp8DecodePrefetchBytes(prefetch);
                    setFp8DecodeKernel(kernel);
                    for (int warm = 0; warm < 3; ++warm)
                        step();
                    std::vector<double> ratios, reads, decodes;
                    for (int s = 0; s < options.steps; ++s) {
                        const double read = probe.passGbPerS();
                        const auto start = Clock::now();
                        step();
                        const double elapsed =
                            std::chrono::duration<double>(Clock::now() - start).count();
                        reads.push_back(read);
                        decodes.push_back(stepBytes / elapsed / 1e9);
                        ratios.push_back(decodes.back() / read);
                    }
                    std::printf("RATIO fp8 %-28s %-11s %-8s prefetch %4lld matvec/read = %5.1f%% "
                                "(median of %d pairs; quartiles %.1f%%..%.1f%%; matvec %.2f GB/s, "
                                "read %.2f GB/s medians; %.0f MB/step)\n",
                                shape.name, std::string(isaName(isa)).c_str(),
                                std::string(fp8DecodeKernelInEffect()).c_str(),
                                static_cast<long long>(prefetch), 100.0 * quantile(ratios, 0.5),
                                options.steps, 100.0 * quantile(ratios, 0.25),
                                100.0 * quantile(ratios, 0.75), quantile(decodes, 0.5),
                                quantile(reads, 0.5), stepBytes / 1e6);
                    std::fflush(stdout);
                }
        setFp8DecodeKernel(defaultFp8DecodeKernel());
        setFp8DecodePrefetchBytes(defaultFp8DecodePrefetchBytes());
    }
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        if (options.fp8) {
            benchFp8(options);
            return 0;
        }
        std::printf("batch 1, BF16, %d threads, %d paired steps per model and ISA\n",
                    options.threads > 0 ? options.threads
                                        : static_cast<int>(std::thread::hardware_concurrency()),
                    options.steps);
        for (const std::string& spec : options.models) {
            const Model model = [&] {
                ThreadPool pool(options.threads);
                return loadModel(spec, &pool);
            }();
            CpuBackend backend(model, options.threads);
            ReadBandwidthProbe probe(backend.pool(), std::size_t{1} << 30);
            // An FP8 model (DeepSeek-V3's) decodes on the FP8 kernels, whose prefetch knob is
            // their own; the default is the one for the model's weights.
            const bool fp8 = model.weights.type == WeightType::FP8E4M3;
            const std::vector<int64_t> prefetches =
                !options.prefetches.empty() ? options.prefetches
                : fp8                       ? std::vector<int64_t>{fp8DecodePrefetchBytes()}
                                            : std::vector<int64_t>{decodePrefetchBytes()};
            for (const Isa isa : options.isas)
                for (const int64_t prefetch : prefetches)
                    for (const Fp8DecodeKernel kernel : fp8DecodeKernelsOf(fp8, isa)) {
                        setActiveIsa(isa);
                        (fp8 ? setFp8DecodePrefetchBytes : setDecodePrefetchBytes)(prefetch);
                        setFp8DecodeKernel(kernel);
                        const SequenceId sequence = backend.newSequence();
                        const int64_t vocab = model.config.vocabSize;
                        std::vector<int32_t> prompt;
                        for (int32_t i = 0; i < 8; ++i)
                            prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
                        std::vector<float> logits = backend.prefill(sequence, prompt);
                        const auto next = [&] {
                            return static_cast<int32_t>(
                                std::max_element(logits.begin(), logits.end()) - logits.begin());
                        };
                        // Warm-up: scratch buffers grow, the pool's threads get going.
                        for (int step = 0; step < 3; ++step) {
                            const int32_t token = next();
                            logits = backend.decode(std::span<const SequenceId>(&sequence, 1),
                                                    std::span<const int32_t>(&token, 1));
                        }
                        std::vector<double> ratios, reads, decodes;
                        double bytes = 0, seconds = 0;
                        for (int step = 0; step < options.steps; ++step) {
                            const double read = probe.passGbPerS();
                            const int32_t token = next();
                            const auto start = Clock::now();
                            logits = backend.decode(std::span<const SequenceId>(&sequence, 1),
                                                    std::span<const int32_t>(&token, 1));
                            const double elapsed =
                                std::chrono::duration<double>(Clock::now() - start).count();
                            const double stepBytes =
                                backend.lastStats().weightBytes + backend.lastStats().kvBytes;
                            bytes += stepBytes;
                            seconds += elapsed;
                            reads.push_back(read);
                            decodes.push_back(stepBytes / elapsed / 1e9);
                            ratios.push_back(decodes.back() / read);
                        }
                        std::printf(
                            "RATIO %-34s %-11s %-8s prefetch %4lld decode/read = %5.1f%% (median "
                            "of %d "
                            "pairs; "
                            "quartiles %.1f%%..%.1f%%; decode %.2f GB/s, read %.2f GB/s medians; "
                            "%.1f tok/s, %.0f MB/step)\n",
                            spec.c_str(), std::string(isaName(isa)).c_str(),
                            fp8 ? std::string(fp8DecodeKernelInEffect()).c_str() : "",
                            static_cast<long long>(prefetch), 100.0 * quantile(ratios, 0.5),
                            options.steps, 100.0 * quantile(ratios, 0.25),
                            100.0 * quantile(ratios, 0.75), quantile(decodes, 0.5),
                            quantile(reads, 0.5), static_cast<double>(options.steps) / seconds,
                            bytes / options.steps / 1e6);
                        std::fflush(stdout);
                        backend.releaseSequence(sequence);
                    }
            setFp8DecodeKernel(defaultFp8DecodeKernel());
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_decode_bandwidth: %s\n", error.what());
        return 1;
    }
}
