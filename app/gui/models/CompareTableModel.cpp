#include "app/gui/models/CompareTableModel.h"

#include <QColor>
#include <QStringList>

namespace crossroads::gui {

namespace {

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

QString classText(const analysis::ClassificationResult& r) {
    return q(analysis::classSummary(r));
}

QString lines(const std::vector<std::string>& items, const QString& separator) {
    QStringList out;
    for (const std::string& s : items)
        out << q(s);
    return out.join(separator);
}

} // namespace

CompareTableModel::CompareTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void CompareTableModel::setComparison(analysis::EditionComparison comparison) {
    beginResetModel();
    comparison_ = std::move(comparison);
    endResetModel();
}

QString CompareTableModel::summary() const {
    if (comparison_.baseline.empty())
        return QString();
    int tightened = 0, loosened = 0, changed = 0;
    for (const analysis::ChipChange& c : comparison_.changes)
        (c.direction == analysis::ChangeDirection::Tightened  ? tightened
         : c.direction == analysis::ChangeDirection::Loosened ? loosened
                                                              : changed)++;
    return QStringLiteral("%1 → %2: %3 chips change class (%4 tightened, %5 loosened, %6 "
                          "changed), %7 keep it; %8 gain or lose a flag.")
        .arg(q(comparison_.baseline), q(comparison_.vs))
        .arg(comparison_.changes.size())
        .arg(tightened)
        .arg(loosened)
        .arg(changed)
        .arg(comparison_.unchanged)
        .arg(comparison_.flag_changes.size());
}

int CompareTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(comparison_.changes.size() + comparison_.flag_changes.size());
}

int CompareTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CompareTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const size_t row = size_t(index.row());
    if (row < comparison_.changes.size()) {
        const analysis::ChipChange& c = comparison_.changes[row];
        const QString direction = q(std::string(analysis::changeDirectionKey(c.direction)));
        if (role == ChipNameRole)
            return q(c.chip);
        if (role == DirectionRole)
            return direction;
        if (role == Qt::ToolTipRole && index.column() == BecauseColumn)
            return lines(c.because, QStringLiteral("\n"));
        if (role == Qt::ForegroundRole && index.column() == DirectionColumn)
            return c.direction == analysis::ChangeDirection::Tightened  ? QColor(0xD5, 0x5E, 0x00)
                   : c.direction == analysis::ChangeDirection::Loosened ? QColor(0x00, 0x72, 0xB2)
                                                                        : QVariant();
        if (role != Qt::DisplayRole)
            return {};
        switch (index.column()) {
        case ChipColumn:
            return q(c.chip);
        case BaselineColumn:
            return classText(c.from);
        case VsColumn:
            return classText(c.to);
        case DirectionColumn:
            return direction;
        case BecauseColumn:
            return lines(c.because, QStringLiteral("; "));
        default:
            return {};
        }
    }
    const analysis::FlagChange& f = comparison_.flag_changes[row - comparison_.changes.size()];
    QStringList parts;
    for (const std::string& a : f.added)
        parts << QStringLiteral("gains “%1”").arg(q(a));
    for (const std::string& r : f.removed)
        parts << QStringLiteral("loses “%1”").arg(q(r));
    if (role == ChipNameRole)
        return q(f.chip);
    if (role == DirectionRole)
        return QStringLiteral("flag");
    if (role == Qt::ToolTipRole && index.column() == BecauseColumn)
        return parts.join(QLatin1Char('\n'));
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case ChipColumn:
        return q(f.chip);
    case BaselineColumn:
    case VsColumn:
        return QStringLiteral("(class holds)");
    case DirectionColumn:
        return QStringLiteral("flag");
    case BecauseColumn:
        return parts.join(QStringLiteral("; "));
    default:
        return {};
    }
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ChipColumn:
        return QStringLiteral("Chip");
    case BaselineColumn:
        return comparison_.baseline.empty() ? QStringLiteral("Baseline") : q(comparison_.baseline);
    case VsColumn:
        return comparison_.vs.empty() ? QStringLiteral("Compared") : q(comparison_.vs);
    case DirectionColumn:
        return QStringLiteral("Direction");
    case BecauseColumn:
        return QStringLiteral("Because");
    default:
        return {};
    }
}

} // namespace crossroads::gui
