#include "app/gui/models/BenchResultsModel.h"

#include "analysis/Capability.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/TableRoles.h"

#include <QDateTime>
#include <exception>

namespace crossroads::gui {

namespace {

QString percentText(double percent) {
    return QStringLiteral("%1%").arg(formatFigure(percent));
}

// "2025-04-15T09:30:00Z" -> "2025-04-15 09:30:00" (the header says UTC).
QString savedText(const QString& at) {
    const QDateTime t = QDateTime::fromString(at, Qt::ISODate);
    return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : at;
}

} // namespace

BenchResultsModel::BenchResultsModel(QObject* parent) : QAbstractTableModel(parent) {}

void BenchResultsModel::setRecords(std::vector<data::Store::BenchmarkRecord> records) {
    beginResetModel();
    rows_.clear();
    rows_.reserve(records.size());
    for (auto& record : records) {
        const analysis::BenchFigures figures = analysis::readBenchFigures(record.result_json);
        rows_.push_back({std::move(record), figures, std::nullopt});
    }
    rematch();
    endResetModel();
}

void BenchResultsModel::setChips(std::vector<analysis::ChipSpec> chips) {
    beginResetModel();
    chips_ = std::move(chips);
    rematch();
    endResetModel();
}

void BenchResultsModel::setEdition(std::optional<analysis::Edition> edition) {
    beginResetModel();
    edition_ = std::move(edition);
    rematch();
    endResetModel();
}

void BenchResultsModel::rematch() {
    classes_.assign(rows_.size(), std::nullopt);
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        Row& row = rows_[i];
        row.chip.reset();
        row.chip = analysis::benchChip(row.record.backend.toStdString(),
                                       row.record.device.toStdString(), row.figures, chips_);
        if (row.chip && edition_) {
            try {
                classes_[i] = analysis::classify(chips_[*row.chip], *edition_);
            } catch (const std::exception&) {
                // Left unclassified: the cell says so rather than the table failing.
            }
        }
    }
}

const analysis::ClassificationResult* BenchResultsModel::classificationAt(int row) const {
    if (row < 0 || static_cast<std::size_t>(row) >= classes_.size() ||
        !classes_[static_cast<std::size_t>(row)])
        return nullptr;
    return &*classes_[static_cast<std::size_t>(row)];
}

int BenchResultsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int BenchResultsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

std::optional<double> BenchResultsModel::number(const Row& row, int column) const {
    // The datasheet bandwidth: the run's own figure, else its chip's in the store today.
    std::optional<double> spec = row.figures.spec_bandwidth_gb_per_s;
    if (!spec && row.chip)
        spec = chips_[*row.chip].memory_bandwidth_gb_per_s;
    switch (column) {
    case PrefillColumn:
        return row.figures.prefill_tokens_per_s;
    case DecodeColumn:
        return row.figures.decode_tokens_per_s;
    case FractionOfMeasuredColumn:
        if (row.figures.decode_fraction_of_measured)
            return *row.figures.decode_fraction_of_measured * 100;
        return std::nullopt;
    case MeasuredBandwidthColumn:
        return row.figures.measured_bandwidth_gb_per_s;
    case SpecBandwidthColumn:
        return spec;
    case FractionOfSpecColumn:
        if (row.figures.decode_fraction_of_spec)
            return *row.figures.decode_fraction_of_spec * 100;
        if (spec && *spec > 0 && row.figures.decode_achieved_gb_per_s)
            return *row.figures.decode_achieved_gb_per_s / *spec * 100;
        return std::nullopt;
    case RooflineDecodeColumn:
        // Memory roof: the datasheet bandwidth over the bytes each decode step read.
        if (spec && row.figures.decode_tokens_per_s && row.figures.decode_achieved_gb_per_s &&
            *row.figures.decode_achieved_gb_per_s > 0)
            return *row.figures.decode_tokens_per_s * *spec / *row.figures.decode_achieved_gb_per_s;
        return std::nullopt;
    default:
        return std::nullopt;
    }
}

QVariant BenchResultsModel::display(int rowIndex, int column) const {
    const Row& row = rows_[static_cast<std::size_t>(rowIndex)];
    switch (column) {
    case SavedColumn:
        return savedText(row.record.created_at);
    case DeviceColumn:
        return row.record.device;
    case BackendColumn:
        return row.record.backend;
    case ModelColumn:
        return row.record.model;
    case DtypeColumn:
        return row.record.dtype;
    case DeviceChipColumn:
        return row.chip ? toQString(chips_[*row.chip].name) : QString();
    case ExportClassColumn: {
        if (row.record.backend == QLatin1String("cpu"))
            return QStringLiteral("— (CPU)");
        if (!row.chip)
            return QStringLiteral("no chip in the store");
        if (!edition_)
            return QString();
        const auto* result = classificationAt(rowIndex);
        return result ? classText(*result) : QStringLiteral("not classified");
    }
    default:
        break;
    }
    const auto n = number(row, column);
    if (!n)
        return row.figures.readable || column < PrefillColumn ? QString()
                                                              : QStringLiteral("unreadable");
    if (column == FractionOfMeasuredColumn || column == FractionOfSpecColumn)
        return percentText(*n);
    if (column == DecodeColumn && row.figures.decode_contexts > 1)
        return QStringLiteral("%1 (+%2 contexts)")
            .arg(formatFigure(*n))
            .arg(row.figures.decode_contexts - 1);
    return formatFigure(*n);
}

QVariant BenchResultsModel::toolTip(int rowIndex, int column) const {
    const Row& row = rows_[static_cast<std::size_t>(rowIndex)];
    switch (column) {
    case SavedColumn:
        return QStringLiteral("Result %1, saved %2").arg(row.record.id).arg(row.record.created_at);
    case FractionOfMeasuredColumn:
        return QStringLiteral("Decode's achieved GB/s over the read bandwidth measured on the same "
                              "device around it (median of the steps)");
    case RooflineDecodeColumn:
        return QStringLiteral("Decode tokens/s the datasheet bandwidth would allow at the bytes "
                              "each step read (the memory roof of the roofline projection)");
    case DeviceChipColumn:
        if (row.record.backend == QLatin1String("cpu"))
            return QStringLiteral("A CPU run: the store's chips are accelerators");
        return row.chip
                   ? QStringLiteral("The store's chip for \"%1\"").arg(row.record.device)
                   : QStringLiteral("No chip in the store matches \"%1\"").arg(row.record.device);
    case ExportClassColumn: {
        const auto* result = classificationAt(rowIndex);
        if (!result || !edition_)
            return {};
        QStringList lines{QStringLiteral("%1 under %2: %3")
                              .arg(toQString(chips_[*row.chip].name), toQString(edition_->id),
                                   controlledText(*result))};
        lines << toQStringList(result->explanation);
        return lines.join(QLatin1Char('\n'));
    }
    default:
        return {};
    }
}

QVariant BenchResultsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int column = index.column();
    const Row& row = rows_[static_cast<std::size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return display(index.row(), column);
    case Qt::ToolTipRole:
        return toolTip(index.row(), column);
    case NumberRole:
        if (const auto n = number(row, column))
            return *n;
        return {};
    case Qt::TextAlignmentRole:
        if (column >= PrefillColumn && column <= RooflineDecodeColumn)
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        return {};
    case Qt::DecorationRole:
        if (column == ExportClassColumn)
            if (const auto* result = classificationAt(index.row()))
                return toneColor(currentPalette(), !result->controlled   ? Tone::Warning
                                                   : *result->controlled ? Tone::Controlled
                                                                         : Tone::Clear);
        return {};
    case RecordIdRole:
        return row.record.id;
    default:
        return {};
    }
}

QVariant BenchResultsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == ExportClassColumn)
        return QStringLiteral("The device's chip classified under the selected edition");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SavedColumn:
        return QStringLiteral("Saved (UTC)");
    case DeviceColumn:
        return QStringLiteral("Device");
    case BackendColumn:
        return QStringLiteral("Backend");
    case ModelColumn:
        return QStringLiteral("Model");
    case DtypeColumn:
        return QStringLiteral("Dtype");
    case PrefillColumn:
        return QStringLiteral("Prefill tok/s");
    case DecodeColumn:
        return QStringLiteral("Decode tok/s");
    case FractionOfMeasuredColumn:
        return QStringLiteral("Decode % of measured BW");
    case MeasuredBandwidthColumn:
        return QStringLiteral("Measured BW (GB/s)");
    case SpecBandwidthColumn:
        return QStringLiteral("Spec BW (GB/s)");
    case FractionOfSpecColumn:
        return QStringLiteral("Decode % of spec BW");
    case RooflineDecodeColumn:
        return QStringLiteral("Roofline decode tok/s");
    case DeviceChipColumn:
        return QStringLiteral("Device chip");
    case ExportClassColumn:
        return QStringLiteral("Export class");
    default:
        return {};
    }
}

} // namespace crossroads::gui
