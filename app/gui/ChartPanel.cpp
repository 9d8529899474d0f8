#include "app/gui/ChartPanel.h"

#include <algorithm>

#include "app/charts/ChartExport.h"
#include "app/charts/ChipChart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

namespace crossroads::gui {

ChartPanel::ChartPanel(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("chartPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    auto* label = new QLabel(QStringLiteral("Chart "), this);
    kindCombo_ = new QComboBox(this);
    kindCombo_->setObjectName(QStringLiteral("chartKind"));
    for (charts::ChartKind k : charts::allChartKinds())
        kindCombo_->addItem(charts::chartKindTitle(k), static_cast<int>(k));
    label->setBuddy(kindCombo_);
    nonDatacenter_ = new QCheckBox(QStringLiteral("Zones for a non-datacenter chip"), this);
    nonDatacenter_->setObjectName(QStringLiteral("nonDatacenterZones"));
    nonDatacenter_->setToolTip(QStringLiteral(
        "Note 2 to 3A090 exempts chips not designed or marketed for datacenters under TPP 4,800"));
    exportButton_ = new QPushButton(QStringLiteral("Export…"), this);
    exportButton_->setObjectName(QStringLiteral("exportChart"));
    exportButton_->setToolTip(QStringLiteral("Save the chart as PNG, PDF (vector) or SVG"));
    bar->addWidget(label);
    bar->addWidget(kindCombo_);
    bar->addSpacing(12);
    bar->addWidget(nonDatacenter_);
    bar->addStretch(1);
    bar->addWidget(exportButton_);
    layout->addLayout(bar);
    message_ = new QLabel(this);
    message_->setObjectName(QStringLiteral("chartMessage"));
    message_->setWordWrap(true);
    message_->setVisible(false);
    layout->addWidget(message_);
    chart_ = new charts::ChipChart(this);
    chart_->setObjectName(QStringLiteral("chipChart"));
    chart_->setTheme(charts::ChartTheme::fromPalette(palette()));
    chart_->setCompact(true);
    layout->addWidget(chart_, 1);
    notes_ = new QLabel(this);
    notes_->setObjectName(QStringLiteral("chartNotes"));
    notes_->setWordWrap(true);
    notes_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont small = notes_->font();
    small.setPointSizeF(small.pointSizeF() - 1);
    notes_->setFont(small);
    notes_->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(notes_);

    connect(kindCombo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        kind_ = static_cast<charts::ChartKind>(kindCombo_->itemData(index).toInt());
        redraw();
    });
    connect(nonDatacenter_, &QCheckBox::toggled, this, [this](bool on) {
        inputs_.zones_for_datacenter = !on;
        redraw();
    });
    connect(exportButton_, &QPushButton::clicked, this, &ChartPanel::exportWithDialog);
    connect(chart_, &charts::ChipChart::chipClicked, this, [this](const QString& name) {
        selected_ = name;
        Q_EMIT chipClicked(name);
    });
}

void ChartPanel::setInputs(charts::ChartInputs inputs) {
    inputs.zones_for_datacenter = !nonDatacenter_->isChecked();
    inputs_ = std::move(inputs);
    redraw();
}

void ChartPanel::setEdition(const QString& id) {
    const bool hadDraft = draft_.has_value();
    draft_.reset();
    draftChips_.clear();
    if (inputs_.edition_id == id.toStdString() && !hadDraft)
        return;
    inputs_.edition_id = id.toStdString();
    if (charts::chartKindUsesEdition(kind_) || hadDraft)
        redraw();
}

void ChartPanel::showDraft(const analysis::Edition& draft, std::vector<analysis::ChipSpec> chips) {
    draft_ = draft;
    draftChips_ = std::move(chips);
    redraw();
}

void ChartPanel::clearDraft() {
    if (!draft_)
        return;
    draft_.reset();
    draftChips_.clear();
    redraw();
}

QString ChartPanel::draftId() const {
    return draft_ ? QString::fromStdString(draft_->id) : QString();
}

charts::ChartInputs ChartPanel::shownInputs() const {
    charts::ChartInputs shown = inputs_;
    if (!draft_)
        return shown;
    // The draft stands in for the saved scenario it changes (same id), or joins the editions.
    const auto same = std::find_if(shown.editions.begin(), shown.editions.end(),
                                   [&](const analysis::Edition& e) { return e.id == draft_->id; });
    if (same != shown.editions.end())
        *same = *draft_;
    else
        shown.editions.push_back(*draft_);
    shown.edition_id = draft_->id;
    shown.chips = draftChips_;
    return shown;
}

void ChartPanel::setKind(charts::ChartKind kind) {
    const int index = kindCombo_->findData(static_cast<int>(kind));
    if (index >= 0)
        kindCombo_->setCurrentIndex(index);
}

void ChartPanel::selectChip(const QString& name) {
    selected_ = name;
    chart_->selectChip(name);
}

QString ChartPanel::message() const {
    return message_->isVisible() ? message_->text() : QString();
}

void ChartPanel::redraw() {
    nonDatacenter_->setEnabled(kind_ == charts::ChartKind::TppPd ||
                               kind_ == charts::ChartKind::TppIo);
    try {
        chart_->showChart(kind_, shownInputs());
        message_->setVisible(false);
        notes_->setText(chart_->chartSubtitle().replace(QLatin1Char('\n'), QStringLiteral(". ")) +
                        QStringLiteral(". ") + chart_->footnote());
        notes_->setVisible(true);
        exportButton_->setEnabled(true);
        if (!selected_.isEmpty())
            chart_->selectChip(selected_);
    } catch (const std::exception& e) {
        message_->setText(QString::fromUtf8(e.what()));
        message_->setVisible(true);
        notes_->setVisible(false);
        exportButton_->setEnabled(false);
    }
}

void ChartPanel::exportTo(const QString& path) const {
    // A file carries its own subtitle and footnote (the panel shows them beside the chart), at
    // the chart's width or more, PNG at twice the pixels.
    charts::ExportSize size;
    size.width = std::max(chart_->width(), 1200);
    size.height = std::max(chart_->height() + 160, 760);
    size.scale = charts::chartFormatFor(path) == charts::ChartFormat::Png ? 2.0 : 1.0;
    charts::exportChart(kind_, shownInputs(), chart_->theme(), path, size); // a draft included
}

void ChartPanel::exportWithDialog() {
    const QString suggested = QString::fromLatin1(charts::chartKindKey(kind_).data()) +
                              QLatin1Char('-') + QString::fromStdString(shownInputs().edition_id) +
                              QStringLiteral(".png");
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export chart"), suggested,
        QStringLiteral("PNG image (*.png);;PDF, vector (*.pdf);;SVG (*.svg)"));
    if (path.isEmpty())
        return;
    try {
        exportTo(path);
    } catch (const std::exception& e) {
        QMessageBox::warning(this, QStringLiteral("Export chart"), QString::fromUtf8(e.what()));
    }
}

void ChartPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && chart_) {
        chart_->setTheme(charts::ChartTheme::fromPalette(palette()));
        redraw();
    }
}

} // namespace crossroads::gui
