// The colours of a chart: taken from the application's palette (so the charts follow dark mode
// in the window), or a fixed light/dark theme for exports from the command line.
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>
#include <optional>
#include <string>

namespace crossroads::charts {

struct ChartTheme {
    bool dark = false;
    QColor background, foreground, grid, subtle;
    // Classes, as points (solid) and as zones (the same hue, translucent).
    QColor paragraphA, paragraphB, paragraphC, outside, undetermined;
    QColor zoneA, zoneB, zoneOutside;
    QColor heuristic, box, highlight, derivative;

    static ChartTheme light();
    static ChartTheme darkTheme();
    // Dark when the palette's window colour is darker than its text colour.
    static ChartTheme fromPalette(const QPalette& palette);
    // "light" or "dark"; nullopt for anything else.
    static std::optional<ChartTheme> named(const QString& name);

    // The point colour of a classification paragraph ("a", "b", "c", "none"; empty =
    // undetermined).
    QColor paragraphColor(const std::string& paragraph) const;
    QColor zoneColor(const std::string& paragraph) const;
};

// "3A090.a", "3A090.b", "3A090.c", "outside 3A090", "undetermined".
QString paragraphLabel(const std::string& paragraph);

} // namespace crossroads::charts
