// TPP, performance density and memory bandwidth density, with the BIS worked examples.
#include "analysis/Metrics.h"

#include <QTest>

using namespace crossroads::analysis;

namespace {
const BitLengths kBits = {{Precision::Fp64, 64}, {Precision::Fp32, 32}, {Precision::Tf32, 32},
                          {Precision::Fp16, 16}, {Precision::Bf16, 16}, {Precision::Fp8, 8},
                          {Precision::Int8, 8},  {Precision::Int4, 4},  {Precision::Fp4, 4}};
}

class TestMetrics : public QObject {
    Q_OBJECT
private slots:
    void bisExamples_data() {
        QTest::addColumn<int>("precision");
        QTest::addColumn<double>("rate");
        QTest::addColumn<double>("tpp");
        QTest::newRow("600 tera int ops at 8 bits") << int(Precision::Int8) << 600.0 << 4800.0;
        QTest::newRow("300 TFLOPS at 16 bits") << int(Precision::Fp16) << 300.0 << 4800.0;
        QTest::newRow("FP4 counts 4 bits") << int(Precision::Fp4) << 1000.0 << 4000.0;
        QTest::newRow("FP64 counts 64 bits") << int(Precision::Fp64) << 50.0 << 3200.0;
    }
    void bisExamples() {
        QFETCH(int, precision);
        QFETCH(double, rate);
        QFETCH(double, tpp);
        ChipSpec c;
        c.dense_tops[static_cast<Precision>(precision)] = rate;
        const auto r = totalProcessingPerformance(c, kBits);
        QVERIFY(r);
        QCOMPARE(r->tpp, tpp);
        QCOMPARE(int(*r->basis), precision);
    }

    void maximumOverPrecisions() {
        ChipSpec c; // L2-like: TF32 at 32 bits beats FP16 and INT8
        c.dense_tops[Precision::Tf32] = 48.3;
        c.dense_tops[Precision::Fp16] = 96.5;
        c.dense_tops[Precision::Int8] = 193;
        auto r = totalProcessingPerformance(c, kBits);
        QCOMPARE(*r->basis, Precision::Tf32);
        QCOMPARE(r->tpp, 48.3 * 32);
        // The TF32 assumption is edition data: at 19 bits FP16 decides.
        BitLengths bits19 = kBits;
        bits19[Precision::Tf32] = 19;
        r = totalProcessingPerformance(c, bits19);
        QCOMPARE(r->tpp, 1544.0);
    }

    void unknownIsNotZero() {
        ChipSpec c;
        QVERIFY(!totalProcessingPerformance(c, kBits));
        QVERIFY(!performanceDensity(std::nullopt, 800.0));
        QVERIFY(!performanceDensity(4800.0, std::nullopt));
        c.kind = ChipKind::Hbm; // memory has no processing units
        QCOMPARE(totalProcessingPerformance(c, kBits)->tpp, 0.0);
    }

    void densities() {
        QCOMPARE(*performanceDensity(15832.0, 814.0), 15832.0 / 814.0);
        ChipSpec stack;
        stack.memory_bandwidth_gb_per_s = 1200;
        stack.package_area_mm2 = 110;
        QCOMPARE(*memoryBandwidthDensityGbPerSPerMm2(stack), 1200.0 / 110.0);
        stack.package_area_mm2.reset();
        QVERIFY(!memoryBandwidthDensityGbPerSPerMm2(stack));
    }
};

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
