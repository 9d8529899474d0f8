#include "inference/bench/Bench.h"

#include "inference/base/Host.h"
#include "inference/model/Cost.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/resource.h>

// Both come from the build (CMakeLists.txt); a build that does not pass them still compiles.
#ifndef CROSSROADS_BUILD_TYPE
#define CROSSROADS_BUILD_TYPE ""
#endif
#ifndef CROSSROADS_GIT_COMMIT
#define CROSSROADS_GIT_COMMIT "unknown"
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

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    const double position = q * static_cast<double>(values.size() - 1);
    const auto below = static_cast<std::size_t>(position);
    const std::size_t above = std::min(below + 1, values.size() - 1);
    const double weight = position - static_cast<double>(below);
    return values[below] * (1.0 - weight) + values[above] * weight;
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
    std::vector<double> gbPerS;               // per repetition
    std::vector<std::size_t> bandwidthBefore; // per repetition: the measurement before it
    std::vector<double> stepRatios; // decode: each step's GB/s over the read pass right before it
    double flops = 0, bytes = 0, seconds = 0;
};

// The batch's sequences, released however the run ends (a device error throws mid-way).
class SequenceBatch {
public:
    SequenceBatch(Backend& backend, int64_t count) : backend_(backend) {
        for (int64_t i = 0; i < count; ++i)
            ids_.push_back(backend.newSequence());
    }
    ~SequenceBatch() {
        for (const SequenceId id : ids_) {
            try {
                backend_.releaseSequence(id);
            } catch (...) { // a destructor must not throw; the backend owns what is left
            }
        }
    }
    SequenceBatch(const SequenceBatch&) = delete;
    SequenceBatch& operator=(const SequenceBatch&) = delete;
    const std::vector<SequenceId>& ids() const { return ids_; }

private:
    Backend& backend_;
    std::vector<SequenceId> ids_;
};

std::string utcNow() {
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return date;
}

} // namespace

BenchResult runBench(Backend& backend, const BenchOptions& options) {
    const bool negativeContext =
        std::any_of(options.contextTokens.begin(), options.contextTokens.end(),
                    [](int64_t context) { return context < 0; });
    if (options.batch <= 0 || options.genTokens < 0 || options.promptTokens < 0 ||
        negativeContext || options.promptTokens + options.genTokens == 0)
        throw EngineError("bench needs batch >= 1, a context >= 0 and some prompt or generated "
                          "tokens");
    const Model& model = backend.model();
    const ModelConfig& config = model.config;
    BenchProgress progress;
    const auto advance = [&](const char* stage, int64_t calls) {
        if (!options.onProgress)
            return;
        progress.done += calls;
        progress.stage = stage;
        if (!options.onProgress(progress))
            throw BenchCancelled("benchmark cancelled");
    };
    // Backend calls: the warm-up's, then each repetition's at each context (a context longer
    // than the prompt adds one untimed prefill per sequence).
    const int64_t warmUpGen = std::min<int64_t>(options.genTokens, 2);
    progress.total = options.batch + warmUpGen;
    for (const int64_t context :
         options.contextTokens.empty() ? std::vector<int64_t>{0} : options.contextTokens)
        progress.total +=
            std::max(1, options.repetitions) *
            (options.batch * (context > std::max<int64_t>(options.promptTokens, 1) ? 2 : 1) +
             options.genTokens);
    advance("measuring", 0);
    const DeviceInfo device = backend.device();
    BenchResult result;
    result.model = model.name;
    result.backend = device.backend;
    result.device = device.name;
    result.driver = device.driver;
    result.dtype = std::string(weightTypeName(model.weights.type));
    result.isa = device.isa;
    result.prefillKernel = device.prefillKernel;
    result.decodePrefetchBytes = device.decodePrefetchBytes;
    result.fp8DecodeKernel = device.fp8DecodeKernel;
    result.truncated = config.truncated();
    result.threads = device.threads;
    result.kvBytesPerToken = backend.kvBytesPerToken();
    result.kvBytesPerTokenAnalyticBf16 = kvBytesPerToken(config, 2.0);
    ModelConfig full = config;
    if (config.truncated())
        full.numLayers = config.truncatedFromLayers;
    result.kvBytesPerTokenFullModelBf16 = kvBytesPerToken(full, 2.0);
    result.specBandwidthGbPerS = options.specBandwidthGbPerS;
    result.specBf16Tflops = options.specBf16Tflops;
    result.specChipName = options.specChipName;
    result.commit = CROSSROADS_GIT_COMMIT;
    result.buildType = CROSSROADS_BUILD_TYPE;
    result.cpu = cpuName();
    if (options.measuredTflops) {
        result.measuredTflops = options.measuredTflops;
        result.measuredTflopsMethod = "given";
    } else if (options.measureCompute) {
        result.measuredTflops = backend.measureMatmulTflops();
        result.measuredTflopsMethod = backend.matmulRateMethod();
    }
    // Read bandwidth around every repetition and before every decode step (see BenchOptions);
    // a given figure stands for all.
    std::unique_ptr<Backend::ReadProbe> probe;
    if (!options.measuredBandwidthGbPerS && options.measureBandwidth)
        probe = backend.makeReadProbe(options.bandwidthBytes);
    std::vector<double> bandwidth; // the passes around the repetitions
    std::vector<double> allPasses; // those and the passes paired with decode steps
    const auto measureBandwidth = [&] {
        if (options.measuredBandwidthGbPerS) {
            bandwidth.push_back(*options.measuredBandwidthGbPerS);
        } else if (options.measureBandwidth) {
            bandwidth.push_back(probe ? probe->passGbPerS()
                                      : backend.measureReadBandwidthGbPerS(options.bandwidthBytes));
            allPasses.push_back(bandwidth.back());
        }
    };
    const bool pairSteps = probe != nullptr && options.pairDecodeSteps;

    // Deterministic token ids spread over the vocabulary: the prompt, then the untimed context.
    const int64_t promptTokens = std::max<int64_t>(options.promptTokens, 1);
    // The decode phase runs at each context of the sweep (in the cache when it starts: at least
    // the prompt), in the order given.
    std::vector<int64_t> decodeContexts;
    for (const int64_t context :
         options.contextTokens.empty() ? std::vector<int64_t>{0} : options.contextTokens)
        decodeContexts.push_back(std::max(promptTokens, context));
    const int64_t longest = *std::max_element(decodeContexts.begin(), decodeContexts.end());
    std::vector<int32_t> text(static_cast<std::size_t>(longest));
    for (int64_t i = 0; i < longest; ++i)
        text[static_cast<std::size_t>(i)] =
            static_cast<int32_t>((i * 7919 + 13) % config.vocabSize);
    const std::span<const int32_t> prompt =
        std::span<const int32_t>(text).first(static_cast<std::size_t>(promptTokens));

    const auto runOnce = [&](int64_t gen, int64_t decodeContext, PhaseSamples* prefill,
                             PhaseSamples* decode, double* ttftMs) {
        const char* stage = decode == nullptr ? "warm-up" : nullptr;
        const std::span<const int32_t> contextTail = std::span<const int32_t>(text).subspan(
            static_cast<std::size_t>(promptTokens),
            static_cast<std::size_t>(decodeContext - promptTokens));
        const SequenceBatch batch(backend, options.batch);
        std::vector<int32_t> next;
        double prefillFlops = 0, prefillBytes = 0;
        const auto prefillStart = Clock::now();
        for (const SequenceId id : batch.ids()) {
            const auto logits = backend.prefill(id, prompt);
            if (next.empty() && ttftMs != nullptr)
                *ttftMs = seconds(prefillStart) * 1e3;
            prefillFlops += backend.lastStats().flops;
            prefillBytes += backend.lastStats().weightBytes + backend.lastStats().kvBytes;
            next.push_back(argmax(logits.data(), config.vocabSize));
        }
        const double prefillSeconds = seconds(prefillStart);
        advance(stage ? stage : "prefill", options.batch);
        if (prefill != nullptr) {
            prefill->tokensPerS.push_back(static_cast<double>(promptTokens * options.batch) /
                                          prefillSeconds);
            prefill->gbPerS.push_back(prefillBytes / prefillSeconds / 1e9);
            prefill->bandwidthBefore.push_back(bandwidth.size() - 1);
            prefill->flops += prefillFlops;
            prefill->bytes += prefillBytes;
            prefill->seconds += prefillSeconds;
        }
        if (!contextTail.empty())
            for (std::size_t b = 0; b < batch.ids().size(); ++b) {
                const auto logits = backend.prefill(batch.ids()[b], contextTail);
                next[b] = argmax(logits.data(), config.vocabSize);
                advance(stage ? stage : "prefill", 1);
            }
        double flops = 0, bytes = 0, decodeSeconds = 0;
        for (int64_t step = 0; step < gen; ++step) {
            // The pass right before the step sees the machine the step sees; it is not timed.
            const double read = decode != nullptr && pairSteps ? probe->passGbPerS() : 0.0;
            const auto stepStart = Clock::now();
            const auto logits = backend.decode(batch.ids(), next);
            const double stepSeconds = seconds(stepStart);
            decodeSeconds += stepSeconds;
            const StepStats& stats = backend.lastStats();
            flops += stats.flops;
            bytes += stats.totalBytes();
            if (read > 0.0) {
                allPasses.push_back(read);
                decode->stepRatios.push_back(stats.totalBytes() / stepSeconds / 1e9 / read);
            }
            for (int64_t b = 0; b < options.batch; ++b)
                next[static_cast<std::size_t>(b)] =
                    argmax(logits.data() + b * config.vocabSize, config.vocabSize);
            advance(stage ? stage : "decode", 1);
        }
        if (decode != nullptr && gen > 0) {
            decode->tokensPerS.push_back(static_cast<double>(gen * options.batch) / decodeSeconds);
            decode->gbPerS.push_back(bytes / decodeSeconds / 1e9);
            decode->bandwidthBefore.push_back(bandwidth.size() - 1);
            decode->flops += flops;
            decode->bytes += bytes;
            decode->seconds += decodeSeconds;
        }
    };

    // Warm-up: faults in the weights and grows the scratch buffers. The context is left out: it
    // only costs time here, and its cache is allocated untimed in every repetition anyway.
    runOnce(warmUpGen, promptTokens, nullptr, nullptr, nullptr);
    // The prefill phase and the time to first token come from the repetitions at the first
    // context (prefill does not depend on it).
    PhaseSamples prefill;
    std::vector<PhaseSamples> decode(decodeContexts.size());
    std::vector<double> ttft;
    measureBandwidth();
    for (std::size_t c = 0; c < decodeContexts.size(); ++c)
        for (int rep = 0; rep < std::max(1, options.repetitions); ++rep) {
            double ttftMs = 0;
            const bool first = c == 0;
            runOnce(options.genTokens, decodeContexts[c],
                    first && options.promptTokens > 0 ? &prefill : nullptr, &decode[c],
                    first ? &ttftMs : nullptr);
            if (first)
                ttft.push_back(ttftMs);
            measureBandwidth();
        }
    result.timeToFirstTokenMs = summarize(ttft).mean;
    if (!allPasses.empty() || !bandwidth.empty()) {
        const TimingStats stats = summarize(allPasses.empty() ? bandwidth : allPasses);
        result.measuredBandwidthGbPerS = stats.mean;
        result.measuredBandwidthStddevGbPerS = stats.stddev;
    }
    // Each repetition against the mean of the measurements right before and after it.
    const auto fractionOfBandwidth = [&](const PhaseSamples& samples) -> std::optional<double> {
        if (samples.gbPerS.empty() || bandwidth.empty())
            return std::nullopt;
        double sum = 0.0;
        for (std::size_t i = 0; i < samples.gbPerS.size(); ++i) {
            const std::size_t before = samples.bandwidthBefore[i];
            const double around = 0.5 * (bandwidth[before] + bandwidth[before + 1]);
            if (around <= 0.0)
                return std::nullopt;
            sum += samples.gbPerS[i] / around;
        }
        return sum / static_cast<double>(samples.gbPerS.size());
    };

    const auto phase = [&](const char* name, const PhaseSamples& samples, int64_t tokens,
                           int64_t context) {
        PhaseResult out;
        out.phase = name;
        out.batch = options.batch;
        out.tokens = tokens * options.batch;
        out.contextTokens = context;
        const TimingStats stats = summarize(samples.tokensPerS);
        out.tokensPerS = stats.mean;
        out.tokensPerSStddev = stats.stddev;
        out.tokensPerSPerSequence = stats.mean / static_cast<double>(options.batch);
        out.achievedTflops = samples.flops / samples.seconds / 1e12;
        out.achievedGbPerS = samples.bytes / samples.seconds / 1e9;
        if (!samples.stepRatios.empty()) {
            out.fractionOfMeasuredBandwidth = quantile(samples.stepRatios, 0.5);
            out.fractionOfMeasuredBandwidthQ1 = quantile(samples.stepRatios, 0.25);
            out.fractionOfMeasuredBandwidthQ3 = quantile(samples.stepRatios, 0.75);
            out.bandwidthPairing = "step";
        } else {
            out.fractionOfMeasuredBandwidth = fractionOfBandwidth(samples);
            out.bandwidthPairing = options.measuredBandwidthGbPerS ? "given" : "repetition";
        }
        if (result.measuredTflops && *result.measuredTflops > 0)
            out.fractionOfMeasuredTflops = out.achievedTflops / *result.measuredTflops;
        if (result.specBandwidthGbPerS && *result.specBandwidthGbPerS > 0)
            out.fractionOfSpecBandwidth = out.achievedGbPerS / *result.specBandwidthGbPerS;
        if (result.specBf16Tflops && *result.specBf16Tflops > 0)
            out.fractionOfSpecTflops = out.achievedTflops / *result.specBf16Tflops;
        result.phases.push_back(out);
    };
    if (options.promptTokens > 0)
        phase("prefill", prefill, options.promptTokens, 0);
    if (options.genTokens > 0)
        for (std::size_t c = 0; c < decodeContexts.size(); ++c)
            phase("decode", decode[c], options.genTokens, decodeContexts[c]);

    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    result.peakHostMemoryBytes = static_cast<double>(usage.ru_maxrss) * 1024.0;
    result.peakMemoryBytes = backend.peakDeviceMemoryBytes().value_or(result.peakHostMemoryBytes);
    result.date = utcNow();
    return result;
}

std::vector<int64_t> parseCountList(std::string_view text, std::string_view what) {
    std::vector<int64_t> counts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        const std::string_view item = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        int64_t value = 0;
        const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || error != std::errc() || end != item.data() + item.size() || value < 0)
            throw EngineError(std::string(what) +
                              " takes non-negative whole numbers separated by "
                              "commas, not \"" +
                              std::string(item) + "\"");
        counts.push_back(value);
        if (comma == std::string_view::npos)
            return counts;
        start = comma + 1;
    }
}

json benchResultToJson(const BenchResult& r) {
    const auto optional = [](const std::optional<double>& value) {
        return value ? json(*value) : json(nullptr);
    };
    const auto text = [](const std::string& value) {
        return value.empty() ? json(nullptr) : json(value);
    };
    json phases = json::array();
    for (const auto& p : r.phases)
        phases.push_back(
            {{"phase", p.phase},
             {"batch", p.batch},
             {"tokens", p.tokens},
             {"context_tokens", p.contextTokens},
             {"tokens_per_s", p.tokensPerS},
             {"tokens_per_s_per_sequence", p.tokensPerSPerSequence},
             {"tokens_per_s_stddev", p.tokensPerSStddev},
             {"achieved_tflops", p.achievedTflops},
             {"achieved_gb_per_s", p.achievedGbPerS},
             {"fraction_of_measured_bandwidth", optional(p.fractionOfMeasuredBandwidth)},
             {"fraction_of_measured_bandwidth_quartiles",
              p.fractionOfMeasuredBandwidthQ1 ? json::array({*p.fractionOfMeasuredBandwidthQ1,
                                                             *p.fractionOfMeasuredBandwidthQ3})
                                              : json(nullptr)},
             {"bandwidth_pairing", text(p.bandwidthPairing)},
             {"fraction_of_measured_tflops", optional(p.fractionOfMeasuredTflops)},
             {"fraction_of_spec_bandwidth", optional(p.fractionOfSpecBandwidth)},
             {"fraction_of_spec_tflops", optional(p.fractionOfSpecTflops)}});
    const bool gpu = r.backend != "cpu";
    return {{"model", r.model},
            {"backend", r.backend},
            {"device", r.device},
            {"dtype", r.dtype},
            {"truncated", r.truncated},
            {"measured_bandwidth_gb_per_s", optional(r.measuredBandwidthGbPerS)},
            {"measured_bandwidth_stddev_gb_per_s",
             r.measuredBandwidthGbPerS ? json(r.measuredBandwidthStddevGbPerS) : json(nullptr)},
            {"measured_tflops", optional(r.measuredTflops)},
            {"measured_tflops_method", text(r.measuredTflopsMethod)},
            {"spec",
             {{"bandwidth_gb_per_s", optional(r.specBandwidthGbPerS)},
              {"bf16_tflops", optional(r.specBf16Tflops)},
              {"chip", text(r.specChipName)}}},
            {"kv_bytes_per_token", r.kvBytesPerToken},
            {"kv_bytes_per_token_analytic_bf16", r.kvBytesPerTokenAnalyticBf16},
            {"kv_bytes_per_token_full_model_bf16", r.kvBytesPerTokenFullModelBf16},
            {"peak_memory_bytes", r.peakMemoryBytes},
            {"peak_host_memory_bytes", r.peakHostMemoryBytes},
            {"time_to_first_token_ms", r.timeToFirstTokenMs},
            {"metadata",
             {{"commit", r.commit},
              {"build_type", r.buildType},
              {"cpu", r.cpu},
              {"isa", r.isa},
              {"prefill_kernel", text(r.prefillKernel)},
              {"decode_prefetch_bytes",
               r.decodePrefetchBytes ? json(*r.decodePrefetchBytes) : json(nullptr)},
              {"fp8_decode_kernel", text(r.fp8DecodeKernel)},
              {"threads", r.threads},
              {"gpu", gpu ? text(r.device) : json(nullptr)},
              {"driver", text(r.driver)},
              {"date", r.date}}},
            {"phases", phases}};
}

std::string benchResultTable(const BenchResult& r) {
    std::ostringstream out;
    char line[256];
    const auto percent = [](const std::optional<double>& fraction) {
        return fraction ? std::to_string(static_cast<int>(std::lround(*fraction * 100))) + "%"
                        : std::string("-");
    };
    out << "model: " << r.model << (r.truncated ? " (truncated)" : "") << "\n";
    out << "backend: " << r.backend << " (" << r.isa;
    if (r.threads > 0)
        out << ", " << r.threads << " threads";
    if (!r.driver.empty())
        out << ", " << r.driver;
    out << "), dtype " << r.dtype << ", device " << r.device << "\n";
    if (!r.prefillKernel.empty())
        out << "prefill: " << r.prefillKernel << "\n";
    if (!r.fp8DecodeKernel.empty())
        out << "fp8 decode: " << r.fp8DecodeKernel << "\n";
    if (r.measuredBandwidthGbPerS) {
        std::snprintf(line, sizeof line, "measured read bandwidth: %.1f ± %.1f GB/s\n",
                      *r.measuredBandwidthGbPerS, r.measuredBandwidthStddevGbPerS);
        out << line;
    }
    if (r.measuredTflops) {
        std::snprintf(line, sizeof line, "measured compute: %.3f TFLOP/s (%s)\n", *r.measuredTflops,
                      r.measuredTflopsMethod.c_str());
        out << line;
    }
    if (r.specBandwidthGbPerS || r.specBf16Tflops) {
        out << "spec" << (r.specChipName.empty() ? "" : " (" + r.specChipName + ")") << ": ";
        out << (r.specBandwidthGbPerS ? std::to_string(std::lround(*r.specBandwidthGbPerS)) : "?")
            << " GB/s, "
            << (r.specBf16Tflops ? std::to_string(std::lround(*r.specBf16Tflops)) : "?")
            << " BF16 TFLOP/s\n";
    }
    std::snprintf(line, sizeof line,
                  "time to first token: %.1f ms, KV bytes/token: %.0f stored (analytic: %.0f at "
                  "BF16",
                  r.timeToFirstTokenMs, r.kvBytesPerToken, r.kvBytesPerTokenAnalyticBf16);
    out << line;
    if (r.truncated) {
        std::snprintf(line, sizeof line, "; the whole model %.0f at BF16",
                      r.kvBytesPerTokenFullModelBf16);
        out << line;
    }
    out << ")\n";
    out << "| phase   | batch | tokens | context |            t/s | t/s/seq | TFLOP/s |   GB/s "
           "| of BW | of TFLOP/s | of spec BW | of spec TFLOP/s |\n";
    out << "|---------|------:|-------:|--------:|---------------:|--------:|--------:|-------:"
           "|------:|-----------:|-----------:|----------------:|\n";
    for (const auto& p : r.phases) {
        std::snprintf(line, sizeof line,
                      "| %-7s | %5lld | %6lld | %7lld | %7.2f ± %5.2f | %7.2f | %7.4f | %6.2f | "
                      "%5s | %10s | %10s | %15s |\n",
                      p.phase.c_str(), static_cast<long long>(p.batch),
                      static_cast<long long>(p.tokens), static_cast<long long>(p.contextTokens),
                      p.tokensPerS, p.tokensPerSStddev, p.tokensPerSPerSequence, p.achievedTflops,
                      p.achievedGbPerS, percent(p.fractionOfMeasuredBandwidth).c_str(),
                      percent(p.fractionOfMeasuredTflops).c_str(),
                      percent(p.fractionOfSpecBandwidth).c_str(),
                      percent(p.fractionOfSpecTflops).c_str());
        out << line;
    }
    return out.str();
}

} // namespace crossroads::inference
