// Prefill products one shape at a time: the pair-panel GEMM (Kernels.h, AVX-512-BF16's
// vdpbf16ps on weights prepared at load) against oneDNN's BF16 matmul on the same shapes with
// its weights prepared too (OnednnWeights), in one run, both called as the backend calls them for
// routed experts: each product whole and single-threaded inside a pool task, the products spread
// over the pool's threads. The native kernels (matmulRows at the active ISA, on the plain
// row-major weights) run beside them: what a product below the backend's threshold takes.
//   bench_engine_gemm_shapes [--tokens N]... [--rounds N] [--threads T] [--shape RxC]...
// A pass multiplies each of enough copies of the weights (experts) that they stream from memory,
// as experts' weights do in prefill. Per (shape, tokens) each round times both, back to back, and
// the ratio printed is the median of the rounds' ratios: ours / oneDNN's time, below 1 when ours is
// faster. Prints; never fails on the figures (a benchmark, not a test).
#include "inference/base/ThreadPool.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/OnednnGemm.h"

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

struct Shape {
    int64_t rows, cols;
    const char* what;
};

struct Options {
    std::vector<int64_t> tokens;
    std::vector<Shape> shapes;
    int rounds = 7;
    int threads = 0;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc)
            throw std::runtime_error("usage: bench_engine_gemm_shapes [--tokens N]... "
                                     "[--rounds N] [--threads T] [--shape RxC]...");
        const std::string value = argv[++i];
        if (arg == "--tokens")
            options.tokens.push_back(std::stoll(value));
        else if (arg == "--rounds")
            options.rounds = std::stoi(value);
        else if (arg == "--threads")
            options.threads = std::stoi(value);
        else if (arg == "--shape") {
            const auto x = value.find('x');
            if (x == std::string::npos)
                throw std::runtime_error("--shape takes ROWSxCOLS, got " + value);
            options.shapes.push_back(
                {std::stoll(value.substr(0, x)), std::stoll(value.substr(x + 1)), "given"});
        } else
            throw std::runtime_error("unknown option " + arg);
    }
    if (options.tokens.empty())
        options.tokens = {4, 8, 16, 32, 64, 128, 256};
    if (options.shapes.empty())
        options.shapes = {
            {1536, 2048, "qwen3-30b-a3b expert gate+up"}, {2048, 768, "qwen3-30b-a3b expert down"},
            {5120, 2048, "qwen3-30b-a3b q+k+v"},          {2048, 4096, "qwen3-30b-a3b o"},
            {28672, 4096, "mixtral expert gate+up"},      {4096, 14336, "mixtral expert down"}};
    return options;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        std::string why;
        if (!isaSupported(Isa::Avx512Bf16)) {
            std::printf("skipped: the pair-panel GEMM needs AVX-512-BF16, which this CPU lacks\n");
            return 0;
        }
        if (!onednnAvailable(&why)) {
            std::printf("skipped: %s\n", why.c_str());
            return 0;
        }
        ThreadPool pool(options.threads);
        const int64_t threads = pool.size();
        std::printf("pair-panel GEMM vs oneDNN %s, BF16 weights prepared for both, %lld threads, "
                    "median of %d paired rounds\n",
                    onednnKernelName().c_str(), static_cast<long long>(threads), options.rounds);
        std::mt19937 random(5);
        std::uniform_int_distribution<int> mantissa(0, 127);
        for (const Shape& shape : options.shapes) {
            const std::size_t matrixBytes = static_cast<std::size_t>(shape.rows * shape.cols) * 2;
            const std::size_t copies =
                std::clamp<std::size_t>((std::size_t{256} << 20) / matrixBytes, 2, 64);
            std::vector<std::vector<uint16_t>> plain(copies);
            std::vector<std::vector<uint16_t>> panels(copies);
            std::vector<OnednnWeights> prepared;
            for (std::size_t k = 0; k < copies; ++k) {
                plain[k].resize(static_cast<std::size_t>(shape.rows * shape.cols));
                for (auto& value : plain[k]) // +-[1, 2) x 2^-6: no overflow, no denormals
                    value = static_cast<uint16_t>(0x3c80 | mantissa(random) |
                                                  (mantissa(random) & 1 ? 0x8000 : 0));
                const Matrix w{WeightType::BF16, shape.rows, shape.cols, plain[k].data()};
                panels[k].resize(pairPanelElements(shape.rows, shape.cols));
                packPairPanels({&w}, panels[k].data());
                prepared.emplace_back(w, shape.rows); // one slice: the whole product
            }
            const int64_t strips = (shape.rows + kPairPanelRows - 1) / kPairPanelRows;
            for (const int64_t tokens : options.tokens) {
                std::vector<uint16_t> x(static_cast<std::size_t>(tokens * shape.cols));
                for (auto& value : x)
                    value = static_cast<uint16_t>(0x3f80 | mantissa(random));
                std::vector<std::vector<float>> y(
                    copies, std::vector<float>(static_cast<std::size_t>(tokens * shape.rows)));
                // As the backend runs routed experts: each product whole on one thread, the
                // products (every copy once: experts) spread over the threads.
                const auto ours = [&] {
                    pool.parallelFor(static_cast<int64_t>(copies), [&](int64_t k) {
                        gemmPairPanels(panels[k].data(), shape.rows, shape.cols, 0, strips,
                                       x.data(), shape.cols, tokens, y[k].data(), shape.rows);
                    });
                };
                const auto theirs = [&] {
                    pool.parallelFor(static_cast<int64_t>(copies), [&](int64_t k) {
                        prepared[k].multiplySlice(0, x.data(), tokens, y[k].data(), shape.rows);
                    });
                };
                std::vector<float> xf(x.size());
                for (std::size_t i = 0; i < x.size(); ++i)
                    xf[i] = bf16ToFloat(x[i]);
                const auto native = [&] {
                    pool.parallelFor(static_cast<int64_t>(copies), [&](int64_t k) {
                        const Matrix w{WeightType::BF16, shape.rows, shape.cols, plain[k].data()};
                        matmulRows(w, 0, shape.rows, xf.data(), shape.cols, tokens, y[k].data(),
                                   shape.rows);
                    });
                };
                const auto time = [&](const auto& run) {
                    const int64_t reps = std::max<int64_t>(
                        1, (int64_t{1} << 32) /
                               std::max<int64_t>(1, tokens * shape.rows * shape.cols *
                                                        static_cast<int64_t>(copies)));
                    const auto start = Clock::now();
                    for (int64_t r = 0; r < reps; ++r)
                        run();
                    return std::chrono::duration<double>(Clock::now() - start).count() /
                           static_cast<double>(reps);
                };
                ours();
                theirs(); // warm: oneDNN compiles its product for this shape once
                native();
                std::vector<double> ratios, nativeRatios, oursSeconds, theirSeconds, nativeSeconds;
                for (int round = 0; round < options.rounds; ++round) {
                    const double a = time(ours), b = time(theirs), c = time(native);
                    oursSeconds.push_back(a);
                    theirSeconds.push_back(b);
                    nativeSeconds.push_back(c);
                    ratios.push_back(a / b);
                    nativeRatios.push_back(a / c);
                }
                const double flops = 2.0 * static_cast<double>(tokens * shape.rows * shape.cols) *
                                     static_cast<double>(copies);
                std::printf("RATIO gemm %-30s %5lldx%-5lld tokens %4lld: ours %7.1f GFLOP/s, "
                            "oneDNN %7.1f, native %7.1f, ours/oneDNN time = %.2f, "
                            "ours/native = %.2f\n",
                            shape.what, static_cast<long long>(shape.rows),
                            static_cast<long long>(shape.cols), static_cast<long long>(tokens),
                            flops / median(oursSeconds) / 1e9, flops / median(theirSeconds) / 1e9,
                            flops / median(nativeSeconds) / 1e9, median(ratios),
                            median(nativeRatios));
                std::fflush(stdout);
            }
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_engine_gemm_shapes: %s\n", error.what());
        return 1;
    }
    return 0;
}
