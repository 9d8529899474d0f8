#include "app/gui/HistoryDialog.h"

#include "app/gui/TableExportUi.h"
#include "app/gui/models/HistoryTableModel.h"
#include "data/Store.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace crossroads::gui {

HistoryDialog::HistoryDialog(const QString& storePath, QWidget* parent)
    : QDialog(parent), storePath_(storePath), model_(new HistoryTableModel(this)),
      proxy_(new QSortFilterProxyModel(this)) {
    setObjectName(QStringLiteral("historyDialog"));
    setWindowTitle(QStringLiteral("History of the store's chips"));
    // The field in the analyst's words; the key stays in the tooltip and goes into exports.
    model_->setFieldLabels(true);
    proxy_->setSourceModel(model_);
    proxy_->setFilterKeyColumn(HistoryTableModel::ChipColumn);

    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    chip_ = new QComboBox(this);
    chip_->setObjectName(QStringLiteral("historyChip"));
    chip_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    chip_->setMinimumContentsLength(24);
    auto* chipLabel = new QLabel(QStringLiteral("&Chip"), this);
    chipLabel->setBuddy(chip_);
    top->addWidget(chipLabel);
    top->addWidget(chip_);
    count_ = new QLabel(this);
    count_->setObjectName(QStringLiteral("historyCount"));
    top->addWidget(count_, 1);
    layout->addLayout(top);

    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("historyTable"));
    table_->setModel(proxy_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table_, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    // Not addExportToContextMenu's "as shown": the file keeps the stored keys in Field, as
    // `crossroads export --table history` writes it (DESIGN.md), filtered as shown.
    auto* exportAction = new QAction(QStringLiteral("Export table…"), table_);
    exportAction->setObjectName(QStringLiteral("exportTableAction"));
    exportAction->setToolTip(QStringLiteral("Save the changes shown as CSV or XLSX (fields as "
                                            "stored keys, as crossroads export writes them)"));
    connect(exportAction, &QAction::triggered, this, [this] {
        const bool labels = model_->fieldLabels();
        model_->setFieldLabels(false);
        exportTableWithDialog(this, *proxy_, QStringLiteral("history"), QStringLiteral("History"));
        model_->setFieldLabels(labels);
    });
    table_->setContextMenuPolicy(Qt::ActionsContextMenu);
    table_->addAction(exportAction);
    QPushButton* exportButton =
        buttons->addButton(QStringLiteral("Export table…"), QDialogButtonBox::ActionRole);
    exportButton->setObjectName(QStringLiteral("historyExportButton"));
    exportButton->setToolTip(exportAction->toolTip());
    connect(exportButton, &QPushButton::clicked, exportAction, &QAction::trigger);
    QPushButton* refresh =
        buttons->addButton(QStringLiteral("Refresh"), QDialogButtonBox::ResetRole);
    connect(refresh, &QPushButton::clicked, this, &HistoryDialog::reload);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(chip_, &QComboBox::currentIndexChanged, this, &HistoryDialog::applyFilter);
    connect(table_, &QTableView::activated, this, [this](const QModelIndex& index) {
        Q_EMIT chipActivated(index.data(HistoryTableModel::ChipNameRole).toString());
    });
    resize(1100, 560);
    reload();
}

void HistoryDialog::setStorePath(const QString& storePath) {
    storePath_ = storePath;
    reload();
}

void HistoryDialog::reload() {
    const QString keep = chip_->currentData().toString();
    try {
        data::Store store(storePath_);
        model_->setEntries(store.history());
    } catch (const std::exception& e) {
        model_->setEntries({});
        count_->setText(
            QStringLiteral("Cannot read the history: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    const QSignalBlocker block(chip_);
    chip_->clear();
    chip_->addItem(QStringLiteral("All chips"), QString());
    for (const QString& name : model_->chipNames())
        chip_->addItem(name, name);
    const int again = chip_->findData(keep);
    chip_->setCurrentIndex(again >= 0 ? again : 0);
    applyFilter();
    table_->resizeColumnsToContents();
    for (int c = 0; c < HistoryTableModel::ViaColumn; ++c)
        table_->horizontalHeader()->resizeSection(
            c, std::min(table_->horizontalHeader()->sectionSize(c), 260));
}

bool HistoryDialog::exportTo(const QString& path) {
    const bool labels = model_->fieldLabels();
    model_->setFieldLabels(false);
    const bool written = exportTableTo(this, *proxy_, path, QStringLiteral("History"));
    model_->setFieldLabels(labels);
    return written;
}

bool HistoryDialog::setChipFilter(const QString& chip) {
    if (chip.isEmpty()) {
        chip_->setCurrentIndex(0);
        return true;
    }
    for (int i = 1; i < chip_->count(); ++i)
        if (chip_->itemData(i).toString().compare(chip, Qt::CaseInsensitive) == 0) {
            chip_->setCurrentIndex(i);
            return true;
        }
    return false;
}

void HistoryDialog::applyFilter() {
    const QString chip = chip_->currentData().toString();
    proxy_->setFilterRegularExpression(
        chip.isEmpty()
            ? QRegularExpression()
            : QRegularExpression(QStringLiteral("^%1$").arg(QRegularExpression::escape(chip)),
                                 QRegularExpression::CaseInsensitiveOption));
    const int shown = proxy_->rowCount(), total = model_->rowCount();
    if (total == 0)
        count_->setText(QStringLiteral("No changes recorded: the store's chips are as seeded."));
    else if (shown == total)
        count_->setText(QStringLiteral("%1 changes, oldest first").arg(total));
    else
        count_->setText(QStringLiteral("%1 of %2 changes, oldest first").arg(shown).arg(total));
}

} // namespace crossroads::gui
