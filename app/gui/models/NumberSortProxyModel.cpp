#include "app/gui/models/NumberSortProxyModel.h"

#include "app/gui/models/TableRoles.h"

namespace crossroads::gui {

NumberSortProxyModel::NumberSortProxyModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortCaseSensitivity(Qt::CaseInsensitive);
    // Re-sorts when a row's figures change (a new edition reclassifies the rows).
    setDynamicSortFilter(true);
}

bool NumberSortProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const QVariant a = left.data(NumberRole), b = right.data(NumberRole);
    if (a.isValid() && b.isValid())
        return a.toDouble() < b.toDouble();
    if (a.isValid() != b.isValid()) {
        // A number before a cell without one, in either order: the unknowns stay at the end.
        const bool numberFirst = a.isValid();
        return sortOrder() == Qt::AscendingOrder ? numberFirst : !numberFirst;
    }
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace crossroads::gui
