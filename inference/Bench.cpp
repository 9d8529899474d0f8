#include "inference/Bench.h"

#include "inference/Analytic.h"
#include "inference/Bandwidth.h"
#include "inference/CpuBackend.h"
#include "inference/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/resource.h>

#ifndef CROSSROADS_BUILD_TYPE
#define CROSSROADS_BUILD_TYPE ""
#endif

namespace crossroads::inference {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

TimingStats summarize(const std::vector<double>& samples) {
    TimingStats stats;
    if (samples.empty())
        return stats;
    for (const double s : samples)
        stats.mean += s;
    stats.mean /= static_cast<double>(samples.size());
    if (samples.size() > 1) {
        double squares = 0.0;
        for (const double s : samples)
            squares += (s - stats.mean) * (s - stats.mean);
        stats.stddev = std::sqrt(squares / static_cast<double>(samples.size() - 1));
    }
    return stats;
}

std::string cpuName() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown CPU";
}

namespace {

int32_t argmax(const float* logits, int64_t n) {
    return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

double seconds(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct PhaseSamples {
    std::vector<double> tokensPerS;
    double flops = 0, bytes = 0, seconds = 0;
};

} // namespace

BenchResult runBench(const Model& model, const BenchOptions& options) {
    if (options.batch <= 0 || options.genTokens < 0 || options.promptTokens < 0 ||
        options.promptTokens + options.genTokens == 0)
        throw EngineError("bench needs batch >= 1 and some prompt or generated tokens");
    const ModelConfig& config = model.config;
    CpuBackend backend(model, options.threads);
    BenchResult result;
    result.model = model.name;
    result.device = cpuName();
    result.dtype = std::string(weightTypeName(model.weights.type));
    result.isa = std::string(isaName(activeIsa()));
    result.truncated = config.truncated();
    result.threads = backend.pool().size();
    result.kvBytesPerToken = kvBytesPerToken(config, sizeof(float));
    if (options.measuredBandwidthGbPerS)
        result.measuredBandwidthGbPerS = options.measuredBandwidthGbPerS;
    else if (options.measureBandwidth)
        result.measuredBandwidthGbPerS =
            measureReadBandwidth(backend.pool(), options.bandwidthBytes).gbPerS;

    // Deterministic prompt ids spread over the vocabulary.
    const int64_t promptTokens = std::max<int64_t>(options.promptTokens, 1);
    std::vector<int32_t> prompt(static_cast<std::size_t>(promptTokens));
    for (int64_t i = 0; i < promptTokens; ++i)
        prompt[static_cast<std::size_t>(i)] =
            static_cast<int32_t>((i * 7919 + 13) % config.vocabSize);

    const auto runOnce = [&](int64_t gen, PhaseSamples* prefill, PhaseSamples* decode,
                             double* ttftMs) {
        std::vector<Sequence> sequences(static_cast<std::size_t>(options.batch));
        std::vector<Sequence*> pointers;
        std::vector<int32_t> next;
        double prefillFlops = 0, prefillBytes = 0;
        const auto prefillStart = Clock::now();
        for (auto& sequence : sequences) {
            sequence = backend.newSequence();
            const auto logits = backend.prefill(sequence, prompt);
            if (pointers.empty() && ttftMs != nullptr)
                *ttftMs = seconds(prefillStart) * 1e3;
            prefillFlops += backend.lastStats().flops;
            prefillBytes += backend.lastStats().weightBytes + backend.lastStats().kvBytes;
            pointers.push_back(&sequence);
            next.push_back(argmax(logits.data(), config.vocabSize));
        }
        const double prefillSeconds = seconds(prefillStart);
        if (prefill != nullptr) {
            prefill->tokensPerS.push_back(static_cast<double>(promptTokens * options.batch) /
                                          prefillSeconds);
            prefill->flops += prefillFlops;
            prefill->bytes += prefillBytes;
            prefill->seconds += prefillSeconds;
        }
        double flops = 0, bytes = 0;
        const auto decodeStart = Clock::now();
        for (int64_t step = 0; step < gen; ++step) {
            const auto logits = backend.decode(pointers, next);
            flops += backend.lastStats().flops;
            bytes += backend.lastStats().weightBytes + backend.lastStats().kvBytes;
            for (int64_t b = 0; b < options.batch; ++b)
                next[static_cast<std::size_t>(b)] =
                    argmax(logits.data() + b * config.vocabSize, config.vocabSize);
        }
        const double decodeSeconds = seconds(decodeStart);
        if (decode != nullptr && gen > 0) {
            decode->tokensPerS.push_back(static_cast<double>(gen * options.batch) / decodeSeconds);
            decode->flops += flops;
            decode->bytes += bytes;
            decode->seconds += decodeSeconds;
        }
    };

    // Warm-up: faults in the weights and grows the scratch buffers.
    runOnce(std::min<int64_t>(options.genTokens, 2), nullptr, nullptr, nullptr);
    PhaseSamples prefill, decode;
    std::vector<double> ttft;
    for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
        double ttftMs = 0;
        runOnce(options.genTokens, options.promptTokens > 0 ? &prefill : nullptr, &decode, &ttftMs);
        ttft.push_back(ttftMs);
    }
    result.timeToFirstTokenMs = summarize(ttft).mean;

    const auto phase = [&](const char* name, const PhaseSamples& samples, int64_t tokens) {
        PhaseResult out;
        out.phase = name;
        out.batch = options.batch;
        out.tokens = tokens * options.batch;
        const TimingStats stats = summarize(samples.tokensPerS);
        out.tokensPerS = stats.mean;
        out.tokensPerSStddev = stats.stddev;
        out.tokensPerSPerSequence = stats.mean / static_cast<double>(options.batch);
        out.achievedTflops = samples.flops / samples.seconds / 1e12;
        out.achievedGbPerS = samples.bytes / samples.seconds / 1e9;
        if (result.measuredBandwidthGbPerS)
            out.fractionOfMeasuredBandwidth = out.achievedGbPerS / *result.measuredBandwidthGbPerS;
        result.phases.push_back(out);
    };
    if (options.promptTokens > 0)
        phase("prefill", prefill, options.promptTokens);
    if (options.genTokens > 0)
        phase("decode", decode, options.genTokens);

    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    result.peakMemoryBytes = static_cast<double>(usage.ru_maxrss) * 1024.0;
    return result;
}

json benchResultToJson(const BenchResult& r) {
    const auto optional = [](const std::optional<double>& value) {
        return value ? json(*value) : json(nullptr);
    };
    json phases = json::array();
    for (const auto& p : r.phases)
        phases.push_back(
            {{"phase", p.phase},
             {"batch", p.batch},
             {"tokens", p.tokens},
             {"tokens_per_s", p.tokensPerS},
             {"tokens_per_s_per_sequence", p.tokensPerSPerSequence},
             {"tokens_per_s_stddev", p.tokensPerSStddev},
             {"achieved_tflops", p.achievedTflops},
             {"achieved_gb_per_s", p.achievedGbPerS},
             {"fraction_of_measured_bandwidth", optional(p.fractionOfMeasuredBandwidth)},
             // The spec peaks come from the store, which the engine does not see.
             {"fraction_of_spec_bandwidth", nullptr},
             {"fraction_of_spec_tflops", nullptr}});
    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return {{"model", r.model},
            {"backend", r.backend},
            {"device", r.device},
            {"dtype", r.dtype},
            {"truncated", r.truncated},
            {"measured_bandwidth_gb_per_s", optional(r.measuredBandwidthGbPerS)},
            {"spec", nullptr},
            {"kv_bytes_per_token", r.kvBytesPerToken},
            {"peak_memory_bytes", r.peakMemoryBytes},
            {"time_to_first_token_ms", r.timeToFirstTokenMs},
            {"metadata",
             {{"commit", nullptr},
              {"build_type", CROSSROADS_BUILD_TYPE},
              {"cpu", cpuName()},
              {"isa", r.isa},
              {"threads", r.threads},
              {"gpu", nullptr},
              {"driver", nullptr},
              {"date", date}}},
            {"phases", phases}};
}

std::string benchResultTable(const BenchResult& r) {
    std::ostringstream out;
    char line[256];
    out << "model: " << r.model << (r.truncated ? " (truncated)" : "") << "\n";
    out << "backend: cpu (" << r.isa << ", " << r.threads << " threads), dtype " << r.dtype
        << ", device " << r.device << "\n";
    if (r.measuredBandwidthGbPerS) {
        std::snprintf(line, sizeof line, "measured read bandwidth: %.1f GB/s\n",
                      *r.measuredBandwidthGbPerS);
        out << line;
    }
    std::snprintf(line, sizeof line, "time to first token: %.1f ms, KV bytes/token: %.0f\n",
                  r.timeToFirstTokenMs, r.kvBytesPerToken);
    out << line;
    out << "| phase   | batch | tokens |            t/s | t/s/seq | TFLOP/s |   GB/s | of BW |\n";
    out << "|---------|------:|-------:|---------------:|--------:|--------:|-------:|------:|\n";
    for (const auto& p : r.phases) {
        std::snprintf(line, sizeof line,
                      "| %-7s | %5lld | %6lld | %7.2f ± %5.2f | %7.2f | %7.4f | %6.2f | %5s |\n",
                      p.phase.c_str(), static_cast<long long>(p.batch),
                      static_cast<long long>(p.tokens), p.tokensPerS, p.tokensPerSStddev,
                      p.tokensPerSPerSequence, p.achievedTflops, p.achievedGbPerS,
                      p.fractionOfMeasuredBandwidth ? (std::to_string(static_cast<int>(std::lround(
                                                           *p.fractionOfMeasuredBandwidth * 100))) +
                                                       "%")
                                                          .c_str()
                                                    : "-");
        out << line;
    }
    return out.str();
}

} // namespace crossroads::inference
