// The compare view: two edition selectors and the chips that change between them, with the
// direction and the explanation lines that differ. Double-clicking a row selects the chip in
// the workbench.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"

#include <QDialog>
#include <vector>

class QComboBox;
class QLabel;
class QTableView;

namespace crossroads::gui {

class CompareTableModel;
class EditionListModel;

class CompareDialog : public QDialog {
    Q_OBJECT

public:
    CompareDialog(std::vector<analysis::ChipSpec> chips, EditionListModel* editions,
                  QWidget* parent = nullptr);

    // false when either id is not an edition of the list.
    bool compare(const QString& baselineId, const QString& vsId);
    // The chips compared (after an import or an edit); recomputes.
    void setChips(std::vector<analysis::ChipSpec> chips);
    CompareTableModel* model() const { return model_; }
    QString summary() const;

Q_SIGNALS:
    void chipActivated(const QString& name);

private:
    void recompute();

    std::vector<analysis::ChipSpec> chips_;
    EditionListModel* editions_ = nullptr;
    CompareTableModel* model_ = nullptr;
    QComboBox* baseline_ = nullptr;
    QComboBox* vs_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableView* table_ = nullptr;
};

} // namespace crossroads::gui
