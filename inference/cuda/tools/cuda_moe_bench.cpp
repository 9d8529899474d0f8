// The CUDA backend against this device's own ceilings (tests/bench/gpu_check.sh runs it):
//   crossroads-cuda-bench decode MODEL [GEN=64] [--no-graphs]
//     batch-1 decode: achieved GB/s (weights and KV the step read, over wall time per step)
//     over the device read kernel's GB/s. Goal: >= 80%.
//   crossroads-cuda-bench prefill MODEL [TOKENS=4096] [--path auto|grouped|loop]
//                         [--matmul-tflops T]
//     one prompt of TOKENS tokens: the routed experts' GEMMs' TFLOP/s (CUDA events around them)
//     over T, the cuBLAS BF16 8192^3 rate (crossroads-cublas-rate; without --matmul-tflops, the
//     backend's own measureMatmulTflops, the same measurement). Goal: >= 50%.
// Both print the backend's measured matmul rate (prefill) or peak device memory (both), the
// figures `crossroads bench` reports.
// Lines starting with RATIO are the results; benchmarks, never failing on the goal.
#include "inference/base/ThreadPool.h"
#include "inference/cuda/CudaBackend.h"
#include "inference/cuda/CudaEngine.h"
#include "inference/model/Weights.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace crossroads::inference;
using Clock = std::chrono::steady_clock;

namespace {

// Synthesising gigabytes of weights wants every core. The backend is built directly (not through
// makeBackend), so the model is checked here for what the CUDA backend runs (no DeepSeek yet).
Model load(const std::string& spec) {
    ThreadPool pool(0);
    Model model = loadModel(spec, &pool);
    requireForwardSupport(model.config, ForwardBackend::Cuda);
    return model;
}

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int32_t argmax(const std::vector<float>& logits) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<int32_t> prompt(int64_t tokens, int64_t vocab) {
    std::vector<int32_t> ids;
    for (int64_t i = 0; i < tokens; ++i)
        ids.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
    return ids;
}

void printDevice(const CudaBackend& backend, const Model& model) {
    const DeviceInfo info = backend.device();
    std::printf("device: %s (%s, %s, %.1f GiB); model %s%s\n", info.name.c_str(), info.isa.c_str(),
                info.driver.c_str(), info.memoryBytes / (1u << 30), model.name.c_str(),
                model.config.truncated() ? " (truncated)" : "");
}

void printMemory(const CudaBackend& backend) {
    std::printf("peak device memory: %.2f GiB (the backend's own allocations), %.2f GiB held now\n",
                backend.peakDeviceMemoryBytes().value_or(0.0) / (1u << 30),
                static_cast<double>(backend.deviceBytes()) / (1u << 30));
}

int decode(const std::string& spec, int64_t gen, bool graphs) {
    const Model model = load(spec);
    CudaBackend backend(model);
    backend.setUseGraphs(graphs);
    backend.setProfiling(true);
    printDevice(backend, model);
    const double bandwidth = backend.measureReadBandwidthGbPerS(std::size_t{4} << 30);
    std::printf("device read kernel: %.1f GB/s (4 GiB buffer, best of 5)\n", bandwidth);
    const SequenceId sequence = backend.newSequence();
    int32_t next = argmax(backend.prefill(sequence, prompt(8, model.config.vocabSize)));
    for (int i = 0; i < 4; ++i) // warm-up: captures the graph, touches the weights
        next = argmax(backend.decode(std::span(&sequence, 1), std::span(&next, 1)));
    double bytes = 0.0, gpuSeconds = 0.0;
    const auto start = Clock::now();
    for (int64_t step = 0; step < gen; ++step) {
        next = argmax(backend.decode(std::span(&sequence, 1), std::span(&next, 1)));
        bytes += backend.lastStats().weightBytes + backend.lastStats().kvBytes;
        gpuSeconds += backend.lastProfile().forwardGpuSeconds;
    }
    const double seconds = secondsSince(start);
    const double achieved = bytes / seconds / 1e9, onGpu = bytes / gpuSeconds / 1e9;
    const auto steps = static_cast<double>(gen);
    std::printf("decode batch 1: %.2f tokens/s, %.3f ms/token wall, %.3f ms/token on the GPU "
                "(graphs %s), %.1f MB read per step\n",
                steps / seconds, seconds / steps * 1e3, gpuSeconds / steps * 1e3,
                graphs ? "on" : "off", bytes / steps / 1e6);
    // The wall-clock figure is the goal's; the GPU-only one shows what the host's per-step work
    // (inputs in, logits out, the returned vector) costs on top of the kernels.
    std::printf("decode GPU-only: %.1f GB/s = %.1f%% of the read kernel\n", onGpu,
                100.0 * onGpu / bandwidth);
    std::printf("RATIO decode %.1f GB/s / device read %.1f GB/s = %.1f%% (goal >= 80%%; %s%s)\n",
                achieved, bandwidth, 100.0 * achieved / bandwidth, spec.c_str(),
                graphs ? "" : ", no graphs");
    printMemory(backend);
    return 0;
}

int prefill(const std::string& spec, int64_t tokens, GroupedGemmPath path, double matmulTflops) {
    const Model model = load(spec);
    CudaBackend backend(model);
    backend.setGroupedGemmPath(path);
    backend.setProfiling(true);
    printDevice(backend, model);
    const double backendTflops = backend.measureMatmulTflops();
    std::printf("backend measureMatmulTflops: %.1f TFLOP/s (cuBLAS BF16 %d^3)\n", backendTflops,
                backend.matmulN());
    if (matmulTflops <= 0)
        matmulTflops = backendTflops;
    const auto ids = prompt(tokens, model.config.vocabSize);
    const auto once = [&] {
        const SequenceId sequence = backend.newSequence();
        const auto start = Clock::now();
        backend.prefill(sequence, ids);
        const double seconds = secondsSince(start);
        backend.releaseSequence(sequence);
        return seconds;
    };
    once(); // warm-up: workspace, cuBLAS heuristics
    double best = 0.0, bestWall = 1e30;
    CudaProfile profile;
    for (int rep = 0; rep < 3; ++rep) {
        const double wall = once();
        const CudaProfile& p = backend.lastProfile();
        const double tflops = p.expertGemmFlops / p.expertGemmSeconds / 1e12;
        if (tflops > best) {
            best = tflops;
            profile = p;
        }
        bestWall = std::min(bestWall, wall);
    }
    std::printf("prefill %lld tokens: %.1f ms wall (%.0f tokens/s, %.1f TFLOP/s overall); expert "
                "GEMMs %.2f ms on the GPU for %.1f TFLOP via %s\n",
                static_cast<long long>(tokens), bestWall * 1e3,
                static_cast<double>(tokens) / bestWall, backend.lastStats().flops / bestWall / 1e12,
                profile.expertGemmSeconds * 1e3, profile.expertGemmFlops / 1e12,
                profile.expertGemmPath.c_str());
    std::printf("RATIO prefill expert GEMMs %.1f TFLOP/s / cuBLAS 8192^3 %.1f TFLOP/s = "
                "%.1f%% (goal >= 50%%; %s)\n",
                best, matmulTflops, 100.0 * best / matmulTflops, spec.c_str());
    printMemory(backend);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() < 2 || (args[0] != "decode" && args[0] != "prefill")) {
            std::fprintf(stderr, "usage: crossroads-cuda-bench decode MODEL [GEN] [--no-graphs]\n"
                                 "       crossroads-cuda-bench prefill MODEL [TOKENS] "
                                 "[--path auto|grouped|loop] [--matmul-tflops T]\n");
            return 2;
        }
        std::string why; // before synthesising gigabytes of weights for nothing
        if (!cudaDeviceStatus(&why)) {
            std::fprintf(stderr, "crossroads-cuda-bench: %s\n", why.c_str());
            return 1;
        }
        int64_t count = 0;
        bool graphs = true;
        GroupedGemmPath path = GroupedGemmPath::Auto;
        double matmulTflops = 0.0;
        for (std::size_t i = 2; i < args.size(); ++i) {
            if (args[i] == "--no-graphs")
                graphs = false;
            else if (args[i] == "--path" && i + 1 < args.size()) {
                const std::string& name = args[++i];
                path = name == "grouped" ? GroupedGemmPath::Grouped
                       : name == "loop"  ? GroupedGemmPath::Loop
                                         : GroupedGemmPath::Auto;
            } else if (args[i] == "--matmul-tflops" && i + 1 < args.size())
                matmulTflops = std::atof(args[++i].c_str());
            else
                count = std::atoll(args[i].c_str());
        }
        if (args[0] == "decode")
            return decode(args[1], count > 0 ? count : 64, graphs);
        return prefill(args[1], count > 0 ? count : 4096, path, matmulTflops);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "crossroads-cuda-bench: %s\n", error.what());
        return 1;
    }
}
