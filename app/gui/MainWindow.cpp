#include "app/gui/MainWindow.h"

#include "app/gui/models/ChipDetailHtml.h"
#include "app/gui/models/ChipFilterProxyModel.h"
#include "app/gui/models/ChipTableModel.h"
#include "app/gui/models/DisplayText.h"
#include "app/gui/models/EditionListModel.h"
#include "data/Store.h"

#include <QAbstractItemView>
#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QHeaderView>
#include <QIcon>
#include <QItemSelectionModel>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSettings>
#include <QSize>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTextBrowser>
#include <QToolBar>
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

constexpr int kMaxInitialColumnWidth = 200;
constexpr int kMaxInitialClassWidth = 195;
constexpr int kMaxInitialLicenseWidth = 110;
constexpr int kFlagsRoom = 110;      // the last column's share of the default table width
constexpr int kMinDetailWidth = 380; // below this the figure table wraps every label
constexpr QSize kDefaultWindowSize(1560, 940);

} // namespace

MainWindow::MainWindow(data::Store& store, QWidget* parent)
    : QMainWindow(parent), storePath_(store.path()), defaultEditionId_(store.defaultEditionId()),
      chipModel_(new ChipTableModel(this)), proxyModel_(new ChipFilterProxyModel(this)),
      editionModel_(new EditionListModel(this)) {
    setWindowTitle(QStringLiteral("Crossroads"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/crossroads.svg")));
    setObjectName(QStringLiteral("workbench"));

    editionModel_->setEditions(store.editions());
    chipModel_->setChips(store.chips());
    proxyModel_->setSourceModel(chipModel_);

    buildToolBar();
    buildCentralWidget();
    buildStatusBar();

    connect(proxyModel_, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::modelReset, this, &MainWindow::updateStatus);
    connect(proxyModel_, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateStatus);

    restoreSettings();
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
    editionCombo_->setModel(editionModel_);
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
    const auto* edition = editionModel_->editionAt(editionRow);
    if (!edition)
        return;
    const QString selected = selectedChipName();
    chipModel_->setEdition(*edition);
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
    detail_->setHtml(chipDetailHtml(*chip, *result, *edition, palette));
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

} // namespace crossroads::gui
