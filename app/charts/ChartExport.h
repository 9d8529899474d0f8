// Chart files: PNG at a chosen size and scale, PDF (vector) and SVG, by the file's extension.
// The file appears whole or not at all (written beside it, then renamed).
#pragma once

#include "app/charts/ChartKind.h"
#include "app/charts/ChartTheme.h"

#include <QString>

namespace crossroads::charts {

class ChipChart;

enum class ChartFormat { Png, Pdf, Svg };

// By extension (case-insensitive); throws ChartError naming the extension otherwise.
ChartFormat chartFormatFor(const QString& path);

struct ExportSize {
    int width = 1600; // pixels (PDF and SVG: points/user units of the same number)
    int height = 1000;
    double scale = 1.0; // PNG only: 2 gives a 3200 x 2000 image of the same layout
};
// Throws ChartError for sizes outside 200..10000 or a scale outside 0.5..8.
void validateExportSize(const ExportSize& size);

// Saves what `chart` shows, laid out anew at `size` (labels placed for that size).
void saveChart(ChipChart& chart, const QString& path, const ExportSize& size);

// Draws `kind` off screen and saves it; throws ChartError (bad inputs, unwritable path).
void exportChart(ChartKind kind, const ChartInputs& inputs, const ChartTheme& theme,
                 const QString& path, const ExportSize& size);

} // namespace crossroads::charts
