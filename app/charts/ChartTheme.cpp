#include "app/charts/ChartTheme.h"

namespace crossroads::charts {

namespace {

QColor translucent(QColor c, int alpha) {
    c.setAlpha(alpha);
    return c;
}

// Colour-blind-safe hues (Okabe-Ito), one per class, readable on either background.
void setClassColours(ChartTheme& t) {
    t.paragraphA = QColor(0xD5, 0x5E, 0x00); // vermillion
    t.paragraphB = QColor(0xE6, 0x9F, 0x00); // orange
    t.paragraphC = QColor(0xCC, 0x79, 0xA7); // reddish purple
    t.outside = QColor(0x00, 0x72, 0xB2);    // blue
    t.undetermined = t.dark ? QColor(0x9A, 0x9A, 0x9A) : QColor(0x80, 0x80, 0x80);
    const int alpha = t.dark ? 70 : 48;
    t.zoneA = translucent(t.paragraphA, alpha);
    t.zoneB = translucent(t.paragraphB, alpha);
    t.zoneOutside = translucent(t.outside, t.dark ? 26 : 16);
    t.heuristic = QColor(0x00, 0x9E, 0x73); // bluish green
    t.box = QColor(0x56, 0xB4, 0xE9);       // sky blue
    t.derivative = t.dark ? QColor(0xF0, 0xE4, 0x42) : QColor(0x7A, 0x4E, 0x00);
}

} // namespace

ChartTheme ChartTheme::light() {
    ChartTheme t;
    t.dark = false;
    t.background = Qt::white;
    t.foreground = QColor(0x20, 0x20, 0x20);
    t.grid = QColor(0xDD, 0xDD, 0xDD);
    t.subtle = QColor(0x70, 0x70, 0x70);
    t.highlight = QColor(0x00, 0x00, 0x00);
    setClassColours(t);
    return t;
}

ChartTheme ChartTheme::darkTheme() {
    ChartTheme t;
    t.dark = true;
    t.background = QColor(0x1E, 0x1F, 0x22);
    t.foreground = QColor(0xE6, 0xE6, 0xE6);
    t.grid = QColor(0x3A, 0x3C, 0x40);
    t.subtle = QColor(0xA0, 0xA0, 0xA0);
    t.highlight = QColor(0xFF, 0xFF, 0xFF);
    setClassColours(t);
    return t;
}

ChartTheme ChartTheme::fromPalette(const QPalette& palette) {
    const QColor window = palette.color(QPalette::Window);
    const QColor text = palette.color(QPalette::WindowText);
    ChartTheme t = window.lightness() < text.lightness() ? darkTheme() : light();
    t.background = palette.color(QPalette::Base);
    t.foreground = palette.color(QPalette::Text);
    return t;
}

std::optional<ChartTheme> ChartTheme::named(const QString& name) {
    if (name == QLatin1String("light"))
        return light();
    if (name == QLatin1String("dark"))
        return darkTheme();
    return std::nullopt;
}

QColor ChartTheme::paragraphColor(const std::string& paragraph) const {
    if (paragraph == "a")
        return paragraphA;
    if (paragraph == "b")
        return paragraphB;
    if (paragraph == "c")
        return paragraphC;
    if (paragraph == "none")
        return outside;
    return undetermined;
}

QColor ChartTheme::zoneColor(const std::string& paragraph) const {
    if (paragraph == "a")
        return zoneA;
    if (paragraph == "b")
        return zoneB;
    return zoneOutside;
}

QString paragraphLabel(const std::string& paragraph) {
    if (paragraph == "none")
        return QStringLiteral("outside 3A090");
    if (paragraph.empty())
        return QStringLiteral("undetermined");
    return QStringLiteral("3A090.") + QString::fromStdString(paragraph);
}

} // namespace crossroads::charts
