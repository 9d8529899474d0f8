#include "data/ChipPatch.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace crossroads::data {

using analysis::ChipSpec;
using analysis::Precision;
using analysis::Source;

namespace {

// The shortest text that reads back as the same double, so the audit trail and the diff show
// exactly what is stored.
std::string numberText(double value) {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return ec == std::errc() ? std::string(buffer.data(), end) : std::string();
}

std::optional<std::string> optionalText(const std::optional<double>& v) {
    return v ? std::optional(numberText(*v)) : std::nullopt;
}

std::optional<Precision> rateKey(std::string_view key) {
    return analysis::precisionFromKey(key);
}

const analysis::FigureField* figureField(std::string_view key) {
    for (const auto& f : analysis::kFigureFields)
        if (f.key == key)
            return &f;
    return nullptr;
}

[[noreturn]] void unknownField(std::string_view key) {
    throw std::invalid_argument("unknown chip field \"" + std::string(key) + "\"");
}

} // namespace

const std::vector<std::string>& chipFieldKeys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k = {"vendor", "year", "kind", "datacenter"};
        for (Precision p : analysis::kAllPrecisions)
            k.emplace_back(analysis::precisionKey(p));
        for (const auto& f : analysis::kFigureFields)
            k.emplace_back(f.key);
        k.emplace_back("notes");
        return k;
    }();
    return keys;
}

bool isChipFieldKey(std::string_view key) {
    const auto& keys = chipFieldKeys();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::optional<std::string> chipFieldText(const ChipSpec& chip, std::string_view key) {
    if (key == "vendor")
        return chip.vendor.empty() ? std::nullopt : std::optional(chip.vendor);
    if (key == "year")
        return chip.year ? std::optional(std::to_string(*chip.year)) : std::nullopt;
    if (key == "kind")
        return std::string(analysis::chipKindKey(chip.kind));
    if (key == "datacenter")
        return chip.datacenter ? std::optional<std::string>(*chip.datacenter ? "true" : "false")
                               : std::nullopt;
    if (key == "notes")
        return chip.notes.empty() ? std::nullopt : std::optional(chip.notes);
    if (const auto p = rateKey(key))
        return optionalText(chip.dense_tops[*p]);
    if (const auto* f = figureField(key))
        return optionalText(chip.*f->member);
    unknownField(key);
}

void copyChipField(ChipSpec& to, const ChipSpec& from, std::string_view key) {
    if (key == "vendor")
        to.vendor = from.vendor;
    else if (key == "year")
        to.year = from.year;
    else if (key == "kind")
        to.kind = from.kind;
    else if (key == "datacenter")
        to.datacenter = from.datacenter;
    else if (key == "notes")
        to.notes = from.notes;
    else if (const auto p = rateKey(key))
        to.dense_tops[*p] = from.dense_tops[*p];
    else if (const auto* f = figureField(key))
        to.*f->member = from.*f->member;
    else
        unknownField(key);
}

ChipPatch wholeChipPatch(const ChipSpec& chip, std::string origin) {
    ChipPatch patch;
    patch.values = chip;
    patch.values.sources.clear();
    patch.sources = chip.sources;
    patch.fields = {chipFieldKeys().begin(), chipFieldKeys().end()};
    patch.origin = std::move(origin);
    return patch;
}

std::vector<Source> mergeSources(const std::vector<Source>& stored,
                                 const std::set<std::string>& changedFields,
                                 const std::vector<Source>& incoming, bool newChip,
                                 const std::set<std::string>& clearedFields) {
    std::vector<Source> out;
    for (const Source& s : stored)
        if (s.field == "*" || !changedFields.count(s.field))
            out.push_back(s);
    const auto add = [&out](Source s) {
        if (std::find(out.begin(), out.end(), s) == out.end())
            out.push_back(std::move(s));
    };
    for (const Source& s : incoming) {
        if (s.field != "*" || newChip) {
            add(s);
            continue;
        }
        for (const std::string& field : chipFieldKeys()) // in field order, not set order
            if (changedFields.count(field) && !clearedFields.count(field))
                add({field, s.citation, s.confidence});
    }
    return out;
}

ChipSpec applyPatch(const ChipSpec& stored, const ChipPatch& patch) {
    ChipSpec out = stored;
    std::set<std::string> changed, cleared;
    for (const std::string& key : patch.fields) {
        const auto newValue = chipFieldText(patch.values, key);
        if (chipFieldText(stored, key) != newValue) {
            changed.insert(key);
            if (!newValue)
                cleared.insert(key);
        }
        copyChipField(out, patch.values, key);
    }
    out.sources = mergeSources(stored.sources, changed, patch.sources, false, cleared);
    out.alternatives = patch.replaces_alternatives
                           ? patch.values.alternatives
                           : mergeAlternatives(stored.alternatives, patch.values.alternatives);
    return out;
}

std::vector<analysis::FigureAlternative>
mergeAlternatives(const std::vector<analysis::FigureAlternative>& stored,
                  const std::vector<analysis::FigureAlternative>& incoming) {
    std::vector<analysis::FigureAlternative> out = stored;
    for (const auto& a : incoming)
        if (std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(a);
    return out;
}

int ImportDiff::addedChips() const {
    return static_cast<int>(
        std::count_if(chips.begin(), chips.end(), [](const auto& c) { return c.added; }));
}

int ImportDiff::changedChips() const {
    return static_cast<int>(std::count_if(chips.begin(), chips.end(),
                                          [](const auto& c) { return !c.added && c.changed(); }));
}

int ImportDiff::unchangedChips() const {
    return static_cast<int>(
        std::count_if(chips.begin(), chips.end(), [](const auto& c) { return !c.changed(); }));
}

int ImportDiff::changedFigures() const {
    int n = 0;
    for (const auto& c : chips)
        if (!c.added)
            n += static_cast<int>(c.changes.size());
    return n;
}

int ImportDiff::clearedFigures() const {
    int n = 0;
    for (const auto& c : chips)
        n += static_cast<int>(std::count_if(c.changes.begin(), c.changes.end(),
                                            [](const auto& f) { return f.cleared(); }));
    return n;
}

int ImportDiff::unchangedFigures() const {
    int n = 0;
    for (const auto& c : chips)
        n += c.unchanged;
    return n;
}

} // namespace crossroads::data
