// The chip table: one row per chip, classified under one edition. Changing the edition or the
// chips reclassifies every row and resets the model (a classification touches every column).
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"
#include "analysis/License.h"
#include "analysis/Projection.h"

#include <QAbstractTableModel>
#include <optional>
#include <vector>

namespace crossroads::gui {

class ChipTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        VendorColumn,
        YearColumn,
        DatacenterColumn,
        TppColumn,
        PerformanceDensityColumn,
        ClassColumn,
        ControlledColumn,
        // What the chip can do beside what the rules make of it: projected DeepSeek-V3 decode
        // of one GPU (analysis::capabilityIndex; H100-equivalents in the tooltip).
        CapabilityColumn,
        LicenseColumn, // for the destination chosen (setDestination); empty without one
        BorderlineColumn,
        LicenseExceptionsColumn,
        FlagsColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role {
        // Numbers for numeric columns (invalid when the figure is unknown, so it sorts last),
        // text otherwise.
        SortRole = Qt::UserRole + 1,
        ChipNameRole,   // QString, on every column
        ControlledRole, // bool, invalid when undetermined; on every column
        BorderlineRole, // bool, on every column
    };

    explicit ChipTableModel(QObject* parent = nullptr);

    void setChips(std::vector<analysis::ChipSpec> chips);
    void setEdition(const analysis::Edition& edition);
    // Both at once: one reset instead of two.
    void setChipsAndEdition(std::vector<analysis::ChipSpec> chips,
                            const analysis::Edition& edition);

    // The destination (ISO 3166-1 alpha-2) of the licence column, empty for none: each row then
    // carries analysis::determineLicense's answer (the buyer headquartered there). An unknown
    // code is refused (LicenseQueryError) and the model keeps its destination.
    void setDestination(const QString& code);
    const QString& destination() const { return destination_; }
    // nullptr without a destination, or when `row` is out of range.
    const analysis::LicenseResult* licenseAt(int row) const;

    // nullopt until an edition is set; rows show figures only then.
    const std::optional<analysis::Edition>& edition() const { return edition_; }
    const std::vector<analysis::ChipSpec>& chips() const { return chips_; }

    // nullptr when `row` is out of range (or, for the result, when no edition is set).
    const analysis::ChipSpec* chipAt(int row) const;
    const analysis::ClassificationResult* resultAt(int row) const;
    // Case-insensitive; -1 when absent.
    int rowOfChip(const QString& name) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    void reclassify();
    // The licence of the row whose result is `r` (a pointer into results_).
    const analysis::LicenseResult* licenseFor(const analysis::ClassificationResult* r) const;
    const analysis::CapabilityIndex* capabilityFor(const analysis::ClassificationResult* r) const;
    QVariant displayData(const analysis::ChipSpec& chip, const analysis::ClassificationResult* r,
                         int column) const;
    QVariant sortData(const analysis::ChipSpec& chip, const analysis::ClassificationResult* r,
                      int column) const;
    QVariant toolTipData(const analysis::ChipSpec& chip, const analysis::ClassificationResult* r,
                         int column) const;
    QVariant decorationData(const analysis::ClassificationResult* r, int column) const;
    QVariant foregroundData(const analysis::ClassificationResult* r, int column) const;

    std::vector<analysis::ChipSpec> chips_;
    std::optional<analysis::Edition> edition_;
    QString destination_;
    std::vector<analysis::LicenseResult> licenses_; // one per result, when a destination is set
    std::vector<analysis::ClassificationResult> results_; // parallel to chips_ when edition_
    std::vector<analysis::CapabilityIndex> capability_;   // parallel to results_
};

} // namespace crossroads::gui
