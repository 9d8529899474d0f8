// File > Export report…: the comparison report of `crossroads report` from the window. The analyst
// picks the baseline and the compared edition (or scenario), optionally a destination for the
// licence section, and a .pdf or .html file; the report is the CLI's (app/report), from the same
// store inputs.
#pragma once

#include "app/report/Report.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;

namespace crossroads::gui {

class ReportDialog : public QDialog {
    Q_OBJECT

public:
    // `inputs`: reportInputsFromStore of the window's store; `vs` and `destination` preselect
    // the window's edition and destination (empty: the newest edition, no destination).
    ReportDialog(report::ReportInputs inputs, const QString& vs, const QString& destination,
                 QWidget* parent = nullptr);

    QComboBox* baselineCombo() const { return baseline_; }
    QComboBox* vsCombo() const { return vs_; }
    QComboBox* destinationCombo() const { return destination_; }
    QLineEdit* pathEdit() const { return path_; }

    // Writes the report to the chosen file; returns the problem in words ("" on success): no
    // file, the same edition twice, or what writeReport refused. The file appears whole or not.
    QString write();

private:
    void browse();

    report::ReportInputs inputs_;
    QComboBox* baseline_ = nullptr;
    QComboBox* vs_ = nullptr;
    QComboBox* destination_ = nullptr;
    QLineEdit* path_ = nullptr;
    QLabel* problem_ = nullptr;
};

} // namespace crossroads::gui
