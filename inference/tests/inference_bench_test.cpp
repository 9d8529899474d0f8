#include "Check.h"
#include "inference/bench/Bench.h"
#include "inference/cpu/CpuBackend.h"
#include "inference/cpu/Kernels.h"
#include "inference/cpu/OnednnGemm.h"
#include "inference/model/Cost.h"
#include "inference/model/Presets.h"

#include <nlohmann/json.hpp>

using namespace crossroads::inference;

namespace {

void analyticFigures() {
    const ModelConfig mixtral = presetConfig("mixtral-8x7b");
    // Mixtral KV: 32 layers x 2 x 8 heads x 128 x 4 B (F32 cache) = 256 KiB per token.
    CHECK_NEAR(kvBytesPerToken(mixtral), 262144.0, 0.5);
    CHECK_NEAR(kvBytesPerToken(mixtral, 2.0), 131072.0, 0.5);
    // Uniform routing: one token touches k experts; many tokens touch all of them.
    CHECK_NEAR(expectedExpertsTouched(mixtral, 1), 2.0, 1e-12);
    CHECK_NEAR(expectedExpertsTouched(mixtral, 1000), 8.0, 1e-9);
    ModelConfig deepseekLike = presetConfig("qwen3-30b-a3b");
    deepseekLike.numExperts = 256;
    CHECK_NEAR(expectedExpertsTouched(deepseekLike, 32), 163.0, 1.0); // reference: ~163 at B=32
    // Decode at batch 1 reads the active weights (~12.9B params for Mixtral less the embedding).
    const StepCost step = decodeStepCost(mixtral, 2.0, 1, 1);
    CHECK(std::fabs(step.weightBytes / 2.0 / 1e9 - 12.75) < 0.2);
    CHECK_NEAR(step.flops / 2.0 / 1e9, step.weightBytes / 2.0 / 1e9, 0.01);
    // Weight bytes grow with the batch until every expert is read.
    CHECK(decodeStepCost(mixtral, 2.0, 8, 1).weightBytes > step.weightBytes);
    const StepCost prefill = prefillCost(mixtral, 2.0, 4);
    CHECK_NEAR(prefill.kvBytes, 10.0 * kvBytesPerToken(mixtral), 1.0);
}

void timingStatistics() {
    const TimingStats stats = summarize({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0});
    CHECK_NEAR(stats.mean, 5.0, 1e-12);
    CHECK_NEAR(stats.stddev, std::sqrt(32.0 / 7.0), 1e-12);
    CHECK(summarize({3.0}).stddev == 0.0);
}

void benchRunsAndReports() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Qwen2Moe), WeightType::BF16);
    CpuBackend backend(model, 2);
    BenchOptions options;
    options.promptTokens = 8;
    options.genTokens = 4;
    options.batch = 3;
    options.repetitions = 2;
    options.bandwidthBytes = std::size_t{32} << 20;
    const BenchResult result = runBench(backend, options);
    CHECK(result.phases.size() == 2);
    CHECK(result.phases[0].phase == "prefill" && result.phases[1].phase == "decode");
    CHECK(result.phases[1].tokens == 12 && result.phases[1].batch == 3);
    CHECK(result.phases[1].tokensPerS > 0 && result.phases[1].achievedGbPerS > 0);
    CHECK_NEAR(result.phases[1].tokensPerSPerSequence * 3, result.phases[1].tokensPerS, 1e-6);
    CHECK(result.measuredBandwidthGbPerS.has_value() && result.timeToFirstTokenMs > 0);
    CHECK(result.backend == "cpu" && result.threads == 2 && !result.device.empty());
    // Without context the decode phase starts after the prompt.
    CHECK(result.phases[0].contextTokens == 0 && result.phases[1].contextTokens == 8);
    // The bench gives its sequences back.
    CHECK_THROWS_WITH(backend.sequenceLength(1), "unknown sequence id");

    // DESIGN.md `crossroads bench --json`, every key present (extra keys allowed).
    const nlohmann::json json = benchResultToJson(result);
    for (const char* key : {"model", "backend", "device", "dtype", "measured_bandwidth_gb_per_s",
                            "spec", "kv_bytes_per_token", "peak_memory_bytes",
                            "time_to_first_token_ms", "metadata", "phases"})
        CHECK(json.contains(key));
    for (const char* key : {"bandwidth_gb_per_s", "bf16_tflops"})
        CHECK(json["spec"].contains(key) && json["spec"][key].is_null());
    for (const char* key : {"commit", "build_type", "cpu", "threads", "gpu", "driver", "date"})
        CHECK(json["metadata"].contains(key));
    CHECK(json["backend"] == "cpu" && json["metadata"]["threads"] == 2);
    CHECK(json["metadata"]["gpu"].is_null() && json["metadata"]["driver"].is_null());
    CHECK(json["metadata"]["commit"].is_string() && !json["metadata"]["commit"].empty());
    CHECK(json["metadata"]["date"].get<std::string>().size() == 20); // 2025-01-31T12:00:00Z
    CHECK(json["phases"].size() == 2);
    for (const char* key : {"phase", "batch", "tokens", "tokens_per_s", "tokens_per_s_per_sequence",
                            "tokens_per_s_stddev", "achieved_tflops", "achieved_gb_per_s",
                            "fraction_of_measured_bandwidth", "fraction_of_measured_tflops",
                            "fraction_of_spec_bandwidth", "fraction_of_spec_tflops"})
        CHECK(json["phases"][1].contains(key));
    CHECK(json["phases"][1]["fraction_of_measured_bandwidth"].is_number());
    // Measured ceilings: the FMA peak once, the read bandwidth around each of the repetitions.
    CHECK(json["measured_tflops"].is_number() && json["measured_tflops"].get<double>() > 0);
    // The BF16 GEMM of oneDNN where the backend computes in BF16 with it, else the FMA peak.
    const std::string method = json["measured_tflops_method"].get<std::string>();
    if (onednnAvailable() && activeIsa() == Isa::Avx512Bf16)
        CHECK(method.rfind("oneDNN BF16 GEMM 2048^3, " + onednnKernelName(), 0) == 0);
    else
        CHECK(method == "F32 FMA peak, 2 threads, " + std::string(isaName(activeIsa())));
    CHECK(json["phases"][1]["bandwidth_pairing"] == "step");
    CHECK(json["phases"][1]["fraction_of_measured_bandwidth_quartiles"].size() == 2);
    CHECK(json["metadata"]["prefill_kernel"] == backend.prefillKernel());
    CHECK(json["metadata"]["decode_prefetch_bytes"] == decodePrefetchBytes());
    CHECK(json["phases"][0]["fraction_of_measured_tflops"].is_number());
    CHECK(json["measured_bandwidth_stddev_gb_per_s"].is_number());
    CHECK(json["peak_host_memory_bytes"].get<double>() > 0);
    CHECK(json["peak_memory_bytes"] == json["peak_host_memory_bytes"]);
    CHECK(json["phases"][1]["fraction_of_spec_bandwidth"].is_null());
    CHECK(json["phases"][1]["fraction_of_spec_tflops"].is_null());
    CHECK(benchResultTable(result).find("decode") != std::string::npos);
    // The cache's bytes beside the analytic figure: the CPU's F32 cache is twice BF16's.
    CHECK_NEAR(result.kvBytesPerToken, 2.0 * result.kvBytesPerTokenAnalyticBf16, 1e-9);
    CHECK(json["kv_bytes_per_token_analytic_bf16"] == result.kvBytesPerTokenAnalyticBf16);
    CHECK(benchResultTable(result).find("stored (analytic: ") != std::string::npos);

    options.batch = 0;
    CHECK_THROWS_WITH(runBench(backend, options), "batch >= 1");
    options.batch = 1;
    options.contextTokens = {-1};
    CHECK_THROWS_WITH(runBench(backend, options), "context >= 0");
}

// Spec peaks given by the caller turn into fractions; a context deeper than the prompt is in the
// cache when decode starts, and its reads count.
void benchWithSpecAndContext() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Mixtral), WeightType::BF16);
    CpuBackend backend(model, 1);
    BenchOptions options;
    options.promptTokens = 4;
    options.genTokens = 3;
    options.repetitions = 1;
    options.measuredBandwidthGbPerS = 10.0;
    options.measuredTflops = 0.25;
    options.specBandwidthGbPerS = 20.0;
    options.specBf16Tflops = 0.5;
    options.specChipName = "Test chip";
    options.contextTokens = {40};
    const BenchResult deep = runBench(backend, options);
    CHECK(deep.phases.size() == 2);
    const PhaseResult& decode = deep.phases[1];
    CHECK(decode.contextTokens == 40);
    CHECK(decode.fractionOfSpecBandwidth && decode.fractionOfSpecTflops);
    CHECK_NEAR(*decode.fractionOfSpecBandwidth, decode.achievedGbPerS / 20.0, 1e-12);
    CHECK_NEAR(*decode.fractionOfSpecTflops, decode.achievedTflops / 0.5, 1e-12);
    CHECK_NEAR(*decode.fractionOfMeasuredBandwidth, decode.achievedGbPerS / 10.0, 1e-12);
    CHECK_NEAR(*decode.fractionOfMeasuredTflops, decode.achievedTflops / 0.25, 1e-12);
    CHECK(deep.measuredTflops == 0.25);
    const nlohmann::json json = benchResultToJson(deep);
    CHECK(json["spec"]["bandwidth_gb_per_s"] == 20.0 && json["spec"]["bf16_tflops"] == 0.5);
    CHECK(json["spec"]["chip"] == "Test chip");
    CHECK(json["measured_bandwidth_gb_per_s"] == 10.0);
    CHECK(json["phases"][1]["context_tokens"] == 40);
    CHECK(json["phases"][1]["fraction_of_spec_bandwidth"].is_number());
    CHECK(benchResultTable(deep).find("Test chip") != std::string::npos);

    // The same decode over a shallow cache reads fewer KV bytes per token: the bytes and FLOPs
    // per step follow the context (same weights, same tokens per step).
    options.contextTokens = {0};
    const BenchResult shallow = runBench(backend, options);
    CHECK(shallow.phases[1].contextTokens == 4);
    const double deepBytesPerToken = decode.achievedGbPerS / decode.tokensPerS;
    const double shallowBytesPerToken =
        shallow.phases[1].achievedGbPerS / shallow.phases[1].tokensPerS;
    CHECK(deepBytesPerToken > shallowBytesPerToken);
    // A context no deeper than the prompt changes nothing.
    options.contextTokens = {2};
    CHECK(runBench(backend, options).phases[1].contextTokens == 4);

    // A sweep: one decode phase per context, in the order given, each with its own KV reads;
    // one prefill phase. The bandwidth measured around each repetition (given here: 10 GB/s)
    // still makes each phase's fraction.
    // One repetition: then achieved GB/s over tokens/s is exactly the bytes per token.
    options.contextTokens = {40, 0, 17};
    options.repetitions = 1;
    const BenchResult sweep = runBench(backend, options);
    CHECK(sweep.phases.size() == 4 && sweep.phases[0].phase == "prefill");
    CHECK(sweep.phases[1].contextTokens == 40 && sweep.phases[2].contextTokens == 4 &&
          sweep.phases[3].contextTokens == 17);
    const auto bytesPerToken = [&](std::size_t i) {
        return sweep.phases[i].achievedGbPerS / sweep.phases[i].tokensPerS;
    };
    CHECK(bytesPerToken(1) > bytesPerToken(3) && bytesPerToken(3) > bytesPerToken(2));
    for (std::size_t i = 1; i < 4; ++i) {
        CHECK(sweep.phases[i].phase == "decode");
        CHECK_NEAR(*sweep.phases[i].fractionOfMeasuredBandwidth,
                   sweep.phases[i].achievedGbPerS / 10.0, 1e-12);
    }
}

// llama-bench style lists for the sweep options.
// A truncated DeepSeek model stores what MLA caches (the latent and the RoPE key, F32 on the
// CPU) and reports the whole model's analytic figure beside it; with FP8 weights it names the
// FP8 decode kernel in effect, with BF16 none.
void deepseekKvBytes() {
    for (const WeightType type : {WeightType::BF16, WeightType::FP8E4M3}) {
        ModelConfig config = check::tinyDeepseek(ModelFamily::DeepseekV3);
        truncateLayers(config, 2); // of 3
        const Model model = synthesizeModel(config, type);
        CpuBackend backend(model, 2);
        BenchOptions options;
        options.promptTokens = 4;
        options.genTokens = 2;
        options.repetitions = 1;
        options.bandwidthBytes = std::size_t{16} << 20;
        const BenchResult result = runBench(backend, options);
        const double width = static_cast<double>(model.config.mla.cachedWidth());
        CHECK_NEAR(result.kvBytesPerToken, 2.0 * width * 4.0, 1e-9);
        CHECK_NEAR(result.kvBytesPerTokenAnalyticBf16, 2.0 * width * 2.0, 1e-9);
        CHECK_NEAR(result.kvBytesPerTokenFullModelBf16, 3.0 * width * 2.0, 1e-9);
        CHECK(benchResultTable(result).find("the whole model") != std::string::npos);
        const nlohmann::json kernel = benchResultToJson(result)["metadata"]["fp8_decode_kernel"];
        if (type == WeightType::FP8E4M3) {
            CHECK(kernel == std::string(fp8DecodeKernelInEffect()));
            CHECK(benchResultTable(result).find("fp8 decode: " + kernel.get<std::string>()) !=
                  std::string::npos);
        } else {
            CHECK(kernel.is_null());
        }
        // The compute ceiling is oneDNN's BF16 rate where the weights multiply in BF16 (FP8
        // ones on avx512-bf16 with VBMI: their prefill runs on the dot-product instruction).
        const std::string method = benchResultToJson(result)["measured_tflops_method"];
        const bool bf16Rate = activeIsa() == Isa::Avx512Bf16 && onednnAvailable() &&
                              (type == WeightType::BF16 ||
                               fp8DecodeKernelRuns(Fp8DecodeKernel::Bf16Dot, Isa::Avx512Bf16));
        CHECK((method.rfind("oneDNN BF16 GEMM 2048^3", 0) == 0) == bf16Rate);
        CHECK(bf16Rate || method.rfind("F32 FMA peak", 0) == 0);
    }
}

void countLists() {
    CHECK(parseCountList("0,1024,4096", "--context") == (std::vector<int64_t>{0, 1024, 4096}));
    CHECK(parseCountList("7", "--context") == std::vector<int64_t>{7});
    for (const char* bad : {"", "1,,2", "-1", "4,x", "3 ", ",5", "5,", "99999999999999999999"})
        CHECK_THROWS_WITH(parseCountList(bad, "--context"), "--context takes non-negative");
}

} // namespace

// The progress hook: it sees every backend call it announced, in order, and returning false
// stops the run with BenchCancelled, the sequences released (the backend takes new ones).
void benchProgressAndCancel() {
    const Model model = synthesizeModel(check::tinyConfig(ModelFamily::Qwen2Moe), WeightType::BF16);
    CpuBackend backend(model, 2);
    BenchOptions options;
    options.promptTokens = 6;
    options.genTokens = 5;
    options.batch = 2;
    options.repetitions = 2;
    options.contextTokens = {0, 10}; // the second context adds an untimed prefill per sequence
    options.measuredBandwidthGbPerS = 10.0;
    options.measuredTflops = 1.0;
    std::vector<BenchProgress> seen;
    options.onProgress = [&](const BenchProgress& p) {
        seen.push_back(p);
        return true;
    };
    const BenchResult result = runBench(backend, options);
    CHECK(result.phases.size() == 3);
    // warm-up 2 + 2, context 0: 2 x (2 + 5), context 10: 2 x (2 + 2 + 5).
    const int64_t total = 4 + 14 + 18;
    CHECK(!seen.empty() && seen.front().stage == "measuring" && seen.front().done == 0);
    CHECK(seen.back().done == total);
    bool ordered = true, stages = true;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        ordered = ordered && seen[i].total == total && (i == 0 || seen[i].done > seen[i - 1].done);
        stages = stages && (seen[i].stage == "measuring" || seen[i].stage == "warm-up" ||
                            seen[i].stage == "prefill" || seen[i].stage == "decode");
    }
    CHECK(ordered && stages);
    CHECK(seen[1].stage == "warm-up" && seen.back().stage == "decode");

    // Cancelled in the middle of the first timed decode.
    int calls = 0;
    options.onProgress = [&](const BenchProgress& p) { return ++calls < 8 || p.done == 0; };
    CHECK_THROWS_WITH(runBench(backend, options), "cancelled");
    CHECK(calls == 8);
    // The two sequences of the cancelled repetition were the last ones made, and are released.
    const SequenceId after = backend.newSequence();
    CHECK_THROWS_WITH(backend.sequenceLength(after - 1), "unknown sequence id");
    CHECK_THROWS_WITH(backend.sequenceLength(after - 2), "unknown sequence id");
    backend.releaseSequence(after);
    // Nothing is left behind: the same backend runs again to its end.
    options.onProgress = {};
    CHECK(runBench(backend, options).phases.size() == 3);
}

int main() {
    try {
        analyticFigures();
        timingStatistics();
        benchRunsAndReports();
        benchWithSpecAndContext();
        benchProgressAndCancel();
        countLists();
        deepseekKvBytes();
    } catch (const std::exception& error) {
        check::fail(__FILE__, __LINE__, std::string("unexpected exception: ") + error.what());
    }
    return check::finish("inference_bench_test");
}
