#include "app/gui/models/ChipFilterProxyModel.h"

#include "app/gui/models/ChipTableModel.h"

#include <QRegularExpression>

namespace crossroads::gui {

ChipFilterProxyModel::ChipFilterProxyModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(ChipTableModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    // A new edition reclassifies every row; the filter and the order must follow.
    setDynamicSortFilter(true);
}

void ChipFilterProxyModel::setSearchText(const QString& text) {
    if (text == searchText_)
        return;
    searchText_ = text;
    static const QRegularExpression whitespace(QStringLiteral("\\s+"));
    searchWords_ = text.split(whitespace, Qt::SkipEmptyParts);
    invalidateFilter();
}

void ChipFilterProxyModel::setControlledOnly(bool on) {
    if (on == controlledOnly_)
        return;
    controlledOnly_ = on;
    invalidateFilter();
}

void ChipFilterProxyModel::setBorderlineOnly(bool on) {
    if (on == borderlineOnly_)
        return;
    borderlineOnly_ = on;
    invalidateFilter();
}

bool ChipFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QAbstractItemModel* model = sourceModel();
    const QModelIndex first = model->index(sourceRow, 0, sourceParent);
    if (controlledOnly_ && !model->data(first, ChipTableModel::ControlledRole).toBool())
        return false;
    if (borderlineOnly_ && !model->data(first, ChipTableModel::BorderlineRole).toBool())
        return false;
    if (searchWords_.isEmpty())
        return true;

    QString haystack;
    for (int column :
         {ChipTableModel::NameColumn, ChipTableModel::VendorColumn, ChipTableModel::ClassColumn}) {
        haystack += model->data(model->index(sourceRow, column, sourceParent)).toString();
        haystack += QLatin1Char('\n');
    }
    for (const QString& word : searchWords_)
        if (!haystack.contains(word, Qt::CaseInsensitive))
            return false;
    return true;
}

bool ChipFilterProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const QVariant l = sourceModel()->data(left, sortRole());
    const QVariant r = sourceModel()->data(right, sortRole());
    // Unknown figures last whichever way the column is sorted: the view reverses the order for
    // a descending sort, so an unknown is "greater" ascending and "less" descending.
    const bool nullsFirstInOrder = sortOrder() == Qt::DescendingOrder;
    if (!l.isValid() || !r.isValid()) {
        if (l.isValid() == r.isValid())
            return false;
        return l.isValid() != nullsFirstInOrder;
    }

    const auto isNumber = [](const QVariant& v) {
        switch (v.typeId()) {
        case QMetaType::Int:
        case QMetaType::Double:
        case QMetaType::LongLong:
        case QMetaType::Bool:
            return true;
        default:
            return false;
        }
    };
    if (isNumber(l) && isNumber(r))
        return l.toDouble() < r.toDouble();
    // Ties keep the source order (vendor, then name): the proxy sorts stably.
    return QString::compare(l.toString(), r.toString(), sortCaseSensitivity()) < 0;
}

} // namespace crossroads::gui
