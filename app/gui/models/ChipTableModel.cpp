#include "app/gui/models/ChipTableModel.h"

#include "app/gui/models/DisplayText.h"
#include "app/gui/models/TableRoles.h"

#include "analysis/Capability.h"
#include "analysis/Countries.h"

#include <QBrush>
#include <cmath>
#include <exception>
#include <utility>

namespace crossroads::gui {

namespace {

QString joined(const std::vector<std::string>& items, const QString& separator) {
    return toQStringList(items).join(separator);
}

// "Required: presumption of denial", "Not required", "Depends: headquarters".
QString licenseText(const analysis::LicenseResult& l) {
    return toQString(analysis::licenseSummary(
        l, [](std::string_view key) { return figureShortLabel(key).toStdString(); }));
}

QString licenseToolTip(const analysis::LicenseResult& l) {
    QStringList lines;
    lines << QStringLiteral("To %1 (%2), buyer headquartered there")
                 .arg(toQString(analysis::countryName(l.destination)), toQString(l.destination));
    for (const auto& line : l.basis)
        lines << QStringLiteral("• ") + toQString(line);
    if (l.review_policy)
        lines << QStringLiteral("Review policy: %1").arg(toQString(*l.review_policy));
    for (const auto& line : l.review_conditions)
        lines << QStringLiteral("  – ") + toQString(line);
    QStringList exceptions;
    for (const auto& e : l.license_exceptions)
        exceptions << toQString(e.id);
    if (!exceptions.isEmpty())
        lines
            << QStringLiteral("Licence exceptions: %1").arg(exceptions.join(QStringLiteral(", ")));
    for (const auto& line : l.other_restrictions)
        lines << QStringLiteral("Also: ") + toQString(line);
    if (!l.undetermined.empty())
        lines << QStringLiteral("Depends on: %1").arg(joined(l.undetermined, QStringLiteral(", ")));
    return lines.join(QLatin1Char('\n'));
}

} // namespace

ChipTableModel::ChipTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ChipTableModel::setChips(std::vector<analysis::ChipSpec> chips) {
    beginResetModel();
    chips_ = std::move(chips);
    reclassify();
    endResetModel();
}

void ChipTableModel::setEdition(const analysis::Edition& edition) {
    beginResetModel();
    edition_ = edition;
    reclassify();
    endResetModel();
}

void ChipTableModel::setChipsAndEdition(std::vector<analysis::ChipSpec> chips,
                                        const analysis::Edition& edition) {
    beginResetModel();
    chips_ = std::move(chips);
    edition_ = edition;
    reclassify();
    endResetModel();
}

void ChipTableModel::setDestination(const QString& code) {
    const QString upper = code.trimmed().toUpper();
    if (!upper.isEmpty() && !analysis::isCountryCode(upper.toStdString()))
        throw analysis::LicenseQueryError("not an ISO 3166-1 alpha-2 country code: " +
                                          code.toStdString());
    beginResetModel();
    destination_ = upper;
    reclassify();
    endResetModel();
}

const analysis::LicenseResult* ChipTableModel::licenseAt(int row) const {
    if (row < 0 || static_cast<size_t>(row) >= licenses_.size())
        return nullptr;
    return &licenses_[static_cast<size_t>(row)];
}

const analysis::LicenseResult*
ChipTableModel::licenseFor(const analysis::ClassificationResult* r) const {
    if (!r || results_.empty())
        return nullptr;
    return licenseAt(static_cast<int>(r - results_.data()));
}

const analysis::CapabilityIndex*
ChipTableModel::capabilityFor(const analysis::ClassificationResult* r) const {
    if (!r || results_.empty())
        return nullptr;
    const auto i = static_cast<size_t>(r - results_.data());
    return i < capability_.size() ? &capability_[i] : nullptr;
}

void ChipTableModel::reclassify() {
    results_.clear();
    licenses_.clear();
    capability_.clear();
    if (!edition_)
        return;
    results_.reserve(chips_.size());
    for (const auto& chip : chips_) {
        try {
            results_.push_back(analysis::classify(chip, *edition_));
        } catch (const std::exception& e) {
            // One malformed chip must not take the table down: its row says why instead.
            analysis::ClassificationResult failed;
            failed.chip_name = chip.name;
            failed.edition_id = edition_->id;
            failed.remarks.push_back(std::string("classification failed: ") + e.what());
            results_.push_back(std::move(failed));
        }
    }
    // The H100 the equivalents are counted in, when the store has it (else no equivalents).
    const analysis::ChipSpec* h100 = nullptr;
    for (const auto& chip : chips_)
        if (chip.name == analysis::kCapabilityReferenceChip)
            h100 = &chip;
    capability_.reserve(chips_.size());
    for (const auto& chip : chips_) {
        try {
            analysis::CapabilityIndex index =
                analysis::capabilityIndex(chip, h100 ? *h100 : chip, edition_->bit_lengths);
            if (!h100) {
                index.h100_equivalents_by_tpp.reset();
                index.h100_equivalents_by_capability.reset();
            }
            capability_.push_back(std::move(index));
        } catch (const std::exception&) {
            analysis::CapabilityIndex none;
            none.chip = chip.name;
            capability_.push_back(std::move(none));
        }
    }
    if (destination_.isEmpty())
        return;
    licenses_.reserve(chips_.size());
    const analysis::LicenseQuery query{destination_.toStdString(), std::nullopt};
    for (size_t i = 0; i < chips_.size(); ++i) {
        try {
            licenses_.push_back(
                analysis::determineLicense(chips_[i], results_[i], *edition_, query));
        } catch (const std::exception& e) {
            analysis::LicenseResult failed;
            failed.chip_name = chips_[i].name;
            failed.edition_id = edition_->id;
            failed.destination = query.destination;
            failed.undetermined.push_back(std::string("licence determination failed: ") + e.what());
            licenses_.push_back(std::move(failed));
        }
    }
}

const analysis::ChipSpec* ChipTableModel::chipAt(int row) const {
    if (row < 0 || static_cast<size_t>(row) >= chips_.size())
        return nullptr;
    return &chips_[static_cast<size_t>(row)];
}

const analysis::ClassificationResult* ChipTableModel::resultAt(int row) const {
    if (row < 0 || static_cast<size_t>(row) >= results_.size())
        return nullptr;
    return &results_[static_cast<size_t>(row)];
}

int ChipTableModel::rowOfChip(const QString& name) const {
    for (size_t i = 0; i < chips_.size(); ++i)
        if (toQString(chips_[i].name).compare(name, Qt::CaseInsensitive) == 0)
            return static_cast<int>(i);
    return -1;
}

int ChipTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(chips_.size());
}

int ChipTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ChipTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& chip = chips_[static_cast<size_t>(index.row())];
    const auto* result = resultAt(index.row());
    const int column = index.column();

    switch (role) {
    case Qt::DisplayRole:
        return displayData(chip, result, column);
    case Qt::ToolTipRole:
        return toolTipData(chip, result, column);
    case Qt::DecorationRole:
        return decorationData(result, column);
    case Qt::ForegroundRole:
        return foregroundData(result, column);
    case Qt::TextAlignmentRole:
        if (column == YearColumn || column == TppColumn || column == PerformanceDensityColumn)
            // An int, as views of every Qt 6 version read it.
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        return {};
    case SortRole:
        return sortData(chip, result, column);
    case NumberRole: // exports write these figures as numbers
        if (column == YearColumn && chip.year)
            return *chip.year;
        if (column == TppColumn && result && result->tpp)
            return result->tpp->tpp;
        if (column == PerformanceDensityColumn && result && result->performance_density)
            return *result->performance_density;
        return {};
    case ChipNameRole:
        return toQString(chip.name);
    case ControlledRole:
        if (result && result->controlled)
            return *result->controlled;
        return {};
    case BorderlineRole:
        return result && result->borderline;
    default:
        return {};
    }
}

QVariant ChipTableModel::displayData(const analysis::ChipSpec& chip,
                                     const analysis::ClassificationResult* r, int column) const {
    switch (column) {
    case NameColumn:
        return toQString(chip.name);
    case VendorColumn:
        return toQString(chip.vendor);
    case YearColumn:
        return chip.year ? QString::number(*chip.year) : QString();
    case DatacenterColumn:
        return yesNoUnknown(chip.datacenter);
    default:
        break;
    }
    if (!r)
        return {};
    switch (column) {
    case TppColumn:
        return r->tpp ? formatFigure(r->tpp->tpp) : QStringLiteral("unknown");
    case PerformanceDensityColumn:
        return formatFigure(r->performance_density, QStringLiteral("unknown"));
    case ClassColumn:
        return classText(*r);
    case ControlledColumn:
        return controlledText(*r);
    case CapabilityColumn: {
        const auto* c = capabilityFor(r);
        return c && c->deepseek_v3_decode_tokens_per_s
                   ? formatFigure(std::round(*c->deepseek_v3_decode_tokens_per_s * 10) / 10)
                   : QStringLiteral("unknown");
    }
    case LicenseColumn: {
        const auto* l = licenseFor(r);
        return l ? licenseText(*l) : QString();
    }
    case BorderlineColumn:
        return r->borderline ? QStringLiteral("Yes") : QString();
    case LicenseExceptionsColumn:
        return joined(r->license_exceptions, QStringLiteral(", "));
    case FlagsColumn:
        return joined(r->flags, QStringLiteral("; "));
    default:
        return {};
    }
}

QVariant ChipTableModel::sortData(const analysis::ChipSpec& chip,
                                  const analysis::ClassificationResult* r, int column) const {
    switch (column) {
    case YearColumn:
        return chip.year ? QVariant(*chip.year) : QVariant();
    case DatacenterColumn:
        return chip.datacenter ? QVariant(*chip.datacenter ? 1 : 0) : QVariant();
    case TppColumn:
        return r && r->tpp ? QVariant(r->tpp->tpp) : QVariant();
    case PerformanceDensityColumn:
        return r && r->performance_density ? QVariant(*r->performance_density) : QVariant();
    case ClassColumn:
        // Undetermined rows go last, not between "3A090.a" and "3A090.b".
        if (!r || !r->controlled)
            return {};
        return joined(r->classes, QStringLiteral(", "));
    case ControlledColumn:
        return r && r->controlled ? QVariant(*r->controlled ? 1 : 0) : QVariant();
    case CapabilityColumn: {
        const auto* c = capabilityFor(r);
        return c && c->deepseek_v3_decode_tokens_per_s
                   ? QVariant(*c->deepseek_v3_decode_tokens_per_s)
                   : QVariant();
    }
    case LicenseColumn: {
        // Required first when sorted descending; "depends" sorts last.
        const auto* l = licenseFor(r);
        return l && l->license_required ? QVariant(*l->license_required ? 1 : 0) : QVariant();
    }
    case BorderlineColumn:
        return r ? QVariant(r->borderline ? 1 : 0) : QVariant();
    default:
        return displayData(chip, r, column);
    }
}

QVariant ChipTableModel::toolTipData(const analysis::ChipSpec& chip,
                                     const analysis::ClassificationResult* r, int column) const {
    switch (column) {
    case NameColumn:
        return chip.notes.empty() ? QVariant() : QVariant(toQString(chip.notes));
    case DatacenterColumn:
        if (!chip.datacenter)
            return QStringLiteral("Ambiguous: whether it is designed or marketed for datacenters "
                                  "is a legal judgement (see the sources)");
        return QStringLiteral("Designed or marketed for datacenters: %1")
            .arg(yesNoUnknown(chip.datacenter));
    default:
        break;
    }
    if (!r)
        return {};
    switch (column) {
    case TppColumn: {
        QStringList lines;
        if (r->tpp)
            lines << tppBasisText(*r);
        else
            lines << QStringLiteral("No dense rate known: TPP cannot be computed");
        if (r->tpp_reported) {
            QString reported =
                QStringLiteral("Reported TPP: %1").arg(formatFigure(*r->tpp_reported));
            if (r->tpp_gap_percent)
                reported += QStringLiteral(" (computed differs by %1%)")
                                .arg(formatFigure(*r->tpp_gap_percent));
            lines << reported;
        } else {
            lines << QStringLiteral("No reported TPP");
        }
        if (hasTppGap(*r))
            lines << QStringLiteral("Gap over 1%: check the rates and the reported figure");
        return lines.join(QLatin1Char('\n'));
    }
    case PerformanceDensityColumn:
        if (r->performance_density)
            return QStringLiteral("TPP %1 / applicable die area %2 mm²")
                .arg(formatFigure(r->tppValue(), QStringLiteral("?")),
                     formatFigure(chip.applicable_die_area_mm2, QStringLiteral("?")));
        return chip.applicable_die_area_mm2 ? QStringLiteral("TPP unknown")
                                            : QStringLiteral("Applicable die area unknown");
    case ClassColumn:
    case ControlledColumn: {
        QStringList lines = toQStringList(r->explanation);
        if (!r->controlled && !r->undetermined.empty()) {
            QStringList missing;
            for (const auto& key : r->undetermined)
                missing << figureLabel(key);
            lines.prepend(QStringLiteral("Missing: %1").arg(missing.join(QStringLiteral(", "))));
        }
        if (r->paragraph)
            lines.prepend(QStringLiteral("Paragraph: %1").arg(toQString(*r->paragraph)));
        return lines.isEmpty() ? QVariant() : QVariant(lines.join(QLatin1Char('\n')));
    }
    case CapabilityColumn: {
        const auto* c = capabilityFor(r);
        if (!c || !c->deepseek_v3_decode_tokens_per_s)
            return chip.memory_bandwidth_gb_per_s
                       ? QStringLiteral("No dense BF16 rate known: nothing to project with")
                       : QStringLiteral("Memory bandwidth unknown: nothing to project with");
        QStringList lines;
        lines << QStringLiteral("Projected DeepSeek-V3 decode of one GPU: %1 tok/s")
                     .arg(formatFigure(std::round(*c->deepseek_v3_decode_tokens_per_s * 10) / 10))
              << QStringLiteral("FP8 weights, batch 1, context 4096, pure roofline on %1 GB/s, "
                                "as if one GPU held the weights")
                     .arg(formatFigure(chip.memory_bandwidth_gb_per_s, QStringLiteral("?")));
        if (c->h100_equivalents_by_capability && c->h100_equivalents_by_tpp)
            lines << QStringLiteral("H100-equivalents: %1 by this decode, %2 by TPP")
                         .arg(formatFigure(std::round(*c->h100_equivalents_by_capability * 100) /
                                           100),
                              formatFigure(std::round(*c->h100_equivalents_by_tpp * 100) / 100));
        return lines.join(QLatin1Char('\n'));
    }
    case LicenseColumn: {
        const auto* l = licenseFor(r);
        return l ? QVariant(licenseToolTip(*l)) : QVariant();
    }
    case BorderlineColumn:
        return r->borderline_reasons.empty()
                   ? QVariant()
                   : QVariant(joined(r->borderline_reasons, QStringLiteral("\n")));
    case LicenseExceptionsColumn:
        return r->license_exceptions.empty()
                   ? QVariant()
                   : QVariant(joined(r->license_exceptions, QStringLiteral("\n")));
    case FlagsColumn:
        return r->flags.empty() ? QVariant() : QVariant(joined(r->flags, QStringLiteral("\n")));
    default:
        return {};
    }
}

QVariant ChipTableModel::decorationData(const analysis::ClassificationResult* r, int column) const {
    if (!r)
        return {};
    const QPalette palette = currentPalette();
    switch (column) {
    case ControlledColumn:
        if (!r->controlled)
            return toneColor(palette, Tone::Warning);
        return toneColor(palette, *r->controlled ? Tone::Controlled : Tone::Clear);
    case LicenseColumn: {
        const auto* l = licenseFor(r);
        if (!l)
            return {};
        if (!l->license_required)
            return toneColor(palette, Tone::Warning);
        return toneColor(palette, *l->license_required ? Tone::Controlled : Tone::Clear);
    }
    case BorderlineColumn:
        return r->borderline ? QVariant(toneColor(palette, Tone::Warning)) : QVariant();
    case TppColumn:
        return hasTppGap(*r) ? QVariant(toneColor(palette, Tone::Warning)) : QVariant();
    default:
        return {};
    }
}

QVariant ChipTableModel::foregroundData(const analysis::ClassificationResult* r, int column) const {
    // Unknown and empty values recede so the known figures stand out.
    const bool muted = r && ((column == TppColumn && !r->tpp) ||
                             (column == PerformanceDensityColumn && !r->performance_density) ||
                             (column == ClassColumn && (!r->controlled || r->classes.empty())));
    if (!muted)
        return {};
    return QBrush(currentPalette().color(QPalette::PlaceholderText));
}

QVariant ChipTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case NameColumn:
            return QStringLiteral("Name");
        case VendorColumn:
            return QStringLiteral("Vendor");
        case YearColumn:
            return QStringLiteral("Year");
        case DatacenterColumn:
            // Short: the column holds Yes/No/?; the header tooltip spells it out.
            return QStringLiteral("DC");
        case TppColumn:
            return QStringLiteral("TPP");
        case PerformanceDensityColumn:
            return QStringLiteral("PD");
        case ClassColumn:
            return QStringLiteral("Class");
        case ControlledColumn:
            return QStringLiteral("Controlled");
        case CapabilityColumn:
            return QStringLiteral("DS-V3\ntok/s");
        case LicenseColumn:
            return destination_.isEmpty() ? QStringLiteral("License")
                                          : QStringLiteral("License to %1").arg(destination_);
        case BorderlineColumn:
            return QStringLiteral("Borderline");
        case LicenseExceptionsColumn:
            // Two lines: the column's values ("NAC, ACA") are much narrower than its name.
            return QStringLiteral("License\nexceptions");
        case FlagsColumn:
            return QStringLiteral("Flags");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case DatacenterColumn:
            return QStringLiteral("Designed or marketed for use in datacenters (Note 2 to 3A090)");
        case TppColumn:
            return QStringLiteral("Total processing performance, computed from the dense rates "
                                  "and the edition's bit lengths");
        case PerformanceDensityColumn:
            return QStringLiteral("Performance density: TPP / applicable die area (mm²)");
        case LicenseColumn:
            return destination_.isEmpty()
                       ? QStringLiteral("Choose a destination to see whether each chip needs a "
                                        "licence to go there")
                       : QStringLiteral("Whether a licence is required to export to %1 (%2), "
                                        "the buyer headquartered there, and the review policy")
                             .arg(toQString(analysis::countryName(destination_.toStdString())),
                                  destination_);
        case CapabilityColumn:
            return QStringLiteral("Projected DeepSeek-V3 decode of one GPU (tokens/s): FP8 "
                                  "weights, batch 1, context 4096, pure roofline on the datasheet "
                                  "memory bandwidth (crossroads capability)");
        case BorderlineColumn:
            return QStringLiteral("A 2% change of one figure would change the paragraph");
        case FlagsColumn:
            return QStringLiteral("Heuristics and review policies (not clauses)");
        default:
            return {};
        }
    }
    return {};
}

} // namespace crossroads::gui
