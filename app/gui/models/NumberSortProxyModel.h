// A sorting proxy for the workbench's result tables: clicking a header sorts a column of figures
// by their values at NumberRole (so "9.5" comes before "10.2" and "1,979" is a number), the cells
// without a number (unknown, not measured) after every number whichever the order, and any other
// column by its display text, case-insensitively. Unsorted (column -1), the source
// order stands (a results table's newest first).
#pragma once

#include <QSortFilterProxyModel>

namespace crossroads::gui {

class NumberSortProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit NumberSortProxyModel(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

} // namespace crossroads::gui
