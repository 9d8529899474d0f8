// Edit > Edit chip…: a form over one stored chip's fields (vendor, year, kind, datacenter, the
// dense rates, the figures, notes), each checked as it is typed by the rules an import applies
// (data::fieldEditPatch: a negative, NaN or zero figure is refused, the field named beside it),
// with a source for each changed figure, and a table of the figures' alternative values from
// other sources (ChipSpec::alternatives: field, value, citation; what source sensitivity tries),
// each checked by the same rules. Save writes every change in one edit
// (Store::editChip, recorded in the audit trail with via "editor"); nothing is saved while a
// field is refused.
#pragma once

#include "analysis/ChipSpec.h"

#include <QDialog>
#include <QString>
#include <map>
#include <optional>
#include <string>
#include <vector>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;
class QWidget;

namespace crossroads::gui {

class ChipEditorDialog : public QDialog {
    Q_OBJECT

public:
    // Edits `chip` (as the store holds it) in the store at `storePath`, through a connection of
    // its own.
    ChipEditorDialog(const QString& storePath, analysis::ChipSpec chip, QWidget* parent = nullptr);

    // The editor of a field by interchange key ("tdp_w", "fp8", "kind"...): a QLineEdit, or a
    // QComboBox for kind and datacenter. nullptr for an unknown key.
    QWidget* fieldEditor(const std::string& key) const;
    QLineEdit* sourceEditor(const std::string& key) const;
    // Sets a field's text as if typed (combo fields take "logic"/"hbm", "true"/"false"/"").
    void setFieldText(const std::string& key, const QString& text);
    // The refusal shown beside the field; empty when its text is acceptable.
    QString fieldError(const std::string& key) const;
    // The fields whose text differs from the stored value and is acceptable.
    std::vector<std::string> changedFields() const;
    QPushButton* saveButton() const { return save_; }

    // The alternative values table: one row each (field combo, value, citation), pre-filled from
    // the chip's stored alternatives.
    QTableWidget* alternativesTable() const { return alternatives_; }
    // Adds a row (as the Add button does, then filled in as if typed); returns its row.
    int addAlternative(const std::string& field = {}, const QString& value = {},
                       const QString& citation = {});
    void removeAlternative(int row); // as the Remove button does for the selected row
    // The first refused row ("alternative 2 (io_bidirectional_gb_per_s): ..."); empty when all
    // are acceptable.
    QString alternativesError() const;
    // The rows as the chip's alternatives (stored confidences kept); rows refused are left out.
    std::vector<analysis::FigureAlternative> alternatives() const;
    bool alternativesChanged() const; // acceptable and different from the stored ones
    // The problem with the whole chip (cross-field rules) or the store, after a failed save.
    QString error() const;
    // Saves; false (nothing saved, the reason shown) when a field is refused or the store says
    // no. Accepts the dialog on success.
    bool save();
    const analysis::ChipSpec& chip() const { return chip_; }

Q_SIGNALS:
    // The chip as stored after the edit.
    void saved(const analysis::ChipSpec& chip);

private:
    struct Field {
        QWidget* editor = nullptr;
        QLineEdit* source = nullptr;
        QLabel* problem = nullptr;
        QString original;
    };
    QString textOf(const Field& field) const;
    void revalidate(const std::string& key);
    void updateSave();
    void revalidateAlternatives();
    // The alternative in `row`, or the reason it is refused.
    std::optional<analysis::FigureAlternative> alternativeAt(int row, QString* problem) const;

    QString storePath_;
    analysis::ChipSpec chip_;
    std::map<std::string, Field> fields_;
    QLabel* error_ = nullptr;
    QLabel* changes_ = nullptr;
    QPushButton* save_ = nullptr;
    QTableWidget* alternatives_ = nullptr;
    QLabel* alternativesProblem_ = nullptr;
};

} // namespace crossroads::gui
