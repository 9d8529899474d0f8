#include "app/cli/ProjectCommands.h"

#include "analysis/Projection.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "data/Store.h"
#include "inference/base/Error.h"
#include "inference/model/Presets.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QFileInfo>

#include <cmath>
#include <filesystem>
#include <optional>

namespace crossroads::cli {

namespace {

using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

// What --model names for a projection: the shape, and the weight type a preset spec's
// `dtype=` asks for (unset when it names none, or for a folder or a bare name).
struct ModelShape {
    inference::ModelConfig config;
    std::optional<inference::WeightType> dtype;
};

// --model: preset:NAME[?layers=N][&dtype=bf16|f32|fp8] (the engine's own parser), a bare preset
// name, or a checkpoint folder (only its config.json is read: a projection needs the shape, not
// the weights).
ModelShape modelShape(const QString& spec) {
    const std::string text = spec.toStdString();
    const bool folder = QFileInfo(spec).isDir();
    if (!folder && !spec.startsWith(QLatin1String("preset:"))) {
        for (const std::string& name : inference::presetNames())
            if (name == text)
                return {inference::presetConfig(name), std::nullopt};
    }
    inference::ModelSpec parsed;
    try {
        parsed = inference::parseModelSpec(text);
    } catch (const inference::EngineError& error) {
        throw UsageFailure(std::string("--model: ") + error.what());
    }
    if (parsed.isPreset)
        return {inference::presetConfig(parsed.presetName, parsed.layers), parsed.dtype};
    if (!folder)
        throw UsageFailure("--model \"" + text +
                           "\" is neither a checkpoint folder nor a preset (known: " +
                           [] {
                               std::string known;
                               for (const std::string& n : inference::presetNames())
                                   known += (known.empty() ? "" : ", ") + n;
                               return known;
                           }() +
                           ")");
    return {inference::loadModelConfig(std::filesystem::path(text) / "config.json"), std::nullopt};
}

// The projection's weight dtype from a spec's `dtype=`: the projection knows BF16 and FP8 only.
analysis::WeightDtype projectionDtype(inference::WeightType type, const std::string& spec) {
    switch (type) {
    case inference::WeightType::BF16:
        return analysis::WeightDtype::Bf16;
    case inference::WeightType::FP8E4M3:
        return analysis::WeightDtype::Fp8;
    case inference::WeightType::F32:
        break;
    }
    throw UsageFailure("--model \"" + spec +
                       "\": dtype=f32 cannot be projected (the projection knows bf16 and fp8 "
                       "weights only)");
}

json optionalInt(const std::optional<int64_t>& v) {
    return v ? json(*v) : json();
}

QString fixed(double value, int decimals) {
    return QString::number(value, 'f', decimals);
}

} // namespace

int projectCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption model(
        QStringLiteral("model"),
        QStringLiteral("preset:NAME[?layers=N][&dtype=bf16|fp8] (or NAME), or a checkpoint "
                       "folder whose config.json is read."),
        QStringLiteral("M"));
    const QCommandLineOption chip(
        QStringLiteral("chip"),
        QStringLiteral("A chip of the store (repeatable; default: every chip with a memory "
                       "bandwidth)."),
        QStringLiteral("NAME"));
    const QCommandLineOption dtype(
        QStringLiteral("dtype"),
        QStringLiteral("Weights: bf16, or fp8 for the weights an FP8 checkpoint stores in FP8 "
                       "(embeddings, LM head, routers, norms stay BF16). Default: the --model "
                       "spec's dtype=, else bf16."),
        QStringLiteral("bf16|fp8"), QStringLiteral("bf16"));
    const QCommandLineOption batch(QStringLiteral("batch"),
                                   QStringLiteral("Sequences decoded together (default 1)."),
                                   QStringLiteral("B"));
    const QCommandLineOption context(
        QStringLiteral("context"),
        QStringLiteral("Tokens each sequence attends to; its KV reads count (default 4096)."),
        QStringLiteral("N"));
    const QCommandLineOption efficiency(
        QStringLiteral("efficiency"),
        QStringLiteral("Fraction of the peak bandwidth and compute reached, in (0, 1] (default: "
                       "1, a pure roofline)."),
        QStringLiteral("F"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({model, chip, dtype, batch, context, efficiency, jsonOption});
    if (!parseVerb(parser, arguments,
                   "Project a model's decode and prefill throughput on chips from their "
                   "datasheet figures: the lower of the memory and compute roofs."))
        return 0;
    if (!parser.isSet(model))
        throw UsageFailure("project needs --model M (preset:NAME or a checkpoint folder)");

    analysis::ProjectionOptions options;
    const auto weightDtype = analysis::weightDtypeFromKey(parser.value(dtype).toStdString());
    if (!weightDtype)
        throw UsageFailure("--dtype takes bf16 or fp8, not \"" + parser.value(dtype).toStdString() +
                           "\"");
    options.dtype = *weightDtype;
    const ModelShape named = modelShape(parser.value(model));
    const inference::ModelConfig& shape = named.config;
    // The spec's dtype= stands for --dtype when that is not given; both given must agree.
    if (named.dtype) {
        const std::string spec = parser.value(model).toStdString();
        const analysis::WeightDtype fromSpec = projectionDtype(*named.dtype, spec);
        if (!parser.isSet(dtype))
            options.dtype = fromSpec;
        else if (fromSpec != options.dtype)
            throw UsageFailure("--dtype " + parser.value(dtype).toStdString() +
                               " disagrees with --model \"" + spec +
                               "\" (dtype=" + std::string(analysis::weightDtypeKey(fromSpec)) +
                               "): give one of them");
    }
    options.batch = integerOption(parser, batch, 1, 1);
    options.context = integerOption(parser, context, 4096, 1);
    if (parser.isSet(efficiency)) {
        bool ok = false;
        const double f = parser.value(efficiency).toDouble(&ok);
        if (!ok || !(f > 0.0 && f <= 1.0))
            throw UsageFailure("--efficiency needs a fraction in (0, 1], not \"" +
                               parser.value(efficiency).toStdString() + "\"");
        options.bandwidth_efficiency = f;
        options.compute_efficiency = f;
    }

    data::Store store(storePath);
    std::vector<analysis::ChipRoof> roofs;
    std::vector<std::string> skipped;
    if (parser.isSet(chip)) {
        for (const QString& name : parser.values(chip)) {
            const auto c = store.chip(name);
            if (!c)
                throw std::runtime_error("no chip named \"" + name.toStdString() +
                                         "\" in the store (crossroads chips lists them)");
            const auto roof = analysis::chipRoof(*c);
            if (!roof)
                throw std::runtime_error("chip \"" + c->name +
                                         "\" has no memory bandwidth to project with");
            roofs.push_back(*roof);
        }
    } else {
        for (const analysis::ChipSpec& c : store.chips())
            if (const auto roof = analysis::chipRoof(c))
                roofs.push_back(*roof);
    }

    std::vector<analysis::Projection> results;
    for (const analysis::ChipRoof& roof : roofs) {
        try {
            results.push_back(analysis::project(shape, roof, options));
        } catch (const std::invalid_argument& error) {
            if (parser.isSet(chip)) // asked for by name: say why it cannot be projected
                throw std::runtime_error(error.what());
            skipped.push_back(roof.name); // no compute rate: left out of the default list
        }
    }

    const std::string modelName = parser.value(model).toStdString();
    if (parser.isSet(jsonOption)) {
        json out = {{"model", modelName},
                    {"dtype", std::string(analysis::weightDtypeKey(options.dtype))},
                    {"batch", options.batch},
                    {"context", options.context},
                    {"results", json::array()}};
        // Extensions (ours): the inputs of the figures, so a reader can redo them.
        out["efficiency"] = options.bandwidth_efficiency;
        out["kv_bytes_per_token"] = inference::kvBytesPerToken(shape, options.kv_bytes_per_element);
        out["total_parameters"] = inference::totalParameters(shape);
        out["active_parameters"] = inference::activeParametersPerToken(shape);
        out["truncated"] = shape.truncated();
        for (const analysis::Projection& p : results)
            out["results"].push_back({
                {"chip", p.chip},
                {"decode_tokens_per_s", p.decode_tokens_per_s},
                {"prefill_tokens_per_s", p.prefill_tokens_per_s},
                {"bound", p.memory_bound ? "memory" : "compute"},
                {"bytes_per_step", p.bytes_per_step},
                {"flops_per_token", p.flops_per_token},
                {"gpus_to_hold", optionalInt(p.gpus_to_hold)},
                {"decode_tokens_per_s_per_sequence", p.decode_tokens_per_s_per_sequence},
                {"weight_bytes_per_step", p.weight_bytes_per_step},
                {"kv_bytes_per_step", p.kv_bytes_per_step},
                {"experts_touched_per_layer", p.experts_touched_per_layer},
                {"arithmetic_intensity", p.arithmetic_intensity},
                {"ridge_point_flop_per_byte", p.ridge_point_flop_per_byte},
                {"peak_tflops", p.peak_tflops},
                {"compute_precision", p.compute_precision},
                {"prefill_bound", p.prefill_memory_bound ? "memory" : "compute"},
                {"weight_bytes_total", p.weight_bytes_total},
                {"kv_bytes_total", p.kv_bytes_total},
            });
        out["skipped"] = skipped;
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }

    TextTable table({"Chip", "Decode tok/s", "Per seq", "Prefill tok/s", "Bound", "GB/step",
                     "GFLOP/token", "FLOP/B", "Ridge", "GPUs to hold"},
                    {false, true, true, true, false, true, true, true, true, true});
    for (const analysis::Projection& p : results)
        table.addRow({q(p.chip), fixed(p.decode_tokens_per_s, 1),
                      fixed(p.decode_tokens_per_s_per_sequence, 1),
                      fixed(p.prefill_tokens_per_s, 0),
                      p.memory_bound ? QStringLiteral("memory") : QStringLiteral("compute"),
                      fixed(p.bytes_per_step / 1e9, 2), fixed(p.flops_per_token / 1e9, 1),
                      fixed(p.arithmetic_intensity, 1), fixed(p.ridge_point_flop_per_byte, 0),
                      p.gpus_to_hold ? QString::number(*p.gpus_to_hold) : QStringLiteral("?")});
    print(QStringLiteral("%1, %2 weights, batch %3, context %4; %5 (%6B parameters, %7B active; "
                         "KV %8 B/token)\n")
              .arg(q(modelName), q(std::string(analysis::weightDtypeKey(options.dtype))))
              .arg(options.batch)
              .arg(options.context)
              .arg(options.bandwidth_efficiency < 1.0
                       ? QStringLiteral("%1 of peak").arg(options.bandwidth_efficiency)
                       : QStringLiteral("pure roofline"))
              .arg(fixed(inference::totalParameters(shape) / 1e9, 1))
              .arg(fixed(inference::activeParametersPerToken(shape) / 1e9, 1))
              .arg(inference::kvBytesPerToken(shape, options.kv_bytes_per_element), 0, 'f', 0));
    print(table.render());
    if (!skipped.empty()) {
        QStringList names;
        for (const std::string& s : skipped)
            names << q(s);
        print(QStringLiteral("Left out (no BF16 or FP16 rate): %1\n")
                  .arg(names.join(QStringLiteral(", "))));
    }
    print(QStringLiteral("Decode: the whole batch on one GPU's bandwidth, as if the weights fit; "
                         "GPUs to hold: weights and KV at this batch and context.\n"));
    return 0;
}

} // namespace crossroads::cli
