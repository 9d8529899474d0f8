// Matching chip names from other datasets (Epoch AI's "NVIDIA H100 SXM5 80GB") to the store's
// ("H100 SXM5 80GB"): a normalised key (vendor prefixes, brand words, memory sizes, parenthesised
// qualifiers, case and punctuation dropped; form factors compared apart) and an alias table
// bundled in the seed (data/seed/aliases.json). A name that could be two chips is ambiguous,
// never merged into one of them.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::data {

struct ChipAlias {
    std::string alias; // a name another dataset uses
    std::string chip;  // the store's name for it
    std::string note;  // why (shown nowhere yet; for the person who edits the table)
};

// {"aliases": [{"alias", "chip", "note"}]}. Throws std::runtime_error naming the entry.
std::vector<ChipAlias> aliasesFromJsonText(const std::string& text);

struct ChipNameKey {
    std::string with_form_factor;    // "h100sxm5"
    std::string without_form_factor; // "h100"
    std::string form_factor;         // "sxm", "pcie", "oam" or empty
    std::set<std::string> memory_gb; // {"80"}; {"16", "32"} for "(16/32GB)"
};
ChipNameKey chipNameKey(std::string_view name);

struct ChipNameMatch {
    std::optional<std::string> name;    // the store's chip, when exactly one matches
    std::vector<std::string> ambiguous; // the candidates when more than one matches
    std::string how;                    // "exact", "alias", "normalised name", ...
};

class ChipNameMatcher {
public:
    ChipNameMatcher(std::vector<std::string> storeNames, std::vector<ChipAlias> aliases);
    // Exact (ASCII case-insensitive), then an alias, then the normalised name with its form
    // factor, then without it (form factors and memory sizes that are both given must agree).
    ChipNameMatch match(std::string_view rowName) const;

private:
    struct Entry {
        std::string name;
        std::string folded;
        ChipNameKey key;
    };
    std::vector<Entry> store_;
    std::vector<std::pair<std::string, std::string>> aliases_; // alias key, store name
};

} // namespace crossroads::data
