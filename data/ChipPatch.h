// What an import row or an edit says about a chip: the values of the fields it gives, and which
// fields those are. A field it does not give keeps the stored value; a field it gives as null
// (an empty CSV cell, a JSON null) clears it. Also the figure-by-figure difference between the
// store and an import, which `crossroads import --dry-run` prints and an import dialog shows.
#pragma once

#include "analysis/ChipSpec.h"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::data {

// The fields a patch can give, by interchange key, in the order diffs list them: vendor, year,
// kind, datacenter, the rate keys fp64 ... fp4 (as in Crossroads CSV and in a source's "field"),
// the figures of analysis::kFigureFields, notes. The name identifies the chip; sources merge.
const std::vector<std::string>& chipFieldKeys();
bool isChipFieldKey(std::string_view key);

// The field's value as text (numbers in their shortest exact form, "true"/"false", the kind's
// key); nullopt when the chip has no value (null). Throws std::invalid_argument for an unknown
// key.
std::optional<std::string> chipFieldText(const analysis::ChipSpec& chip, std::string_view key);
void copyChipField(analysis::ChipSpec& to, const analysis::ChipSpec& from, std::string_view key);

// How an import row's name is matched to the store's chips.
enum class NameMatching {
    Exact, // case-insensitive equality (Crossroads CSV, JSON, the editor)
    Epoch, // also vendor prefixes, form factors, memory sizes and the alias table (ChipNames.h)
};

struct ChipPatch {
    analysis::ChipSpec values;    // the name, and the values of the fields in `fields`
    std::set<std::string> fields; // chipFieldKeys() the row gives
    // The row's sources. For a chip already in the store they are merged (mergeSources), never
    // a replacement of the stored list.
    std::vector<analysis::Source> sources;
    std::string origin; // where the row came from, for messages: "line 7", "chip 3"
    NameMatching matching = NameMatching::Exact;
    // The editor: values.alternatives replace the stored ones (so one can be removed) instead of
    // merging with them (mergeAlternatives, as an import does).
    bool replaces_alternatives = false;

    bool gives(std::string_view key) const { return fields.count(std::string(key)) > 0; }
};

// A patch that gives every field: what a complete chip (analysis::ChipSpec) says.
ChipPatch wholeChipPatch(const analysis::ChipSpec& chip, std::string origin = {});

// The store's chip with `patch` applied: the fields it gives replaced (null clears), the others
// kept, the stored name kept, the sources merged, the alternatives merged (or replaced).
analysis::ChipSpec applyPatch(const analysis::ChipSpec& stored, const ChipPatch& patch);

// Sources after changing `changedFields` with `incoming` sources: a stored source for a changed
// field goes (it backed the old figure), every other stored source stays; an incoming source
// for one field is added; an incoming row source ("*") is added for each changed field that
// still has a value (the row brought that figure, not the figures it left alone or cleared), or
// kept as "*" for a new chip. Exact duplicates are not added twice.
std::vector<analysis::Source> mergeSources(const std::vector<analysis::Source>& stored,
                                           const std::set<std::string>& changedFields,
                                           const std::vector<analysis::Source>& incoming,
                                           bool newChip,
                                           const std::set<std::string>& clearedFields = {});

// Alternatives (another source's value for a figure) after an import: the stored ones stay (a
// figure the import changes does not make another source's value wrong), the row's are added,
// exact duplicates once. A row's alternatives are values of ChipPatch::values.
std::vector<analysis::FigureAlternative>
mergeAlternatives(const std::vector<analysis::FigureAlternative>& stored,
                  const std::vector<analysis::FigureAlternative>& incoming);

struct FieldChange {
    std::string field;
    std::optional<std::string> old_value; // nullopt: was unknown
    std::optional<std::string> new_value; // nullopt: cleared
    bool cleared() const { return old_value && !new_value; }
};

// One row of an import against the store.
struct ChipImportDiff {
    std::string name;     // the store's name (the row's, for a new chip)
    std::string row_name; // as the file spells it
    std::string origin;   // "line 7"
    bool added = false;
    std::vector<FieldChange> changes; // given fields whose value differs (added: every non-null)
    int unchanged = 0;                // given fields whose value is the same
    std::vector<analysis::Source> sources_added;
    std::vector<analysis::FigureAlternative> alternatives_added;
    analysis::ChipSpec before; // the stored chip (empty when added)
    analysis::ChipSpec after;  // what the store will hold

    bool changed() const {
        return added || !changes.empty() || !sources_added.empty() || !alternatives_added.empty();
    }
};

struct ImportDiff {
    std::vector<ChipImportDiff> chips; // in file order

    int addedChips() const;
    int changedChips() const;   // existing chips with at least one changed figure or source
    int unchangedChips() const; // existing chips the import leaves exactly as they are
    int changedFigures() const; // over existing chips, cleared ones included
    int clearedFigures() const;
    int unchangedFigures() const;
};

} // namespace crossroads::data
