// The chart panel of the workbench: a chart kind selector, the zones' datacenter switch, export
// (PNG, PDF, SVG) and the chart itself (app/charts/ChipChart), drawn under the window's edition
// and palette. A chip clicked on the chart is announced (the window selects it in the table);
// the table's selection is ringed on the chart.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "app/charts/ChartKind.h"

#include <QWidget>
#include <optional>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;

namespace crossroads::charts {
class ChipChart;
}

namespace crossroads::gui {

class ChartPanel : public QWidget {
    Q_OBJECT

public:
    explicit ChartPanel(QWidget* parent = nullptr);

    // The store's chips, editions and results; redraws.
    void setInputs(charts::ChartInputs inputs);
    void setEdition(const QString& id);
    // The scenario editor's unsaved draft, drawn as the edition (with `chips`: the stored ones
    // and the draft's hypothetical ones), as the table shows it, until clearDraft or setEdition.
    void showDraft(const analysis::Edition& draft, std::vector<analysis::ChipSpec> chips);
    void clearDraft();
    // The id of the draft drawn; empty when none.
    QString draftId() const;
    // What the chart is drawn from now: the inputs, or the draft in them.
    charts::ChartInputs shownInputs() const;
    void setKind(charts::ChartKind kind);
    charts::ChartKind kind() const { return kind_; }
    void selectChip(const QString& name);
    // Saves the chart as shown, with its subtitle and footnote; throws ChartError.
    void exportTo(const QString& path) const;

    charts::ChipChart* chart() const { return chart_; }
    QComboBox* kindSelector() const { return kindCombo_; }
    // Empty while the chart shows; the reason otherwise ("no benchmark results ...").
    QString message() const;

public Q_SLOTS:
    // Asks for a file and saves the chart there.
    void exportWithDialog();

Q_SIGNALS:
    void chipClicked(const QString& name);

protected:
    void changeEvent(QEvent* event) override;

private:
    void redraw();

    charts::ChartInputs inputs_;
    std::optional<analysis::Edition> draft_;
    std::vector<analysis::ChipSpec> draftChips_;
    charts::ChartKind kind_ = charts::ChartKind::TppPd;
    QString selected_;
    QComboBox* kindCombo_ = nullptr;
    QCheckBox* nonDatacenter_ = nullptr;
    QPushButton* exportButton_ = nullptr;
    QLabel* message_ = nullptr;
    QLabel* notes_ = nullptr;
    charts::ChipChart* chart_ = nullptr;
};

} // namespace crossroads::gui
