// The scenario editor (Scenario > New scenario…, Edit scenario…): the name, the edition it
// extends, a note, the base's numeric criteria with the scenario's thresholds, and the
// hypothetical chips. Every edit is a command on the draft's undo stack (its own Undo and Redo
// buttons, Ctrl+Z and Ctrl+Shift+Z, and the window's Edit menu through a QUndoGroup); after each
// edit, undo and redo the draft is announced as an edition so the window re-classifies its
// table under it while the analyst types. Save writes it to the store.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "analysis/Scenario.h"

#include <QDialog>
#include <QString>
#include <vector>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace crossroads::gui {

class ScenarioDraft;

class ScenarioEditor : public QDialog {
    Q_OBJECT

public:
    // `editions`: the store's editions and scenarios; `storedChips`: the store's chips (the
    // summary compares the draft with its base over them and the hypothetical ones).
    ScenarioEditor(QString storePath, std::vector<analysis::Edition> editions,
                   std::vector<analysis::ChipSpec> storedChips, QWidget* parent = nullptr);
    ~ScenarioEditor() override;

    // A new scenario extending `baseId`, or a saved one to change; false (with the reason in
    // the status line) when it cannot be opened.
    bool startNew(const QString& baseId);
    bool edit(const analysis::Scenario& scenario);
    // The store's chips read again (after an import or a chip edit in the window): the summary
    // compares over them, a hypothetical chip may no longer take a stored name, and the draft
    // is announced again (draftChanged) so the window's table and chart show the new figures.
    void setStoredChips(std::vector<analysis::ChipSpec> chips);
    const std::vector<analysis::ChipSpec>& storedChips() const { return storedChips_; }

    ScenarioDraft* draft() const { return draft_; }
    QLineEdit* nameField() const { return name_; }
    QComboBox* baseSelector() const { return base_; }
    QLineEdit* noteField() const { return note_; }
    QTableView* criteriaView() const { return criteria_; }
    QTableView* chipsView() const { return chips_; }
    QLabel* statusLabel() const { return status_; }
    QPushButton* saveButton() const { return save_; }
    QAction* undoAction() const { return undo_; }
    QAction* redoAction() const { return redo_; }
    // Closing with unsaved edits asks first (tests turn it off).
    void setConfirmDiscard(bool on) { confirmDiscard_ = on; }

public Q_SLOTS:
    // Writes the draft to the store; false (the reason in the status line) when it cannot.
    bool save();
    void addChip();
    void removeSelectedChip();
    // Closes; with unsaved edits, asks first (see setConfirmDiscard).
    void reject() override;

Q_SIGNALS:
    // The draft as an edition, after every edit, undo and redo (when it resolves).
    void draftChanged(const analysis::Edition& draft);
    void saved(const QString& name);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refresh();
    void fillBases();
    void showProblem(const QString& text);

    QString storePath_;
    std::vector<analysis::ChipSpec> storedChips_;
    ScenarioDraft* draft_;
    QLineEdit* name_ = nullptr;
    QComboBox* base_ = nullptr;
    QLineEdit* note_ = nullptr;
    QTableView* criteria_ = nullptr;
    QTableView* chips_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* rejected_ = nullptr;
    QPushButton* save_ = nullptr;
    QPushButton* removeChip_ = nullptr;
    QAction* undo_ = nullptr;
    QAction* redo_ = nullptr;
    bool confirmDiscard_ = true;
};

} // namespace crossroads::gui
