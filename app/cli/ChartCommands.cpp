#include "app/cli/ChartCommands.h"

#include "app/charts/ChartExport.h"
#include "app/charts/ChartKind.h"
#include "app/charts/ChartTheme.h"
#include "app/cli/Commands.h"
#include "data/Store.h"

#include <QCommandLineParser>
#include <QFileInfo>

namespace crossroads::cli {

namespace {

int intOption(const QCommandLineParser& parser, const QCommandLineOption& option, int fallback) {
    if (!parser.isSet(option))
        return fallback;
    bool ok = false;
    const int v = parser.value(option).toInt(&ok);
    if (!ok)
        throw UsageFailure("--" + option.names().first().toStdString() + " \"" +
                           parser.value(option).toStdString() + "\" is not a whole number");
    return v;
}

QString kindList() {
    QStringList keys;
    for (charts::ChartKind k : charts::allChartKinds())
        keys << QString::fromLatin1(charts::chartKindKey(k).data(),
                                    qsizetype(charts::chartKindKey(k).size()));
    return keys.join(QStringLiteral(", "));
}

} // namespace

int chartCommand(const QStringList& arguments, const QString& storePath) {
    QCommandLineParser parser;
    const QCommandLineOption kind(QStringLiteral("kind"),
                                  QStringLiteral("Chart kind: %1.").arg(kindList()),
                                  QStringLiteral("K"));
    const QCommandLineOption edition(
        QStringLiteral("edition"),
        QStringLiteral("Edition the chips are classified under (default: the newest in force)."),
        QStringLiteral("ID"));
    const QCommandLineOption out(QStringLiteral("out"),
                                 QStringLiteral("Output file: .png, .pdf (vector) or .svg."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption width(QStringLiteral("width"),
                                   QStringLiteral("Width in pixels (default 1600)."),
                                   QStringLiteral("W"));
    const QCommandLineOption height(QStringLiteral("height"),
                                    QStringLiteral("Height in pixels (default 1000)."),
                                    QStringLiteral("H"));
    const QCommandLineOption scale(
        QStringLiteral("scale"),
        QStringLiteral("PNG only: pixels per layout pixel (default 1; 2 for print)."),
        QStringLiteral("S"));
    const QCommandLineOption theme(QStringLiteral("theme"),
                                   QStringLiteral("light (default) or dark."),
                                   QStringLiteral("NAME"));
    const QCommandLineOption device(
        QStringLiteral("device"),
        QStringLiteral("bench-history, capability: only this device's results (default: "
                       "every device)."),
        QStringLiteral("NAME"));
    const QCommandLineOption nonDatacenter(
        QStringLiteral("non-datacenter"),
        QStringLiteral("tpp-pd, tpp-io: draw the zones for a chip not designed or marketed for "
                       "datacenters (Note 2 to 3A090)."));
    parser.addOptions({kind, edition, out, width, height, scale, theme, device, nonDatacenter});
    if (!parseVerb(parser, arguments, "Export a chart of the store as PNG, PDF or SVG."))
        return 0;
    if (!parser.isSet(kind))
        throw UsageFailure("--kind is required (" + kindList().toStdString() + ")");
    const auto chartKind = charts::chartKindFromKey(parser.value(kind).toStdString());
    if (!chartKind)
        throw UsageFailure("unknown chart kind \"" + parser.value(kind).toStdString() +
                           "\" (known: " + kindList().toStdString() + ")");
    if (!parser.isSet(out))
        throw UsageFailure("--out FILE is required");
    const QString path = parser.value(out);
    charts::ExportSize size;
    size.width = intOption(parser, width, size.width);
    size.height = intOption(parser, height, size.height);
    if (parser.isSet(scale)) {
        bool ok = false;
        size.scale = parser.value(scale).toDouble(&ok);
        if (!ok)
            throw UsageFailure("--scale \"" + parser.value(scale).toStdString() +
                               "\" is not a number");
    }
    const auto chosenTheme = charts::ChartTheme::named(
        parser.value(theme).isEmpty() ? QStringLiteral("light") : parser.value(theme));
    if (!chosenTheme)
        throw UsageFailure("unknown theme \"" + parser.value(theme).toStdString() +
                           "\" (light or dark)");
    try {
        charts::validateExportSize(size);
        charts::chartFormatFor(path);
    } catch (const charts::ChartError& e) {
        throw UsageFailure(e.what());
    }

    data::Store store(storePath);
    charts::ChartInputs inputs;
    try {
        inputs = charts::chartInputsFromStore(store, parser.value(edition).toStdString());
    } catch (const charts::ChartError& e) {
        throw UsageFailure(e.what());
    }
    inputs.device = parser.value(device);
    inputs.zones_for_datacenter = !parser.isSet(nonDatacenter);
    charts::exportChart(*chartKind, inputs, *chosenTheme, path, size);
    print(QStringLiteral("Wrote %1 (%2, %3 x %4%5).\n")
              .arg(path, QString::fromLatin1(charts::chartKindKey(*chartKind).data()))
              .arg(size.width)
              .arg(size.height)
              .arg(charts::chartFormatFor(path) == charts::ChartFormat::Png && size.scale != 1.0
                       ? QStringLiteral(" at scale %1").arg(size.scale)
                       : QString()));
    return 0;
}

} // namespace crossroads::cli
