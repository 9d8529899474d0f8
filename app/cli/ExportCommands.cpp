#include "app/cli/ExportCommands.h"

#include "analysis/Compare.h"
#include "app/cli/Commands.h"
#include "app/export/TableExport.h"
#include "app/gui/models/BenchResultsModel.h"
#include "app/gui/models/ChipFiguresModel.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/CompareTableModel.h"
#include "app/gui/models/HistoryTableModel.h"
#include "app/gui/models/TableRoles.h"
#include "data/ChipFiles.h"
#include "data/Store.h"

#include <QCommandLineParser>
#include <memory>

namespace crossroads::cli {

namespace {

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

const QStringList& tableNames() {
    static const QStringList names{QStringLiteral("chips"), QStringLiteral("classification"),
                                   QStringLiteral("compare"), QStringLiteral("history"),
                                   QStringLiteral("results")};
    return names;
}

// The chips as interchange files (JSON or Crossroads CSV), the form `export FILE` has always had.
int exportChips(const QCommandLineParser& parser, const QCommandLineOption& chip,
                const QString& storePath) {
    if (parser.positionalArguments().size() != 1)
        throw UsageFailure("export takes one FILE (or - for standard output), or --table T "
                           "--out FILE");
    const QString path = parser.positionalArguments().first();
    data::Store store(storePath);
    const std::vector<analysis::ChipSpec> chips =
        parser.isSet(chip) ? chipsNamed(store, parser.values(chip)) : store.chips();
    if (path == QLatin1String("-")) {
        print(q(data::chipsToJsonText(chips)));
        return 0;
    }
    data::writeChipFile(path, chips);
    print(QStringLiteral("Exported %1 chips to %2.\n").arg(chips.size()).arg(path));
    return 0;
}

} // namespace

int exportCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("Chips as .json (interchange objects) or .csv "
                                                "(Crossroads CSV); - prints JSON. Not with "
                                                "--table."));
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("Export only this chip (repeatable; FILE form)."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption table(
        QStringLiteral("table"),
        QStringLiteral("A result table as the window shows it: chips (their figures), "
                       "classification (under --edition), compare (--baseline and --vs), "
                       "history (--chip to keep one chip's) or results (the benchmark results, "
                       "the device's class under --edition)."),
        QStringLiteral("T"));
    const QCommandLineOption out(QStringLiteral("out"),
                                 QStringLiteral("The table's file: .csv or .xlsx."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption edition(
        QStringLiteral("edition"),
        QStringLiteral("The edition of classification and results (default: the newest in "
                       "force)."),
        QStringLiteral("ID"));
    const QCommandLineOption baseline(QStringLiteral("baseline"),
                                      QStringLiteral("compare: the edition compared against."),
                                      QStringLiteral("ID"));
    const QCommandLineOption vs(QStringLiteral("vs"),
                                QStringLiteral("compare: the edition compared."),
                                QStringLiteral("ID"));
    parser.addOptions({chip, table, out, edition, baseline, vs});
    if (!parseVerb(parser, arguments,
                   "Export the store's chips with their sources (FILE), or a result table as CSV "
                   "or XLSX (--table T --out FILE).",
                   true))
        return 0;

    if (!parser.isSet(table)) {
        for (const QCommandLineOption* o : {&out, &edition, &baseline, &vs})
            if (parser.isSet(*o))
                throw UsageFailure("--" + o->names().first().toStdString() + " goes with --table");
        return exportChips(parser, chip, storePath);
    }

    const QString name = parser.value(table);
    if (!tableNames().contains(name))
        throw UsageFailure("--table takes " +
                           tableNames().join(QStringLiteral(", ")).toStdString() + ", not \"" +
                           name.toStdString() + "\"");
    if (!parser.positionalArguments().isEmpty())
        throw UsageFailure("--table writes to --out FILE, not to \"" +
                           parser.positionalArguments().first().toStdString() + "\"");
    if (!parser.isSet(out))
        throw UsageFailure("--table needs --out FILE.csv or FILE.xlsx");
    const QString path = parser.value(out);
    if (!exporting::tableFormatForPath(path))
        throw UsageFailure("--out must end in .csv or .xlsx, not \"" + path.toStdString() + "\"");
    const bool isCompare = name == QLatin1String("compare");
    const bool takesEdition =
        name == QLatin1String("classification") || name == QLatin1String("results");
    if (!isCompare && (parser.isSet(baseline) || parser.isSet(vs)))
        throw UsageFailure("--baseline and --vs go with --table compare");
    if (!takesEdition && parser.isSet(edition))
        throw UsageFailure("--edition goes with --table classification or results");
    if (parser.isSet(chip) && name != QLatin1String("history"))
        throw UsageFailure("--chip goes with --table history (or the FILE form)");
    if (parser.values(chip).size() > 1)
        throw UsageFailure("--table history takes one --chip");

    data::Store store(storePath);
    std::unique_ptr<QAbstractItemModel> model;
    QString what;
    if (name == QLatin1String("chips")) {
        auto m = std::make_unique<gui::ChipFiguresModel>();
        m->setChips(store.chips());
        what = QStringLiteral("the figures of %1 chips").arg(m->rowCount());
        model = std::move(m);
    } else if (name == QLatin1String("classification")) {
        const auto editions = store.editions();
        const analysis::Edition& e = chooseEdition(editions, parser.value(edition));
        auto m = std::make_unique<gui::ChipTableModel>();
        m->setChipsAndEdition(store.chips(), e);
        what = QStringLiteral("%1 chips under %2").arg(m->rowCount()).arg(q(e.id));
        model = std::move(m);
    } else if (isCompare) {
        if (!parser.isSet(baseline) || !parser.isSet(vs))
            throw UsageFailure("--table compare needs --baseline ID and --vs ID");
        const auto editions = store.editions();
        const analysis::Edition& a = chooseEdition(editions, parser.value(baseline));
        const analysis::Edition& b = chooseEdition(editions, parser.value(vs));
        auto m = std::make_unique<gui::CompareTableModel>();
        m->setComparison(analysis::compareEditions(store.chips(), a, b));
        what = QStringLiteral("%1 changes from %2 to %3").arg(m->rowCount()).arg(q(a.id), q(b.id));
        model = std::move(m);
    } else if (name == QLatin1String("history")) {
        auto m = std::make_unique<gui::HistoryTableModel>();
        m->setEntries(store.history(parser.value(chip)));
        what = QStringLiteral("%1 changes").arg(m->rowCount());
        model = std::move(m);
    } else {
        const auto editions = store.editions();
        const analysis::Edition& e = chooseEdition(editions, parser.value(edition));
        auto m = std::make_unique<gui::BenchResultsModel>();
        m->setChips(store.chips());
        m->setEdition(e);
        m->setRecords(store.benchmarkResults());
        what = QStringLiteral("%1 benchmark results, classes under %2")
                   .arg(m->rowCount())
                   .arg(q(e.id));
        model = std::move(m);
    }
    exporting::TableExportOptions options;
    options.numberRole = gui::NumberRole;
    options.sheetName = name;
    exporting::exportTable(*model, path, options);
    print(QStringLiteral("Exported %1 to %2.\n").arg(what, path));
    return 0;
}

} // namespace crossroads::cli
