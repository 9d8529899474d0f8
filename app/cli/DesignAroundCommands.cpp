#include "app/cli/DesignAroundCommands.h"

#include "analysis/Classifier.h"
#include "analysis/DesignAround.h"
#include "app/cli/Commands.h"
#include "app/cli/ScenarioCommands.h"
#include "app/cli/TextTable.h"
#include "data/Store.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>

namespace crossroads::cli {

namespace {

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString paragraphName(const std::optional<std::string>& p) {
    if (!p)
        return QStringLiteral("undetermined");
    return *p == "none" ? QStringLiteral("outside 3A090") : QStringLiteral("3A090.") + q(*p);
}

QString changeText(const analysis::DesignChange& c) {
    switch (c.kind) {
    case analysis::ChangeKind::Derate:
        return c.factor ? QStringLiteral("derate every dense rate x%1")
                              .arg(QString::number(*c.factor, 'g', 10))
                        : QStringLiteral("derate every dense rate");
    case analysis::ChangeKind::DieArea:
        return c.factor ? QStringLiteral("die area x%1").arg(QString::number(*c.factor, 'g', 10))
                        : QStringLiteral("die area increase");
    case analysis::ChangeKind::Io:
        return c.value ? QStringLiteral("I/O to %1 GB/s").arg(q(analysis::formatFigure(*c.value)))
                       : QStringLiteral("I/O cut");
    case analysis::ChangeKind::MemoryBandwidth:
        return c.value ? QStringLiteral("memory bandwidth to %1 GB/s")
                             .arg(q(analysis::formatFigure(*c.value)))
                       : QStringLiteral("memory bandwidth cut");
    }
    return {};
}

} // namespace

int designAroundCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption chip(QStringLiteral("chip"),
                                  QStringLiteral("A chip of the store, by name."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption edition(QStringLiteral("edition"),
                                     QStringLiteral("Edition id (default: the newest in force)."),
                                     QStringLiteral("ID"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON for tools."));
    parser.addOptions({chip, edition, jsonOption});
    if (!parseVerb(parser, arguments,
                   "How far a chip sits from every threshold of an edition, the smallest single "
                   "change (derate, die area, I/O, memory bandwidth) that leaves each line, and "
                   "the real derivatives."))
        return 0;
    if (!parser.isSet(chip))
        throw UsageFailure("design-around needs --chip NAME");
    if (parser.values(chip).size() > 1)
        throw UsageFailure("design-around takes one --chip");

    data::Store store(storePath);
    const auto editions = store.editions();
    const analysis::Edition& chosen = chooseEdition(editions, parser.value(edition));
    const QString name = parser.value(chip);
    const auto spec = chipUnder(store, chosen, name); // a scenario's hypothetical chips too
    if (!spec)
        throw UsageFailure(noSuchChipMessage(chosen, name));
    const analysis::DesignAroundResult r = analysis::designAround(*spec, chosen);

    if (parser.isSet(jsonOption)) {
        nlohmann::json out = analysis::designAroundToJson(r);
        markScenario(out, chosen);
        markHypothetical(out, chosen, r.chip);
        print(q(out.dump(2)) + QLatin1Char('\n'));
        return 0;
    }
    QString text = QStringLiteral("%1 under %2 (%3, %4): %5\n")
                       .arg(q(r.chip), q(chosen.id), q(chosen.citation.text), q(chosen.status),
                            paragraphName(r.paragraph));
    if (!r.classes.empty()) {
        QStringList classes;
        for (const std::string& c : r.classes)
            classes << q(c);
        text += QStringLiteral("classes: %1\n").arg(classes.join(QStringLiteral(", ")));
    }
    for (const std::string& f : r.flags)
        text += QStringLiteral("flag: %1\n").arg(q(f));

    text += QStringLiteral("\nMargins to the thresholds\n");
    TextTable margins({QStringLiteral("clause"), QStringLiteral("metric"), QStringLiteral("figure"),
                       QStringLiteral("op"), QStringLiteral("threshold"), QStringLiteral("margin"),
                       QStringLiteral("holds")},
                      {false, false, true, false, true, true, false});
    for (const analysis::ThresholdMargin& m : r.margins)
        margins.addRow({q(m.clause), q(m.metric),
                        m.figure ? q(analysis::formatFigure(*m.figure)) : QStringLiteral("unknown"),
                        q(std::string(analysis::comparatorSymbol(m.op))),
                        q(analysis::formatFigure(m.threshold)),
                        m.margin_percent
                            ? QStringLiteral("%1%2%").arg(
                                  *m.margin_percent >= 0 ? QStringLiteral("+") : QString(),
                                  q(analysis::fixedDecimals(*m.margin_percent, 1)))
                            : QStringLiteral("-"),
                        m.holds ? (*m.holds ? QStringLiteral("yes") : QStringLiteral("no"))
                                : QStringLiteral("?")});
    text += margins.render();

    text += QStringLiteral("\nSmallest single change to leave each line\n");
    if (r.changes.empty())
        text += QStringLiteral("  none: no line of this edition holds for this chip\n");
    else {
        TextTable changes(
            {QStringLiteral("to"), QStringLiteral("change"), QStringLiteral("result")});
        for (const analysis::DesignChange& c : r.changes)
            changes.addRow({q(c.to), changeText(c), q(c.note)});
        text += changes.render();
    }

    text += QStringLiteral("\nPrecedents (real derivatives)\n");
    if (r.precedents.empty())
        text += QStringLiteral("  none known for this chip\n");
    for (const analysis::Precedent& p : r.precedents)
        text += QStringLiteral("  %1 (from %2, under %3): %4 (%5 [%6])\n")
                    .arg(q(p.chip), q(p.derived_from), q(p.designed_around), q(p.note),
                         q(p.citation), q(p.evidence));
    print(text);
    return 0;
}

} // namespace crossroads::cli
