#include "app/gui/models/ImportDiffModel.h"

#include "app/gui/models/DisplayText.h"

#include <QBrush>

namespace crossroads::gui {

namespace {

// Internal ids: 0 for a chip row, 1 + the chip's index in diff_.chips for its figure rows.
constexpr quintptr kChipRow = 0;

QString fieldLabel(const std::string& field) {
    if (analysis::precisionFromKey(field))
        return figureLabel("dense_tops." + field);
    return figureLabel(field);
}

QString changeKind(const data::FieldChange& f) {
    if (!f.old_value)
        return QStringLiteral("added");
    return f.cleared() ? QStringLiteral("cleared") : QStringLiteral("changed");
}

QString chipKind(const data::ChipImportDiff& c) {
    if (c.added)
        return QStringLiteral("added");
    return c.changed() ? QStringLiteral("changed") : QStringLiteral("unchanged");
}

int figureRows(const data::ChipImportDiff& c) {
    return static_cast<int>(c.changes.size() + c.sources_added.size());
}

} // namespace

ImportDiffModel::ImportDiffModel(QObject* parent) : QAbstractItemModel(parent) {}

void ImportDiffModel::setDiff(data::ImportDiff diff) {
    beginResetModel();
    diff_ = std::move(diff);
    refilter();
    endResetModel();
}

void ImportDiffModel::setShowUnchanged(bool show) {
    if (show == showUnchanged_)
        return;
    beginResetModel();
    showUnchanged_ = show;
    refilter();
    endResetModel();
}

void ImportDiffModel::refilter() {
    shown_.clear();
    for (std::size_t i = 0; i < diff_.chips.size(); ++i)
        if (showUnchanged_ || diff_.chips[i].changed())
            shown_.push_back(i);
}

QString ImportDiffModel::summary() const {
    return QStringLiteral("%1 added, %2 changed, %3 unchanged; %4 figures changed (%5 cleared), "
                          "%6 unchanged")
        .arg(diff_.addedChips())
        .arg(diff_.changedChips())
        .arg(diff_.unchangedChips())
        .arg(diff_.changedFigures())
        .arg(diff_.clearedFigures())
        .arg(diff_.unchangedFigures());
}

QModelIndex ImportDiffModel::index(int row, int column, const QModelIndex& parent) const {
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid()) {
        if (static_cast<std::size_t>(row) >= shown_.size())
            return {};
        return createIndex(row, column, kChipRow);
    }
    if (parent.internalId() != kChipRow || parent.column() != 0 || parent.row() < 0 ||
        static_cast<std::size_t>(parent.row()) >= shown_.size())
        return {};
    const std::size_t chip = shown_[static_cast<std::size_t>(parent.row())];
    if (row >= figureRows(diff_.chips[chip]))
        return {};
    return createIndex(row, column, static_cast<quintptr>(chip + 1));
}

QModelIndex ImportDiffModel::parent(const QModelIndex& child) const {
    if (!child.isValid() || child.internalId() == kChipRow)
        return {};
    const std::size_t chip = child.internalId() - 1;
    for (std::size_t row = 0; row < shown_.size(); ++row)
        if (shown_[row] == chip)
            return createIndex(static_cast<int>(row), 0, kChipRow);
    return {};
}

int ImportDiffModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid())
        return static_cast<int>(shown_.size());
    if (parent.internalId() != kChipRow || parent.column() != 0)
        return 0;
    return figureRows(diff_.chips[shown_[static_cast<std::size_t>(parent.row())]]);
}

int ImportDiffModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QVariant ImportDiffModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    if (index.internalId() == kChipRow)
        return chipData(diff_.chips[shown_[static_cast<std::size_t>(index.row())]], index.column(),
                        role);
    const data::ChipImportDiff& chip = diff_.chips[index.internalId() - 1];
    return figureData(chip, index.row(), index.column(), role);
}

QVariant ImportDiffModel::chipData(const data::ChipImportDiff& c, int column, int role) const {
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn:
            return toQString(c.name);
        case ChangeColumn: {
            if (c.added)
                return QStringLiteral("added: %1 figures").arg(c.changes.size());
            if (!c.changed())
                return QStringLiteral("unchanged: %1 given figures the same").arg(c.unchanged);
            int cleared = 0;
            for (const auto& f : c.changes)
                cleared += f.cleared() ? 1 : 0;
            QString text = QStringLiteral("changed: %1 figures").arg(c.changes.size());
            if (cleared > 0)
                text += QStringLiteral(" (%1 cleared)").arg(cleared);
            if (!c.sources_added.empty())
                text += QStringLiteral(", %1 sources").arg(c.sources_added.size());
            return text + QStringLiteral(", %1 the same").arg(c.unchanged);
        }
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (column == NameColumn) {
            QString where = toQString(c.origin);
            if (c.row_name != c.name)
                where += QStringLiteral(": \"%1\" in the file").arg(toQString(c.row_name));
            return where;
        }
        return {};
    case Qt::ForegroundRole:
        if (!c.changed())
            return QBrush(currentPalette().color(QPalette::PlaceholderText));
        return {};
    case Qt::FontRole:
        return {};
    case ChipNameRole:
        return toQString(c.name);
    case ChangeKindRole:
        return chipKind(c);
    default:
        return {};
    }
}

QVariant ImportDiffModel::figureData(const data::ChipImportDiff& c, int row, int column,
                                     int role) const {
    const auto changes = static_cast<int>(c.changes.size());
    if (row >= changes) {
        const analysis::Source& s = c.sources_added[static_cast<std::size_t>(row - changes)];
        switch (role) {
        case Qt::DisplayRole:
            switch (column) {
            case NameColumn:
                return QStringLiteral("Source of %1")
                    .arg(s.field == "*" ? QStringLiteral("the row") : fieldLabel(s.field));
            case NewColumn:
                return s.confidence.empty() ? toQString(s.citation)
                                            : QStringLiteral("%1 (%2)").arg(
                                                  toQString(s.citation), toQString(s.confidence));
            case ChangeColumn:
                return QStringLiteral("source added");
            default:
                return {};
            }
        case Qt::ToolTipRole:
            return column == NewColumn ? QVariant(toQString(s.citation)) : QVariant();
        case ChipNameRole:
            return toQString(c.name);
        case ChangeKindRole:
            return QStringLiteral("source");
        case FieldRole:
            return toQString(s.field);
        default:
            return {};
        }
    }
    const data::FieldChange& f = c.changes[static_cast<std::size_t>(row)];
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn:
            return fieldLabel(f.field);
        case OldColumn:
            return f.old_value ? toQString(*f.old_value) : QStringLiteral("—");
        case NewColumn:
            return f.new_value ? toQString(*f.new_value) : QStringLiteral("(cleared)");
        case ChangeColumn:
            return changeKind(f);
        default:
            return {};
        }
    case Qt::ToolTipRole:
        if (column == NameColumn)
            return toQString(f.field);
        if (column == NewColumn && f.cleared())
            return QStringLiteral("Empty in the file: the stored figure is cleared");
        return {};
    case Qt::ForegroundRole:
        if (column == ChangeColumn && f.cleared())
            return QBrush(toneColor(currentPalette(), Tone::Warning));
        return {};
    case ChipNameRole:
        return toQString(c.name);
    case ChangeKindRole:
        return changeKind(f);
    case FieldRole:
        return toQString(f.field);
    default:
        return {};
    }
}

QVariant ImportDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return QStringLiteral("Chip / figure");
    case OldColumn:
        return QStringLiteral("In the store");
    case NewColumn:
        return QStringLiteral("After the import");
    case ChangeColumn:
        return QStringLiteral("Change");
    default:
        return {};
    }
}

} // namespace crossroads::gui
