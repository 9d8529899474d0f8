// The rule editions for the edition selector: "2025-01 (not enforced) · title"; the status shows
// whenever the edition is not simply in force ("not enforced", "rescinded", "heuristic",
// "superseded").
#pragma once

#include "analysis/Edition.h"

#include <QAbstractListModel>
#include <vector>

namespace crossroads::gui {

class EditionListModel : public QAbstractListModel {
    Q_OBJECT

public:
    enum Role {
        EditionIdRole = Qt::UserRole + 1, // QString "2023-10"
        StatusRole,                       // QString "in force", "not enforced", ...
    };

    explicit EditionListModel(QObject* parent = nullptr);

    void setEditions(std::vector<analysis::Edition> editions);
    const std::vector<analysis::Edition>& editions() const { return editions_; }
    const analysis::Edition* editionAt(int row) const;
    // -1 when absent.
    int rowOfEdition(const QString& id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

private:
    std::vector<analysis::Edition> editions_;
};

// "2025-01 (not enforced) · Framework for ...": the status appears unless "in force"; a
// scenario reads "tpp-4000 (scenario of 2026-01) · its note".
QString editionDisplayText(const analysis::Edition& edition);
// "88 FR 73458, effective 2023-11-17" (+ the status note when there is one).
QString editionCitationText(const analysis::Edition& edition);

} // namespace crossroads::gui
