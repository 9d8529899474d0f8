// `crossroads project` as tools see it (DESIGN.md contract): the JSON shape, the reference's
// DeepSeek-V3 FP8 decode ceilings for the store's H100 and H20 (docs/reference/moe-inference.md),
// the default chip list, the options, and usage errors naming the bad value.
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

} // namespace

class TestCliProject : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    using Run = crossroads::testing::CliRun;

    Run crossroads(const QStringList& arguments) {
        return crossroads::testing::runCrossroads(dir_.filePath(QStringLiteral("store.sqlite")),
                                                  arguments);
    }

    json runJson(const QStringList& arguments) {
        return crossroads::testing::runCrossroadsJson(dir_.filePath(QStringLiteral("store.sqlite")),
                                                      arguments);
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void jsonFollowsTheContract() {
        const json out =
            runJson({"project", "--model", "preset:deepseek-v3", "--chip", "H100 SXM5 80GB",
                     "--chip", "H20 (China)", "--dtype", "fp8", "--context", "1", "--json"});
        QVERIFY(out["model"] == "preset:deepseek-v3");
        QVERIFY(out["dtype"] == "fp8");
        QVERIFY(out["batch"] == 1);
        QVERIFY(out["context"] == 1);
        QCOMPARE(out["results"].size(), size_t(2));
        for (const json& r : out["results"])
            for (const char* key : {"chip", "decode_tokens_per_s", "prefill_tokens_per_s", "bound",
                                    "bytes_per_step", "flops_per_token", "gpus_to_hold"})
                QVERIFY2(r.contains(key), key);
        // Weights-only ceilings of the reference: 89 tok/s at 3.35 TB/s, 107 at 4.0 TB/s.
        const json& h100 = *resultFor(out, "H100 SXM5 80GB");
        const json& h20 = *resultFor(out, "H20 (China)");
        QVERIFY(std::fabs(h100["decode_tokens_per_s"].get<double>() - 89.0) <= 0.015 * 89.0);
        QVERIFY(std::fabs(h20["decode_tokens_per_s"].get<double>() - 107.0) <= 0.015 * 107.0);
        QVERIFY(h100["bound"] == "memory" && h20["bound"] == "memory");
        // The headline: the H20, outside 3A090, out-decodes the controlled H100 on DeepSeek-V3.
        QVERIFY(h20["decode_tokens_per_s"].get<double>() >
                h100["decode_tokens_per_s"].get<double>());
        QVERIFY(h100["gpus_to_hold"] == 9); // ~673 GB of FP8 weights on 80 GB GPUs
        QVERIFY(h20["gpus_to_hold"] == 8);  // on 96 GB
    }

    void defaultsAndOptions() {
        // Default: every chip with a memory bandwidth, context 4096 (KV reads count), bf16.
        const json out = runJson({"project", "--model", "deepseek-v3", "--json"});
        QVERIFY(out["context"] == 4096 && out["dtype"] == "bf16" && out["batch"] == 1);
        QVERIFY(out["results"].size() > 10);
        QVERIFY(resultFor(out, "H200 SXM 141GB") != nullptr);
        QVERIFY(out["kv_bytes_per_token"] == 70272.0);

        const json base = runJson(
            {"project", "--model", "preset:deepseek-v3", "--chip", "H100 SXM5 80GB", "--json"});
        const json half = runJson({"project", "--model", "preset:deepseek-v3", "--chip",
                                   "H100 SXM5 80GB", "--efficiency", "0.5", "--json"});
        const double full = base["results"][0]["decode_tokens_per_s"].get<double>();
        QVERIFY(std::fabs(half["results"][0]["decode_tokens_per_s"].get<double>() - full / 2.0) <
                1e-6 * full);
        const json batched = runJson({"project", "--model", "preset:deepseek-v3", "--chip",
                                      "H100 SXM5 80GB", "--batch", "32", "--json"});
        QVERIFY(batched["batch"] == 32);
        QVERIFY(batched["results"][0]["decode_tokens_per_s"].get<double>() > full);
    }

    void tableForPeople() {
        const Run r =
            crossroads({"project", "--model", "preset:mixtral-8x7b", "--chip", "H100 SXM5 80GB"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("H100 SXM5 80GB"));
        QVERIFY(r.out.contains("Decode tok/s"));
        QVERIFY(r.out.contains("pure roofline"));
    }

    void errorsNameTheProblem_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("no model") << QStringList{"project"} << 2 << "--model";
        QTest::newRow("unknown model")
            << QStringList{"project", "--model", "gpt-5"} << 2 << "gpt-5";
        QTest::newRow("bad dtype")
            << QStringList{"project", "--model", "deepseek-v3", "--dtype", "int4"} << 2 << "int4";
        QTest::newRow("bad batch")
            << QStringList{"project", "--model", "deepseek-v3", "--batch", "0"} << 2 << "--batch";
        QTest::newRow("bad efficiency")
            << QStringList{"project", "--model", "deepseek-v3", "--efficiency", "2"} << 2
            << "--efficiency";
        QTest::newRow("unknown chip")
            << QStringList{"project", "--model", "deepseek-v3", "--chip", "Nope 9000"} << 1
            << "Nope 9000";
    }
    void errorsNameTheProblem() {
        QFETCH(QStringList, arguments);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = crossroads(arguments);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
    }

    void badConfigFieldIsNamed() {
        QTemporaryDir model;
        QFile config(model.filePath(QStringLiteral("config.json")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"model_type": "deepseek_v3", "hidden_size": 64})");
        config.close();
        const Run r = crossroads({"project", "--model", model.path(), "--chip", "H100 SXM5 80GB"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("num_hidden_layers"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliProject)
#include "test_cli_project.moc"
