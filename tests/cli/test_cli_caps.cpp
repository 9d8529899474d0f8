// `crossroads caps` as tools see it (DESIGN.md contract) on a fresh store: the allocations of the
// 2025-01 edition (LPP 26,900,000 TPP ~ 1,699 H100; Tier-2 790,000,000 ~ 49,900 H100 [D] in
// docs/reference/export-rules.md), a custom TPP, the utilisation DeepSeek-V3's report implies
// (the store's H800s take 2,664K GPU-hours), the 4E091 check, undetermined chips, usage errors.
#include "tests/common/CliProcess.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using nlohmann::json;

namespace {

const json* resultFor(const json& out, const std::string& chip) {
    for (const json& r : out["results"])
        if (r["chip"] == chip)
            return &r;
    return nullptr;
}

bool within(double value, double expected, double fraction) {
    return std::fabs(value - expected) <= fraction * std::fabs(expected);
}

} // namespace

class TestCliCaps : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    using Run = crossroads::testing::CliRun;

    QString db() const { return dir_.filePath(QStringLiteral("store.sqlite")); }
    Run crossroads(const QStringList& arguments) {
        return crossroads::testing::runCrossroads(db(), arguments);
    }
    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(db(), arguments);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void allocations_data() {
        QTest::addColumn<QString>("allocation");
        QTest::addColumn<QString>("key");
        QTest::addColumn<double>("tpp");
        QTest::addColumn<qlonglong>("h100s");
        QTest::addColumn<bool>("exceeds");
        QTest::newRow("lpp") << "lpp"
                             << "lpp" << 26.9e6 << 1699LL << false;
        QTest::newRow("tier2") << "tier2"
                               << "tier2" << 790e6 << 49898LL << true;
        QTest::newRow("tier2x2") << "tier2x2"
                                 << "tier2x2" << 1580e6 << 99797LL << true;
        // 100,000,000 / 15,832 = 6,316.3.
        QTest::newRow("custom") << "100000000"
                                << "custom" << 1e8 << 6316LL << false;
    }
    void allocations() {
        QFETCH(QString, allocation);
        QFETCH(QString, key);
        QFETCH(double, tpp);
        QFETCH(qlonglong, h100s);
        QFETCH(bool, exceeds);
        const json out = runJson({"caps", "--allocation", allocation, "--json"});
        QVERIFY(out.is_object());
        QCOMPARE(QString::fromStdString(out["allocation"].get<std::string>()), key);
        QCOMPARE(out["allocation_tpp"].get<double>(), tpp);
        QVERIFY(out["exceeds_4e091"].is_boolean());
        QCOMPARE(out["exceeds_4e091"].get<bool>(), exceeds);
        QVERIFY(out["assumptions"]["training_utilization"].is_number());
        QCOMPARE(out["edition"].get<std::string>(), std::string("2025-01"));
        const json* h100 = resultFor(out, "H100 SXM5 80GB");
        QVERIFY(h100);
        QCOMPARE((*h100)["chips"].get<qlonglong>(), h100s);
        QCOMPARE((*h100)["h100_equivalents"].get<double>(), static_cast<double>(h100s));
        for (const json& r : out["results"])
            for (const char* k : {"chip", "tpp", "chips", "h100_equivalents",
                                  "deepseek_v3_decode_tokens_per_s", "deepseek_v3_training_days"})
                QVERIFY2(r.contains(k), k);
        // The default set: the store's names of the chips the question is asked about.
        for (const char* name : {"H800 SXM5 (China)", "H20 (China)", "B200", "Instinct MI300X",
                                 "Gaudi3 (HL-325L)", "Ascend 910C"})
            QVERIFY2(resultFor(out, name), name);
        QVERIFY(out["default_chips_missing"].empty());
    }

    // The H800s of any allocation take DeepSeek's 2,664K GPU-hours to train DeepSeek-V3.
    void utilizationReproducesDeepSeek_data() {
        QTest::addColumn<QString>("basis");
        QTest::newRow("bf16") << "bf16";
        QTest::newRow("fp8") << "fp8";
    }
    void utilizationReproducesDeepSeek() {
        QFETCH(QString, basis);
        const json out = runJson({"caps", "--allocation", "tier2", "--chip", "H800 SXM5 (China)",
                                  "--utilization-basis", basis, "--json"});
        const json& h800 = out["results"][0];
        const double gpuHours =
            h800["chips"].get<double>() * h800["deepseek_v3_training_days"].get<double>() * 24.0;
        QVERIFY2(within(gpuHours, 2.664e6, 1e-9), qPrintable(QString::number(gpuHours)));
        QCOMPARE(QString::fromStdString(out["assumptions"]["training_utilization_basis"]), basis);
        QCOMPARE(out["assumptions"]["training_flops"].get<double>(), 3.2856e24);
    }

    // A chip with no published rate: null fields and an undetermined list, exit 0.
    void undeterminedChip() {
        const json out =
            runJson({"caps", "--allocation", "lpp", "--chip", "Instinct MI308X (China)", "--json"});
        const json& r = out["results"][0];
        QVERIFY(r["tpp"].is_null());
        QVERIFY(r["chips"].is_null());
        QVERIFY(r["deepseek_v3_training_days"].is_null());
        QVERIFY(!r["undetermined"].empty());
        QVERIFY(out["exceeds_4e091"] == false);
        QCOMPARE(out["exceeds_4e091_undetermined"].size(), size_t(1));
    }

    void textOutput() {
        const Run r = crossroads({"caps", "--allocation", "lpp"});
        QCOMPARE(r.code, 0);
        const QString text = QString::fromUtf8(r.out);
        QVERIFY2(text.contains(QStringLiteral("26,900,000")), r.out.constData());
        QVERIFY(text.contains(QStringLiteral("H100 SXM5 80GB")));
        QVERIFY(text.contains(QStringLiteral("1,699")));
        QVERIFY(text.contains(QStringLiteral("6 x 37B active parameters x 14.8T tokens")));
        QVERIFY(text.contains(QStringLiteral("exceeds_4e091 = no")));
    }

    void usageErrors_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("named");
        QTest::newRow("bad allocation")
            << QStringList{"caps", "--allocation", "bogus"} << 2 << "bogus";
        QTest::newRow("negative allocation")
            << QStringList{"caps", "--allocation", "-1"} << 2 << "-1";
        QTest::newRow("no allocation") << QStringList{"caps"} << 2 << "--allocation";
        QTest::newRow("edition without caps")
            << QStringList{"caps", "--allocation", "lpp", "--edition", "2024-12"} << 2 << "2024-12";
        QTest::newRow("unknown edition")
            << QStringList{"caps", "--allocation", "lpp", "--edition", "1999-01"} << 2 << "1999-01";
        QTest::newRow("bad basis")
            << QStringList{"caps", "--allocation", "lpp", "--utilization-basis", "fp4"} << 2
            << "fp4";
        QTest::newRow("bad period")
            << QStringList{"caps", "--allocation", "lpp", "--period-days", "0"} << 2 << "0";
        QTest::newRow("unknown chip")
            << QStringList{"caps", "--allocation", "lpp", "--chip", "No Such Chip"} << 1
            << "No Such Chip";
    }
    void usageErrors() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, named);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, code);
        const QString err = QString::fromUtf8(r.err).trimmed();
        QVERIFY2(err.contains(named), r.err.constData());
        QVERIFY2(!err.contains(QLatin1Char('\n')), r.err.constData()); // one line
        QVERIFY(r.out.isEmpty());
    }

    // `crossroads capability`: the index beside the class, highest projected decode first; the
    // headline: the H20, not controlled, out-decodes the controlled H100 on DeepSeek-V3.
    void capabilityShowsTheHeadline() {
        const json out = runJson({"capability", "--edition", "2026-01", "--json"});
        QVERIFY(out.is_object());
        QCOMPARE(out["edition"].get<std::string>(), std::string("2026-01"));
        QCOMPARE(out["assumptions"]["h100_reference_chip"].get<std::string>(),
                 std::string("H100 SXM5 80GB"));
        const json* h20 = resultFor(out, "H20 (China)");
        const json* h100 = resultFor(out, "H100 SXM5 80GB");
        QVERIFY(h20 && h100);
        QCOMPARE((*h20)["controlled"].get<bool>(), false);
        QCOMPARE((*h100)["controlled"].get<bool>(), true);
        QVERIFY((*h20)["deepseek_v3_decode_tokens_per_s"].get<double>() >
                (*h100)["deepseek_v3_decode_tokens_per_s"].get<double>());
        QVERIFY(within((*h100)["deepseek_v3_decode_tokens_per_s"].get<double>(), 89, 0.03));
        QCOMPARE((*h100)["h100_equivalents_by_tpp"].get<double>(), 1.0);
        QVERIFY((*h100)["measured"].empty()); // a fresh store has no benchmark runs
        // Ordered by projected decode, unknown last.
        double previous = 1e300;
        bool unknownSeen = false;
        for (const json& r : out["results"]) {
            if (r["deepseek_v3_decode_tokens_per_s"].is_null()) {
                unknownSeen = true;
                continue;
            }
            QVERIFY(!unknownSeen);
            const double d = r["deepseek_v3_decode_tokens_per_s"].get<double>();
            QVERIFY(d <= previous);
            previous = d;
        }
        const Run text =
            crossroads({"capability", "--chip", "H20 (China)", "--chip", "H100 SXM5 80GB"});
        QCOMPARE(text.code, 0);
        QVERIFY2(text.out.contains("H20 (China)") && text.out.contains("DSV3 decode tok/s") &&
                     text.out.contains("No stored benchmark run"),
                 text.out.constData());
        QVERIFY(text.out.indexOf("H20 (China)") < text.out.indexOf("H100 SXM5 80GB"));
    }

    void capabilityErrors() {
        const Run unknownChip = crossroads({"capability", "--chip", "No Such Chip"});
        QCOMPARE(unknownChip.code, 1);
        QVERIFY(unknownChip.err.contains("No Such Chip"));
        const Run unknownEdition = crossroads({"capability", "--edition", "1999-01"});
        QCOMPARE(unknownEdition.code, 2);
        QVERIFY(unknownEdition.err.contains("1999-01"));
    }
};

QTEST_GUILESS_MAIN(TestCliCaps)
#include "test_cli_caps.moc"
