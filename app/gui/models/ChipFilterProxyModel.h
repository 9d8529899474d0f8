// Search and status filters over ChipTableModel, and sorting by its SortRole with unknown
// figures last in either order.
#pragma once

#include <QSortFilterProxyModel>
#include <QStringList>

namespace crossroads::gui {

class ChipFilterProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit ChipFilterProxyModel(QObject* parent = nullptr);

    // Whitespace-separated words, each of which must appear (case-insensitively) in the chip's
    // name, vendor or class text.
    QString searchText() const { return searchText_; }
    bool controlledOnly() const { return controlledOnly_; }
    bool borderlineOnly() const { return borderlineOnly_; }

public Q_SLOTS:
    void setSearchText(const QString& text);
    // Both on: rows that are controlled and borderline.
    void setControlledOnly(bool on);
    void setBorderlineOnly(bool on);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    QString searchText_;
    QStringList searchWords_;
    bool controlledOnly_ = false;
    bool borderlineOnly_ = false;
};

} // namespace crossroads::gui
