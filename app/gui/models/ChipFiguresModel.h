// The chips' own figures, one row per chip and one column per interchange field (vendor, year,
// kind, datacenter, the dense rates fp64 ... fp4, die and package area, memory, bandwidth, I/O,
// TDP, reported TPP, notes), as the store holds them: the table `crossroads export --table
// chips` and the window's File > Export chip figures write. Numbers at NumberRole.
#pragma once

#include "analysis/ChipSpec.h"

#include <QAbstractTableModel>
#include <string>
#include <vector>

namespace crossroads::gui {

class ChipFiguresModel : public QAbstractTableModel {
    Q_OBJECT

public:
    explicit ChipFiguresModel(QObject* parent = nullptr);

    void setChips(std::vector<analysis::ChipSpec> chips);
    const std::vector<analysis::ChipSpec>& chips() const { return chips_; }
    // The interchange key of a column ("name", "vendor", ..., "fp8", ..., "notes").
    static std::string columnKey(int column);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    std::vector<analysis::ChipSpec> chips_;
};

} // namespace crossroads::gui
