// llama-bench-like measurement of a model on the CPU backend: prefill and decode phases,
// repeated, with achieved TFLOP/s and GB/s (bytes the engine actually touched) against the
// measured read bandwidth. JSON follows DESIGN.md `crossroads bench --json`.
#pragma once

#include "inference/Weights.h"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::inference {

struct TimingStats {
    double mean = 0;
    double stddev = 0; // sample standard deviation, 0 for one repetition
};
TimingStats summarize(const std::vector<double>& samples);

struct BenchOptions {
    int64_t promptTokens = 512;
    int64_t genTokens = 128;
    int64_t batch = 1;
    int repetitions = 5;
    int threads = 0; // 0 = all hardware threads
    bool measureBandwidth = true;
    std::size_t bandwidthBytes = std::size_t{1} << 30;
    std::optional<double> measuredBandwidthGbPerS; // skip the measurement when given
};

struct PhaseResult {
    std::string phase; // "prefill" | "decode"
    int64_t batch = 0;
    int64_t tokens = 0; // per repetition, whole batch
    double tokensPerS = 0;
    double tokensPerSPerSequence = 0;
    double tokensPerSStddev = 0;
    double achievedTflops = 0;
    double achievedGbPerS = 0;
    std::optional<double> fractionOfMeasuredBandwidth;
};

struct BenchResult {
    std::string model;
    std::string backend = "cpu";
    std::string device;
    std::string dtype;
    std::string isa;
    bool truncated = false;
    int threads = 0;
    std::optional<double> measuredBandwidthGbPerS;
    double kvBytesPerToken = 0;
    double peakMemoryBytes = 0;
    double timeToFirstTokenMs = 0;
    std::vector<PhaseResult> phases;
};

BenchResult runBench(const Model& model, const BenchOptions& options);
nlohmann::json benchResultToJson(const BenchResult& result);
std::string benchResultTable(const BenchResult& result);
std::string cpuName();

} // namespace crossroads::inference
