// Batch-1 decode of BF16 presets against the measured read bandwidth of this machine.
// Goal (issue 7): >= 92% on every ISA (ggml's BF16 mat-vec read at ~63% on the 2-core Xeon, for
// scale).
//   bench_engine_decode_bandwidth [--model M]... [--isa I]... [--prefetch BYTES]... [--steps N]
//                                 [--threads T]
// --isa (scalar, avx2, avx512, avx512-bf16; repeatable, default the best this CPU has) runs
// each model's decode on those kernel families in turn, in the same run; --prefetch (repeatable,
// default this CPU's setting, decodePrefetchBytes) does the same for the decode kernels'
// software prefetch distance, 0 for none.
// Without --model it runs the four reference presets, truncated to a few layers at full width.
// A shared machine's bandwidth drifts by tens of percent within seconds as other work (other
// VMs included) comes and goes, so the benchmark pairs every decode step with a read pass of
// the bandwidth kernel right before it and reports the median of the per-pair ratios: both
// figures of a pair see the same machine. Prints the ratios; never fails on them (a benchmark,
// not a test).
#include "inference/base/ThreadPool.h"
#include "inference/bench/Bench.h"
#include "inference/cpu/Bandwidth.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"

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
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
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
    if (options.prefetches.empty())
        options.prefetches.push_back(decodePrefetchBytes());
    return options;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
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
            for (const Isa isa : options.isas)
                for (const int64_t prefetch : options.prefetches) {
                    setActiveIsa(isa);
                    setDecodePrefetchBytes(prefetch);
                    const SequenceId sequence = backend.newSequence();
                    const int64_t vocab = model.config.vocabSize;
                    std::vector<int32_t> prompt;
                    for (int32_t i = 0; i < 8; ++i)
                        prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
                    std::vector<float> logits = backend.prefill(sequence, prompt);
                    const auto next = [&] {
                        return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) -
                                                    logits.begin());
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
                        "RATIO %-34s %-11s prefetch %4lld decode/read = %5.1f%% (median of %d "
                        "pairs; "
                        "quartiles %.1f%%..%.1f%%; decode %.2f GB/s, read %.2f GB/s medians; "
                        "%.1f tok/s, %.0f MB/step)\n",
                        spec.c_str(), std::string(isaName(isa)).c_str(),
                        static_cast<long long>(prefetch), 100.0 * quantile(ratios, 0.5),
                        options.steps, 100.0 * quantile(ratios, 0.25),
                        100.0 * quantile(ratios, 0.75), quantile(decodes, 0.5),
                        quantile(reads, 0.5), static_cast<double>(options.steps) / seconds,
                        bytes / options.steps / 1e6);
                    std::fflush(stdout);
                    backend.releaseSequence(sequence);
                }
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_decode_bandwidth: %s\n", error.what());
        return 1;
    }
}
