// What an import would do (data::ImportDiff), as a tree for the import dialog: one top-level row
// per chip of the file (added, changed or unchanged, with its counts), and under a chip each
// figure that changes (old -> new; added, changed or cleared) and each source it gains. Chips
// the import leaves exactly as they are can be hidden.
#pragma once

#include "data/ChipPatch.h"

#include <QAbstractItemModel>
#include <vector>

namespace crossroads::gui {

class ImportDiffModel : public QAbstractItemModel {
    Q_OBJECT

public:
    enum Column { NameColumn, OldColumn, NewColumn, ChangeColumn, ColumnCount };
    enum Role {
        ChipNameRole = Qt::UserRole + 1, // QString, the store's name, on every row
        ChangeKindRole, // QString: "added", "changed", "unchanged" (chips); "added", "changed",
                        // "cleared", "source" (figures)
        FieldRole,      // QString, the interchange key (figure rows)
    };

    explicit ImportDiffModel(QObject* parent = nullptr);

    void setDiff(data::ImportDiff diff);
    const data::ImportDiff& diff() const { return diff_; }
    void setShowUnchanged(bool show);
    bool showUnchanged() const { return showUnchanged_; }
    // "2 added, 3 changed, 40 unchanged; 7 figures changed (1 cleared), 300 unchanged", as
    // `crossroads import` says it.
    QString summary() const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    void refilter();
    QVariant chipData(const data::ChipImportDiff& chip, int column, int role) const;
    QVariant figureData(const data::ChipImportDiff& chip, int row, int column, int role) const;

    data::ImportDiff diff_;
    bool showUnchanged_ = true;
    std::vector<std::size_t> shown_; // indexes into diff_.chips of the top-level rows
};

} // namespace crossroads::gui
