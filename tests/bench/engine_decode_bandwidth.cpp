// Batch-1 decode of a BF16 preset against the measured read bandwidth of this machine.
// Goal: >= 80% (ggml's BF16 mat-vec reaches ~65% on the development machine, for scale).
//   bench_engine_decode_bandwidth [MODEL] [GEN_TOKENS] [THREADS]
// MODEL defaults to preset:mixtral-8x7b?layers=1 (two 14336x4096 experts per token, ~1 GB read
// per step). Prints the ratio; never fails on it (a benchmark, not a test).
#include "inference/Bandwidth.h"
#include "inference/Bench.h"
#include "inference/Kernels.h"
#include "inference/ThreadPool.h"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace crossroads::inference;

int main(int argc, char** argv) {
    try {
        const std::string model = argc > 1 ? argv[1] : "preset:mixtral-8x7b?layers=1";
        const int64_t gen = argc > 2 ? std::atoll(argv[2]) : 32;
        const int threads = argc > 3 ? std::atoi(argv[3]) : 0;
        ThreadPool pool(threads);
        const BandwidthResult bandwidth = measureReadBandwidth(pool, std::size_t{2} << 30, 5);
        std::printf(
            "read bandwidth: %.2f GB/s best, %.2f GB/s mean (%d threads, %.0f MiB buffer)\n",
            bandwidth.gbPerS, bandwidth.meanGbPerS, bandwidth.threads,
            static_cast<double>(bandwidth.bytes) / (1 << 20));
        const Model loaded = loadModel(model, &pool);
        BenchOptions options;
        options.promptTokens = 8;
        options.genTokens = gen;
        options.batch = 1;
        options.repetitions = 3;
        options.threads = threads;
        options.measuredBandwidthGbPerS = bandwidth.gbPerS;
        const BenchResult result = runBench(loaded, options);
        std::printf("%s", benchResultTable(result).c_str());
        for (const auto& phase : result.phases)
            if (phase.phase == "decode")
                std::printf("RATIO decode %.2f GB/s / measured read %.2f GB/s = %.1f%% (%s, %s, %d "
                            "threads)\n",
                            phase.achievedGbPerS, bandwidth.gbPerS,
                            100.0 * phase.achievedGbPerS / bandwidth.gbPerS, model.c_str(),
                            result.isa.c_str(), result.threads);
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_decode_bandwidth: %s\n", error.what());
        return 1;
    }
}
