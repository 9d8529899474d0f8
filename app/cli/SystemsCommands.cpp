#include "app/cli/SystemsCommands.h"

#include "analysis/Caps.h"
#include "analysis/Classifier.h"
#include "analysis/Systems.h"
#include "app/cli/CapsCommands.h"
#include "app/cli/Commands.h"
#include "app/cli/TextTable.h"
#include "data/Store.h"
#include "data/SystemCatalog.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>

namespace crossroads::cli {

namespace {

using nlohmann::json;

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

json optionalText(const std::optional<std::string>& v) {
    return v ? json(*v) : json();
}

struct SystemRow {
    analysis::SystemDefinition definition;
    analysis::SystemClassification classification;
    std::optional<int64_t> within; // whole systems within the allocation
};

QString paragraphText(const std::optional<std::string>& p) {
    if (!p)
        return QStringLiteral("undetermined");
    return *p == "none" ? QStringLiteral("outside 3A090") : QStringLiteral("3A090.") + q(*p);
}

} // namespace

int systemsCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption system(
        QStringLiteral("system"),
        QStringLiteral("A system as \"NAME=N x CHIP\", CHIP a store name (repeatable; default: "
                       "the bundled examples, DGX H100, HGX H20, ...)."),
        QStringLiteral("NAME=N x CHIP"));
    const QCommandLineOption edition(QStringLiteral("edition"),
                                     QStringLiteral("Edition id (default: the newest in force)."),
                                     QStringLiteral("ID"));
    const QCommandLineOption allocation(
        QStringLiteral("allocation"),
        QStringLiteral("Also count the whole systems within a 2025-01 TPP allocation: lpp, "
                       "tier2, tier2x2 or a TPP figure."),
        QStringLiteral("lpp|tier2|tier2x2|TPP"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({system, edition, allocation, jsonOption});
    if (!parseVerb(parser, arguments,
                   "Classify systems of N identical chips under 4A090 (a computer containing a "
                   "3A090.a/.b IC is 4A090.a/.b), with their aggregate TPP and how many fit a TPP "
                   "allocation."))
        return 0;

    std::vector<analysis::SystemDefinition> definitions;
    const bool given = parser.isSet(system);
    for (const QString& text : parser.values(system)) {
        try {
            definitions.push_back(analysis::parseSystemDefinition(text.toStdString()));
        } catch (const std::invalid_argument& e) {
            throw UsageFailure(std::string("--system: ") + e.what());
        }
    }

    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& chosen = chooseEdition(editions, parser.value(edition));
    std::optional<analysis::Allocation> budget;
    const analysis::Edition* capsFrom = nullptr;
    if (parser.isSet(allocation)) {
        // The allocation's figures are the caps edition's, whichever edition classifies.
        capsFrom = &capsEdition(editions, QString());
        try {
            budget = analysis::parseAllocation(parser.value(allocation).toStdString(),
                                               capsFrom->caps ? &*capsFrom->caps : nullptr,
                                               capsFrom->id);
        } catch (const std::invalid_argument& e) {
            throw UsageFailure(std::string("--allocation: ") + e.what());
        }
    }
    std::vector<std::string> missing;
    if (!given)
        definitions = data::bundledSystems();

    std::vector<SystemRow> rows;
    for (const analysis::SystemDefinition& d : definitions) {
        const auto chip = store.chip(q(d.chip));
        if (!chip) {
            if (given)
                throw std::runtime_error("system \"" + d.name + "\": no chip named \"" + d.chip +
                                         "\" in the store (crossroads chips lists them)");
            missing.push_back(d.name + " (" + d.chip + ")");
            continue;
        }
        SystemRow row{d, {}, std::nullopt};
        try {
            row.classification = analysis::classifySystem({d.name, *chip, d.chip_count}, chosen);
        } catch (const std::invalid_argument& e) {
            throw std::runtime_error(e.what());
        }
        if (budget)
            row.within = analysis::systemsWithin(row.classification, budget->tpp);
        rows.push_back(std::move(row));
    }

    if (parser.isSet(jsonOption)) {
        json out = {{"edition", chosen.id}, {"allocation", json()}, {"results", json::array()}};
        if (budget)
            out["allocation"] = {
                {"allocation", budget->key},
                {"allocation_tpp", budget->tpp},
                {"description", budget->description},
                {"citation",
                 {{"text", budget->citation.text}, {"evidence", budget->citation.evidence}}},
                {"edition", capsFrom->id}};
        for (const SystemRow& r : rows) {
            const analysis::SystemClassification& s = r.classification;
            out["results"].push_back({
                {"name", s.name},
                {"chip", s.chip},
                {"chip_count", s.chip_count},
                {"eccn", optionalText(s.eccn)},
                {"chip_paragraph", optionalText(s.chip_paragraph)},
                {"chip_classes", s.chip_classes},
                {"aggregate_tpp", s.aggregate_tpp ? json(*s.aggregate_tpp) : json()},
                {"systems_within_allocation", r.within ? json(*r.within) : json()},
                {"chips_within_allocation",
                 r.within ? json(*r.within * static_cast<int64_t>(s.chip_count)) : json()},
                {"reason", s.reason},
                {"citation",
                 {{"text", r.definition.citation.text},
                  {"evidence", r.definition.citation.evidence}}},
            });
        }
        out["missing"] = missing;
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }

    QString text =
        QStringLiteral("Edition %1: %2 (%3, %4)\n")
            .arg(q(chosen.id), q(chosen.title), q(chosen.citation.text), q(chosen.status));
    if (budget)
        text += QStringLiteral("Allocation: %1 (%2 [%3]; edition %4)\n")
                    .arg(q(budget->description), q(budget->citation.text),
                         q(budget->citation.evidence.empty() ? std::string("-")
                                                             : budget->citation.evidence),
                         q(capsFrom->id));
    text += QLatin1Char('\n');
    QStringList header = {"System", "Chips", "ECCN", "Chip", "Chip classes", "Aggregate TPP"};
    std::vector<bool> right = {false, false, false, false, false, true};
    if (budget) {
        header << QStringLiteral("Systems within");
        right.push_back(true);
    }
    header << QStringLiteral("Count source");
    right.push_back(false);
    TextTable table(header, right);
    for (const SystemRow& r : rows) {
        const analysis::SystemClassification& s = r.classification;
        QStringList classes;
        for (const std::string& c : s.chip_classes)
            classes << q(c);
        QStringList cells = {
            q(s.name),
            QStringLiteral("%1 x %2").arg(s.chip_count).arg(q(s.chip)),
            s.eccn ? (*s.eccn == "none" ? QStringLiteral("not 4A090.a/.b") : q(*s.eccn))
                   : QStringLiteral("undetermined"),
            paragraphText(s.chip_paragraph),
            classes.isEmpty() ? QStringLiteral("-") : classes.join(QLatin1Char(' ')),
            s.aggregate_tpp ? q(analysis::formatFigure(*s.aggregate_tpp)) : QStringLiteral("?")};
        if (budget)
            cells << (r.within ? q(analysis::formatFigure(static_cast<double>(*r.within)))
                               : QStringLiteral("?"));
        cells << QStringLiteral("[%1]").arg(q(r.definition.citation.evidence.empty()
                                                  ? std::string("-")
                                                  : r.definition.citation.evidence));
        table.addRow(cells);
    }
    text += table.render();
    for (const SystemRow& r : rows)
        text +=
            QStringLiteral("  %1: %2\n").arg(q(r.classification.name), q(r.classification.reason));
    if (!missing.empty()) {
        QStringList names;
        for (const std::string& m : missing)
            names << q(m);
        text += QStringLiteral("Not in this store's chips (left out): %1\n")
                    .arg(names.join(QStringLiteral(", ")));
    }
    text += QStringLiteral("4A090.a/.b: computers, assemblies and components containing an IC "
                           "meeting 3A090.a/.b (88 FR 73458 [S]); aggregate TPP = chips x the "
                           "chip's TPP, as the 2025-01 caps count it. Count sources marked U are "
                           "unverified: check the vendor's datasheet.\n");
    print(text);
    return 0;
}

} // namespace crossroads::cli
