// The workbench window: the chip table under the chosen edition (search, status filters,
// sorting) beside a detail pane giving the selected chip's classification, the reasons and the
// source of every figure; under them the chart panel (a dock), which follows the edition and the
// selection, and selects the chip clicked on it.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "data/Bibliography.h"

#include <QMainWindow>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <vector>

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QSplitter;
class QStandardItemModel;
class QTableView;
class QTextBrowser;
class QUndoGroup;

namespace crossroads::data {
class Store;
}

namespace crossroads::gui {

class BenchPanel;
class ChartPanel;
class CompareDialog;
class ChipFilterProxyModel;
class ChipTableModel;
class EditionListModel;
class ScenarioEditor;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    // Reads the chips and editions once; throws what the store throws (data::StoreError).
    // `store` outlives the window (or is left behind by openStore). The store joins the recent
    // stores (File > Recent stores).
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
    QComboBox* destinationSelector() const { return destinationCombo_; }
    QLineEdit* searchField() const { return search_; }
    ChartPanel* chartPanel() const { return chartPanel_; }
    QDockWidget* chartDock() const { return chartDock_; }

    // File > Open store… and Recent stores: switches the window to the store at `path`, opened
    // and checked by data::Store (not an SQLite file, corrupt, another program's database, a
    // schema newer than this Crossroads: refused), and re-reads its chips, editions, scenarios
    // and benchmark results; the title names it and it goes to the top of the recent stores.
    // On failure the window stays on the store it had, the reason in storeError() and, with
    // `tellUser`, in one message box. Refused while a scenario editor, an import or a chip
    // editor is open or a benchmark runs (their work belongs to the current store).
    bool openStore(const QString& path, bool tellUser = true);
    QString storePath() const { return storePath_; }
    QString storeError() const { return storeError_; }
    // The recent stores, most recent first, at most kMaxRecentStores (QSettings
    // "workbench/recentStores"; missing files included: the menu shows them disabled).
    static constexpr int kMaxRecentStores = 8;
    static QStringList recentStores();
    QMenu* recentStoresMenu() const { return recentMenu_; }

    // The compare view (one per window), shown.
    CompareDialog* openCompare();

    // Scenarios (Scenario menu): the editor, shown, on a new scenario extending the current
    // edition or, given a name, on that saved scenario (nullptr when it cannot be opened: the
    // status bar says why); while it is open the table is classified under its draft.
    ScenarioEditor* openScenarioEditor(const QString& scenarioName = {});
    ScenarioEditor* scenarioEditor() const;
    // Removes a saved scenario (asking first when `confirm`); false when it was not removed.
    bool deleteScenario(const QString& name, bool confirm = true);
    // Edit > Undo/Redo act on the active stack of this group (the scenario editor's).
    QUndoGroup* undoGroup() const { return undoGroup_; }

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
    void buildScenarioMenus(QMenu* before);
    // Re-reads the editions (and scenarios) from the store and selects `select` (or the
    // default edition when it is gone).
    void reloadEditions(const QString& select);
    // The table under the editor's draft, its hypothetical chips included; the edition
    // selector shows and selects the draft's entry ("draft: NAME (extends BASE)").
    void showScenarioDraft(const analysis::Edition& draft);
    // The editor closed: its entry leaves the selector; when it was selected, the edition
    // selected before the draft is again (or the default edition), unless `restore` is false
    // (the caller selects).
    void leaveScenarioDraft(bool restore);
    // The selector's row of the draft's entry; -1 when it has none.
    int draftRow() const;
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
    void rememberStore(const QString& path);
    void fillRecentMenu();
    void openStoreWithDialog();
    void refuseStore(const QString& path, const QString& why, bool tellUser);
    void updateTitle();

    data::Store* store_ = nullptr;            // the open store: the constructor's or ownedStore_
    std::unique_ptr<data::Store> ownedStore_; // a store opened by openStore
    BenchPanel* bench_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QString storeError_;
    QString storePath_;
    std::vector<analysis::ChipSpec> storedChips_; // the table adds a scenario's hypothetical ones
    std::vector<data::BibliographyEntry> bibliography_;
    QString defaultEditionId_;
    ChipTableModel* chipModel_ = nullptr;
    ChipFilterProxyModel* proxyModel_ = nullptr;
    EditionListModel* editionModel_ = nullptr;
    // The selector lists editionModel_'s rows, then (while the scenario editor's draft is
    // shown) this model's one row, the draft: rows below editionModel_->rowCount() are
    // editionModel_'s.
    QStandardItemModel* draftEntry_ = nullptr;
    std::optional<analysis::Edition> shownDraft_; // the editor's last draft
    QString editionBeforeDraft_;                  // selected when the draft was first shown

    QComboBox* editionCombo_ = nullptr;
    QComboBox* destinationCombo_ = nullptr;
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
    QPointer<ScenarioEditor> scenarioEditor_;
    QUndoGroup* undoGroup_ = nullptr;
};

} // namespace crossroads::gui
