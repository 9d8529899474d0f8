// The roofline projection against the figures of docs/reference/moe-inference.md ("Roofline
// arithmetic"): DeepSeek-V3 FP8 batch-1 decode ceilings, experts touched per batch, MLA KV bytes,
// ridge points, parameter counts.
#include "analysis/Projection.h"

#include "inference/model/Cost.h"
#include "inference/model/Presets.h"

#include <QTest>

#include <cmath>
#include <stdexcept>

using namespace crossroads::analysis;
namespace inf = crossroads::inference;

namespace {

// H100 SXM-like peaks (dense BF16 989, FP8 1979 TFLOPS); only the bandwidth varies by row.
ChipRoof chipWithBandwidth(double gbPerS, double capacityGb = 80.0) {
    ChipRoof chip;
    chip.name = "test chip";
    chip.memory_bandwidth_gb_per_s = gbPerS;
    chip.bf16_tflops = 989.0;
    chip.fp8_tflops = 1979.0;
    chip.memory_capacity_gb = capacityGb;
    chip.io_bidirectional_gb_per_s = 900.0;
    return chip;
}

bool within(double value, double expected, double fraction) {
    return std::fabs(value - expected) <= fraction * std::fabs(expected);
}

const inf::ModelConfig& deepseekV3() {
    static const inf::ModelConfig config = inf::presetConfig("deepseek-v3");
    return config;
}

} // namespace

class TestProjection : public QObject {
    Q_OBJECT
private slots:
    // The reference's batch-1 ceilings are weights only (tok/s = bandwidth / active bytes): a
    // context of 1 (the new token's own KV row, 70 KB against 37.6 GB) reproduces them; the
    // reference prints them to two or three digits, hence 1.5%.
    void deepseekV3Fp8Batch1Ceiling_data() {
        QTest::addColumn<double>("bandwidthGbPerS");
        QTest::addColumn<double>("tokensPerS");
        QTest::newRow("H100/H800 3.35 TB/s") << 3350.0 << 89.0;
        QTest::newRow("H20 4.0 TB/s") << 4000.0 << 107.0;
        QTest::newRow("H200 4.8 TB/s") << 4800.0 << 128.0;
    }
    void deepseekV3Fp8Batch1Ceiling() {
        QFETCH(double, bandwidthGbPerS);
        QFETCH(double, tokensPerS);
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        options.batch = 1;
        options.context = 1;
        const Projection p = project(deepseekV3(), chipWithBandwidth(bandwidthGbPerS), options);
        QVERIFY2(within(p.decode_tokens_per_s, tokensPerS, 0.015),
                 qPrintable(QString::number(p.decode_tokens_per_s)));
        QVERIFY(p.memory_bound);
        // 37.6 GB per step at FP8 (reference), the projections in FP8 and the rest in BF16.
        QVERIFY2(within(p.bytes_per_step, 37.6e9, 0.01),
                 qPrintable(QString::number(p.bytes_per_step)));

        // At the contract's default context (4096) the KV reads count: 4096 x 70,272 B more.
        options.context = 4096;
        const Projection withKv =
            project(deepseekV3(), chipWithBandwidth(bandwidthGbPerS), options);
        QCOMPARE(withKv.kv_bytes_per_step, 4096.0 * 70272.0);
        QVERIFY(withKv.decode_tokens_per_s < p.decode_tokens_per_s);
        QVERIFY(within(withKv.decode_tokens_per_s,
                       bandwidthGbPerS * 1e9 / (p.weight_bytes_per_step + 4096.0 * 70272.0), 1e-9));
    }

    void expertsTouched_data() {
        QTest::addColumn<int>("batch");
        QTest::addColumn<double>("experts");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("batch 1") << 1 << 8.0 << 1e-9;
        QTest::newRow("batch 32") << 32 << 163.0 << 1.0;
        QTest::newRow("batch 512") << 512 << 256.0 << 1e-3;
    }
    void expertsTouched() {
        QFETCH(int, batch);
        QFETCH(double, experts);
        QFETCH(double, tolerance);
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        options.batch = batch;
        const Projection p = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY2(std::fabs(p.experts_touched_per_layer - experts) <= tolerance,
                 qPrintable(QString::number(p.experts_touched_per_layer)));
    }

    void weightBytesGrowWithTheBatch() {
        // Reference: B = 32 reads ~434 GB of FP8 weights a step; the per-token cost falls.
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        options.batch = 32;
        const Projection p32 = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY2(within(p32.weight_bytes_per_step, 434e9, 0.02),
                 qPrintable(QString::number(p32.weight_bytes_per_step)));
        options.batch = 1;
        const Projection p1 = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY(p32.decode_tokens_per_s > p1.decode_tokens_per_s);
        QVERIFY(p32.decode_tokens_per_s_per_sequence < p1.decode_tokens_per_s_per_sequence);
    }

    void mlaKvBytes() {
        // 61 layers x (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 B.
        QCOMPARE(inf::kvBytesPerToken(deepseekV3(), 2.0), 70272.0);
        ProjectionOptions options;
        options.batch = 8;
        options.context = 1000;
        const Projection p = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QCOMPARE(p.kv_bytes_per_token, 70272.0);
        QCOMPARE(p.kv_bytes_total, 8.0 * 1000.0 * 70272.0);
        // Grouped attention caches K and V per KV head: Mixtral 32 x 2 x 8 x 128 x 2 B.
        QCOMPARE(inf::kvBytesPerToken(inf::presetConfig("mixtral-8x7b"), 2.0), 131072.0);
    }

    void parameterCounts() {
        QVERIFY(within(inf::totalParameters(deepseekV3()), 671e9, 0.02));
        QVERIFY(within(inf::activeParametersPerToken(deepseekV3()), 37e9, 0.02));
        const inf::ModelConfig lite = inf::presetConfig("deepseek-v2-lite");
        QVERIFY(within(inf::totalParameters(lite), 15.7e9, 0.02));
        QVERIFY(within(inf::activeParametersPerToken(lite), 2.4e9, 0.025)); // 2.45B counted
    }

    void ridgePointAndBound() {
        // Reference: H100/H800 ~295 FLOP/B at BF16, H200 ~206.
        ProjectionOptions options;
        QVERIFY(within(
            project(deepseekV3(), chipWithBandwidth(3350.0), options).ridge_point_flop_per_byte,
            295.0, 0.01));
        QVERIFY(within(
            project(deepseekV3(), chipWithBandwidth(4800.0), options).ridge_point_flop_per_byte,
            206.0, 0.01));
        // Batch-1 decode sits at 1-2 FLOP/B (memory-bound); a batch of thousands is compute-bound.
        options.context = 1;
        const Projection one = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY(one.memory_bound && one.arithmetic_intensity > 0.5 &&
                one.arithmetic_intensity < 2.5);
        options.batch = 8192;
        const Projection many = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY(!many.memory_bound);
        QCOMPARE(many.step_time_s, many.compute_time_s);
        // Prefill of one prompt: all 256 experts are read, each by prompt x 8 / 256 tokens, so
        // it turns compute-bound once an expert's share passes the ridge (~300 tokens): a
        // 256-token prompt is memory-bound, a 32k one is not.
        options.batch = 1;
        options.context = 256;
        QVERIFY(project(deepseekV3(), chipWithBandwidth(3350.0), options).prefill_memory_bound);
        options.context = 32768;
        QVERIFY(!project(deepseekV3(), chipWithBandwidth(3350.0), options).prefill_memory_bound);
    }

    void fp8ComputeRoof() {
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        ChipRoof chip = chipWithBandwidth(3350.0);
        QCOMPARE(project(deepseekV3(), chip, options).compute_precision, std::string("fp8"));
        QCOMPARE(project(deepseekV3(), chip, options).peak_tflops, 1979.0);
        chip.fp8_tflops.reset(); // A100-like: FP8 weights widened to BF16
        QCOMPARE(project(deepseekV3(), chip, options).compute_precision, std::string("bf16"));
        QCOMPARE(project(deepseekV3(), chip, options).peak_tflops, 989.0);
        // FP8 weights carry one F32 scale per 128 x 128 block.
        const inf::WeightBytes bytes = weightBytesFor(deepseekV3(), WeightDtype::Fp8);
        QCOMPARE(bytes.projection, 1.0 + 4.0 / 16384.0);
        QCOMPARE(bytes.other, 2.0);
    }

    void gpusToHold() {
        // DeepSeek-V3 in FP8 (~673 GB) does not fit eight 80 GB GPUs; it fits five of 141 GB.
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        const Projection h100 = project(deepseekV3(), chipWithBandwidth(3350.0, 80.0), options);
        QVERIFY(within(h100.weight_bytes_total, 673e9, 0.01));
        QCOMPARE(h100.gpus_to_hold, std::optional<int64_t>(9));
        QCOMPARE(project(deepseekV3(), chipWithBandwidth(4800.0, 141.0), options).gpus_to_hold,
                 std::optional<int64_t>(5));
        // At BF16: 1,342 GB -> 17 GPUs of 80 GB. A long context for many sequences adds its KV.
        options.dtype = WeightDtype::Bf16;
        QCOMPARE(project(deepseekV3(), chipWithBandwidth(3350.0), options).gpus_to_hold,
                 std::optional<int64_t>(17));
        options.batch = 64;
        options.context = 128 * 1024;
        const Projection longContext = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY(longContext.gpus_to_hold > std::optional<int64_t>(17));
        ChipRoof unknown = chipWithBandwidth(3350.0);
        unknown.memory_capacity_gb.reset();
        QVERIFY(!project(deepseekV3(), unknown, options).gpus_to_hold);
    }

    void efficiencyAndInterconnect() {
        ProjectionOptions options;
        options.dtype = WeightDtype::Fp8;
        const double pure =
            project(deepseekV3(), chipWithBandwidth(3350.0), options).decode_tokens_per_s;
        options.bandwidth_efficiency = 0.5;
        QVERIFY(
            within(project(deepseekV3(), chipWithBandwidth(3350.0), options).decode_tokens_per_s,
                   pure / 2.0, 1e-9));
        options.bandwidth_efficiency = 1.0;
        // Expert parallel over 8 GPUs: 58 MoE layers x 2 (dispatch, combine) x 8 experts x 7168
        // x 2 B x 7/8 = 11,640,832 B a token, over 450 GB/s (900 bidirectional / 2).
        options.expert_parallel_gpus = 8;
        const Projection ep = project(deepseekV3(), chipWithBandwidth(3350.0), options);
        QVERIFY(within(ep.interconnect_time_s, 11640832.0 / 450e9, 1e-9));
        QVERIFY(within(ep.step_time_s, ep.memory_time_s + ep.interconnect_time_s, 1e-12));
        ChipRoof noIo = chipWithBandwidth(3350.0);
        noIo.io_bidirectional_gb_per_s.reset();
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, project(deepseekV3(), noIo, options));
    }

    void badInputIsNamed() {
        ProjectionOptions options;
        options.batch = 0;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 project(deepseekV3(), chipWithBandwidth(3350.0), options));
        options.batch = 1;
        options.compute_efficiency = 1.5;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 project(deepseekV3(), chipWithBandwidth(3350.0), options));
        ChipRoof noRate = chipWithBandwidth(3350.0);
        noRate.bf16_tflops.reset();
        try {
            project(deepseekV3(), noRate, {});
            QFAIL("no exception");
        } catch (const std::invalid_argument& error) {
            QVERIFY(std::string(error.what()).find("test chip") != std::string::npos);
        }
        ChipSpec spec;
        spec.name = "no bandwidth";
        QVERIFY(!chipRoof(spec));
        spec.memory_bandwidth_gb_per_s = 4000.0;
        spec.dense_tops[Precision::Bf16] = 148.0;
        spec.dense_tops[Precision::Fp8] = 296.0;
        const auto roof = chipRoof(spec);
        QVERIFY(roof && roof->bf16_tflops == 148.0 && roof->fp8_tflops == 296.0);
        QVERIFY(weightDtypeFromKey("fp8") == WeightDtype::Fp8 && !weightDtypeFromKey("int4"));
    }

    // The headline (moe-inference.md): the H20, outside 3A090 since 2023 (TPP 2,368 against the
    // 4,800 line), out-decodes the controlled H100 SXM on DeepSeek-V3: 4.0 vs 3.35 TB/s. Figures
    // from the datasheets the store's seed cites.
    void capabilityIndexHeadline() {
        const BitLengths bits = {
            {Precision::Fp64, 64}, {Precision::Fp32, 32}, {Precision::Tf32, 32},
            {Precision::Fp16, 16}, {Precision::Bf16, 16}, {Precision::Fp8, 8},
            {Precision::Int8, 8},  {Precision::Int4, 4},  {Precision::Fp4, 4}};
        ChipSpec h100;
        h100.name = "H100 SXM5 80GB";
        h100.memory_bandwidth_gb_per_s = 3350.0;
        h100.memory_capacity_gb = 80.0;
        h100.dense_tops[Precision::Bf16] = 989.4;
        h100.dense_tops[Precision::Fp8] = 1979.0;
        h100.dense_tops[Precision::Int8] = 1979.0;
        ChipSpec h20;
        h20.name = "H20 (China)";
        h20.memory_bandwidth_gb_per_s = 4000.0;
        h20.memory_capacity_gb = 96.0;
        h20.dense_tops[Precision::Bf16] = 148.0;
        h20.dense_tops[Precision::Fp8] = 296.0;
        h20.dense_tops[Precision::Int8] = 296.0;

        const CapabilityIndex self = capabilityIndex(h100, h100, bits);
        QCOMPARE(*self.h100_equivalents_by_tpp, 1.0);
        QCOMPARE(*self.h100_equivalents_by_capability, 1.0);
        const CapabilityIndex index = capabilityIndex(h20, h100, bits);
        QCOMPARE(*index.tpp, 2368.0);
        QVERIFY(within(*index.h100_equivalents_by_tpp, 2368.0 / 15832.0, 1e-9)); // ~0.15
        // Memory-bound at batch 1 on both: the ratio of the bandwidths.
        QVERIFY(within(*index.h100_equivalents_by_capability, 4000.0 / 3350.0, 1e-9));
        QVERIFY(*index.deepseek_v3_decode_tokens_per_s > *self.deepseek_v3_decode_tokens_per_s);
        QCOMPARE(*index.fp8_tflops, 296.0);

        ChipSpec unknown;
        unknown.name = "no figures";
        const CapabilityIndex none = capabilityIndex(unknown, h100, bits);
        QVERIFY(!none.deepseek_v3_decode_tokens_per_s && !none.tpp &&
                !none.h100_equivalents_by_capability);
    }
};

QTEST_GUILESS_MAIN(TestProjection)
#include "test_projection.moc"
