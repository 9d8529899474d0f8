// llama-bench-like measurement of a model on any Backend: prefill and decode phases, repeated,
// with achieved TFLOP/s and GB/s (bytes the engine actually touched) against the device's
// measured read bandwidth and, when the caller knows them, its datasheet peaks. JSON follows
// DESIGN.md `crossroads bench --json` (extra keys allowed).
#pragma once

#include "inference/backend/Backend.h"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::inference {

struct TimingStats {
    double mean = 0;
    double stddev = 0; // sample standard deviation, 0 for one repetition
};
TimingStats summarize(const std::vector<double>& samples);
// The q-quantile (0..1) of the samples, interpolated between neighbours (0.5: the median).
double quantile(std::vector<double> values, double q);

// Where a run stands, for a progress bar: `done` of `total` backend calls (each sequence's
// prefill, each decode step, the warm-up's included) and what runs now.
struct BenchProgress {
    int64_t done = 0;
    int64_t total = 0;
    std::string stage; // "measuring" (the peaks, before any call), "warm-up", "prefill", "decode"
};

// Thrown by runBench when BenchOptions::onProgress asked it to stop; the sequences it created
// are released by then.
class BenchCancelled : public EngineError {
public:
    using EngineError::EngineError;
};

struct BenchOptions {
    // Each repetition, per sequence of the batch: a timed prefill of promptTokens on an empty
    // cache (llama-bench pp), then genTokens timed decode steps (llama-bench tg).
    int64_t promptTokens = 512;
    int64_t genTokens = 128;
    int64_t batch = 1;
    // Tokens in each sequence's KV cache when the decode phase starts (llama-bench -d/depth for
    // tg), a sweep: one decode phase per value, in the order given (empty = {0}). When larger
    // than promptTokens, the missing tokens are prefilled untimed after the timed prompt; 0 or
    // anything up to promptTokens leaves the prompt alone in the cache.
    std::vector<int64_t> contextTokens;
    int repetitions = 5;
    int threads = 0; // for callers that build the CPU backend; 0 = all hardware threads
    // The read bandwidth is measured before the first repetition and after each one, and each
    // repetition is compared with the mean of the two measurements around it: a shared
    // machine's bandwidth drifts by tens of percent within seconds.
    bool measureBandwidth = true;
    // Decode also pairs every step with a read pass right before it, and reports the median of
    // the steps' ratios (what bench_engine_decode_bandwidth does): the figure to trust on a
    // shared machine. Costs one pass of bandwidthBytes per step, untimed.
    bool pairDecodeSteps = true;
    std::size_t bandwidthBytes = std::size_t{1} << 30;
    std::optional<double> measuredBandwidthGbPerS; // skip the measurements when given
    bool measureCompute = true;                    // the backend's measureMatmulTflops, once
    std::optional<double> measuredTflops;          // skip that measurement when given
    // Datasheet peaks of the device (the app looks them up in the store); when given, the
    // phases report fractions of them.
    std::optional<double> specBandwidthGbPerS;
    std::optional<double> specBf16Tflops;
    std::string specChipName; // the store's chip the spec figures belong to, for the record
    // Called once before the measurements, then after the batch's prompt prefills, each
    // untimed context prefill and each decode step, outside the timed spans (on the thread
    // running the bench). Returning false cancels: runBench throws BenchCancelled. Empty: the
    // run goes to its end.
    std::function<bool(const BenchProgress&)> onProgress;
};

struct PhaseResult {
    std::string phase; // "prefill" | "decode"
    int64_t batch = 0;
    int64_t tokens = 0;        // per repetition, whole batch
    int64_t contextTokens = 0; // per sequence, in the KV cache when the phase starts
    double tokensPerS = 0;
    double tokensPerSPerSequence = 0;
    double tokensPerSStddev = 0;
    double achievedTflops = 0;
    double achievedGbPerS = 0;
    // Decode paired per step: the median of the steps' ratios, with the quartiles. Otherwise the
    // mean of the repetitions' ratios to the passes around them.
    std::optional<double> fractionOfMeasuredBandwidth;
    std::optional<double> fractionOfMeasuredBandwidthQ1, fractionOfMeasuredBandwidthQ3;
    std::string bandwidthPairing; // "step" | "repetition" | "given" | empty (not measured)
    std::optional<double> fractionOfMeasuredTflops;
    std::optional<double> fractionOfSpecBandwidth;
    std::optional<double> fractionOfSpecTflops;
};

struct BenchResult {
    std::string model;
    std::string backend; // DeviceInfo::backend
    std::string device;  // DeviceInfo::name
    std::string driver;  // DeviceInfo::driver (empty on the CPU)
    std::string dtype;
    std::string isa;
    std::string prefillKernel;                  // DeviceInfo::prefillKernel (CPU)
    std::optional<int64_t> decodePrefetchBytes; // DeviceInfo::decodePrefetchBytes (CPU)
    std::string fp8DecodeKernel;                // DeviceInfo::fp8DecodeKernel (CPU, FP8)
    bool truncated = false;
    int threads = 0;
    std::optional<double> measuredBandwidthGbPerS; // mean of the measurements
    double measuredBandwidthStddevGbPerS = 0;
    std::optional<double> measuredTflops;
    std::string measuredTflopsMethod; // Backend::matmulRateMethod, or "given"
    std::optional<double> specBandwidthGbPerS;
    std::optional<double> specBf16Tflops;
    std::string specChipName;
    double kvBytesPerToken = 0; // what the backend's cache stores (Backend::kvBytesPerToken)
    // The analytic figure (Cost.h kvBytesPerToken) beside it: at BF16 for the layers run, and at
    // BF16 for the whole model a truncated preset comes from (DeepSeek-V3: 70,272 B).
    double kvBytesPerTokenAnalyticBf16 = 0;
    double kvBytesPerTokenFullModelBf16 = 0;
    double peakMemoryBytes = 0;     // device memory on a GPU, else the process's peak RSS
    double peakHostMemoryBytes = 0; // the process's peak RSS
    double timeToFirstTokenMs = 0;
    // Metadata of the run, so a saved row says where it came from.
    std::string commit;    // the build's git commit ("unknown" outside a git tree)
    std::string buildType; // CMAKE_BUILD_TYPE
    std::string cpu;       // the host CPU, whatever the backend
    std::string date;      // UTC, ISO 8601, when the run finished
    std::vector<PhaseResult> phases;
};

// Runs on the backend as it is (its threads, its device); sequences are created and released.
BenchResult runBench(Backend& backend, const BenchOptions& options);
// "0,1024,4096" -> {0, 1024, 4096}: non-negative integers separated by commas, as llama-bench
// takes its lists. Throws EngineError naming `what` and the bad item.
std::vector<int64_t> parseCountList(std::string_view text, std::string_view what);
nlohmann::json benchResultToJson(const BenchResult& result);
std::string benchResultTable(const BenchResult& result);

} // namespace crossroads::inference
