#include "app/cli/StoreCommands.h"

#include "analysis/Classifier.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "data/ChipFiles.h"
#include "data/ChipPatch.h"
#include "data/Store.h"

#include <QCommandLineParser>
#include <nlohmann/json.hpp>

namespace crossroads::cli {

namespace {

using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

void printJson(const json& value) {
    print(q(value.dump(2)) + QLatin1Char('\n'));
}

const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON for tools."));

QString valueText(const std::optional<std::string>& v) {
    return v ? q(*v) : QStringLiteral("(none)");
}

QString sourceLine(const analysis::Source& s) {
    return QStringLiteral("%1: %2%3")
        .arg(q(s.field), q(s.citation),
             s.confidence.empty() ? QString() : QStringLiteral(" (%1)").arg(q(s.confidence)));
}

QString chipHeading(const data::ChipImportDiff& c) {
    QString where = q(c.origin);
    if (c.row_name != c.name)
        where += QStringLiteral(", \"%1\" in the file").arg(q(c.row_name));
    return QStringLiteral("\"%1\" (%2)").arg(q(c.name), where);
}

// The difference figure by figure: every added chip with its figures, every changed figure as
// old -> new, the sources that come with them, and the count of figures that stay.
QString diffText(const data::ImportDiff& diff) {
    QString out;
    for (const data::ChipImportDiff& c : diff.chips) {
        if (c.added) {
            out += QStringLiteral("+ added %1\n").arg(chipHeading(c));
            for (const auto& f : c.changes)
                out += QStringLiteral("    %1: %2\n").arg(q(f.field), valueText(f.new_value));
        } else if (c.changed()) {
            out += QStringLiteral("~ changed %1\n").arg(chipHeading(c));
            for (const auto& f : c.changes)
                out += QStringLiteral("    %1: %2 -> %3\n")
                           .arg(q(f.field), valueText(f.old_value),
                                f.cleared() ? QStringLiteral("(cleared: empty in the file)")
                                            : valueText(f.new_value));
            if (c.unchanged > 0)
                out += QStringLiteral("    (%1 given figures unchanged)\n").arg(c.unchanged);
        } else {
            out += QStringLiteral("= unchanged %1: %2 given figures the same\n")
                       .arg(chipHeading(c))
                       .arg(c.unchanged);
            continue;
        }
        for (const auto& s : c.sources_added)
            out += QStringLiteral("    + source %1\n").arg(sourceLine(s));
        for (const auto& a : c.alternatives_added)
            out += QStringLiteral("    + alternative %1 %2 (%3)\n")
                       .arg(q(a.field), q(analysis::formatFigure(a.value)), q(a.citation));
    }
    return out;
}

QString summary(const data::ImportDiff& diff) {
    return QStringLiteral("%1 added, %2 changed, %3 unchanged; %4 figures changed (%5 cleared), "
                          "%6 unchanged")
        .arg(diff.addedChips())
        .arg(diff.changedChips())
        .arg(diff.unchangedChips())
        .arg(diff.changedFigures())
        .arg(diff.clearedFigures())
        .arg(diff.unchangedFigures());
}

// A field's stored text as the JSON type of the interchange object.
json typedValue(const std::string& field, const std::optional<std::string>& text) {
    if (!text)
        return nullptr;
    if (field == "datacenter")
        return *text == "true";
    const bool numeric = field == "year" || analysis::precisionFromKey(field) ||
                         std::any_of(analysis::kFigureFields.begin(), analysis::kFigureFields.end(),
                                     [&](const auto& f) { return f.key == field; });
    if (numeric) {
        try {
            return field == "year" ? json(std::stoi(*text)) : json(std::stod(*text));
        } catch (const std::exception&) {
            return *text; // an entry written by hand; show it as it is
        }
    }
    return *text;
}

} // namespace

int importCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("Chips as JSON (.json), Crossroads CSV or Epoch AI "
                                                "hardware CSV (.csv; told apart by the header)."));
    const QCommandLineOption dryRun(QStringLiteral("dry-run"),
                                    QStringLiteral("Print the differences figure by figure and "
                                                   "change nothing."));
    parser.addOption(dryRun);
    if (!parseVerb(parser, arguments,
                   "Import chips into the store, all or nothing. A chip already stored is merged: "
                   "a column (JSON: key) the file lacks keeps the stored figure, an empty cell "
                   "(JSON: null) clears it; sources are added. Epoch AI names are matched to the "
                   "store's (vendor prefixes, form factors, aliases).",
                   true))
        return 0;
    if (parser.positionalArguments().size() != 1)
        throw UsageFailure("import takes one FILE");
    const QString path = parser.positionalArguments().first();
    const data::ChipFile file = data::readChipPatches(path); // every row checked first
    data::Store store(storePath);
    if (parser.isSet(dryRun)) {
        const data::ImportDiff diff = store.diffImport(file.rows);
        print(diffText(diff));
        print(QStringLiteral("Dry run of %1 (%2 rows): %3. Nothing was changed.\n")
                  .arg(path)
                  .arg(file.rows.size())
                  .arg(summary(diff)));
        return 0;
    }
    const data::ImportDiff diff = store.importChips(file.rows, "import " + path.toStdString());
    QString out = QStringLiteral("Imported %1 rows from %2: %3.\n")
                      .arg(file.rows.size())
                      .arg(path)
                      .arg(summary(diff));
    for (const data::ChipImportDiff& c : diff.chips) {
        if (c.row_name != c.name && !c.added)
            out += QStringLiteral("  %1: \"%2\" is the store's \"%3\".\n")
                       .arg(q(c.origin), q(c.row_name), q(c.name));
        QStringList cleared;
        for (const auto& f : c.changes)
            if (f.cleared())
                cleared << QStringLiteral("%1 (was %2)").arg(q(f.field), q(*f.old_value));
        if (!cleared.isEmpty())
            out += QStringLiteral("  Cleared for \"%1\" (empty in the file): %2.\n")
                       .arg(q(c.name), cleared.join(QStringLiteral(", ")));
    }
    print(out);
    return 0;
}

int historyCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("Only this chip's changes (its name)."),
                                  QStringLiteral("NAME"));
    parser.addOptions({chip, kJson});
    if (!parseVerb(parser, arguments,
                   "The audit trail: every change to the store's chips (from imports and edits), "
                   "oldest first. A chip as seeded has no entries."))
        return 0;
    data::Store store(storePath);
    const auto entries = store.history(parser.value(chip));
    if (parser.isSet(kJson)) {
        json out = json::array();
        for (const data::AuditEntry& e : entries)
            out.push_back({{"at", e.at},
                           {"chip", e.chip},
                           {"field", e.field},
                           {"old", typedValue(e.field, e.old_value)},
                           {"new", typedValue(e.field, e.new_value)},
                           {"source", e.source},
                           {"via", e.via}});
        printJson(out);
        return 0;
    }
    if (entries.empty()) {
        print(parser.isSet(chip)
                  ? QStringLiteral("No changes recorded for \"%1\" (as seeded, or not in the "
                                   "store).\n")
                        .arg(parser.value(chip))
                  : QStringLiteral("No changes recorded: the store's chips are as seeded.\n"));
        return 0;
    }
    TextTable table({"At (UTC)", "Chip", "Field", "Old", "New", "Source", "Via"});
    const auto cell = [](const std::optional<std::string>& v) {
        return v ? q(*v) : QStringLiteral("-");
    };
    for (const data::AuditEntry& e : entries)
        table.addRow({q(e.at), q(e.chip), q(e.field), cell(e.old_value), cell(e.new_value),
                      q(e.source), q(e.via)});
    print(table.render());
    print(QStringLiteral("%1 changes. Store: %2\n").arg(entries.size()).arg(storePath));
    return 0;
}

int resultsCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addOption(kJson);
    if (!parseVerb(parser, arguments,
                   "The benchmark results saved by crossroads bench, newest first."))
        return 0;
    data::Store store(storePath);
    const auto records = store.benchmarkResults();
    const auto parsed = [](const std::string& text) {
        try {
            return json::parse(text);
        } catch (const json::exception&) {
            return json(nullptr); // shown as missing rather than failing the whole list
        }
    };
    if (parser.isSet(kJson)) {
        json out = json::array();
        for (const auto& r : records)
            out.push_back({{"id", r.id},
                           {"created_at", r.created_at.toStdString()},
                           {"device", r.device.toStdString()},
                           {"backend", r.backend.toStdString()},
                           {"model", r.model.toStdString()},
                           {"dtype", r.dtype.toStdString()},
                           {"result", parsed(r.result_json)}});
        printJson(out);
        return 0;
    }
    if (records.empty()) {
        print(QStringLiteral("No benchmark results saved yet (crossroads bench saves one).\n"));
        return 0;
    }
    const auto number = [](const json& v, int decimals) {
        return v.is_number() ? QString::number(v.get<double>(), 'f', decimals)
                             : QStringLiteral("?");
    };
    TextTable table({"Id", "Saved (UTC)", "Device", "Backend", "Model", "Dtype", "Prefill tok/s",
                     "Decode tok/s", "Decode / measured BW"},
                    {true, false, false, false, false, false, true, true, true});
    for (const auto& r : records) {
        const json result = parsed(r.result_json);
        json prefill, decode;
        int decodePhases = 0;
        if (result.is_object() && result.contains("phases") && result["phases"].is_array()) {
            for (const json& phase : result["phases"]) {
                if (!phase.is_object())
                    continue;
                if (phase.value("phase", "") == "prefill" && prefill.is_null())
                    prefill = phase;
                if (phase.value("phase", "") == "decode" && decodePhases++ == 0)
                    decode = phase;
            }
        }
        const auto field = [](const json& phase, const char* key) {
            return phase.is_object() && phase.contains(key) ? phase[key] : json(nullptr);
        };
        QString decodeRate = number(field(decode, "tokens_per_s"), 1);
        if (decodePhases > 1)
            decodeRate += QStringLiteral(" (+%1 contexts)").arg(decodePhases - 1);
        table.addRow({QString::number(r.id), r.created_at, r.device, r.backend, r.model, r.dtype,
                      number(field(prefill, "tokens_per_s"), 1), decodeRate,
                      number(field(decode, "fraction_of_measured_bandwidth"), 2)});
    }
    print(table.render());
    print(QStringLiteral("%1 results. Store: %2\n").arg(records.size()).arg(storePath));
    return 0;
}

} // namespace crossroads::cli
