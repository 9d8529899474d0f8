// The workbench window: the chip table under the chosen edition (search, status filters,
// sorting) beside a detail pane giving the selected chip's classification, the reasons and the
// source of every figure; under them the chart panel (a dock), which follows the edition and the
// selection, and selects the chip clicked on it.
#pragma once

#include "data/Bibliography.h"

#include <QMainWindow>
#include <QString>
#include <vector>

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QSplitter;
class QTableView;
class QTextBrowser;

namespace crossroads::data {
class Store;
}

namespace crossroads::gui {

class ChartPanel;
class CompareDialog;
class ChipFilterProxyModel;
class ChipTableModel;
class EditionListModel;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    // Reads the chips and editions once; throws what the store throws (data::StoreError).
    explicit MainWindow(data::Store& store, QWidget* parent = nullptr);
    ~MainWindow() override;

    QString currentEditionId() const;
    // Empty when no row is selected.
    QString selectedChipName() const;

    ChipTableModel* chipModel() const { return chipModel_; }
    ChipFilterProxyModel* proxyModel() const { return proxyModel_; }
    EditionListModel* editionModel() const { return editionModel_; }
    QTableView* tableView() const { return table_; }
    QTextBrowser* detailPane() const { return detail_; }
    QComboBox* editionSelector() const { return editionCombo_; }
    QLineEdit* searchField() const { return search_; }
    ChartPanel* chartPanel() const { return chartPanel_; }
    QDockWidget* chartDock() const { return chartDock_; }

    // The compare view (one per window), shown.
    CompareDialog* openCompare();

public Q_SLOTS:
    // false when the store has no such edition.
    bool setCurrentEdition(const QString& id);
    // false when the chip is absent or filtered out.
    bool selectChip(const QString& name);

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void buildToolBar();
    void buildCentralWidget();
    void buildStatusBar();
    void buildChartDock(const data::Store& store);
    void buildMenus();
    void applyEdition(int editionRow);
    void onFilterChanged();
    // Keeps the selected chip when it is still shown, else selects the first row, so the
    // detail pane is empty only when the table is.
    void ensureSelection(const QString& preferredName);
    void fitColumns();
    void updateDetail();
    void updateStatus();
    void restoreSettings();
    void fitToScreen();
    void saveSettings() const;

    QString storePath_;
    std::vector<data::BibliographyEntry> bibliography_;
    QString defaultEditionId_;
    ChipTableModel* chipModel_ = nullptr;
    ChipFilterProxyModel* proxyModel_ = nullptr;
    EditionListModel* editionModel_ = nullptr;

    QComboBox* editionCombo_ = nullptr;
    QLineEdit* search_ = nullptr;
    QAction* controlledOnly_ = nullptr;
    QAction* borderlineOnly_ = nullptr;
    QSplitter* splitter_ = nullptr;
    QTableView* table_ = nullptr;
    QTextBrowser* detail_ = nullptr;
    QLabel* storeLabel_ = nullptr;
    QLabel* countLabel_ = nullptr;
    QLabel* editionLabel_ = nullptr;
    ChartPanel* chartPanel_ = nullptr;
    QDockWidget* chartDock_ = nullptr;
    CompareDialog* compareDialog_ = nullptr;
};

} // namespace crossroads::gui
