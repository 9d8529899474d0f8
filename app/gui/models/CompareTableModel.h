// The chips that change between two editions (analysis::compareEditions), one row each: the
// class under the baseline, under the compared edition, the direction, and the lines that
// differ (the tooltip has them all). Chips whose class holds but whose flags change follow,
// with the direction "flag".
#pragma once

#include "analysis/Compare.h"

#include <QAbstractTableModel>

namespace crossroads::gui {

class CompareTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        ChipColumn,
        BaselineColumn,
        VsColumn,
        DirectionColumn,
        BecauseColumn,
        ColumnCount
    };
    enum Role { ChipNameRole = Qt::UserRole + 1, DirectionRole };

    explicit CompareTableModel(QObject* parent = nullptr);

    void setComparison(analysis::EditionComparison comparison);
    const analysis::EditionComparison& comparison() const { return comparison_; }
    // "2022-10 -> 2023-10: 24 chips change class (16 tightened, ...), 25 keep it."
    QString summary() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    analysis::EditionComparison comparison_;
};

} // namespace crossroads::gui
