#include "app/gui/models/HistoryTableModel.h"

#include "app/gui/models/DisplayText.h"
#include "app/gui/models/TableRoles.h"

#include <QDateTime>
#include <algorithm>
#include <charconv>
#include <utility>

namespace crossroads::gui {

namespace {

bool isNumericField(const std::string& field) {
    return field == "year" || analysis::precisionFromKey(field) ||
           std::any_of(analysis::kFigureFields.begin(), analysis::kFigureFields.end(),
                       [&](const auto& f) { return f.key == field; });
}

// The stored text of a figure as a number; nullopt when it is not one (an entry by hand).
std::optional<double> numberOf(const std::string& field, const std::optional<std::string>& text) {
    if (!text || !isNumericField(field))
        return std::nullopt;
    double value = 0;
    const char* end = text->data() + text->size();
    const auto [last, error] = std::from_chars(text->data(), end, value);
    if (error != std::errc() || last != end)
        return std::nullopt;
    return value;
}

// "2025-04-15T09:30:00Z" -> "2025-04-15 09:30:00" (the header says UTC).
QString atText(const std::string& at) {
    const QDateTime t = QDateTime::fromString(toQString(at), Qt::ISODate);
    return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : toQString(at);
}

} // namespace

QString HistoryTableModel::fieldLabel(const std::string& field) {
    if (field == "*")
        return QStringLiteral("Chip");
    if (field == "sources")
        return QStringLiteral("Sources");
    if (field == "alternatives")
        return QStringLiteral("Alternative source values");
    // The chip table's own words for the chip's facts (its DC column reads "Datacenter").
    static const std::pair<const char*, const char*> kFacts[] = {
        {"name", "Name"}, {"vendor", "Vendor"},         {"year", "Year"},
        {"kind", "Kind"}, {"datacenter", "Datacenter"}, {"notes", "Notes"}};
    for (const auto& [key, label] : kFacts)
        if (field == key)
            return QString::fromLatin1(label);
    // A dense rate is stored under its precision ("fp16"): the label of "dense_tops.fp16".
    if (analysis::precisionFromKey(field))
        return figureLabel("dense_tops." + field);
    return figureLabel(field);
}

HistoryTableModel::HistoryTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void HistoryTableModel::setFieldLabels(bool on) {
    if (fieldLabels_ == on)
        return;
    fieldLabels_ = on;
    if (!entries_.empty())
        Q_EMIT dataChanged(index(0, FieldColumn), index(rowCount() - 1, FieldColumn),
                           {Qt::DisplayRole, Qt::ToolTipRole});
}

void HistoryTableModel::setEntries(std::vector<data::AuditEntry> entries) {
    beginResetModel();
    entries_ = std::move(entries);
    endResetModel();
}

QStringList HistoryTableModel::chipNames() const {
    QStringList names;
    for (const data::AuditEntry& e : entries_) {
        const QString name = toQString(e.chip);
        if (!names.contains(name, Qt::CaseInsensitive))
            names << name;
    }
    std::sort(names.begin(), names.end(), [](const QString& a, const QString& b) {
        return a.compare(b, Qt::CaseInsensitive) < 0;
    });
    return names;
}

int HistoryTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

int HistoryTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HistoryTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const data::AuditEntry& e = entries_[static_cast<std::size_t>(index.row())];
    const auto value = [](const std::optional<std::string>& v) {
        return v ? toQString(*v) : QString();
    };
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case AtColumn:
            return atText(e.at);
        case ChipColumn:
            return toQString(e.chip);
        case FieldColumn:
            return fieldLabels_ ? fieldLabel(e.field) : toQString(e.field);
        case OldColumn:
            return value(e.old_value);
        case NewColumn:
            return value(e.new_value);
        case SourceColumn:
            return toQString(e.source);
        case ViaColumn:
            return toQString(e.via);
        default:
            return {};
        }
    case NumberRole:
        if (index.column() == OldColumn)
            if (const auto n = numberOf(e.field, e.old_value))
                return *n;
        if (index.column() == NewColumn)
            if (const auto n = numberOf(e.field, e.new_value))
                return *n;
        return {};
    case Qt::ToolTipRole:
        switch (index.column()) {
        case FieldColumn:
            // The other spelling: the stored key under the analyst's words, and back.
            return fieldLabels_ ? QStringLiteral("Stored as \"%1\"").arg(toQString(e.field))
                                : fieldLabel(e.field);
        case OldColumn:
            return e.old_value ? QVariant(toQString(*e.old_value))
                               : QVariant(QStringLiteral("No value before (unknown)"));
        case NewColumn:
            return e.new_value ? QVariant(toQString(*e.new_value))
                               : QVariant(QStringLiteral("Cleared (unknown since)"));
        case SourceColumn:
            return e.source.empty() ? QVariant() : QVariant(toQString(e.source));
        default:
            return {};
        }
    case Qt::TextAlignmentRole:
        if ((index.column() == OldColumn && numberOf(e.field, e.old_value)) ||
            (index.column() == NewColumn && numberOf(e.field, e.new_value)))
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        return {};
    case ChipNameRole:
        return toQString(e.chip);
    case FieldKeyRole:
        return toQString(e.field);
    default:
        return {};
    }
}

QVariant HistoryTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case AtColumn:
        return QStringLiteral("At (UTC)");
    case ChipColumn:
        return QStringLiteral("Chip");
    case FieldColumn:
        return QStringLiteral("Field");
    case OldColumn:
        return QStringLiteral("Old");
    case NewColumn:
        return QStringLiteral("New");
    case SourceColumn:
        return QStringLiteral("Source");
    case ViaColumn:
        return QStringLiteral("Via");
    default:
        return {};
    }
}

} // namespace crossroads::gui
