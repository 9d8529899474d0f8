// How domain values read in the workbench: figure labels, yes/no/unknown, class lists, and the
// palette-derived tones of the status hints. Shared by the table model and the detail pane so
// both say the same thing the same way.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"

#include <QColor>
#include <QPalette>
#include <QString>
#include <QStringList>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::gui {

inline QString toQString(std::string_view text) {
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}
QStringList toQStringList(const std::vector<std::string>& items);

// "Applicable die area (mm²)" for "applicable_die_area_mm2"; "Dense FP8 (TFLOPS)" for
// "dense_tops.fp8". Unknown keys come back as they are.
QString figureLabel(std::string_view key);
// "die area": the words used in "undetermined: needs die area".
QString figureShortLabel(std::string_view key);

QString formatFigure(double value);
QString formatFigure(const std::optional<double>& value, const QString& unknown);

QString yesNoUnknown(const std::optional<bool>& value,
                     const QString& unknown = QStringLiteral("?"));
// "Yes", "No", "Undetermined".
QString controlledText(const analysis::ClassificationResult& result);
// "3A090.a.1, 3A090.a.2", "—" when none, "undetermined: needs die area" when undetermined.
QString classText(const analysis::ClassificationResult& result);
// "TPP computed from FP8 1,979 TOPS × 8 bit"; empty when no TPP.
QString tppBasisText(const analysis::ClassificationResult& result);
// Whether the computed TPP differs from the published one by more than 1%: the figures behind
// one of the two are probably wrong, so the analyst should look.
bool hasTppGap(const analysis::ClassificationResult& result);

// Status tones: a fixed hue at the palette's own saturation and lightness, so a badge reads on
// light and dark themes alike.
enum class Tone { Controlled, Warning, Clear };
QColor toneColor(const QPalette& palette, Tone tone);
// A light wash of the tone over the palette's base, for badge backgrounds behind Text.
QColor toneWash(const QPalette& palette, Tone tone);
// The application palette when a QGuiApplication exists, a default one otherwise (the models
// may run under a QCoreApplication in tools).
QPalette currentPalette();

} // namespace crossroads::gui
