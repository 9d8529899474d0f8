// View > History: the store's audit trail (every change to a chip: when, the field, old and new,
// the source and what made it), newest last as the store keeps it, filtered to one chip or
// not, exportable as CSV or XLSX. Fields read in the analyst's words ("Sources", "Dense FP16
// (TFLOPS)"), the stored key in the tooltip; the export keeps the stored keys. Double-clicking a
// row selects the chip in the workbench.
#pragma once

#include <QDialog>
#include <QString>

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace crossroads::gui {

class HistoryTableModel;

class HistoryDialog : public QDialog {
    Q_OBJECT

public:
    // Reads the store at `storePath` through a connection of its own, on each reload.
    explicit HistoryDialog(const QString& storePath, QWidget* parent = nullptr);

    // Reads another store from now on (File > Open store…) and reloads.
    void setStorePath(const QString& storePath);

    HistoryTableModel* model() const { return model_; }
    // The rows shown (the chip filter applied), for the view and the export.
    QSortFilterProxyModel* shownModel() const { return proxy_; }
    QTableView* view() const { return table_; }
    QComboBox* chipFilter() const { return chip_; }
    // Writes the rows shown to `path` (CSV or XLSX) with the stored field keys, as the Export
    // button does (what `crossroads export --table history` writes); false after a message.
    bool exportTo(const QString& path);
    // Empty: every chip. false when no entry names the chip (the filter is left as it was).
    bool setChipFilter(const QString& chip);

public Q_SLOTS:
    // Re-reads the audit trail, keeping the chip filter when that chip still has entries.
    void reload();

Q_SIGNALS:
    void chipActivated(const QString& name);

private:
    void applyFilter();

    QString storePath_;
    HistoryTableModel* model_ = nullptr;
    QSortFilterProxyModel* proxy_ = nullptr;
    QComboBox* chip_ = nullptr;
    QLabel* count_ = nullptr;
    QTableView* table_ = nullptr;
};

} // namespace crossroads::gui
