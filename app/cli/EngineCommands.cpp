#include "app/cli/EngineCommands.h"

#include "analysis/DeviceMatch.h"
#include "app/cli/Commands.h"
#include "data/Store.h"
#include "inference/bench/Bench.h"
#include "inference/engine/Engine.h"
#include "inference/model/Weights.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QSaveFile>
#include <QTextStream>

namespace crossroads::cli {

namespace {

using namespace crossroads::inference;

void note(const QString& text) {
    QTextStream err(stderr);
    err << "note: " << text << '\n';
}

BackendKind backendKind(const QCommandLineParser& parser, const QCommandLineOption& option) {
    const auto kind = backendKindFromName(parser.value(option).toStdString());
    if (!kind)
        throw UsageFailure("--backend takes auto, cpu or cuda, not \"" +
                           parser.value(option).toStdString() + "\"");
    return *kind;
}

const QCommandLineOption kModel(QStringLiteral("model"),
                                QStringLiteral("A checkpoint folder (config.json + safetensors) or "
                                               "preset:NAME[?layers=N][&dtype=bf16|f32|fp8]."),
                                QStringLiteral("M"));
const QCommandLineOption
    kBackend(QStringLiteral("backend"),
             QStringLiteral("auto (CUDA when a device is present), cpu or cuda."),
             QStringLiteral("B"), QStringLiteral("auto"));
const QCommandLineOption kThreads(QStringLiteral("threads"),
                                  QStringLiteral("CPU threads (default: all)."),
                                  QStringLiteral("N"));

Model load(const QString& spec) {
    Model model = loadModel(spec.toStdString());
    if (model.config.truncated())
        note(QStringLiteral("%1 is truncated to %2 of its %3 layers (full width)")
                 .arg(QString::fromStdString(model.name))
                 .arg(model.config.numLayers)
                 .arg(model.config.truncatedFromLayers));
    return model;
}

std::vector<int32_t> tokenIds(const QString& text) {
    std::vector<int32_t> ids;
    for (const QString& part : text.split(QLatin1Char(','))) {
        bool ok = false;
        const int value = part.trimmed().toInt(&ok);
        if (!ok || value < 0)
            throw UsageFailure("--prompt-ids takes comma-separated token ids, not \"" +
                               text.toStdString() + "\"");
        ids.push_back(value);
    }
    return ids;
}

} // namespace

int runCommand(const QStringList& arguments, const QString&) {
    QCommandLineParser parser;
    const QCommandLineOption promptIds(QStringLiteral("prompt-ids"),
                                       QStringLiteral("The prompt as token ids: 1,2,3."),
                                       QStringLiteral("IDS"));
    const QCommandLineOption maxNew(QStringLiteral("max-new-tokens"),
                                    QStringLiteral("Tokens to generate (greedy)."),
                                    QStringLiteral("N"));
    const QCommandLineOption logitsOut(
        QStringLiteral("logits-out"),
        QStringLiteral("Write {prompt_ids, generated_ids, logits} as JSON: logits[i] is the "
                       "vocabulary row that chose generated_ids[i]."),
        QStringLiteral("FILE"));
    parser.addOptions({kModel, promptIds, maxNew, kBackend, logitsOut, kThreads});
    if (!parseVerb(parser, arguments, "Greedy generation with the bundled MoE engine."))
        return 0;
    if (!parser.isSet(kModel) || !parser.isSet(promptIds) || !parser.isSet(maxNew))
        throw UsageFailure("run needs --model, --prompt-ids and --max-new-tokens");
    const std::vector<int32_t> prompt = tokenIds(parser.value(promptIds));
    const int64_t tokens = integerOption(parser, maxNew, 0, 0);
    const BackendKind kind = backendKind(parser, kBackend);
    const auto threads = static_cast<int>(integerOption(parser, kThreads, 0, 1));

    const Model model = load(parser.value(kModel));
    const auto backend = makeBackend(kind, model, threads);
    const GreedyResult result = greedyGenerate(*backend, prompt, tokens, parser.isSet(logitsOut));
    QStringList ids;
    for (int32_t id : result.generated)
        ids << QString::number(id);
    print(ids.join(QLatin1Char(',')) + QLatin1Char('\n'));
    if (parser.isSet(logitsOut)) {
        const nlohmann::json out = {
            {"prompt_ids", prompt}, {"generated_ids", result.generated}, {"logits", result.logits}};
        QSaveFile file(parser.value(logitsOut));
        const std::string text = out.dump();
        if (!file.open(QIODevice::WriteOnly) ||
            file.write(text.data(), static_cast<qint64>(text.size())) !=
                static_cast<qint64>(text.size()) ||
            !file.commit())
            throw std::runtime_error("cannot write " + parser.value(logitsOut).toStdString() +
                                     ": " + file.errorString().toStdString());
    }
    return 0;
}

int benchCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption prompt(
        QStringLiteral("prompt"),
        QStringLiteral("Prompt tokens per sequence (prefill), default 512."), QStringLiteral("N"));
    const QCommandLineOption gen(
        QStringLiteral("gen"),
        QStringLiteral("Generated tokens per sequence (decode), default 128."),
        QStringLiteral("N"));
    const QCommandLineOption batch(QStringLiteral("batch"),
                                   QStringLiteral("Sequences decoded together, default 1."),
                                   QStringLiteral("B"));
    const QCommandLineOption context(
        QStringLiteral("context"),
        QStringLiteral("Tokens already in the KV cache when decode is timed (llama-bench depth); "
                       "a sweep as a list, e.g. 0,1024,4096: one decode row each."),
        QStringLiteral("N[,N...]"));
    const QCommandLineOption repetitions(QStringLiteral("repetitions"),
                                         QStringLiteral("Timed repetitions, default 5."),
                                         QStringLiteral("R"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON for tools."));
    const QCommandLineOption noSave(QStringLiteral("no-save"),
                                    QStringLiteral("Do not save the result to the store."));
    parser.addOptions(
        {kModel, kBackend, prompt, gen, batch, context, repetitions, kThreads, json, noSave});
    if (!parseVerb(parser, arguments,
                   "Measure prefill and decode throughput of an MoE model on this machine, against "
                   "the measured bandwidth of the same device and its datasheet figures."))
        return 0;
    BenchOptions options;
    options.promptTokens = integerOption(parser, prompt, options.promptTokens, 0);
    options.genTokens = integerOption(parser, gen, options.genTokens, 0);
    options.batch = integerOption(parser, batch, options.batch, 1);
    if (parser.isSet(context)) {
        try {
            options.contextTokens =
                parseCountList(parser.value(context).toStdString(), "--context");
        } catch (const EngineError& error) {
            throw UsageFailure(error.what());
        }
    }
    options.repetitions =
        static_cast<int>(integerOption(parser, repetitions, options.repetitions, 1));
    options.threads = static_cast<int>(integerOption(parser, kThreads, 0, 1));
    const BackendKind kind = backendKind(parser, kBackend);

    const Model model =
        load(parser.isSet(kModel) ? parser.value(kModel)
                                  : QStringLiteral("preset:qwen3-30b-a3b?layers=2"));
    const auto backend = makeBackend(kind, model, options.threads);

    // Datasheet peaks of the device, when the store knows the chip.
    data::Store store(storePath);
    const DeviceInfo device = backend->device();
    if (device.backend != "cpu") {
        const auto chips = store.chips();
        if (const auto index = analysis::matchDeviceToChip(device.name, chips)) {
            const analysis::ChipSpec& chip = chips[*index];
            options.specBandwidthGbPerS = chip.memory_bandwidth_gb_per_s;
            options.specBf16Tflops = chip.dense_tops[analysis::Precision::Bf16];
            options.specChipName = chip.name;
        }
    }
    const BenchResult result = runBench(*backend, options);
    const nlohmann::json out = benchResultToJson(result);
    if (!parser.isSet(noSave))
        store.saveBenchmarkResult(
            QString::fromStdString(result.device), QString::fromStdString(result.backend),
            QString::fromStdString(result.model), QString::fromStdString(result.dtype), out.dump());
    if (parser.isSet(json))
        print(QString::fromStdString(out.dump(2)) + QLatin1Char('\n'));
    else
        print(QString::fromStdString(benchResultTable(result)));
    return 0;
}

} // namespace crossroads::cli
