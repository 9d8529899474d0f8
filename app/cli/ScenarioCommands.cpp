#include "app/cli/ScenarioCommands.h"

#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"
#include "analysis/Compare.h"
#include "analysis/Scenario.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QFile>

namespace crossroads::cli {

namespace {

using analysis::Edition;
using analysis::Scenario;
using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString figure(double v) {
    return q(analysis::formatFigure(v));
}

QString figure(const std::optional<double>& v) {
    return v ? figure(*v) : QStringLiteral("?");
}

QString opText(analysis::Comparator op) {
    return q(std::string(analysis::comparatorSymbol(op)));
}

void printJson(const json& value) {
    print(q(value.dump(2)) + QLatin1Char('\n'));
}

const char* const kDescription =
    "Scenarios: editions of the analyst's, usable wherever an edition id is (--edition, "
    "--baseline, --vs).\n\n"
    "  scenario new NAME --from ID [--set \"CLAUSE:METRIC OP VALUE\"]... [--chips FILE] "
    "[--note TEXT] [--replace]\n"
    "      Stores an edition extending ID in which the criterion of CLAUSE on METRIC with the\n"
    "      same direction of operator gets OP VALUE (e.g. --set \"3A090.a.1:tpp >= 4000\"),\n"
    "      plus the hypothetical chips of FILE (chip objects, as classify --spec reads them),\n"
    "      which exist only in the scenario.\n"
    "  scenario list [--json]\n"
    "  scenario show NAME [--json]   the base, each changed threshold beside the base's, the\n"
    "      hypothetical chips, the note, and what changes against the base.\n"
    "  scenario delete NAME";

const QCommandLineOption kFrom(QStringLiteral("from"),
                               QStringLiteral("new: the edition (or scenario) it extends."),
                               QStringLiteral("ID"));
const QCommandLineOption
    kSet(QStringLiteral("set"),
         QStringLiteral("new: a threshold, \"CLAUSE:METRIC OP VALUE\" (repeatable)."),
         QStringLiteral("CRITERION"));
const QCommandLineOption kChips(QStringLiteral("chips"),
                                QStringLiteral("new: a JSON file of hypothetical chips (one chip "
                                               "object or an array)."),
                                QStringLiteral("FILE"));
const QCommandLineOption kNote(QStringLiteral("note"), QStringLiteral("new: a note."),
                               QStringLiteral("TEXT"));
const QCommandLineOption kReplace(QStringLiteral("replace"),
                                  QStringLiteral("new: replace the scenario of that name."));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON for tools."));

// Only `allowed` of the sub-verb's options may be given.
void onlyOptions(const QCommandLineParser& parser, const QString& sub,
                 std::initializer_list<const QCommandLineOption*> allowed) {
    for (const QCommandLineOption* o : {&kFrom, &kSet, &kChips, &kNote, &kReplace, &kJson}) {
        if (!parser.isSet(*o))
            continue;
        if (std::find(allowed.begin(), allowed.end(), o) == allowed.end())
            throw UsageFailure("scenario " + sub.toStdString() + " takes no --" +
                               o->names().first().toStdString());
    }
}

QString nameArgument(const QStringList& positional, const QString& sub) {
    if (positional.size() < 2)
        throw UsageFailure("scenario " + sub.toStdString() + " needs a NAME");
    if (positional.size() > 2)
        throw UsageFailure("unexpected argument \"" + positional[2].toStdString() + "\"");
    return positional[1];
}

data::Store::ScenarioRecord requireScenario(const data::Store& store, const QString& name) {
    const auto records = store.scenarios();
    for (const auto& r : records)
        if (q(r.scenario.name).compare(name, Qt::CaseInsensitive) == 0)
            return r;
    QStringList names;
    for (const auto& r : records)
        names << q(r.scenario.name);
    throw UsageFailure("no scenario named \"" + name.toStdString() + "\"" +
                       (names.isEmpty()
                            ? std::string(" (the store has none)")
                            : " (known: " + names.join(QStringLiteral(", ")).toStdString() + ")"));
}

// The edition of that id among `editions`; nullptr when absent.
const Edition* findById(const std::vector<Edition>& editions, const std::string& id) {
    return analysis::findEdition(editions, id);
}

int newScenario(const QCommandLineParser& parser, const QString& storePath) {
    const QString name = nameArgument(parser.positionalArguments(), QStringLiteral("new"));
    if (!parser.isSet(kFrom))
        throw UsageFailure("scenario new needs --from ID (the edition it extends)");
    Scenario scenario;
    scenario.name = name.toStdString();
    scenario.note = parser.value(kNote).toStdString();
    try {
        analysis::checkScenarioName(scenario.name);
        for (const QString& text : parser.values(kSet))
            scenario.overrides.push_back(analysis::parseThresholdOverride(text.toStdString()));
    } catch (const analysis::ScenarioError& e) {
        throw UsageFailure(e.what());
    }
    if (parser.isSet(kChips)) {
        const QString path = parser.value(kChips);
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            throw std::runtime_error("cannot read " + path.toStdString() + ": " +
                                     f.errorString().toStdString());
        try {
            scenario.hypothetical_chips = analysis::chipsFromJsonText(f.readAll().toStdString());
        } catch (const std::exception& e) {
            throw std::runtime_error(path.toStdString() + ": " + e.what());
        }
    }

    data::Store store(storePath);
    const auto editions = store.editions();
    scenario.base = chooseEdition(editions, parser.value(kFrom)).id;
    if (!parser.isSet(kReplace))
        if (const auto existing = store.scenario(name))
            throw std::runtime_error("a scenario named \"" + existing->scenario.name +
                                     "\" exists already (--replace replaces it)");
    try {
        store.saveScenario(scenario, parser.isSet(kReplace));
    } catch (const analysis::ScenarioError& e) {
        throw UsageFailure(e.what());
    }

    const auto after = store.editions();
    const Edition* resolved = findById(after, scenario.name);
    const Edition* base = findById(after, scenario.base);
    if (!resolved || !base)
        throw std::runtime_error("scenario \"" + scenario.name +
                                 "\" was saved but does not resolve");
    const analysis::EditionComparison cmp =
        analysis::compareEditions(store.chips(), *base, *resolved);
    print(QStringLiteral("Saved scenario %1 (extends %2): %3 threshold(s) changed, %4 "
                         "hypothetical chip(s); against %2, %5 chip(s) change class. "
                         "crossroads scenario show %1 gives the details.\n")
              .arg(q(scenario.name), q(scenario.base))
              .arg(scenario.overrides.size())
              .arg(scenario.hypothetical_chips.size())
              .arg(cmp.changes.size()));
    return 0;
}

json recordJson(const data::Store::ScenarioRecord& r) {
    json overrides = json::array();
    for (const auto& o : r.scenario.overrides)
        overrides.push_back(analysis::thresholdOverrideText(o));
    json chips = json::array();
    for (const auto& c : r.scenario.hypothetical_chips)
        chips.push_back(c.name);
    return {{"name", r.scenario.name},
            {"scenario", true},
            {"base", r.scenario.base},
            {"overrides", overrides},
            {"hypothetical_chips", chips},
            {"note", r.scenario.note},
            {"created_at", r.created_at.toStdString()},
            {"updated_at", r.updated_at.toStdString()},
            {"error", r.problem.empty() ? json(nullptr) : json(r.problem)}};
}

int listScenarios(const QCommandLineParser& parser, const QString& storePath) {
    if (parser.positionalArguments().size() > 1)
        throw UsageFailure("unexpected argument \"" +
                           parser.positionalArguments()[1].toStdString() + "\"");
    data::Store store(storePath);
    const auto records = store.scenarios();
    if (parser.isSet(kJson)) {
        json out = json::array();
        for (const auto& r : records)
            out.push_back(recordJson(r));
        printJson(out);
        return 0;
    }
    if (records.empty()) {
        print(QStringLiteral("No scenarios. crossroads scenario new NAME --from ID --set "
                             "\"CLAUSE:METRIC OP VALUE\" makes one.\n"));
        return 0;
    }
    TextTable table({"Scenario", "Base", "Thresholds", "Chips", "Updated", "Note"},
                    {false, false, false, true, false, false});
    for (const auto& r : records) {
        QStringList overrides;
        for (const auto& o : r.scenario.overrides)
            overrides << q(analysis::thresholdOverrideText(o));
        table.addRow(
            {q(r.scenario.name), q(r.scenario.base),
             overrides.isEmpty() ? QStringLiteral("-") : overrides.join(QStringLiteral("; ")),
             QString::number(r.scenario.hypothetical_chips.size()), r.updated_at,
             r.problem.empty() ? q(r.scenario.note)
                               : QStringLiteral("ERROR: %1").arg(q(r.problem))});
    }
    print(table.render());
    return 0;
}

int showScenario(const QCommandLineParser& parser, const QString& storePath) {
    const QString name = nameArgument(parser.positionalArguments(), QStringLiteral("show"));
    data::Store store(storePath);
    const data::Store::ScenarioRecord record = requireScenario(store, name);
    if (!record.problem.empty())
        throw std::runtime_error("scenario \"" + record.scenario.name +
                                 "\" does not resolve: " + record.problem);
    const auto editions = store.editions();
    const Edition* resolved = findById(editions, record.scenario.name);
    const Edition* base = findById(editions, record.scenario.base);
    if (!resolved || !base)
        throw std::runtime_error("scenario \"" + record.scenario.name + "\" does not resolve");
    const analysis::ScenarioDiff diff =
        analysis::diffScenario(record.scenario, *base, *resolved, store.chips());
    if (parser.isSet(kJson)) {
        json out = analysis::scenarioDiffToJson(diff);
        out["created_at"] = record.created_at.toStdString();
        out["updated_at"] = record.updated_at.toStdString();
        printJson(out);
        return 0;
    }
    QString text =
        QStringLiteral("Scenario %1, extends %2 (%3); created %4, updated %5\n")
            .arg(q(diff.name), q(base->id), q(base->title), record.created_at, record.updated_at);
    if (!diff.note.empty())
        text += QStringLiteral("Note: %1\n").arg(q(diff.note));
    text += QStringLiteral("\nThresholds\n");
    if (diff.thresholds.empty()) {
        text += QStringLiteral("  none changed: the base's own\n");
    } else {
        TextTable table({"Clause", "Metric", q(base->id), q(diff.name)},
                        {false, false, true, true});
        for (const auto& t : diff.thresholds)
            table.addRow({q(t.scenario.clause), q(t.scenario.metric),
                          opText(t.base.op) + QLatin1Char(' ') + figure(t.base.threshold),
                          opText(t.scenario.op) + QLatin1Char(' ') + figure(t.scenario.threshold)});
        text += table.render();
    }
    text += QStringLiteral("\nHypothetical chips\n");
    if (diff.hypothetical_chips.empty()) {
        text += QStringLiteral("  none\n");
    } else {
        TextTable table(
            {"Chip", "Vendor", "TPP", "PD", QStringLiteral("Under %1").arg(q(diff.name))},
            {false, false, true, true, false});
        for (size_t i = 0; i < diff.hypothetical_chips.size(); ++i) {
            const auto& r = diff.hypothetical_results[i];
            table.addRow({q(diff.hypothetical_chips[i].name), q(diff.hypothetical_chips[i].vendor),
                          figure(r.tppValue()), figure(r.performance_density),
                          q(analysis::classSummary(r))});
        }
        text += table.render();
    }
    const analysis::EditionComparison& cmp = diff.comparison;
    text += QStringLiteral("\nAgainst %1: %2 chip(s) change class, %3 unchanged.\n")
                .arg(q(base->id))
                .arg(cmp.changes.size())
                .arg(cmp.unchanged);
    if (!cmp.changes.empty()) {
        TextTable table({"Chip", q(base->id), q(diff.name), "Direction"});
        for (const auto& c : cmp.changes)
            table.addRow({analysis::isHypotheticalChip(*resolved, c.chip)
                              ? q(c.chip) + QStringLiteral(" (hypothetical)")
                              : q(c.chip),
                          q(analysis::classSummary(c.from)), q(analysis::classSummary(c.to)),
                          q(std::string(analysis::changeDirectionKey(c.direction)))});
        text += table.render();
    }
    for (const auto& f : cmp.flag_changes) {
        for (const std::string& flag : f.added)
            text += QStringLiteral("%1: gains flag \"%2\"\n").arg(q(f.chip), q(flag));
        for (const std::string& flag : f.removed)
            text += QStringLiteral("%1: loses flag \"%2\"\n").arg(q(f.chip), q(flag));
    }
    print(text);
    return 0;
}

int deleteScenario(const QCommandLineParser& parser, const QString& storePath) {
    const QString name = nameArgument(parser.positionalArguments(), QStringLiteral("delete"));
    data::Store store(storePath);
    const data::Store::ScenarioRecord record = requireScenario(store, name);
    if (!store.removeScenario(q(record.scenario.name)))
        throw std::runtime_error("scenario \"" + record.scenario.name + "\" could not be deleted");
    QStringList orphans;
    for (const auto& r : store.scenarios())
        if (q(r.scenario.base).compare(q(record.scenario.name), Qt::CaseInsensitive) == 0)
            orphans << q(r.scenario.name);
    print(QStringLiteral("Deleted scenario %1.\n").arg(q(record.scenario.name)));
    if (!orphans.isEmpty())
        print(QStringLiteral("These scenarios extended it and no longer resolve: %1.\n")
                  .arg(orphans.join(QStringLiteral(", "))));
    return 0;
}

} // namespace

int scenarioCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("new|list|show|delete"),
                                 QStringLiteral("What to do."));
    parser.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The scenario."));
    parser.addOptions({kFrom, kSet, kChips, kNote, kReplace, kJson});
    if (!parseVerb(parser, arguments, kDescription, true))
        return 0;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        throw UsageFailure("scenario needs new, list, show or delete (crossroads scenario --help)");
    const QString sub = positional.first();
    if (sub == QLatin1String("new")) {
        onlyOptions(parser, sub, {&kFrom, &kSet, &kChips, &kNote, &kReplace});
        return newScenario(parser, storePath);
    }
    if (sub == QLatin1String("list")) {
        onlyOptions(parser, sub, {&kJson});
        return listScenarios(parser, storePath);
    }
    if (sub == QLatin1String("show")) {
        onlyOptions(parser, sub, {&kJson});
        return showScenario(parser, storePath);
    }
    if (sub == QLatin1String("delete")) {
        onlyOptions(parser, sub, {});
        return deleteScenario(parser, storePath);
    }
    throw UsageFailure("unknown scenario action \"" + sub.toStdString() +
                       "\" (new, list, show or delete)");
}

std::optional<analysis::ChipSpec> chipUnder(const data::Store& store,
                                            const analysis::Edition& edition, const QString& name) {
    if (auto c = store.chip(name))
        return c;
    if (const analysis::ChipSpec* h = analysis::findHypotheticalChip(edition, name.toStdString()))
        return *h;
    return std::nullopt;
}

std::string noSuchChipMessage(const analysis::Edition& edition, const QString& name) {
    if (edition.scenario)
        return "no chip named \"" + name.toStdString() +
               "\" in the store or among the "
               "hypothetical chips of scenario " +
               edition.id +
               " (crossroads chips, crossroads "
               "scenario show " +
               edition.id + ")";
    return "no chip named \"" + name.toStdString() +
           "\" in the store (crossroads chips lists them)";
}

void markScenario(json& out, const analysis::Edition& edition) {
    if (!edition.scenario)
        return;
    out["scenario"] = true;
    out["base"] = edition.base;
}

void markHypothetical(json& result, const analysis::Edition& edition, const std::string& chip) {
    if (analysis::isHypotheticalChip(edition, chip))
        result["hypothetical"] = true;
}

} // namespace crossroads::cli
