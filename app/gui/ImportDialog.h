// File > Import…: a chip file (Crossroads CSV, Epoch AI hardware CSV or JSON, as `crossroads
// import` reads them) shown against the store figure by figure before anything changes: the
// chips added, changed (each figure old -> new, the cleared ones marked) and unchanged, grouped
// by chip. Apply imports all or nothing and records the changes in the audit trail ("import
// FILE"); Cancel changes nothing.
#pragma once

#include "data/ChipPatch.h"

#include <QDialog>
#include <QString>
#include <vector>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeView;

namespace crossroads::gui {

class ImportDiffModel;

class ImportDialog : public QDialog {
    Q_OBJECT

public:
    // Reads and writes the store at `storePath` through a connection of its own.
    explicit ImportDialog(const QString& storePath, QWidget* parent = nullptr);

    // Reads `path` and shows what importing it would change; false (the reason shown, Apply
    // disabled) when the file cannot be read or does not fit the store.
    bool load(const QString& path);
    // Imports what load() showed; false (the reason shown, nothing changed) on failure. The
    // dialog is accepted on success.
    bool apply();

    ImportDiffModel* model() const { return model_; }
    QTreeView* view() const { return tree_; }
    QPushButton* applyButton() const { return apply_; }
    QString summary() const;
    QString error() const;
    // What apply() did (empty before).
    const data::ImportDiff& imported() const { return imported_; }
    QString path() const { return path_; }

Q_SIGNALS:
    void importedChips(const QString& path, const QString& summary);

private:
    void showError(const QString& text);

    QString storePath_;
    QString path_;
    std::vector<data::ChipPatch> rows_;
    data::ImportDiff imported_;
    ImportDiffModel* model_ = nullptr;
    QLineEdit* file_ = nullptr;
    QLabel* format_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* error_ = nullptr;
    QCheckBox* unchanged_ = nullptr;
    QTreeView* tree_ = nullptr;
    QPushButton* apply_ = nullptr;
};

} // namespace crossroads::gui
