// The store's audit trail (data::Store::history), one row per change: when (UTC), the chip, the
// field (an interchange key, "*" for the chip itself, "sources"), the old and the new value, the
// source given and what made the change ("import FILE", "editor", ...). Oldest first, as the
// store returns it. Numbers (old and new figures) at NumberRole. The field shows as its
// interchange key by default (what `crossroads export --table history` writes, DESIGN.md); with
// setFieldLabels(true), as the history view shows it, in the analyst's words ("Sources",
// "Alternative source values", "Dense FP16 (TFLOPS)"), the key in the tooltip and at
// FieldKeyRole.
#pragma once

#include "data/Store.h"

#include <QAbstractTableModel>
#include <vector>

namespace crossroads::gui {

class HistoryTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        AtColumn,
        ChipColumn,
        FieldColumn,
        OldColumn,
        NewColumn,
        SourceColumn,
        ViaColumn,
        ColumnCount
    };
    enum Role { ChipNameRole = Qt::UserRole + 1, FieldKeyRole };

    explicit HistoryTableModel(QObject* parent = nullptr);

    void setEntries(std::vector<data::AuditEntry> entries);
    const std::vector<data::AuditEntry>& entries() const { return entries_; }
    // The Field column in words (true) or as the stored key (false, the default).
    void setFieldLabels(bool on);
    bool fieldLabels() const { return fieldLabels_; }
    // "Chip" for "*", "Sources", "Alternative source values", "Vendor", a figure's label as the
    // chip table and the detail pane give it ("fp16": "Dense FP16 (TFLOPS)"); an unknown key
    // as it is.
    static QString fieldLabel(const std::string& field);
    // The chips the entries name, each once, sorted case-insensitively.
    QStringList chipNames() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    std::vector<data::AuditEntry> entries_;
    bool fieldLabels_ = false;
};

} // namespace crossroads::gui
