#include "app/cli/CapsCommands.h"

#include "analysis/Capability.h"
#include "analysis/Caps.h"
#include "analysis/Classifier.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "data/Store.h"
#include "inference/model/Presets.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>

#include <cmath>

namespace crossroads::cli {

namespace {

using nlohmann::json;

// The chips a cap question is usually asked about, by their store names: the H100 the rule's
// figures are counted in, DeepSeek's H800, the China parts, the newest NVIDIA, AMD, Intel and
// Huawei datacenter parts. Those missing from a store are left out, and the output says so.
const char* const kDefaultChips[] = {
    "H100 SXM5 80GB",  "H800 SXM5 (China)", "H20 (China)",         "H200 SXM 141GB", "B200",
    "Instinct MI300X", "Gaudi3 (HL-325L)",  "Ascend 910B (910B2)", "Ascend 910C",
};
// DeepSeek-V3 pre-trained on H800s (its report): that chip's rate sets the utilisation.
constexpr const char* kUtilizationReferenceChip = "H800 SXM5 (China)";
// The H100 the equivalents are counted in (as the capability table counts them).
constexpr const char* kH100ReferenceChip = analysis::kCapabilityReferenceChip;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString figureOr(const std::optional<double>& v, const char* unknown = "?") {
    return v ? q(analysis::formatFigure(*v)) : QString::fromLatin1(unknown);
}

QString rounded(const std::optional<double>& v, int decimals) {
    if (!v)
        return QStringLiteral("?");
    return q(analysis::formatFigure(std::round(*v * std::pow(10.0, decimals)) /
                                    std::pow(10.0, decimals)));
}

QString scientific(const std::optional<double>& v) {
    return v ? QString::number(*v, 'e', 2) : QStringLiteral("?");
}

// 37e9 -> "37B", 14.8e12 -> "14.8T".
QString scaled(double v) {
    if (v >= 1e12)
        return QString::number(v / 1e12, 'g', 4) + QLatin1Char('T');
    if (v >= 1e9)
        return QString::number(v / 1e9, 'g', 4) + QLatin1Char('B');
    return QString::number(v, 'g', 6);
}

QString percent(const std::optional<double>& v) {
    return v ? q(analysis::fixedDecimals(*v * 100.0, 1)) + QLatin1Char('%') : QStringLiteral("?");
}

} // namespace

int capsCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption allocation(
        QStringLiteral("allocation"),
        QStringLiteral("lpp (LPP, per consignee per year), tier2 (Tier-2 country allocation), "
                       "tier2x2 (doubled), or a TPP figure."),
        QStringLiteral("lpp|tier2|tier2x2|TPP"));
    const QCommandLineOption chip(
        QStringLiteral("chip"),
        QStringLiteral("A chip of the store (repeatable; default: H100 SXM, H800, H20, H200, "
                       "B200, MI300X, Gaudi 3, Ascend 910B and 910C)."),
        QStringLiteral("NAME"));
    const QCommandLineOption edition(
        QStringLiteral("edition"),
        QStringLiteral("Edition whose cap data and bit lengths apply (default: the newest that "
                       "sets caps, 2025-01)."),
        QStringLiteral("ID"));
    const QCommandLineOption basis(
        QStringLiteral("utilization-basis"),
        QStringLiteral("Dense rate the training utilisation is implied against and applied to: "
                       "bf16 (default) or fp8."),
        QStringLiteral("bf16|fp8"), QStringLiteral("bf16"));
    const QCommandLineOption batch(
        QStringLiteral("batch"), QStringLiteral("Sequences each GPU decodes together (default 1)."),
        QStringLiteral("B"));
    const QCommandLineOption context(
        QStringLiteral("context"),
        QStringLiteral("Tokens each sequence attends to in the decode projection (default 4096)."),
        QStringLiteral("N"));
    const QCommandLineOption period(
        QStringLiteral("period-days"),
        QStringLiteral("Days the allocation runs for the 4E091 check (default 365)."),
        QStringLiteral("D"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({allocation, chip, edition, basis, batch, context, period, jsonOption});
    if (!parseVerb(parser, arguments,
                   "What a 2025-01 TPP allocation buys: whole chips of each kind, H100-"
                   "equivalents, aggregate DeepSeek-V3 decode, days to train a DeepSeek-V3-"
                   "scale run, and the 4E091 check (10^26 operations)."))
        return 0;
    if (!parser.isSet(allocation))
        throw UsageFailure("caps needs --allocation lpp|tier2|tier2x2|TPP");

    analysis::CapOptions options;
    const auto chosenBasis =
        analysis::utilizationBasisFromKey(parser.value(basis).toLower().toStdString());
    if (!chosenBasis)
        throw UsageFailure("--utilization-basis takes bf16 or fp8, not \"" +
                           parser.value(basis).toStdString() + "\"");
    options.basis = *chosenBasis;
    options.decode.batch = integerOption(parser, batch, options.decode.batch, 1);
    options.decode.context = integerOption(parser, context, options.decode.context, 1);
    if (parser.isSet(period)) {
        bool ok = false;
        const double days = parser.value(period).toDouble(&ok);
        if (!ok || !std::isfinite(days) || !(days > 0.0))
            throw UsageFailure("--period-days needs a positive number of days, not \"" +
                               parser.value(period).toStdString() + "\"");
        options.period_days = days;
    }

    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& chosen = capsEdition(editions, parser.value(edition));
    analysis::Allocation budget;
    try {
        budget = analysis::parseAllocation(parser.value(allocation).toStdString(),
                                           chosen.caps ? &*chosen.caps : nullptr, chosen.id);
    } catch (const std::invalid_argument& e) {
        throw UsageFailure(std::string("--allocation: ") + e.what());
    }

    std::vector<analysis::ChipSpec> chips;
    std::vector<std::string> defaultsMissing;
    if (parser.isSet(chip)) {
        chips = chipsNamed(store, parser.values(chip));
    } else {
        for (const char* name : kDefaultChips) {
            if (auto c = store.chip(QString::fromUtf8(name)))
                chips.push_back(std::move(*c));
            else
                defaultsMissing.emplace_back(name);
        }
    }
    const auto reference = store.chip(QString::fromLatin1(kUtilizationReferenceChip));
    if (!reference)
        throw std::runtime_error(std::string("the store has no chip named \"") +
                                 kUtilizationReferenceChip +
                                 "\": DeepSeek-V3 trained on H800s, and that chip's rate sets "
                                 "the training utilisation");
    const auto h100 = store.chip(QString::fromLatin1(kH100ReferenceChip));
    static const inference::ModelConfig deepseekV3 = inference::presetConfig("deepseek-v3");

    analysis::CapReport report;
    try {
        report = analysis::computeCaps(budget, chips, *reference, h100 ? &*h100 : nullptr,
                                       chosen.bit_lengths, chosen.id, deepseekV3, options);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(e.what());
    }

    if (parser.isSet(jsonOption)) {
        json out = analysis::capReportToJson(report);
        out["edition"] = chosen.id; // extension: whose cap data and bit lengths
        out["default_chips_missing"] = defaultsMissing;
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }

    const analysis::CapAssumptions& a = report.assumptions;
    QString text =
        QStringLiteral("Allocation: %1\n  (%2 [%3]; edition %4, %5)\n\n")
            .arg(q(budget.description), q(budget.citation.text),
                 q(budget.citation.evidence.empty() ? std::string("-") : budget.citation.evidence),
                 q(chosen.id), q(chosen.status));
    const QString periodText = q(analysis::formatFigure(a.period_days));
    TextTable table({"Chip", "TPP", "Chips", "H100-eq (TPP)", "H100-eq (decode)",
                     "DSV3 decode tok/s", "DSV3 train days", "Ops in " + periodText + " d",
                     "Days to 1e26", "4E091"},
                    {false, true, true, true, true, true, true, true, true, false});
    QStringList undetermined;
    for (const analysis::CapRow& r : report.results) {
        table.addRow({q(r.chip), figureOr(r.tpp),
                      r.chips ? q(analysis::formatFigure(static_cast<double>(*r.chips)))
                              : QStringLiteral("?"),
                      rounded(r.h100_equivalents, 1), rounded(r.h100_equivalents_by_capability, 1),
                      rounded(r.decode_tokens_per_s, 0), rounded(r.training_days, 1),
                      scientific(r.operations_in_period), rounded(r.days_to_4e091, 0),
                      r.reaches_4e091
                          ? (*r.reaches_4e091 ? QStringLiteral("reaches") : QStringLiteral("below"))
                          : QStringLiteral("?")});
        if (!r.undetermined.empty()) {
            QStringList keys;
            for (const std::string& k : r.undetermined)
                keys << q(k);
            undetermined << QStringLiteral("%1 (needs %2)").arg(q(r.chip), keys.join(", "));
        }
    }
    text += table.render();
    if (!undetermined.isEmpty())
        text += QStringLiteral("Undetermined: %1\n").arg(undetermined.join(QStringLiteral("; ")));
    for (const analysis::CapRow& r : report.results)
        for (const std::string& note : r.notes)
            text += QStringLiteral("Note, %1: %2\n").arg(q(r.chip), q(note));
    if (!defaultsMissing.empty()) {
        QStringList names;
        for (const std::string& n : defaultsMissing)
            names << q(n);
        text += QStringLiteral("Not in this store (left out): %1\n").arg(names.join(", "));
    }

    const std::string basisKey(analysis::utilizationBasisKey(a.basis));
    text += QStringLiteral("\nAssumptions\n");
    text += QStringLiteral("  training FLOPs = 6 x %1 active parameters x %2 tokens = %3\n")
                .arg(scaled(a.run.active_parameters), scaled(a.run.training_tokens),
                     QString::number(a.training_flops, 'e', 4));
    text += QStringLiteral("    (%1)\n").arg(q(a.run.citation));
    text +=
        QStringLiteral("  training utilisation (%1 basis) = training FLOPs / (%2 GPU-hours x "
                       "3600 s x %3 %4 TFLOPS dense) = %5; FP8 basis: %6, BF16 basis: %7\n")
            .arg(q(basisKey), q(analysis::formatFigure(a.run.gpu_hours)),
                 q(a.utilization_reference_chip),
                 figureOr(a.basis == analysis::UtilizationBasis::Fp8 ? a.reference_fp8_tflops
                                                                     : a.reference_bf16_tflops),
                 percent(a.utilization), percent(a.utilization_fp8), percent(a.utilization_bf16));
    text += QStringLiteral("  training days = training FLOPs / (chips x the chip's dense %1 rate "
                           "x utilisation)%2\n")
                .arg(q(basisKey), a.basis == analysis::UtilizationBasis::Bf16
                                      ? QStringLiteral(" (FP16 where a chip lists no BF16)")
                                      : QString());
    text += QStringLiteral("  H100-eq (TPP) = chips x TPP / %1's TPP %2; H100-eq (decode) = chips "
                           "x projected DeepSeek-V3 decode / the H100's (%3 tok/s)\n")
                .arg(a.h100_reference_chip.empty() ? QStringLiteral("the H100 (not in store)")
                                                   : q(a.h100_reference_chip),
                     figureOr(a.h100_tpp), rounded(a.h100_decode_tokens_per_s, 1));
    text += QStringLiteral("  decode: %1\n").arg(q(analysis::capDecodeAssumption(a.decode)));
    text += QStringLiteral("  TPP: bit lengths of edition %1\n").arg(q(a.bit_length_edition));
    text += QStringLiteral("\n4E091 (%1)\n").arg(q(std::string(analysis::k4e091Citation())));
    text +=
        QStringLiteral("  exceeds_4e091 = %1: whether the whole chips of any kind above, run "
                       "for %2 days at the training utilisation, perform 10^26 operations "
                       "or more%3\n")
            .arg(report.exceeds_4e091 ? QStringLiteral("yes") : QStringLiteral("no"), periodText,
                 report.exceeds_4e091_undetermined.empty()
                     ? QString()
                     : QStringLiteral(" (unknown for: %1)").arg(q([&] {
                           std::string s;
                           for (const std::string& c : report.exceeds_4e091_undetermined)
                               s += (s.empty() ? "" : ", ") + c;
                           return s;
                       }())));
    print(text);
    return 0;
}

int capabilityCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("A chip of the store (repeatable; default: all)."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption edition(
        QStringLiteral("edition"),
        QStringLiteral("Edition (or scenario) whose class and TPP bit lengths apply (default: "
                       "the newest in force)."),
        QStringLiteral("ID"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({chip, edition, jsonOption});
    if (!parseVerb(parser, arguments,
                   "The capability index beside the export class: projected DeepSeek-V3 decode "
                   "per GPU, dense BF16/FP8 rates and H100-equivalents by TPP and by decode, "
                   "next to TPP, performance density and the 3A090 class; measured against "
                   "projected where the store has benchmark results of the chip's device."))
        return 0;

    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& chosen = chooseEdition(editions, parser.value(edition));
    const std::vector<analysis::ChipSpec> chips =
        parser.isSet(chip) ? chipsNamed(store, parser.values(chip)) : store.chips();
    std::vector<analysis::BenchRun> runs;
    for (const data::Store::BenchmarkRecord& r : store.benchmarkResults())
        runs.push_back({r.id, r.created_at.toStdString(), r.device.toStdString(),
                        r.backend.toStdString(), r.model.toStdString(), r.dtype.toStdString(),
                        r.result_json});
    const auto h100 = store.chip(QString::fromLatin1(kH100ReferenceChip));
    const analysis::CapabilityReport report =
        analysis::capabilityTable(chips, chosen, h100 ? &*h100 : nullptr, runs);

    if (parser.isSet(jsonOption)) {
        json out = analysis::capabilityReportToJson(report);
        if (chosen.scenario) {
            out["scenario"] = true;
            out["base"] = chosen.base;
        }
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }
    QString text =
        QStringLiteral("Capability index under %1 (%2)\n\n").arg(q(chosen.id), q(chosen.status));
    TextTable table({"Chip", "TPP", "PD", "Class", "DSV3 decode tok/s", "BF16 TFLOPS", "FP8 TFLOPS",
                     "H100-eq (TPP)", "H100-eq (decode)", "Measured/roofline", "DSV3 calibrated"},
                    {false, true, true, false, true, true, true, true, true, true, true});
    for (const analysis::CapabilityRow& r : report.results) {
        QStringList classes;
        for (const std::string& c : r.classes)
            classes << q(c);
        QString cls = !r.paragraph        ? QStringLiteral("undetermined")
                      : classes.isEmpty() ? QStringLiteral("not controlled")
                                          : classes.join(QStringLiteral(", "));
        if (!r.flags.empty())
            cls += QStringLiteral(" (%1 flag%2)")
                       .arg(r.flags.size())
                       .arg(r.flags.size() == 1 ? "" : "s");
        table.addRow(
            {q(r.index.chip), rounded(r.index.tpp, 0), rounded(r.performance_density, 2), cls,
             rounded(r.index.deepseek_v3_decode_tokens_per_s, 1), figureOr(r.index.bf16_tflops),
             figureOr(r.index.fp8_tflops), rounded(r.index.h100_equivalents_by_tpp, 2),
             rounded(r.index.h100_equivalents_by_capability, 2),
             r.calibration_fraction ? percent(r.calibration_fraction) : QStringLiteral("-"),
             r.calibrated_deepseek_v3_decode_tokens_per_s
                 ? rounded(r.calibrated_deepseek_v3_decode_tokens_per_s, 1)
                 : QStringLiteral("-")});
    }
    text += table.render();
    text += QStringLiteral("\nDecode: %1.\n").arg(q(analysis::capabilityDecodeAssumption()));
    text += report.reference_chip.empty()
                ? QStringLiteral("H100-equivalents: the store has no \"%1\".\n")
                      .arg(QString::fromLatin1(kH100ReferenceChip))
                : QStringLiteral("H100-equivalents: counted in %1 (TPP %2, %3 tok/s).\n")
                      .arg(q(report.reference_chip), rounded(report.reference_tpp, 0),
                           rounded(report.reference_decode_tokens_per_s, 1));
    bool anyMeasured = false;
    for (const analysis::CapabilityRow& r : report.results)
        for (const analysis::Calibration& c : r.measured) {
            if (!anyMeasured)
                text += QStringLiteral("\nMeasured against projected (stored benchmark runs; "
                                       "roofline = decode x datasheet / achieved GB/s)\n");
            anyMeasured = true;
            text +=
                QStringLiteral("  %1: run %2 (%3, %4 on %5): %6 tok/s measured, %7 tok/s "
                               "roofline at %8 GB/s: %9\n")
                    .arg(q(r.index.chip), QString::number(c.result_id), q(c.created_at), q(c.model),
                         q(c.device), rounded(c.decode_tokens_per_s, 1),
                         rounded(c.roofline_decode_tokens_per_s, 1),
                         figureOr(c.datasheet_bandwidth_gb_per_s), percent(c.fraction_of_roofline));
        }
    if (!anyMeasured)
        text += QStringLiteral("No stored benchmark run of any listed chip's device "
                               "(crossroads bench on a GPU saves one).\n");
    print(text);
    return 0;
}

const analysis::Edition& capsEdition(const std::vector<analysis::Edition>& editions,
                                     const QString& requested) {
    if (!requested.isEmpty())
        return chooseEdition(editions, requested);
    const analysis::Edition* withCaps = nullptr;
    for (const analysis::Edition& e : editions) // sorted by effective date
        if (e.caps)
            withCaps = &e;
    return withCaps ? *withCaps : chooseEdition(editions, QString());
}

} // namespace crossroads::cli
