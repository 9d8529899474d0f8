#include "app/gui/models/DisplayText.h"

#include <QGuiApplication>
#include <array>
#include <cmath>

namespace crossroads::gui {

namespace {

struct FigureName {
    std::string_view key;
    const char* label;
    const char* shortLabel;
};

constexpr std::array<FigureName, 16> kFigureNames{{
    {"name", "Name", "name"},
    {"vendor", "Vendor", "vendor"},
    {"year", "Year", "year"},
    {"kind", "Kind", "kind"},
    {"datacenter", "Designed or marketed for datacenters", "datacenter status"},
    {"dense_tops", "Dense rates (TFLOPS/TOPS)", "dense rates"},
    {"applicable_die_area_mm2", "Applicable die area (mm²)", "die area"},
    {"package_area_mm2", "Package area (mm²)", "package area"},
    {"memory_capacity_gb", "Memory capacity (GB)", "memory capacity"},
    {"memory_bandwidth_gb_per_s", "Memory bandwidth (GB/s)", "memory bandwidth"},
    {"io_bidirectional_gb_per_s", "Bidirectional I/O (GB/s)", "I/O bandwidth"},
    {"tdp_w", "TDP (W)", "TDP"},
    {"tpp_reported", "Reported TPP", "reported TPP"},
    {"tpp", "TPP", "TPP"},
    {"performance_density", "Performance density", "performance density"},
    {"memory_bandwidth_density", "Memory bandwidth density (GB/s/mm²)", "memory bandwidth density"},
}};

const FigureName* findFigure(std::string_view key) {
    for (const auto& figure : kFigureNames)
        if (figure.key == key)
            return &figure;
    return nullptr;
}

// "dense_tops.fp8" -> Precision::Fp8
std::optional<analysis::Precision> densePrecision(std::string_view key) {
    constexpr std::string_view prefix = "dense_tops.";
    if (!key.starts_with(prefix))
        return std::nullopt;
    return analysis::precisionFromKey(key.substr(prefix.size()));
}

bool isIntegerPrecision(analysis::Precision p) {
    return p == analysis::Precision::Int8 || p == analysis::Precision::Int4;
}

} // namespace

QStringList toQStringList(const std::vector<std::string>& items) {
    QStringList list;
    list.reserve(static_cast<qsizetype>(items.size()));
    for (const auto& item : items)
        list << toQString(item);
    return list;
}

QString figureLabel(std::string_view key) {
    if (const auto* figure = findFigure(key))
        return QString::fromUtf8(figure->label);
    if (auto p = densePrecision(key))
        return QStringLiteral("Dense %1 (%2)")
            .arg(toQString(analysis::precisionKey(*p)).toUpper(),
                 isIntegerPrecision(*p) ? QStringLiteral("TOPS") : QStringLiteral("TFLOPS"));
    return toQString(key);
}

QString figureShortLabel(std::string_view key) {
    if (const auto* figure = findFigure(key))
        return QString::fromUtf8(figure->shortLabel);
    if (auto p = densePrecision(key))
        return QStringLiteral("dense %1 rate").arg(toQString(analysis::precisionKey(*p)).toUpper());
    return toQString(key);
}

QString formatFigure(double value) {
    return toQString(analysis::formatFigure(value));
}

QString formatFigure(const std::optional<double>& value, const QString& unknown) {
    return value ? formatFigure(*value) : unknown;
}

QString yesNoUnknown(const std::optional<bool>& value, const QString& unknown) {
    if (!value)
        return unknown;
    return *value ? QStringLiteral("Yes") : QStringLiteral("No");
}

QString controlledText(const analysis::ClassificationResult& result) {
    return yesNoUnknown(result.controlled, QStringLiteral("Undetermined"));
}

QString classText(const analysis::ClassificationResult& result) {
    if (!result.controlled) {
        QStringList needs;
        for (const auto& key : result.undetermined)
            needs << figureShortLabel(key);
        if (needs.isEmpty())
            return QStringLiteral("undetermined");
        return QStringLiteral("undetermined: needs %1").arg(needs.join(QStringLiteral(", ")));
    }
    if (result.classes.empty())
        return QStringLiteral("—");
    return toQStringList(result.classes).join(QStringLiteral(", "));
}

QString tppBasisText(const analysis::ClassificationResult& result) {
    if (!result.tpp)
        return {};
    const auto& tpp = *result.tpp;
    if (!tpp.basis)
        return QStringLiteral("TPP 0: an HBM stack has no processing units");
    return QStringLiteral("TPP computed from %1 %2 %3 × %4 bit")
        .arg(toQString(analysis::precisionKey(*tpp.basis)).toUpper(),
             formatFigure(tpp.basis_rate_tops),
             isIntegerPrecision(*tpp.basis) ? QStringLiteral("TOPS") : QStringLiteral("TFLOPS"))
        .arg(tpp.basis_bit_length);
}

bool hasTppGap(const analysis::ClassificationResult& result) {
    return result.tpp_gap_percent && std::fabs(*result.tpp_gap_percent) > 1.0;
}

QColor toneColor(const QPalette& palette, Tone tone) {
    int hue = 0;
    switch (tone) {
    case Tone::Controlled:
        hue = 0;
        break;
    case Tone::Warning:
        hue = 38;
        break;
    case Tone::Clear:
        hue = 130;
        break;
    }
    // Lighter tones on dark bases and darker ones on light bases keep the contrast with Base.
    const bool dark = palette.color(QPalette::Base).lightness() < 128;
    return QColor::fromHsl(hue, 170, dark ? 165 : 105);
}

QColor toneWash(const QPalette& palette, Tone tone) {
    const QColor base = palette.color(QPalette::Base);
    const QColor accent = toneColor(palette, tone);
    constexpr double share = 0.22;
    auto mix = [&](int a, int b) {
        return static_cast<int>(std::lround(a * (1.0 - share) + b * share));
    };
    return QColor(mix(base.red(), accent.red()), mix(base.green(), accent.green()),
                  mix(base.blue(), accent.blue()));
}

QPalette currentPalette() {
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
        return QGuiApplication::palette();
    return QPalette();
}

} // namespace crossroads::gui
