#include "app/charts/ChartExport.h"

#include "app/charts/ChipChart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSvgGenerator>
#include <QTemporaryFile>

namespace crossroads::charts {

namespace {

std::string s(const QString& text) {
    return text.toStdString();
}

} // namespace

ChartFormat chartFormatFor(const QString& path) {
    const QString ext = QFileInfo(path).suffix().toLower();
    if (ext == QLatin1String("png"))
        return ChartFormat::Png;
    if (ext == QLatin1String("pdf"))
        return ChartFormat::Pdf;
    if (ext == QLatin1String("svg"))
        return ChartFormat::Svg;
    throw ChartError("cannot write a chart as \"." + s(ext) + "\" (" + s(path) +
                     "): use .png, .pdf or .svg");
}

void validateExportSize(const ExportSize& size) {
    if (size.width < 200 || size.width > 10000 || size.height < 200 || size.height > 10000)
        throw ChartError("chart size " + std::to_string(size.width) + " x " +
                         std::to_string(size.height) + " is outside 200..10000 pixels");
    if (!(size.scale >= 0.5 && size.scale <= 8))
        throw ChartError("chart scale " + std::to_string(size.scale) + " is outside 0.5..8");
}

void saveChart(ChipChart& chart, const QString& path, const ExportSize& size) {
    validateExportSize(size);
    const ChartFormat format = chartFormatFor(path);
    const QFileInfo info(path);
    if (!info.absoluteDir().exists())
        throw ChartError("cannot write " + s(path) + ": the folder " + s(info.absolutePath()) +
                         " does not exist");
    // Rendered beside the target, then renamed over it: a failure leaves the old file.
    QTemporaryFile temporary(
        info.absoluteDir().filePath(QStringLiteral(".chart-XXXXXX.") + info.suffix()));
    if (!temporary.open())
        throw ChartError("cannot write in " + s(info.absolutePath()) + ": " +
                         s(temporary.errorString()));
    temporary.close();
    const QString tmp = temporary.fileName();
    bool ok = false;
    switch (format) {
    case ChartFormat::Png:
        ok = chart.savePng(tmp, size.width, size.height, size.scale);
        break;
    case ChartFormat::Pdf:
        ok = chart.savePdf(tmp, size.width, size.height, QCP::epNoCosmetic,
                           QStringLiteral("Crossroads"), chart.chartTitle());
        break;
    case ChartFormat::Svg: {
        QSvgGenerator svg;
        svg.setFileName(tmp);
        svg.setSize(QSize(size.width, size.height));
        svg.setViewBox(QRect(0, 0, size.width, size.height));
        svg.setResolution(96); // CSS pixels: a browser shows it at width x height
        svg.setTitle(chart.chartTitle());
        svg.setDescription(QStringLiteral("Crossroads chart"));
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            chart.toPainter(&painter, size.width, size.height);
            ok = painter.end();
        }
        break;
    }
    }
    if (!ok || QFileInfo(tmp).size() == 0)
        throw ChartError("could not render the chart to " + s(path));
    QFile::remove(path);
    if (!QFile::rename(tmp, path))
        throw ChartError("cannot write " + s(path));
    temporary.setAutoRemove(false);
}

void exportChart(ChartKind kind, const ChartInputs& inputs, const ChartTheme& theme,
                 const QString& path, const ExportSize& size) {
    validateExportSize(size);
    chartFormatFor(path); // the extension is checked before any work
    ChipChart chart;
    chart.setTheme(theme);
    chart.resize(size.width, size.height);
    chart.setViewport(QRect(0, 0, size.width, size.height));
    chart.showChart(kind, inputs);
    saveChart(chart, path, size);
}

} // namespace crossroads::charts
