#include "app/gui/ReportDialog.h"

#include "app/gui/DestinationChoice.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <exception>

namespace crossroads::gui {

namespace {

void fillEditions(QComboBox* combo, const std::vector<analysis::Edition>& editions) {
    for (const analysis::Edition& e : editions) {
        const QString id = QString::fromStdString(e.id);
        const QString text =
            e.scenario
                ? QStringLiteral("%1 (scenario on %2)").arg(id, QString::fromStdString(e.base))
                : QStringLiteral("%1 (%2)").arg(id, QString::fromStdString(e.status));
        combo->addItem(text, id);
    }
}

} // namespace

ReportDialog::ReportDialog(report::ReportInputs inputs, const QString& vs,
                           const QString& destination, QWidget* parent)
    : QDialog(parent), inputs_(std::move(inputs)) {
    setWindowTitle(QStringLiteral("Export report"));
    baseline_ = new QComboBox(this);
    baseline_->setObjectName(QStringLiteral("reportBaseline"));
    vs_ = new QComboBox(this);
    vs_->setObjectName(QStringLiteral("reportVs"));
    fillEditions(baseline_, inputs_.data.editions);
    fillEditions(vs_, inputs_.data.editions);
    // Compared: the window's edition (else the newest); baseline: the one before it.
    int vsAt = vs.isEmpty() ? -1 : vs_->findData(vs);
    if (vsAt < 0) {
        vsAt = 0;
        for (int i = 0; i < vs_->count(); ++i)
            if (!inputs_.data.editions[static_cast<std::size_t>(i)].scenario)
                vsAt = i;
    }
    vs_->setCurrentIndex(vsAt);
    baseline_->setCurrentIndex(std::max(0, vsAt - 1));
    destination_ = new QComboBox(this);
    destination_->setObjectName(QStringLiteral("reportDestination"));
    fillDestinationChoices(destination_);
    destination_->setCurrentIndex(std::max(0, destination_->findData(destination)));
    destination_->setToolTip(QStringLiteral("Adds the licence each chip needs to ship there "
                                            "under both editions"));
    path_ = new QLineEdit(this);
    path_->setObjectName(QStringLiteral("reportPath"));
    path_->setPlaceholderText(QStringLiteral("briefing.pdf or briefing.html"));
    auto* browse = new QPushButton(QStringLiteral("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &ReportDialog::browse);
    auto* pathRow = new QHBoxLayout;
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);

    auto* form = new QFormLayout;
    form->addRow(QStringLiteral("&Baseline:"), baseline_);
    form->addRow(QStringLiteral("&Compared with:"), vs_);
    form->addRow(QStringLiteral("&Licences to:"), destination_);
    form->addRow(QStringLiteral("&File:"), pathRow);
    problem_ = new QLabel(this);
    problem_->setObjectName(QStringLiteral("reportProblem"));
    problem_->setWordWrap(true);
    problem_->setStyleSheet(QStringLiteral("color: palette(link)"));
    problem_->hide();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        const QString why = write();
        if (why.isEmpty()) {
            accept();
            return;
        }
        problem_->setText(why);
        problem_->show();
    });
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(problem_);
    layout->addWidget(buttons);
}

void ReportDialog::browse() {
    const QString chosen =
        QFileDialog::getSaveFileName(this, QStringLiteral("Export report"), path_->text(),
                                     QStringLiteral("PDF (A4) (*.pdf);;HTML, one file (*.html)"));
    if (!chosen.isEmpty())
        path_->setText(chosen);
}

QString ReportDialog::write() {
    const QString path = path_->text().trimmed();
    if (path.isEmpty())
        return QStringLiteral("Choose a file: .pdf (A4 pages) or .html (one file).");
    const QString baseline = baseline_->currentData().toString();
    const QString vs = vs_->currentData().toString();
    if (baseline == vs)
        return QStringLiteral("The baseline and the compared edition are both %1: choose two.")
            .arg(vs);
    report::ReportInputs in = inputs_;
    in.baseline = baseline.toStdString();
    in.vs = vs.toStdString();
    in.destination = destination_->currentData().toString().toStdString();
    in.generated = QDateTime::currentDateTimeUtc();
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    QString why;
    try {
        report::writeReport(in, path);
    } catch (const std::exception& e) {
        why = QString::fromStdString(e.what());
    }
    QGuiApplication::restoreOverrideCursor();
    return why;
}

} // namespace crossroads::gui
