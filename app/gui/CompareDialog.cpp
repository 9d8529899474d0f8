#include "app/gui/CompareDialog.h"

#include "app/gui/TableExportUi.h"
#include "app/gui/models/CompareTableModel.h"
#include "app/gui/models/EditionListModel.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace crossroads::gui {

CompareDialog::CompareDialog(std::vector<analysis::ChipSpec> chips, EditionListModel* editions,
                             QWidget* parent)
    : QDialog(parent), chips_(std::move(chips)), editions_(editions),
      model_(new CompareTableModel(this)) {
    setObjectName(QStringLiteral("compareDialog"));
    setWindowTitle(QStringLiteral("Compare editions"));
    auto* layout = new QVBoxLayout(this);
    auto* pick = new QHBoxLayout;
    baseline_ = new QComboBox(this);
    baseline_->setObjectName(QStringLiteral("compareBaseline"));
    vs_ = new QComboBox(this);
    vs_->setObjectName(QStringLiteral("compareVs"));
    for (QComboBox* box : {baseline_, vs_}) {
        box->setModel(editions_);
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(28);
    }
    pick->addWidget(new QLabel(QStringLiteral("Baseline"), this));
    pick->addWidget(baseline_, 1);
    pick->addSpacing(12);
    pick->addWidget(new QLabel(QStringLiteral("compared with"), this));
    pick->addWidget(vs_, 1);
    layout->addLayout(pick);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("compareSummary"));
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("compareTable"));
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table_, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    // The changes as shown, as CSV or XLSX: a button and the table's context menu.
    QAction* exportAction =
        addExportToContextMenu(table_, QStringLiteral("compare"), QStringLiteral("Compare"));
    QPushButton* exportButton =
        buttons->addButton(QStringLiteral("Export table…"), QDialogButtonBox::ActionRole);
    exportButton->setObjectName(QStringLiteral("compareExportButton"));
    exportButton->setToolTip(exportAction->toolTip());
    connect(exportButton, &QPushButton::clicked, exportAction, &QAction::trigger);
    layout->addWidget(buttons);
    resize(1100, 620);

    const int n = editions_->rowCount();
    if (n >= 2) {
        baseline_->setCurrentIndex(n - 2);
        vs_->setCurrentIndex(n - 1);
    }
    connect(baseline_, &QComboBox::currentIndexChanged, this, &CompareDialog::recompute);
    connect(vs_, &QComboBox::currentIndexChanged, this, &CompareDialog::recompute);
    connect(table_, &QTableView::activated, this, [this](const QModelIndex& index) {
        Q_EMIT chipActivated(index.data(CompareTableModel::ChipNameRole).toString());
    });
    recompute();
}

bool CompareDialog::compare(const QString& baselineId, const QString& vsId) {
    const int a = editions_->rowOfEdition(baselineId), b = editions_->rowOfEdition(vsId);
    if (a < 0 || b < 0)
        return false;
    baseline_->setCurrentIndex(a);
    vs_->setCurrentIndex(b);
    recompute();
    return true;
}

void CompareDialog::setChips(std::vector<analysis::ChipSpec> chips) {
    chips_ = std::move(chips);
    recompute();
}

QString CompareDialog::summary() const {
    return summary_->text();
}

void CompareDialog::recompute() {
    const analysis::Edition* a = editions_->editionAt(baseline_->currentIndex());
    const analysis::Edition* b = editions_->editionAt(vs_->currentIndex());
    if (!a || !b) {
        model_->setComparison({});
        summary_->setText(QStringLiteral("The store needs two editions to compare."));
        return;
    }
    model_->setComparison(analysis::compareEditions(chips_, *a, *b));
    summary_->setText(model_->summary());
    table_->resizeColumnsToContents();
    for (int c = 0; c < CompareTableModel::BecauseColumn; ++c)
        table_->horizontalHeader()->resizeSection(
            c, std::min(table_->horizontalHeader()->sectionSize(c), 240));
}

} // namespace crossroads::gui
