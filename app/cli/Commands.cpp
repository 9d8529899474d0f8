#include "app/cli/Commands.h"

#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"
#include "analysis/Countries.h"
#include "analysis/Scenario.h"
#include "analysis/SourceSensitivity.h"
#include "app/cli/CapsCommands.h"
#include "app/cli/ChartCommands.h"
#include "app/cli/CompareCommands.h"
#include "app/cli/DesignAroundCommands.h"
#include "app/cli/EngineCommands.h"
#include "app/cli/ExportCommands.h"
#include "app/cli/LicenseCommands.h"
#include "app/cli/ProjectCommands.h"
#include "app/cli/ScenarioCommands.h"
#include "app/cli/StoreCommands.h"
#include "app/cli/SystemsCommands.h"
#include "app/cli/TextTable.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>

namespace crossroads::cli {

namespace {

using analysis::ChipSpec;
using analysis::ClassificationResult;
using analysis::Edition;
using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString figure(const std::optional<double>& v) {
    return v ? q(analysis::formatFigure(*v)) : QStringLiteral("?");
}

QString joined(const std::vector<std::string>& list, const char* separator = ", ") {
    QStringList out;
    for (const std::string& s : list)
        out << q(s);
    return out.join(QLatin1String(separator));
}

void printJson(const json& value) {
    print(q(value.dump(2)) + QLatin1Char('\n'));
}

const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON for tools."));

const Edition& pickEdition(const std::vector<Edition>& editions, const QString& requested) {
    if (requested.isEmpty()) {
        if (const Edition* e = analysis::newestInForce(editions))
            return *e;
        throw std::runtime_error("the store has no edition in force");
    }
    if (const Edition* e = analysis::findEdition(editions, requested.toStdString()))
        return *e;
    for (const Edition& e : editions) // scenario names are case-insensitive, as the store's
        if (e.scenario && q(e.id).compare(requested, Qt::CaseInsensitive) == 0)
            return e;
    QStringList ids;
    for (const Edition& e : editions)
        ids << q(e.id);
    throw UsageFailure("unknown edition \"" + requested.toStdString() +
                       "\" (known: " + ids.join(QStringLiteral(", ")).toStdString() + ")");
}

QString yesNo(const std::optional<bool>& v) {
    return v ? (*v ? QStringLiteral("yes") : QStringLiteral("no")) : QStringLiteral("?");
}

int chipsCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addOption(kJson);
    if (!parseVerb(parser, arguments, "List the chips of the store with their figures."))
        return 0;
    data::Store store(storePath);
    const auto chips = store.chips();
    if (parser.isSet(kJson)) {
        json out = json::array();
        for (const ChipSpec& c : chips)
            out.push_back(analysis::chipToJson(c));
        printJson(out);
        return 0;
    }
    TextTable table({"Chip", "Vendor", "Year", "DC", "FP16 TFLOPS", "FP8 TFLOPS", "Die mm2",
                     "Mem GB/s", "I/O GB/s", "TPP reported"},
                    {false, false, true, false, true, true, true, true, true, true});
    for (const ChipSpec& c : chips) {
        using analysis::Precision;
        table.addRow({q(c.name), q(c.vendor),
                      c.year ? QString::number(*c.year) : QStringLiteral("?"), yesNo(c.datacenter),
                      figure(c.dense_tops[Precision::Fp16]), figure(c.dense_tops[Precision::Fp8]),
                      figure(c.applicable_die_area_mm2), figure(c.memory_bandwidth_gb_per_s),
                      figure(c.io_bidirectional_gb_per_s), figure(c.tpp_reported)});
    }
    print(table.render());
    print(QStringLiteral("%1 chips; unknown figures shown as ?. Store: %2\n")
              .arg(chips.size())
              .arg(storePath));
    return 0;
}

int editionsCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addOption(kJson);
    if (!parseVerb(parser, arguments, "List the rule editions of the store."))
        return 0;
    data::Store store(storePath);
    const auto editions = store.editions();
    if (parser.isSet(kJson)) {
        json out = json::array();
        for (const Edition& e : editions)
            out.push_back(analysis::editionSummaryJson(e));
        printJson(out);
        return 0;
    }
    TextTable table({"Edition", "Effective", "Status", "Citation", "Title"});
    for (const Edition& e : editions)
        table.addRow({q(e.id), q(e.effective), q(e.status), q(e.citation.text), q(e.title)});
    print(table.render());
    if (const Edition* e = analysis::newestInForce(editions))
        print(QStringLiteral("Default edition (newest in force): %1\n").arg(q(e->id)));
    return 0;
}

int classifyCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption edition(QStringLiteral("edition"),
                                     QStringLiteral("Edition id (default: the newest in force)."),
                                     QStringLiteral("ID"));
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("A chip of the store, by name (repeatable)."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption spec(
        QStringLiteral("spec"),
        QStringLiteral("A JSON file with one chip object or an array of them, classified without "
                       "adding them to the store."),
        QStringLiteral("FILE"));
    const QCommandLineOption explain(QStringLiteral("explain"),
                                     QStringLiteral("Print every result's reasons."));
    parser.addOptions({edition, chip, spec, explain, kJson});
    if (!parseVerb(parser, arguments,
                   "Classify chips under an edition of the rules, with the reasons."))
        return 0;

    std::vector<ChipSpec> chips;
    if (parser.isSet(spec)) {
        QFile f(parser.value(spec));
        if (!f.open(QIODevice::ReadOnly))
            throw std::runtime_error("cannot read " + parser.value(spec).toStdString() + ": " +
                                     f.errorString().toStdString());
        try {
            chips = analysis::chipsFromJsonText(f.readAll().toStdString());
        } catch (const std::exception& e) {
            throw std::runtime_error(parser.value(spec).toStdString() + ": " + e.what());
        }
    }
    // --spec alone never creates a store: without one, the bundled rules apply.
    const bool needStore =
        !parser.isSet(spec) || parser.isSet(chip) || QFileInfo::exists(storePath);
    std::optional<data::Store> store;
    std::vector<Edition> editions;
    if (needStore) {
        store.emplace(storePath);
        editions = store->editions();
    } else {
        editions = analysis::editionsFromJsonTexts(data::Store::bundledEditionTexts());
    }
    const Edition& chosen = pickEdition(editions, parser.value(edition));
    for (const QString& name : parser.values(chip)) {
        auto c = chipUnder(*store, chosen, name); // a scenario's hypothetical chips too
        if (!c)
            throw std::runtime_error(noSuchChipMessage(chosen, name));
        chips.push_back(std::move(*c));
    }
    if (!parser.isSet(spec) && !parser.isSet(chip))
        chips = analysis::chipsWithHypothetical(store->chips(), chosen);

    std::vector<ClassificationResult> results;
    std::vector<analysis::SourceSensitivity> sensitivity; // parallel to results
    for (const ChipSpec& c : chips) {
        results.push_back(analysis::classify(c, chosen));
        sensitivity.push_back(analysis::sourceSensitivity(c, chosen, results.back()));
    }

    if (parser.isSet(kJson)) {
        json out = {{"edition", chosen.id}, {"results", json::array()}};
        markScenario(out, chosen);
        for (size_t i = 0; i < results.size(); ++i) {
            const ClassificationResult& r = results[i];
            out["results"].push_back(analysis::resultToJson(r));
            out["results"].back()["source_sensitive"] =
                analysis::sourceSensitiveJson(sensitivity[i]); // extension (ours)
            markHypothetical(out["results"].back(), chosen, r.chip_name);
        }
        printJson(out);
        return 0;
    }
    print(QStringLiteral("Edition %1: %2 (%3, effective %4, %5)\n\n")
              .arg(q(chosen.id), q(chosen.title), q(chosen.citation.text), q(chosen.effective),
                   q(chosen.status)));
    TextTable table(
        {"Chip", "TPP", "PD", "Classes", "Controlled", "Borderline", "Exceptions", "Flags"},
        {false, true, true, false, false, false, false, false});
    for (const ClassificationResult& r : results) {
        QString controlled = yesNo(r.controlled);
        if (!r.controlled)
            controlled = QStringLiteral("undetermined (needs %1)").arg(joined(r.undetermined));
        const QString name = analysis::isHypotheticalChip(chosen, r.chip_name)
                                 ? q(r.chip_name) + QStringLiteral(" (hypothetical)")
                                 : q(r.chip_name);
        table.addRow({name, figure(r.tppValue()), figure(r.performance_density),
                      r.classes.empty() ? QStringLiteral("-") : joined(r.classes, " "), controlled,
                      r.borderline ? QStringLiteral("yes") : QString(),
                      joined(r.license_exceptions), joined(r.flags, "; ")});
    }
    print(table.render());
    // Which source is believed decides the class (or a flag) of these chips.
    for (size_t i = 0; i < results.size(); ++i)
        for (const std::string& line : analysis::sourceSensitivityLines(sensitivity[i], results[i]))
            print(
                QStringLiteral("Source-sensitive: %1: %2\n").arg(q(results[i].chip_name), q(line)));
    if (parser.isSet(explain) || results.size() <= 3) {
        for (size_t i = 0; i < results.size(); ++i) {
            const ClassificationResult& r = results[i];
            QString block = QStringLiteral("\n%1\n").arg(q(r.chip_name));
            for (const std::string& line : r.explanation)
                block += QStringLiteral("  %1\n").arg(q(line));
            for (const std::string& line : r.borderline_reasons)
                block += QStringLiteral("  borderline: %1\n").arg(q(line));
            for (const std::string& line : r.remarks)
                block += QStringLiteral("  note: %1\n").arg(q(line));
            if (!sensitivity[i].cases.empty() && !sensitivity[i].sensitive())
                block += QStringLiteral("  sources: the class and flags hold whichever source is "
                                        "believed (alternatives tried: %1)\n")
                             .arg(chips[i].alternatives.size());
            for (const std::string& line : analysis::sourceSensitivityLines(sensitivity[i], r))
                block += QStringLiteral("  source-sensitive: %1\n").arg(q(line));
            print(block);
        }
    }
    return 0;
}

} // namespace

int64_t integerOption(const QCommandLineParser& parser, const QCommandLineOption& option,
                      int64_t fallback, int64_t minimum) {
    if (!parser.isSet(option))
        return fallback;
    bool ok = false;
    const qlonglong value = parser.value(option).toLongLong(&ok);
    if (!ok || value < minimum)
        throw UsageFailure("--" + option.names().first().toStdString() + " needs " +
                           (minimum == 1 ? std::string("a positive integer")
                                         : "an integer >= " + std::to_string(minimum)) +
                           ", not \"" + parser.value(option).toStdString() + "\"");
    return value;
}

const analysis::Edition& chooseEdition(const std::vector<analysis::Edition>& editions,
                                       const QString& requested) {
    return pickEdition(editions, requested);
}

void print(const QString& text) {
    QTextStream out(stdout);
    out << text;
}

bool parseVerb(QCommandLineParser& parser, const QStringList& arguments, const char* description,
               bool positionalAllowed) {
    parser.setApplicationDescription(QString::fromLatin1(description));
    parser.addHelpOption();
    if (!parser.parse(arguments))
        throw UsageFailure(parser.errorText().toStdString());
    if (parser.isSet(QStringLiteral("help"))) {
        print(parser.helpText());
        return false;
    }
    if (!positionalAllowed && !parser.positionalArguments().isEmpty())
        throw UsageFailure("unexpected argument \"" +
                           parser.positionalArguments().first().toStdString() + "\"");
    return true;
}

std::vector<analysis::ChipSpec> chipsNamed(const data::Store& store, const QStringList& names) {
    std::vector<analysis::ChipSpec> chips;
    for (const QString& name : names) {
        auto c = store.chip(name);
        if (!c)
            throw std::runtime_error("no chip named \"" + name.toStdString() +
                                     "\" in the store (crossroads chips lists them)");
        chips.push_back(std::move(*c));
    }
    return chips;
}

std::string countryOption(const QCommandLineParser& parser, const QCommandLineOption& option,
                          const char* name) {
    const QString value = parser.value(option).trimmed().toUpper();
    const std::string code = value.toStdString();
    if (!analysis::isCountryCode(code))
        throw UsageFailure("unknown country code \"" + parser.value(option).toStdString() +
                           "\" for --" + name + " (ISO 3166-1 alpha-2, e.g. DE, CN, AE)");
    return code;
}

const std::vector<Command>& commands() {
    static const std::vector<Command> list = {
        {"chips", "List the chips of the store (--json: interchange objects).", chipsCommand},
        {"editions", "List the rule editions (--json).", editionsCommand},
        {"classify", "Classify chips under an edition, with the reasons (--json).",
         classifyCommand},
        {"license",
         "Licence needed to ship chips to a destination, with the basis and review policy "
         "(--json).",
         licenseCommand},
        {"import", "Import chips from JSON, Crossroads CSV or Epoch AI CSV (merges; --dry-run).",
         importCommand},
        {"history", "The audit trail of changes to the chips (--chip, --json).", historyCommand},
        {"results", "The saved benchmark results (--json).", resultsCommand},
        {"export", "Export chips to JSON or CSV, or a result table as CSV or XLSX (--table).",
         exportCommand},
        {"run", "Greedy generation with the bundled MoE engine (--logits-out).", runCommand},
        {"bench", "Prefill/decode throughput against measured and datasheet peaks.", benchCommand},
        {"project", "Roofline projection of a model's decode and prefill on chips (--json).",
         projectCommand},
        {"chart", "Export a chart (tpp-pd, bandwidth-tpp, timeline, ...) as PNG, PDF or SVG.",
         chartCommand, true},
        {"compare", "What changes between two editions, and why (--json).", compareCommand},
        {"design-around",
         "Margins to every threshold and the smallest change that leaves each line (--json).",
         designAroundCommand},
        {"caps",
         "What a 2025-01 TPP allocation buys: chips, H100-equivalents, DeepSeek-V3 decode and "
         "training days, 4E091 (--json).",
         capsCommand},
        {"capability",
         "Projected DeepSeek-V3 decode and H100-equivalents beside each chip's export class, "
         "measured against projected (--json).",
         capabilityCommand},
        {"systems",
         "4A090 class, aggregate TPP and systems within a TPP allocation, per system (--json).",
         systemsCommand},
        {"report", "A comparison report of two editions as PDF or HTML.", reportCommand, true},
        {"scenario", "Editions of your own: new, list, show, delete (usable as edition ids).",
         scenarioCommand},
    };
    return list;
}

} // namespace crossroads::cli
