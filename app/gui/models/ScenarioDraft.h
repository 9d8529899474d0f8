// The scenario editor's document, without Widgets: the draft scenario (name, base, note, the
// base's numeric criteria with the scenario's operators and thresholds, the hypothetical chips),
// every edit a QUndoCommand on its QUndoStack, and the draft resolved as an edition after each
// edit, undo and redo, so the window can classify its table under it as the analyst types.
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Edition.h"
#include "analysis/Scenario.h"

#include <QAbstractTableModel>
#include <QObject>
#include <QString>
#include <QUndoStack>
#include <optional>
#include <string>
#include <vector>

namespace crossroads::gui {

class ScenarioDraft;

// The base's numeric criteria (analysis::numericCriteria), one row each, with the scenario's
// operator (one of the same direction) and threshold; an empty threshold keeps the base's.
class ScenarioCriteriaModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        ClauseColumn,
        MetricColumn,
        OperatorColumn,
        BaseThresholdColumn,
        ThresholdColumn, // editable, as are the operators
        ColumnCount
    };
    enum Role {
        ChangedRole = Qt::UserRole + 1, // bool: the scenario changes this criterion
        NumberRole,                     // double: the threshold in force (base or scenario)
    };
    struct Row {
        analysis::NumericCriterion base;
        std::optional<analysis::Comparator> op; // nullopt: the base's
        std::optional<double> threshold;        // nullopt: the base's
        bool changed() const { return op.has_value() || threshold.has_value(); }
        bool operator==(const Row& other) const;
    };

    const std::vector<Row>& rows() const { return rows_; }
    // The row of that criterion, -1 when the base has none.
    int rowOf(const std::string& clause, const std::string& metric,
              analysis::Comparator direction) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    // Pushes the edit onto the draft's undo stack; false (and editRejected) for text that is no
    // threshold or an operator of another direction.
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

private:
    friend class ScenarioDraft;
    friend class ScenarioCriterionCommand;
    explicit ScenarioCriteriaModel(ScenarioDraft* draft);
    void reset(std::vector<Row> rows);
    void applyRow(int row, std::optional<analysis::Comparator> op, std::optional<double> threshold);

    ScenarioDraft* draft_;
    std::vector<Row> rows_;
};

// The scenario's hypothetical chips, one row each: name, vendor, datacenter (a check box: on,
// off, or partly for unknown), the dense rates, die area, memory bandwidth and I/O.
class HypotheticalChipsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        VendorColumn,
        DatacenterColumn,
        FirstRateColumn, // one per analysis::kAllPrecisions, in its order
        DieAreaColumn = FirstRateColumn + int(analysis::kAllPrecisions.size()),
        MemoryBandwidthColumn,
        IoColumn,
        ColumnCount
    };

    const std::vector<analysis::ChipSpec>& chips() const { return chips_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    // Pushes the edit onto the draft's undo stack; false (and editRejected) when the chip it
    // would make is invalid (a figure of zero or less, a name taken).
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

private:
    friend class ScenarioDraft;
    friend class ScenarioChipCommand;
    explicit HypotheticalChipsModel(ScenarioDraft* draft);
    void reset(std::vector<analysis::ChipSpec> chips);
    void insertChip(int row, const analysis::ChipSpec& chip);
    void removeChipAt(int row);
    void replaceChip(int row, const analysis::ChipSpec& chip);

    ScenarioDraft* draft_;
    std::vector<analysis::ChipSpec> chips_;
};

class ScenarioDraft : public QObject {
    Q_OBJECT

public:
    // `editions`: what a scenario may extend (the store's editions and saved scenarios);
    // `storedChipNames`: the names a hypothetical chip may not take. Starts empty: startNew or
    // load.
    ScenarioDraft(std::vector<analysis::Edition> editions, std::vector<std::string> storedChipNames,
                  QObject* parent = nullptr);
    ~ScenarioDraft() override;

    // A new scenario extending `baseId`; false when there is no such edition. Clears the undo
    // stack.
    bool startNew(const QString& baseId);
    // A saved scenario, to change (renaming it too: editing() keeps the saved name); false when its
    // base is not among the editions or an override no longer applies (problem() says which).
    // Clears the undo stack.
    bool load(const analysis::Scenario& scenario);
    // Why the last startNew/load failed.
    QString problem() const { return problem_; }
    // The saved scenario being changed; empty for a new one.
    QString editing() const { return editing_; }

    QUndoStack* undoStack() const { return undo_; }
    ScenarioCriteriaModel* criteria() const { return criteria_; }
    HypotheticalChipsModel* chips() const { return chips_; }
    const std::vector<analysis::Edition>& editions() const { return editions_; }
    // The names a hypothetical chip may not take, read again (an import added a chip); emits
    // changed() (saveProblem may say more now). Not a command: the store changed, not the draft.
    void setStoredChipNames(std::vector<std::string> names);
    // The editions this draft may extend: every one but, when changing a saved scenario, itself
    // and the scenarios that extend it.
    std::vector<const analysis::Edition*> possibleBases() const;
    const analysis::Edition* base() const;

    QString name() const { return name_; }
    QString baseId() const { return baseId_; }
    QString note() const { return note_; }

    // Every edit is one command on the undo stack. Typing into one field within one edit session
    // (startEditSession) is one command, as the name field and the threshold cells do it.
    void setName(const QString& name);
    void setNote(const QString& note);
    // Keeps the overrides the new base has criteria for. False for an unknown id.
    bool setBase(const QString& id);
    bool setCriterion(int row, std::optional<analysis::Comparator> op,
                      std::optional<double> threshold);
    // A chip named "Hypothetical N" (the first N free), vendor "Analyst", datacenter; its row.
    int addChip();
    // False (and editRejected) for an invalid chip or a name taken.
    bool addChip(const analysis::ChipSpec& chip);
    bool removeChip(int row);
    bool setChip(int row, const analysis::ChipSpec& chip);
    void startEditSession() { ++session_; }

    analysis::Scenario scenario() const;
    // The draft as an edition (named "unsaved scenario" while the name is empty or invalid);
    // nullopt with the reason in `why` when it does not resolve.
    std::optional<analysis::Edition> resolve(QString* why = nullptr) const;
    // Why it cannot be saved as it stands; empty when it can.
    QString saveProblem() const;
    // Why `chip` cannot stand at `row` (-1 for a new one): an invalid figure, a taken name.
    QString chipProblem(const analysis::ChipSpec& chip, int row) const;

Q_SIGNALS:
    void nameChanged(const QString& name);
    void noteChanged(const QString& note);
    void baseChanged(const QString& id);
    // After every edit, undo, redo, startNew and load.
    void changed();
    // A cell edit was refused; the reason in words.
    void editRejected(const QString& why);

private:
    friend class ScenarioCriteriaModel;
    friend class HypotheticalChipsModel;
    friend class ScenarioTextCommand;
    friend class ScenarioBaseCommand;
    friend class ScenarioCriterionCommand;
    friend class ScenarioChipCommand;

    void applyName(const QString& name);
    void applyNote(const QString& note);
    // The base and the criteria rows it shows.
    void applyBase(const QString& id, std::vector<ScenarioCriteriaModel::Row> rows);
    std::vector<ScenarioCriteriaModel::Row>
    rowsFor(const analysis::Edition& base,
            const std::vector<ScenarioCriteriaModel::Row>& carried) const;
    int session() const { return session_; }

    std::vector<analysis::Edition> editions_;
    std::vector<std::string> storedChipNames_;
    QUndoStack* undo_;
    ScenarioCriteriaModel* criteria_;
    HypotheticalChipsModel* chips_;
    QString name_, baseId_, note_, editing_, problem_;
    int session_ = 0;
};

// "4000", "4,000", "4 000", "5.92", "4e3" -> the number; empty text -> nullopt with `ok` true;
// anything else, NaN, infinities and negatives -> `ok` false.
std::optional<double> parseThreshold(const QString& text, bool* ok);

} // namespace crossroads::gui
