#include "app/cli/CompareCommands.h"

#include "analysis/Compare.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "app/report/Report.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <algorithm>

namespace crossroads::cli {

namespace {

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

// Both editions are required here (chooseEdition would default an empty one).
const analysis::Edition& requireEdition(const std::vector<analysis::Edition>& editions,
                                        const QString& id, const char* option) {
    if (id.isEmpty())
        throw UsageFailure(std::string("--") + option + " ID is required");
    return chooseEdition(editions, id);
}

// A scenario's hypothetical chip says so.
QString chipLabel(const analysis::EditionComparison& cmp, const std::string& chip) {
    const auto& h = cmp.hypothetical_chips;
    return std::find(h.begin(), h.end(), chip) == h.end()
               ? q(chip)
               : q(chip) + QStringLiteral(" (hypothetical)");
}

QString side(const analysis::ClassificationResult& r) {
    return q(analysis::classSummary(r));
}

const QCommandLineOption kBaseline(QStringLiteral("baseline"),
                                   QStringLiteral("The edition compared against."),
                                   QStringLiteral("ID"));
const QCommandLineOption kVs(QStringLiteral("vs"), QStringLiteral("The edition compared."),
                             QStringLiteral("ID"));

} // namespace

int compareCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON for tools."));
    parser.addOptions({kBaseline, kVs, json});
    if (!parseVerb(parser, arguments,
                   "Which chips change paragraph or control status between two editions, in "
                   "which direction, and why."))
        return 0;
    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& a = requireEdition(editions, parser.value(kBaseline), "baseline");
    const analysis::Edition& b = requireEdition(editions, parser.value(kVs), "vs");
    const analysis::EditionComparison cmp = analysis::compareEditions(store.chips(), a, b);
    if (parser.isSet(json)) {
        print(q(analysis::comparisonToJson(cmp).dump(2)) + QLatin1Char('\n'));
        return 0;
    }
    print(QStringLiteral("%1 -> %2: %3 chips change class, %4 unchanged.\n")
              .arg(q(a.id), q(b.id))
              .arg(cmp.changes.size())
              .arg(cmp.unchanged));
    if (!cmp.changes.empty()) {
        TextTable table({"Chip", q(a.id), q(b.id), "Direction"});
        for (const analysis::ChipChange& c : cmp.changes)
            table.addRow({chipLabel(cmp, c.chip), side(c.from), side(c.to),
                          q(std::string(analysis::changeDirectionKey(c.direction)))});
        print(table.render());
        for (const analysis::ChipChange& c : cmp.changes) {
            print(q(c.chip) + QLatin1Char('\n'));
            for (const std::string& line : c.because)
                print(QStringLiteral("  ") + q(line) + QLatin1Char('\n'));
        }
    }
    for (const analysis::FlagChange& f : cmp.flag_changes) {
        for (const std::string& flag : f.added)
            print(QStringLiteral("%1: gains flag \"%2\"\n").arg(q(f.chip), q(flag)));
        for (const std::string& flag : f.removed)
            print(QStringLiteral("%1: loses flag \"%2\"\n").arg(q(f.chip), q(flag)));
    }
    return 0;
}

int reportCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption out(QStringLiteral("out"),
                                 QStringLiteral("Output file: .pdf (A4 pages) or .html (one "
                                                "file, charts inside)."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption destination(
        QStringLiteral("destination"),
        QStringLiteral("Add the licence each chip needs to ship to this country (ISO 3166-1 "
                       "alpha-2) under both editions."),
        QStringLiteral("CC"));
    parser.addOptions({kBaseline, kVs, out, destination});
    if (!parseVerb(parser, arguments,
                   "A comparison report of two editions: summary, both classification tables, "
                   "licences to a destination, charts, explanations, sources and provenance."))
        return 0;
    if (!parser.isSet(out))
        throw UsageFailure("--out FILE is required");
    const QString path = parser.value(out);
    const QString ext = path.section(QLatin1Char('.'), -1).toLower();
    if (ext != QLatin1String("pdf") && ext != QLatin1String("html"))
        throw UsageFailure("cannot write a report as \"." + ext.toStdString() +
                           "\": use .pdf or .html");
    std::string destinationCode;
    if (parser.isSet(destination))
        destinationCode = countryOption(parser, destination, "destination");
    data::Store store(storePath);
    report::ReportInputs in = report::reportInputsFromStore(store);
    in.baseline = requireEdition(in.data.editions, parser.value(kBaseline), "baseline").id;
    in.vs = requireEdition(in.data.editions, parser.value(kVs), "vs").id;
    in.destination = destinationCode;
    report::writeReport(in, path);
    print(QStringLiteral("Wrote %1 (%2 vs %3).\n").arg(path, q(in.baseline), q(in.vs)));
    return 0;
}

} // namespace crossroads::cli
