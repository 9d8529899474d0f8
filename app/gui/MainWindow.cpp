#include "app/gui/MainWindow.h"

#include "app/gui/DestinationChoice.h"
#include "app/gui/ReportDialog.h"

#include "analysis/Countries.h"
#include "analysis/Scenario.h"
#include "app/charts/ChartKind.h"
#include "app/charts/ChipChart.h"
#include "app/gui/BenchPanel.h"
#include "app/gui/ChartPanel.h"
#include "app/gui/ChipEditorDialog.h"
#include "app/gui/CompareDialog.h"
#include "app/gui/HistoryDialog.h"
#include "app/gui/ImportDialog.h"
#include "app/gui/ScenarioEditor.h"
#include "app/gui/TableExportUi.h"
#include "app/gui/models/ChipDetailHtml.h"
#include "app/gui/models/ChipFiguresModel.h"
#include "app/gui/models/ChipFilterProxyModel.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/EditionListModel.h"
#include "app/gui/models/ScenarioDraft.h"
#include "data/Store.h"

#include <QAbstractItemView>
#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QConcatenateTablesProxyModel>
#include <QCoreApplication>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHeaderView>
#include <QIcon>
#include <QItemSelectionModel>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QScrollBar>
#include <QSettings>
#include <QSignalBlocker>
#include <QSize>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTableView>
#include <QTextBrowser>
#include <QToolBar>
#include <QUndoGroup>
#include <QUndoStack>
#include <QVBoxLayout>
#include <algorithm>
#include <memory>

namespace crossroads::gui {

namespace {

// The application's own settings when main() named it, a fixed name otherwise, so the window
// never writes under "Unknown Organization".
std::unique_ptr<QSettings> workbenchSettings() {
    if (QCoreApplication::organizationName().isEmpty())
        return std::make_unique<QSettings>(QStringLiteral("Crossroads"),
                                           QStringLiteral("crossroads"));
    return std::make_unique<QSettings>();
}

// Help > Data sources: every source key of the store's citations with its full citation.
QString dataSourcesHtml(const std::vector<data::BibliographyEntry>& entries,
                        const QPalette& palette) {
    const QString subtle = palette.color(QPalette::PlaceholderText).name();
    QString html = QStringLiteral("<h2>Data sources</h2><p style=\"color:%1\">The short keys of "
                                  "the chips' citations (EPOCH, SA, MULLET, ...), with the full "
                                  "citation, the date and the public address where known.</p>"
                                  "<table cellspacing=\"0\" cellpadding=\"3\">")
                       .arg(subtle);
    for (const data::BibliographyEntry& e : entries) {
        const QString url = QString::fromStdString(e.url).toHtmlEscaped();
        html +=
            QStringLiteral("<tr><td valign=\"top\"><b>%1</b></td><td>%2%3%4</td></tr>")
                .arg(QString::fromStdString(e.key).toHtmlEscaped(),
                     QString::fromStdString(e.citation).toHtmlEscaped(),
                     e.date.empty() ? QString()
                                    : QStringLiteral(" (%1)").arg(
                                          QString::fromStdString(e.date).toHtmlEscaped()),
                     url.isEmpty() ? QString() : QStringLiteral(" <a href=\"%1\">%1</a>").arg(url));
    }
    return html + QStringLiteral("</table>");
}

constexpr int kMaxInitialColumnWidth = 200;
constexpr int kMaxInitialClassWidth = 195;
constexpr int kMaxInitialLicenseWidth = 110;
constexpr int kFlagsRoom = 110;      // the last column's share of the default table width
constexpr int kMinDetailWidth = 380; // below this the figure table wraps every label
constexpr QSize kDefaultWindowSize(1560, 940);

} // namespace

MainWindow::MainWindow(data::Store& store, QWidget* parent)
    : QMainWindow(parent), store_(&store), storePath_(store.path()),
      defaultEditionId_(store.defaultEditionId()), chipModel_(new ChipTableModel(this)),
      proxyModel_(new ChipFilterProxyModel(this)), editionModel_(new EditionListModel(this)) {
    updateTitle();
    setWindowIcon(QIcon(QStringLiteral(":/icons/crossroads.svg")));
    setObjectName(QStringLiteral("workbench"));

    editionModel_->setEditions(store.editions());
    bibliography_ = store.bibliography();
    storedChips_ = store.chips();
    chipModel_->setChips(storedChips_);
    proxyModel_->setSourceModel(chipModel_);

    buildToolBar();
    buildCentralWidget();
    buildStatusBar();
    buildChartDock(store);
    buildMenus();
    // Tools > Benchmark…: the benchmark panel (app/gui/BenchPanel) in a dock tabbed with the
    // chart, hidden until asked for. It classifies the device under the window's edition; a
    // saved result joins the chart's benchmark history.
    {
        auto* bench = bench_ = new BenchPanel(store, this);
        bench->setChips(storedChips_); // a scenario's hypothetical chips are no device
        auto* benchDock = new QDockWidget(QStringLiteral("Benchmark"), this);
        benchDock->setObjectName(QStringLiteral("benchDock"));
        benchDock->setWidget(bench);
        benchDock->setFeatures(chartDock_->features());
        addDockWidget(Qt::BottomDockWidgetArea, benchDock);
        tabifyDockWidget(chartDock_, benchDock);
        benchDock->hide();
        const auto followEdition = [this, bench](int row) {
            if (const auto* edition = editionModel_->editionAt(row))
                bench->setEdition(*edition);
        };
        followEdition(editionCombo_->currentIndex());
        connect(editionCombo_, &QComboBox::currentIndexChanged, bench, followEdition);
        connect(bench, &BenchPanel::resultSaved, this, [this] {
            charts::ChartInputs inputs;
            inputs.chips = storedChips_;
            inputs.editions = editionModel_->editions();
            inputs.edition_id = currentEditionId().toStdString();
            inputs.bench_runs = charts::benchRunsFromRecords(store_->benchmarkResults());
            chartPanel_->setInputs(std::move(inputs));
        });
        auto* tools = new QMenu(QStringLiteral("&Tools"), this);
        QAction* benchmark = tools->addAction(QStringLiteral("&Benchmark…"));
        benchmark->setObjectName(QStringLiteral("benchmarkAction"));
        benchmark->setShortcut(QKeySequence(QStringLiteral("Ctrl+B")));
        connect(benchmark, &QAction::triggered, benchDock, [benchDock] {
            benchDock->show();
            benchDock->raise();
        });
        const QList<QAction*> menus = menuBar()->actions(); // Help stays the last menu
        menuBar()->insertMenu(menus.isEmpty() ? nullptr : menus.last(), tools);
    }

    connect(proxyModel_, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::modelReset, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateStatus);

    restoreSettings();
    rememberStore(storePath_);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildToolBar() {
    auto* bar = addToolBar(QStringLiteral("Workbench"));
    bar->setObjectName(QStringLiteral("workbenchToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);

    auto* editionLabel = new QLabel(QStringLiteral("Edition "), bar);
    bar->addWidget(editionLabel);
    editionCombo_ = new QComboBox(bar);
    editionCombo_->setObjectName(QStringLiteral("editionSelector"));
    draftEntry_ = new QStandardItemModel(0, 1, this);
    auto* choices = new QConcatenateTablesProxyModel(this);
    choices->addSourceModel(editionModel_);
    choices->addSourceModel(draftEntry_);
    editionCombo_->setModel(choices);
    editionCombo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    editionCombo_->setMinimumContentsLength(36);
    editionCombo_->setToolTip(QStringLiteral("The edition of the rules the chips are classified "
                                             "under"));
    editionCombo_->setEnabled(editionModel_->rowCount() > 0);
    // The closed combo elides the long rule titles; the open list shows them whole.
    editionCombo_->view()->setMinimumWidth(editionCombo_->view()->sizeHintForColumn(0) + 24);
    editionLabel->setBuddy(editionCombo_);
    bar->addWidget(editionCombo_);
    connect(editionCombo_, &QComboBox::currentIndexChanged, this, &MainWindow::applyEdition);

    // The licence column's destination: none, the destinations analysts ask about most, then
    // every country by name. The buyer is taken to be headquartered there.
    auto* destinationLabel = new QLabel(QStringLiteral(" Destination "), bar);
    bar->addWidget(destinationLabel);
    destinationCombo_ = new QComboBox(bar);
    destinationCombo_->setObjectName(QStringLiteral("destinationSelector"));
    destinationCombo_->setToolTip(QStringLiteral("Where the chips would be exported: the License "
                                                 "column says whether each needs a licence"));
    fillDestinationChoices(destinationCombo_);
    destinationLabel->setBuddy(destinationCombo_);
    bar->addWidget(destinationCombo_);
    {
        const QString saved = workbenchSettings()->value(QStringLiteral("destination")).toString();
        const int at = saved.isEmpty() ? 0 : destinationCombo_->findData(saved);
        destinationCombo_->setCurrentIndex(std::max(at, 0));
        if (at > 0)
            chipModel_->setDestination(saved);
    }
    connect(destinationCombo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        const QString code = destinationCombo_->itemData(index).toString();
        chipModel_->setDestination(code); // codes come from analysis::countryCodes()
        workbenchSettings()->setValue(QStringLiteral("destination"), code);
        updateDetail();
    });

    bar->addSeparator();
    search_ = new QLineEdit(bar);
    search_->setObjectName(QStringLiteral("searchField"));
    search_->setPlaceholderText(QStringLiteral("Search name, vendor or class"));
    search_->setClearButtonEnabled(true);
    search_->setMinimumWidth(260);
    search_->setMaximumWidth(360);
    bar->addWidget(search_);
    connect(search_, &QLineEdit::textChanged, this, [this](const QString& text) {
        proxyModel_->setSearchText(text);
        onFilterChanged();
    });
    auto* find = new QAction(QStringLiteral("Find"), this);
    find->setShortcut(QKeySequence::Find);
    connect(find, &QAction::triggered, this, [this] {
        search_->setFocus(Qt::ShortcutFocusReason);
        search_->selectAll();
    });
    addAction(find);

    bar->addSeparator();
    controlledOnly_ = bar->addAction(QStringLiteral("Controlled only"));
    controlledOnly_->setObjectName(QStringLiteral("controlledOnly"));
    controlledOnly_->setCheckable(true);
    controlledOnly_->setToolTip(QStringLiteral("Show only chips controlled under this edition"));
    connect(controlledOnly_, &QAction::toggled, this, [this](bool on) {
        proxyModel_->setControlledOnly(on);
        onFilterChanged();
    });
    borderlineOnly_ = bar->addAction(QStringLiteral("Borderline only"));
    borderlineOnly_->setObjectName(QStringLiteral("borderlineOnly"));
    borderlineOnly_->setCheckable(true);
    borderlineOnly_->setToolTip(
        QStringLiteral("Show only chips whose paragraph a 2% change of one figure would change"));
    connect(borderlineOnly_, &QAction::toggled, this, [this](bool on) {
        proxyModel_->setBorderlineOnly(on);
        onFilterChanged();
    });
}

void MainWindow::buildCentralWidget() {
    splitter_ = new QSplitter(Qt::Horizontal, this);
    splitter_->setObjectName(QStringLiteral("workbenchSplitter"));
    splitter_->setChildrenCollapsible(false);

    table_ = new QTableView(splitter_);
    table_->setObjectName(QStringLiteral("chipTable"));
    table_->setModel(proxyModel_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->setTextElideMode(Qt::ElideRight);
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setHighlightSections(false);
    // No indicator: the store's order (vendor, then name) until the analyst picks a column.
    table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    table_->setSortingEnabled(true);
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateDetail);

    detail_ = new QTextBrowser(splitter_);
    detail_->setObjectName(QStringLiteral("detailPane"));
    detail_->setOpenExternalLinks(true);
    detail_->setMinimumWidth(280);

    splitter_->addWidget(table_);
    splitter_->addWidget(detail_);
    splitter_->setStretchFactor(0, 5);
    splitter_->setStretchFactor(1, 2);
    setCentralWidget(splitter_);
}

void MainWindow::buildStatusBar() {
    storeLabel_ = new QLabel(this);
    storeLabel_->setObjectName(QStringLiteral("storeLabel"));
    storeLabel_->setText(QStringLiteral("Store: %1").arg(storePath_));
    storeLabel_->setToolTip(storePath_);
    storeLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    countLabel_ = new QLabel(this);
    countLabel_->setObjectName(QStringLiteral("countLabel"));
    editionLabel_ = new QLabel(this);
    editionLabel_->setObjectName(QStringLiteral("editionLabel"));
    editionLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addWidget(storeLabel_, 1);
    statusBar()->addPermanentWidget(countLabel_);
    statusBar()->addPermanentWidget(editionLabel_);
}

void MainWindow::buildChartDock(const data::Store& store) {
    chartPanel_ = new ChartPanel(this);
    chartDock_ = new QDockWidget(QStringLiteral("Chart"), this);
    chartDock_->setObjectName(QStringLiteral("chartDock"));
    chartDock_->setWidget(chartPanel_);
    chartDock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                            QDockWidget::DockWidgetClosable);
    addDockWidget(Qt::BottomDockWidgetArea, chartDock_);
    resizeDocks({chartDock_}, {kDefaultWindowSize.height() * 11 / 20}, Qt::Vertical);
    charts::ChartInputs inputs;
    inputs.chips = chipModel_->chips(); // read from the store once, in the constructor
    inputs.editions = editionModel_->editions();
    inputs.edition_id = defaultEditionId_.toStdString();
    inputs.bench_runs = charts::benchRunsFromRecords(store.benchmarkResults());
    chartPanel_->setInputs(std::move(inputs));
    connect(chartPanel_, &ChartPanel::chipClicked, this, [this](const QString& name) {
        if (!selectChip(name))
            statusBar()->showMessage(
                QStringLiteral("%1 is filtered out of the table: clear the search or the "
                               "filters to see its details")
                    .arg(name),
                6000);
    });
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
    // The table as shown (search, filters and order included), and the same chips' figures.
    QAction* exportTable = addExportToContextMenu(table_, QStringLiteral("classification"),
                                                  QStringLiteral("Classification"));
    exportTable->setText(QStringLiteral("Export &table…"));
    exportTable->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
    file->addAction(exportTable);
    QAction* exportFigures = file->addAction(QStringLiteral("Export chip &figures…"));
    exportFigures->setObjectName(QStringLiteral("exportFiguresAction"));
    exportFigures->setToolTip(QStringLiteral("Save the figures of the chips shown as CSV or XLSX"));
    connect(exportFigures, &QAction::triggered, this, [this] {
        ChipFiguresModel figures;
        std::vector<analysis::ChipSpec> shown;
        for (int row = 0; row < proxyModel_->rowCount(); ++row)
            if (const auto* chip =
                    chipModel_->chipAt(proxyModel_->mapToSource(proxyModel_->index(row, 0)).row()))
                shown.push_back(*chip);
        figures.setChips(std::move(shown));
        exportTableWithDialog(this, figures, QStringLiteral("chips"), QStringLiteral("Chips"));
    });
    QAction* exportReport = file->addAction(QStringLiteral("Export &report…"));
    exportReport->setObjectName(QStringLiteral("exportReportAction"));
    exportReport->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+R")));
    exportReport->setToolTip(QStringLiteral("A comparison report of two editions as PDF or HTML "
                                            "(crossroads report)"));
    connect(exportReport, &QAction::triggered, this, [this] {
        if (!store_)
            return;
        report::ReportInputs inputs;
        try {
            inputs = report::reportInputsFromStore(*store_);
        } catch (const std::exception& e) {
            QMessageBox::warning(
                this, QStringLiteral("Export report"),
                QStringLiteral("Cannot read the store: %1").arg(QString::fromStdString(e.what())));
            return;
        }
        ReportDialog dialog(std::move(inputs), currentEditionId(),
                            destinationCombo_->currentData().toString(), this);
        if (dialog.exec() == QDialog::Accepted)
            statusBar()->showMessage(
                QStringLiteral("Wrote %1").arg(dialog.pathEdit()->text().trimmed()), 8000);
    });
    QAction* exportChart = file->addAction(QStringLiteral("Export &chart…"));
    // Open store… and Recent stores head the menu (Import chips… goes in below them).
    QAction* openStore = new QAction(QStringLiteral("&Open store…"), this);
    openStore->setObjectName(QStringLiteral("openStoreAction"));
    openStore->setShortcut(QKeySequence::Open);
    openStore->setToolTip(QStringLiteral("Switch the window to another Crossroads store"));
    connect(openStore, &QAction::triggered, this, &MainWindow::openStoreWithDialog);
    recentMenu_ = new QMenu(QStringLiteral("&Recent stores"), this);
    recentMenu_->setObjectName(QStringLiteral("recentStoresMenu"));
    connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    file->insertAction(file->actions().value(0), openStore);
    file->insertMenu(file->actions().value(1), recentMenu_);
    file->insertSeparator(file->actions().value(2));
    exportChart->setObjectName(QStringLiteral("exportChartAction"));
    exportChart->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+E")));
    connect(exportChart, &QAction::triggered, chartPanel_, &ChartPanel::exportWithDialog);
    file->addSeparator();
    QAction* quit = file->addAction(QStringLiteral("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
    QAction* toggle = chartDock_->toggleViewAction();
    toggle->setText(QStringLiteral("Chart &panel"));
    toggle->setShortcut(QKeySequence(QStringLiteral("Ctrl+G")));
    view->addAction(toggle);
    QAction* compare = view->addAction(QStringLiteral("&Compare editions…"));
    compare->setObjectName(QStringLiteral("compareAction"));
    compare->setShortcut(QKeySequence(QStringLiteral("Ctrl+K")));
    connect(compare, &QAction::triggered, this, [this] { openCompare(); });
    QMenu* kinds = view->addMenu(QStringLiteral("Chart &kind"));
    int number = 1;
    for (charts::ChartKind k : charts::allChartKinds()) {
        QAction* a = kinds->addAction(charts::chartKindTitle(k));
        a->setShortcut(QKeySequence(QStringLiteral("Alt+%1").arg(number++)));
        connect(a, &QAction::triggered, this, [this, k] {
            chartDock_->show();
            chartPanel_->setKind(k);
        });
    }

    buildScenarioMenus(view);

    // The store's own dialogs (app/gui: ImportDialog, HistoryDialog, ChipEditorDialog), each on
    // a connection of its own: File > Import…, View > History…, Edit > Edit chip… (and a double
    // click on a row). After an import or an edit the chips are read again.
    {
        const auto reloadChips = [this](const QString& select) {
            try {
                data::Store store(storePath_);
                storedChips_ = store.chips();
                charts::ChartInputs inputs;
                inputs.chips = storedChips_;
                inputs.editions = editionModel_->editions();
                inputs.edition_id = currentEditionId().toStdString();
                inputs.bench_runs = charts::benchRunsFromRecords(store.benchmarkResults());
                chartPanel_->setInputs(std::move(inputs));
            } catch (const std::exception& e) {
                statusBar()->showMessage(toQString(e.what()), 8000);
                return;
            }
            if (auto* bench = findChild<BenchPanel*>())
                bench->setChips(storedChips_);
            if (compareDialog_)
                compareDialog_->setChips(storedChips_);
            if (auto* history = findChild<HistoryDialog*>())
                history->reload();
            applyEdition(editionCombo_->currentIndex());
            // An open scenario editor takes the chips too; its draft (re-announced) keeps the
            // table and the chart.
            if (scenarioEditor_)
                scenarioEditor_->setStoredChips(storedChips_);
            if (!select.isEmpty())
                selectChip(select);
        };
        QAction* import = new QAction(QStringLiteral("&Import chips…"), this);
        import->setObjectName(QStringLiteral("importAction"));
        import->setShortcut(QKeySequence(QStringLiteral("Ctrl+I")));
        // After Open store…, Recent stores and their separator.
        file->insertAction(file->actions().value(3), import);
        file->insertSeparator(file->actions().value(4));
        connect(import, &QAction::triggered, this, [this, reloadChips] {
            auto* dialog = new ImportDialog(storePath_, this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            connect(dialog, &ImportDialog::importedChips, this,
                    [this, reloadChips](const QString& path, const QString& summary) {
                        reloadChips(selectedChipName());
                        statusBar()->showMessage(
                            QStringLiteral("Imported %1: %2").arg(path, summary), 10000);
                    });
            dialog->show();
        });

        QAction* history = new QAction(QStringLiteral("&History…"), this);
        history->setObjectName(QStringLiteral("historyAction"));
        history->setShortcut(QKeySequence(QStringLiteral("Ctrl+H")));
        view->insertAction(kinds->menuAction(), history);
        connect(history, &QAction::triggered, this, [this] {
            auto* dialog = findChild<HistoryDialog*>();
            if (!dialog) {
                dialog = new HistoryDialog(storePath_, this);
                connect(dialog, &HistoryDialog::chipActivated, this, [this](const QString& name) {
                    if (!selectChip(name))
                        statusBar()->showMessage(
                            QStringLiteral("%1 is filtered out of the table or no longer "
                                           "stored")
                                .arg(name),
                            6000);
                });
            } else {
                dialog->reload();
            }
            dialog->show();
            dialog->raise();
        });

        QMenu* edit = nullptr;
        for (QAction* a : menuBar()->actions())
            if (a->menu() && a->text() == QStringLiteral("&Edit"))
                edit = a->menu();
        if (!edit) {
            edit = new QMenu(QStringLiteral("&Edit"), this);
            menuBar()->insertMenu(view->menuAction(), edit);
        } else {
            edit->addSeparator();
        }
        QAction* editChip = edit->addAction(QStringLiteral("Edit &chip…"));
        editChip->setObjectName(QStringLiteral("editChipAction"));
        editChip->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+C")));
        const auto openEditor = [this, reloadChips] {
            const QString name = selectedChipName();
            const auto stored =
                std::find_if(storedChips_.begin(), storedChips_.end(), [&](const auto& c) {
                    return toQString(c.name).compare(name, Qt::CaseInsensitive) == 0;
                });
            if (name.isEmpty() || stored == storedChips_.end()) {
                statusBar()->showMessage(
                    name.isEmpty() ? QStringLiteral("Select a chip to edit")
                                   : QStringLiteral("%1 is a scenario's hypothetical chip: edit "
                                                    "it in the scenario editor")
                                         .arg(name),
                    6000);
                return;
            }
            auto* dialog = new ChipEditorDialog(storePath_, *stored, this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            dialog->setWindowModality(Qt::WindowModal);
            connect(dialog, &ChipEditorDialog::saved, this,
                    [this, reloadChips](const analysis::ChipSpec& chip) {
                        reloadChips(toQString(chip.name));
                        statusBar()->showMessage(
                            QStringLiteral("Saved %1 (History lists the change)")
                                .arg(toQString(chip.name)),
                            8000);
                    });
            dialog->show();
        };
        connect(editChip, &QAction::triggered, this, openEditor);
        connect(table_, &QTableView::doubleClicked, this, openEditor);
    }

    QMenu* help = menuBar()->addMenu(QStringLiteral("&Help"));
    QAction* sources = help->addAction(QStringLiteral("&Data sources"));
    sources->setObjectName(QStringLiteral("dataSourcesAction"));
    connect(sources, &QAction::triggered, this, [this] {
        auto* dialog = new QDialog(this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setWindowTitle(QStringLiteral("Data sources"));
        auto* layout = new QVBoxLayout(dialog);
        auto* text = new QTextBrowser(dialog);
        text->setObjectName(QStringLiteral("dataSources"));
        text->setOpenExternalLinks(true);
        text->setHtml(dataSourcesHtml(bibliography_, palette()));
        layout->addWidget(text);
        dialog->resize(900, 640);
        dialog->show();
    });
    QAction* about = help->addAction(QStringLiteral("&About Crossroads"));
    connect(about, &QAction::triggered, this, [this] {
        QMessageBox::about(
            this, QStringLiteral("About Crossroads"),
            QStringLiteral(
                "<p><b>Crossroads %1</b></p><p>What the export rules make of an AI chip, "
                "and what the chip can do for AI.</p><p>Store: %2<br>%3 chips, %4 "
                "editions, %5 cited sources.</p>")
                .arg(QCoreApplication::applicationVersion(), storePath_.toHtmlEscaped())
                .arg(chipModel_->rowCount())
                .arg(editionModel_->rowCount())
                .arg(bibliography_.size()));
    });
}

CompareDialog* MainWindow::openCompare() {
    if (!compareDialog_) {
        compareDialog_ = new CompareDialog(storedChips_, editionModel_, this);
        connect(compareDialog_, &CompareDialog::chipActivated, this, [this](const QString& name) {
            if (!selectChip(name))
                statusBar()->showMessage(
                    QStringLiteral("%1 is filtered out of the table").arg(name), 6000);
        });
    }
    compareDialog_->show();
    compareDialog_->raise();
    return compareDialog_;
}

QString MainWindow::currentEditionId() const {
    const auto& edition = chipModel_->edition();
    return edition ? toQString(edition->id) : QString();
}

QString MainWindow::selectedChipName() const {
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return {};
    return rows.first().data(ChipTableModel::ChipNameRole).toString();
}

bool MainWindow::setCurrentEdition(const QString& id) {
    const int row = editionModel_->rowOfEdition(id);
    if (row < 0)
        return false;
    if (editionCombo_->currentIndex() == row)
        applyEdition(row);
    else
        editionCombo_->setCurrentIndex(row); // applies through currentIndexChanged
    return true;
}

bool MainWindow::selectChip(const QString& name) {
    const int sourceRow = chipModel_->rowOfChip(name);
    if (sourceRow < 0)
        return false;
    const QModelIndex index = proxyModel_->mapFromSource(chipModel_->index(sourceRow, 0));
    if (!index.isValid())
        return false;
    table_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    table_->scrollTo(index);
    return true;
}

void MainWindow::applyEdition(int editionRow) {
    if (editionRow >= 0 && editionRow == draftRow()) { // the draft chosen again
        if (shownDraft_)
            showScenarioDraft(analysis::Edition(*shownDraft_));
        return;
    }
    const auto* edition = editionModel_->editionAt(editionRow);
    if (!edition)
        return;
    const QString selected = selectedChipName();
    // A scenario's hypothetical chips join the stored ones (analysis/Scenario.h).
    chipModel_->setChipsAndEdition(analysis::chipsWithHypothetical(storedChips_, *edition),
                                   *edition);
    if (chartPanel_)
        chartPanel_->setEdition(toQString(edition->id));
    fitColumns();
    ensureSelection(selected);
    updateStatus();
    updateDetail();
}

void MainWindow::onFilterChanged() {
    ensureSelection(selectedChipName());
    updateStatus();
}

void MainWindow::ensureSelection(const QString& preferredName) {
    if (!preferredName.isEmpty() && selectChip(preferredName))
        return;
    if (proxyModel_->rowCount() == 0) {
        table_->selectionModel()->clearSelection();
        updateDetail();
        return;
    }
    const QModelIndex first = proxyModel_->index(0, 0);
    table_->selectionModel()->setCurrentIndex(first, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    table_->scrollTo(first);
}

void MainWindow::fitColumns() {
    auto* header = table_->horizontalHeader();
    table_->resizeColumnsToContents();
    // Long names, classes and flags would push the figures off screen; tooltips hold the whole
    // text and the analyst can widen a column.
    for (int column = 0; column < ChipTableModel::ColumnCount; ++column) {
        int limit = kMaxInitialColumnWidth;
        if (column == ChipTableModel::ClassColumn)
            limit = kMaxInitialClassWidth;
        else if (column == ChipTableModel::LicenseExceptionsColumn)
            limit = kMaxInitialLicenseWidth;
        else if (column == ChipTableModel::FlagsColumn)
            limit = 0; // the last section stretches over whatever width is left
        // Never narrower than the header's own text.
        limit = std::max(limit, header->sectionSizeHint(column));
        if (header->sectionSize(column) > limit)
            header->resizeSection(column, limit);
    }
}

void MainWindow::updateDetail() {
    const QPalette palette = detail_->palette();
    if (chartPanel_)
        chartPanel_->selectChip(selectedChipName());
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        detail_->setHtml(emptyDetailHtml(palette));
        return;
    }
    const int sourceRow = proxyModel_->mapToSource(rows.first()).row();
    const auto* chip = chipModel_->chipAt(sourceRow);
    const auto* result = chipModel_->resultAt(sourceRow);
    const auto& edition = chipModel_->edition();
    if (!chip || !result || !edition) {
        detail_->setHtml(emptyDetailHtml(palette));
        return;
    }
    const CitationResolver resolve = [this](std::string_view citation) {
        std::vector<SourceReference> out;
        for (const data::BibliographyEntry& e : data::citedEntries(bibliography_, citation))
            out.push_back({e.key, e.citation, e.url, e.date});
        return out;
    };
    detail_->setHtml(chipDetailHtml(*chip, *result, *edition, palette, resolve,
                                    chipModel_->licenseAt(sourceRow)));
}

void MainWindow::updateStatus() {
    const int total = chipModel_->rowCount();
    const int shown = proxyModel_->rowCount();
    countLabel_->setText(shown == total ? QStringLiteral("%1 chips").arg(total)
                                        : QStringLiteral("%1 of %2 chips").arg(shown).arg(total));
    const auto& edition = chipModel_->edition();
    if (!edition) {
        editionLabel_->setText(QStringLiteral("No edition in the store"));
        editionLabel_->setToolTip({});
        return;
    }
    // The status note can run to several sentences: the label keeps to one line, the tooltip
    // has it all.
    QStringList parts{toQString(edition->citation.text)};
    if (!edition->effective.empty())
        parts << QStringLiteral("effective %1").arg(toQString(edition->effective));
    if (!edition->status.empty())
        parts << toQString(edition->status);
    editionLabel_->setText(QStringLiteral("Edition %1: %2")
                               .arg(toQString(edition->id), parts.join(QStringLiteral(", "))));
    editionLabel_->setToolTip(
        QStringLiteral("%1\n%2").arg(toQString(edition->title), editionCitationText(*edition)));
}

void MainWindow::restoreSettings() {
    auto settings = workbenchSettings();
    settings->beginGroup(QStringLiteral("workbench"));
    if (!restoreGeometry(settings->value(QStringLiteral("geometry")).toByteArray()))
        resize(kDefaultWindowSize);
    fitToScreen();
    restoreState(settings->value(QStringLiteral("windowState")).toByteArray());
    const QByteArray splitterState = settings->value(QStringLiteral("splitter")).toByteArray();
    QString editionId = settings->value(QStringLiteral("edition")).toString();
    settings->endGroup();

    if (editionModel_->rowOfEdition(editionId) < 0)
        editionId = defaultEditionId_;
    int row = editionModel_->rowOfEdition(editionId);
    if (row < 0)
        row = editionModel_->rowCount() - 1; // the newest: editions come by effective date
    if (row >= 0) {
        setCurrentEdition(toQString(editionModel_->editionAt(row)->id));
    } else {
        fitColumns();
        ensureSelection({});
        updateStatus();
        updateDetail();
    }

    // After the columns are fitted: by default the table gets the width its columns need, and
    // the detail pane the rest.
    if (!splitter_->restoreState(splitterState)) {
        const int tableWidth = table_->horizontalHeader()->length() + kFlagsRoom +
                               table_->verticalScrollBar()->sizeHint().width() +
                               2 * table_->frameWidth();
        const int detailWidth = std::max(kMinDetailWidth, width() - tableWidth);
        splitter_->setSizes({tableWidth, detailWidth});
    }
}

void MainWindow::fitToScreen() {
    // The default size and a restored one both give way to the screen the window opens on
    // (a 1560 x 940 default is 2340 x 1410 device pixels at a scale factor of 1.5).
    const QScreen* on = screen() ? screen() : QGuiApplication::primaryScreen();
    if (!on)
        return;
    const QRect available = on->availableGeometry();
    const QSize room(available.width() * 19 / 20, available.height() * 19 / 20);
    const QSize fitted = size().boundedTo(room);
    if (fitted != size())
        resize(fitted);
    if (!available.contains(frameGeometry()))
        move(available.topLeft() +
             QPoint((available.width() - width()) / 2, (available.height() - height()) / 2));
}

void MainWindow::saveSettings() const {
    auto settings = workbenchSettings();
    settings->beginGroup(QStringLiteral("workbench"));
    settings->setValue(QStringLiteral("geometry"), saveGeometry());
    settings->setValue(QStringLiteral("windowState"), saveState());
    settings->setValue(QStringLiteral("splitter"), splitter_->saveState());
    settings->setValue(QStringLiteral("edition"), currentEditionId());
    settings->endGroup();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::changeEvent(QEvent* event) {
    QMainWindow::changeEvent(event);
    // The detail HTML bakes in palette colours: redo it when the theme changes.
    if (event->type() == QEvent::PaletteChange && detail_)
        updateDetail();
}

// ---- scenarios --------------------------------------------------------------------------------

void MainWindow::buildScenarioMenus(QMenu* before) {
    undoGroup_ = new QUndoGroup(this);
    // Edit > Undo/Redo follow the scenario editor's stack (any editor may join the group).
    QMenu* edit = nullptr;
    for (QAction* a : menuBar()->actions())
        if (a->menu() && a->text() == QStringLiteral("&Edit"))
            edit = a->menu();
    if (!edit) {
        edit = new QMenu(QStringLiteral("&Edit"), this);
        menuBar()->insertMenu(before ? before->menuAction() : nullptr, edit);
    } else {
        edit->addSeparator();
    }
    QAction* undo = undoGroup_->createUndoAction(this, QStringLiteral("&Undo"));
    undo->setObjectName(QStringLiteral("undoAction"));
    undo->setShortcuts(QKeySequence::Undo);
    QAction* redo = undoGroup_->createRedoAction(this, QStringLiteral("&Redo"));
    redo->setObjectName(QStringLiteral("redoAction"));
    redo->setShortcuts({QKeySequence(Qt::ControlModifier | Qt::ShiftModifier | Qt::Key_Z),
                        QKeySequence(QKeySequence::Redo)});
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* scenario = menuBar()->addMenu(QStringLiteral("&Scenario"));
    scenario->setObjectName(QStringLiteral("scenarioMenu"));
    QAction* create = scenario->addAction(QStringLiteral("&New scenario…"));
    create->setObjectName(QStringLiteral("newScenarioAction"));
    create->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+N")));
    connect(create, &QAction::triggered, this, [this] { openScenarioEditor(); });
    QAction* change = scenario->addAction(QStringLiteral("&Edit scenario…"));
    change->setObjectName(QStringLiteral("editScenarioAction"));
    connect(change, &QAction::triggered, this, [this] { openScenarioEditor(currentEditionId()); });
    QAction* remove = scenario->addAction(QStringLiteral("&Delete scenario"));
    remove->setObjectName(QStringLiteral("deleteScenarioAction"));
    connect(remove, &QAction::triggered, this, [this] { deleteScenario(currentEditionId()); });
    // Edit and Delete act on the scenario chosen in the edition selector.
    connect(scenario, &QMenu::aboutToShow, this, [this, change, remove] {
        const auto* e = editionModel_->editionAt(editionCombo_->currentIndex());
        const bool isScenario = e && e->scenario;
        // The draft's entry: Edit brings its editor back.
        const bool isDraft = draftRow() >= 0 && editionCombo_->currentIndex() == draftRow();
        change->setEnabled(isScenario || isDraft);
        remove->setEnabled(isScenario);
        const QString what = isScenario ? QStringLiteral(" %1").arg(toQString(e->id)) : QString();
        change->setText(QStringLiteral("&Edit scenario%1…").arg(what));
        remove->setText(QStringLiteral("&Delete scenario%1").arg(what));
    });
}

ScenarioEditor* MainWindow::scenarioEditor() const {
    return scenarioEditor_;
}

ScenarioEditor* MainWindow::openScenarioEditor(const QString& scenarioName) {
    if (scenarioEditor_) {
        scenarioEditor_->show();
        scenarioEditor_->raise();
        scenarioEditor_->activateWindow();
        return scenarioEditor_;
    }
    std::optional<analysis::Scenario> saved;
    if (!scenarioName.isEmpty()) {
        try {
            data::Store store(storePath_);
            if (auto record = store.scenario(scenarioName))
                saved = record->scenario;
        } catch (const std::exception& e) {
            statusBar()->showMessage(toQString(e.what()), 8000);
            return nullptr;
        }
        if (!saved) {
            statusBar()->showMessage(QStringLiteral("%1 is not a saved scenario").arg(scenarioName),
                                     6000);
            return nullptr;
        }
    }
    auto* editor = new ScenarioEditor(storePath_, editionModel_->editions(), storedChips_, this);
    editor->setAttribute(Qt::WA_DeleteOnClose);
    const bool opened = saved ? editor->edit(*saved)
                              : editor->startNew(currentEditionId().isEmpty() ? defaultEditionId_
                                                                              : currentEditionId());
    if (!opened) {
        statusBar()->showMessage(editor->statusLabel()->text(), 8000);
        delete editor;
        return nullptr;
    }
    scenarioEditor_ = editor;
    undoGroup_->addStack(editor->draft()->undoStack());
    undoGroup_->setActiveStack(editor->draft()->undoStack());
    connect(editor, &ScenarioEditor::draftChanged, this, &MainWindow::showScenarioDraft);
    connect(editor, &ScenarioEditor::saved, this, [this](const QString& name) {
        leaveScenarioDraft(false);
        reloadEditions(name); // selects the saved scenario
    });
    connect(editor, &QDialog::rejected, this, [this] {
        leaveScenarioDraft(true); // the table leaves the draft
    });
    editor->show();
    editor->raise();
    if (auto e = editor->draft()->resolve())
        showScenarioDraft(*e);
    return editor;
}

bool MainWindow::deleteScenario(const QString& name, bool confirm) {
    const auto* e = editionModel_->editionAt(editionModel_->rowOfEdition(name));
    if (!e || !e->scenario) {
        statusBar()->showMessage(QStringLiteral("%1 is not a saved scenario").arg(name), 6000);
        return false;
    }
    if (confirm &&
        QMessageBox::question(
            this, QStringLiteral("Delete scenario"),
            QStringLiteral("Delete scenario %1 from the store? Scenarios that extend "
                           "it will no longer open.")
                .arg(name),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
        return false;
    try {
        data::Store store(storePath_);
        if (!store.removeScenario(name))
            return false;
    } catch (const std::exception& ex) {
        statusBar()->showMessage(toQString(ex.what()), 8000);
        return false;
    }
    reloadEditions(toQString(e->base));
    statusBar()->showMessage(QStringLiteral("Deleted scenario %1").arg(name), 6000);
    return true;
}

void MainWindow::reloadEditions(const QString& select) {
    try {
        data::Store store(storePath_);
        editionModel_->setEditions(store.editions());
        charts::ChartInputs inputs;
        inputs.chips = storedChips_;
        inputs.editions = editionModel_->editions();
        inputs.edition_id = defaultEditionId_.toStdString();
        inputs.bench_runs = charts::benchRunsFromRecords(store.benchmarkResults());
        chartPanel_->setInputs(std::move(inputs));
    } catch (const std::exception& e) {
        statusBar()->showMessage(toQString(e.what()), 8000);
        return;
    }
    editionCombo_->setEnabled(editionModel_->rowCount() > 0);
    editionCombo_->view()->setMinimumWidth(editionCombo_->view()->sizeHintForColumn(0) + 24);
    if (!setCurrentEdition(select) && !setCurrentEdition(defaultEditionId_))
        applyEdition(editionCombo_->currentIndex());
}

int MainWindow::draftRow() const {
    return draftEntry_->rowCount() > 0 ? editionModel_->rowCount() : -1;
}

void MainWindow::leaveScenarioDraft(bool restore) {
    const bool wasShown = editionCombo_->currentIndex() == draftRow() && draftRow() >= 0;
    shownDraft_.reset();
    {
        // Leaving the selected draft row would select a neighbour and apply it: chosen below.
        const QSignalBlocker block(editionCombo_);
        draftEntry_->setRowCount(0);
    }
    if (!restore)
        return;
    if (wasShown &&
        (setCurrentEdition(editionBeforeDraft_) || setCurrentEdition(defaultEditionId_)))
        return;
    applyEdition(editionCombo_->currentIndex()); // another edition was chosen meanwhile
}

void MainWindow::showScenarioDraft(const analysis::Edition& draft) {
    shownDraft_ = draft;
    // The selector says what the table shows: the draft's entry, added at the end and selected
    // without applying anything (the table and the chart get the draft here).
    {
        const QSignalBlocker block(editionCombo_);
        if (draftRow() < 0) {
            const auto* before = editionModel_->editionAt(editionCombo_->currentIndex());
            editionBeforeDraft_ = before ? toQString(before->id) : QString();
            draftEntry_->appendRow(new QStandardItem());
        }
        QStandardItem* entry = draftEntry_->item(0);
        const QString text = QStringLiteral("draft: %1 (extends %2)")
                                 .arg(toQString(draft.id), toQString(draft.base));
        entry->setText(text);
        entry->setToolTip(QStringLiteral("The scenario editor's unsaved draft: the table and "
                                         "the chart show it"));
        entry->setData(toQString(draft.id), EditionListModel::EditionIdRole);
        entry->setData(QStringLiteral("draft"), EditionListModel::StatusRole);
        editionCombo_->setCurrentIndex(draftRow());
    }
    const QString selected = selectedChipName();
    auto chips = analysis::chipsWithHypothetical(storedChips_, draft);
    // The chart follows the draft as the table does.
    if (chartPanel_)
        chartPanel_->showDraft(draft, chips);
    chipModel_->setChipsAndEdition(std::move(chips), draft);
    ensureSelection(selected);
    updateStatus();
    updateDetail();
}

// ---- stores -----------------------------------------------------------------------------------

namespace {

const QString kRecentKey = QStringLiteral("workbench/recentStores");

// One spelling per file, so that a store opened twice is listed once.
QString storeKey(const QString& path) {
    const QFileInfo info(path);
    const QString canonical = info.canonicalFilePath();
    return canonical.isEmpty() ? info.absoluteFilePath() : canonical;
}

} // namespace

QStringList MainWindow::recentStores() {
    QStringList list = workbenchSettings()->value(kRecentKey).toStringList();
    list.removeAll(QString());
    while (list.size() > kMaxRecentStores)
        list.removeLast();
    return list;
}

void MainWindow::rememberStore(const QString& path) {
    const QString key = storeKey(path);
    QStringList list = recentStores();
    list.removeIf([&](const QString& p) { return storeKey(p) == key; });
    list.prepend(key);
    while (list.size() > kMaxRecentStores)
        list.removeLast();
    workbenchSettings()->setValue(kRecentKey, list);
}

void MainWindow::fillRecentMenu() {
    recentMenu_->clear();
    const QStringList list = recentStores();
    const QString current = storeKey(storePath_);
    int number = 1;
    for (const QString& path : list) {
        const bool present = QFileInfo(path).isFile();
        QString text = QStringLiteral("&%1 %2").arg(number++).arg(QFileInfo(path).fileName());
        if (!present)
            text += QStringLiteral(" (missing)");
        QAction* a = recentMenu_->addAction(text);
        a->setData(path);
        a->setToolTip(present ? path : QStringLiteral("%1 is no longer there").arg(path));
        a->setStatusTip(a->toolTip());
        a->setEnabled(present);
        a->setCheckable(true);
        a->setChecked(storeKey(path) == current);
        connect(a, &QAction::triggered, this, [this, path] {
            if (!QFileInfo(path).isFile()) {
                // Gone since the menu opened: say so and drop it.
                QStringList kept = recentStores();
                kept.removeAll(path);
                workbenchSettings()->setValue(kRecentKey, kept);
                refuseStore(path,
                            QStringLiteral("the file is no longer there; it is dropped from "
                                           "the recent stores"),
                            true);
                return;
            }
            openStore(path);
        });
    }
    recentMenu_->setToolTipsVisible(true);
    if (list.isEmpty())
        recentMenu_->addAction(QStringLiteral("No recent stores"))->setEnabled(false);
    recentMenu_->addSeparator();
    QAction* dropMissing = recentMenu_->addAction(QStringLiteral("Remove &missing stores"));
    dropMissing->setObjectName(QStringLiteral("dropMissingStoresAction"));
    dropMissing->setEnabled(std::any_of(list.begin(), list.end(),
                                        [](const QString& p) { return !QFileInfo(p).isFile(); }));
    connect(dropMissing, &QAction::triggered, this, [] {
        QStringList kept = recentStores();
        kept.removeIf([](const QString& p) { return !QFileInfo(p).isFile(); });
        workbenchSettings()->setValue(kRecentKey, kept);
    });
}

void MainWindow::openStoreWithDialog() {
    auto settings = workbenchSettings();
    const QString folder =
        settings
            ->value(QStringLiteral("workbench/storeFolder"), QFileInfo(storePath_).absolutePath())
            .toString();
    const QString path = QFileDialog::getOpenFileName(
        this, QStringLiteral("Open store"), folder,
        QStringLiteral("Crossroads stores (*.sqlite *.db);;All files (*)"));
    if (path.isEmpty())
        return;
    settings->setValue(QStringLiteral("workbench/storeFolder"), QFileInfo(path).absolutePath());
    openStore(path);
}

void MainWindow::refuseStore(const QString& path, const QString& why, bool tellUser) {
    storeError_ = why;
    statusBar()->showMessage(QStringLiteral("Not opened %1: %2").arg(path, why), 10000);
    if (tellUser)
        QMessageBox::critical(
            this, QStringLiteral("Open store"),
            QStringLiteral("Cannot open the store %1:\n%2\n\nThe window stays "
                           "on %3.")
                .arg(QDir::toNativeSeparators(path), why, QDir::toNativeSeparators(storePath_)));
}

void MainWindow::updateTitle() {
    setWindowFilePath(storePath_);
    setWindowTitle(QStringLiteral("%1 — Crossroads").arg(QFileInfo(storePath_).fileName()));
}

bool MainWindow::openStore(const QString& path, bool tellUser) {
    storeError_.clear();
    // Work in progress belongs to the store it started on.
    QString busy;
    if (scenarioEditor_)
        busy = QStringLiteral("close the scenario editor first (its draft belongs to this store)");
    else if (findChild<ImportDialog*>())
        busy = QStringLiteral("close the import dialog first");
    else if (findChild<ChipEditorDialog*>())
        busy = QStringLiteral("close the chip editor first");
    else if (bench_ && bench_->isRunning())
        busy = QStringLiteral("a benchmark is running: wait for it or cancel it first (its "
                              "result goes to this store)");
    if (!busy.isEmpty()) {
        refuseStore(path, busy, tellUser);
        return false;
    }
    if (!QFileInfo(path).isFile()) {
        // data::Store would make a new store there: Open is for stores that exist.
        refuseStore(path, QStringLiteral("no such file"), tellUser);
        return false;
    }
    // Everything is read before anything in the window changes, so a store that fails half
    // way (a malformed edition, say) leaves the window as it was.
    std::unique_ptr<data::Store> next;
    std::vector<analysis::Edition> editions;
    std::vector<analysis::ChipSpec> chips;
    std::vector<data::BibliographyEntry> bibliography;
    std::vector<data::Store::BenchmarkRecord> results;
    QString defaultId;
    try {
        next = std::make_unique<data::Store>(path);
        editions = next->editions();
        chips = next->chips();
        bibliography = next->bibliography();
        results = next->benchmarkResults();
        defaultId = next->defaultEditionId();
    } catch (const std::exception& e) {
        refuseStore(path, QString::fromUtf8(e.what()), tellUser);
        return false;
    }

    const QString keepEdition = currentEditionId();
    const QString keepChip = selectedChipName();
    std::unique_ptr<data::Store> previous = std::move(ownedStore_);
    ownedStore_ = std::move(next);
    store_ = ownedStore_.get();
    storePath_ = store_->path();
    if (bench_)
        bench_->setStore(*store_); // not running: checked above
    defaultEditionId_ = defaultId;
    bibliography_ = std::move(bibliography);
    storedChips_ = std::move(chips);
    {
        const QSignalBlocker block(editionCombo_); // applied once, below
        editionModel_->setEditions(std::move(editions));
    }
    editionCombo_->setEnabled(editionModel_->rowCount() > 0);
    editionCombo_->view()->setMinimumWidth(editionCombo_->view()->sizeHintForColumn(0) + 24);
    charts::ChartInputs inputs;
    inputs.chips = storedChips_;
    inputs.editions = editionModel_->editions();
    inputs.edition_id = defaultEditionId_.toStdString();
    inputs.bench_runs = charts::benchRunsFromRecords(results);
    chartPanel_->setInputs(std::move(inputs));
    if (bench_)
        bench_->setChips(storedChips_);
    if (compareDialog_)
        compareDialog_->setChips(storedChips_);
    if (auto* history = findChild<HistoryDialog*>())
        history->setStorePath(storePath_);
    storeLabel_->setText(QStringLiteral("Store: %1").arg(storePath_));
    storeLabel_->setToolTip(storePath_);
    updateTitle();

    int row = editionModel_->rowOfEdition(keepEdition);
    if (row < 0)
        row = editionModel_->rowOfEdition(defaultEditionId_);
    if (row < 0)
        row = editionModel_->rowCount() - 1;
    {
        const QSignalBlocker block(editionCombo_);
        editionCombo_->setCurrentIndex(row);
    }
    if (row >= 0) {
        applyEdition(row);
        if (auto* edition = editionModel_->editionAt(row); edition && bench_)
            bench_->setEdition(*edition);
    } else {
        chipModel_->setChips(storedChips_);
        fitColumns();
        updateStatus();
        updateDetail();
    }
    ensureSelection(keepChip);
    rememberStore(storePath_);
    statusBar()->showMessage(QStringLiteral("Opened %1: %2 chips, %3 editions and scenarios")
                                 .arg(storePath_)
                                 .arg(storedChips_.size())
                                 .arg(editionModel_->rowCount()),
                             8000);
    previous.reset(); // after the panel let go of it
    return true;
}

} // namespace crossroads::gui
