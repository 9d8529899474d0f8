// The benchmark results the store holds (data::Store::benchmarkResults, newest first), one row
// per run: when, where (device, backend), what (model, dtype), the measured prefill and decode
// rates, decode against the read bandwidth measured around it, against the datasheet peak of
// the device and the roofline that peak allows, and the export class of the device (its chip in
// the store, classified under the chosen edition). A CPU run has no chip; a GPU whose name
// matches no chip says so. Numbers at NumberRole.
#pragma once

#include "analysis/Capability.h"
#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"
#include "data/Store.h"

#include <QAbstractTableModel>
#include <optional>
#include <vector>

namespace crossroads::gui {

class BenchResultsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        SavedColumn,
        DeviceColumn,
        BackendColumn,
        ModelColumn,
        DtypeColumn,
        PrefillColumn,
        DecodeColumn,
        FractionOfMeasuredColumn,
        MeasuredBandwidthColumn,
        SpecBandwidthColumn,
        FractionOfSpecColumn,
        RooflineDecodeColumn,
        DeviceChipColumn,
        ExportClassColumn,
        ColumnCount
    };
    enum Role { RecordIdRole = Qt::UserRole + 1 };

    // One saved run, read from its JSON (figures the JSON lacks are nullopt).
    struct Row {
        data::Store::BenchmarkRecord record;
        analysis::BenchFigures figures;  // read from its JSON (analysis::readBenchFigures)
        std::optional<std::size_t> chip; // index into chips(): the device's chip, when matched
    };

    explicit BenchResultsModel(QObject* parent = nullptr);

    void setRecords(std::vector<data::Store::BenchmarkRecord> records);
    // The store's chips (to find each device's chip) and the edition classifying it.
    void setChips(std::vector<analysis::ChipSpec> chips);
    void setEdition(std::optional<analysis::Edition> edition);
    const std::vector<Row>& rows() const { return rows_; }
    const std::vector<analysis::ChipSpec>& chips() const { return chips_; }
    const std::optional<analysis::Edition>& edition() const { return edition_; }
    // The classification of the row's device under the edition; nullptr without chip or edition.
    const analysis::ClassificationResult* classificationAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    void rematch();
    std::optional<double> number(const Row& row, int column) const;
    QVariant display(int rowIndex, int column) const;
    QVariant toolTip(int rowIndex, int column) const;

    std::vector<data::Store::BenchmarkRecord> records_;
    std::vector<Row> rows_;
    std::vector<analysis::ChipSpec> chips_;
    std::optional<analysis::Edition> edition_;
    std::vector<std::optional<analysis::ClassificationResult>> classes_; // parallel to rows_
};

} // namespace crossroads::gui
