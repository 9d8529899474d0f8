#include "data/ChipNames.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace crossroads::data {

namespace {

std::string asciiFolded(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

bool isAlnum(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'z');
}

// Words that name a vendor, dropped at the start of a name ("NVIDIA H100", "Moore Threads MTT").
const std::vector<std::vector<std::string_view>>& vendorPrefixes() {
    static const std::vector<std::vector<std::string_view>> prefixes = {
        {"nvidia"}, {"amd"}, {"google"}, {"intel"},     {"habana"},           {"huawei"},
        {"amazon"}, {"aws"}, {"biren"},  {"cambricon"}, {"moore", "threads"}, {"hisilicon"},
    };
    return prefixes;
}

// Product-line words some datasets put in front of the model and others leave out.
bool isBrandWord(std::string_view w) {
    return w == "tesla" || w == "geforce" || w == "radeon" || w == "instinct" || w == "cloud";
}

bool isMemoryTypeWord(std::string_view w) {
    return w == "hbm" || w == "hbm2" || w == "hbm2e" || w == "hbm3" || w == "hbm3e" ||
           w == "gddr6" || w == "gddr6x" || w == "gddr7" || w == "memory";
}

// "sxm", "sxm2" ... "sxm6" -> "sxm"; "pcie" -> "pcie"; "oam" -> "oam"; else empty.
std::string formFactorOf(std::string_view w) {
    if (w == "pcie" || w == "oam")
        return std::string(w);
    if (w.starts_with("sxm") &&
        std::all_of(w.begin() + 3, w.end(), [](char c) { return isDigit(c); }))
        return "sxm";
    return {};
}

// Takes "80gb", "80 gb", "16/32gb", "180-192gb" out of `s` (lower case), collecting the sizes.
std::string withoutMemorySizes(const std::string& s, std::set<std::string>& sizes) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        if (!isDigit(s[i]) || (i > 0 && isAlnum(s[i - 1]))) {
            out.push_back(s[i++]);
            continue;
        }
        // A run of numbers joined by '/', '-' or '.', then optional spaces, then "gb".
        size_t j = i;
        std::vector<std::string> numbers(1);
        while (j < s.size() && (isDigit(s[j]) || s[j] == '.' || s[j] == '/' || s[j] == '-')) {
            if (s[j] == '/' || s[j] == '-')
                numbers.emplace_back();
            else
                numbers.back().push_back(s[j]);
            ++j;
        }
        size_t k = j;
        while (k < s.size() && s[k] == ' ')
            ++k;
        const bool gb = s.compare(k, 2, "gb") == 0 && (k + 2 == s.size() || !isAlnum(s[k + 2]));
        if (!gb) {
            out.append(s, i, j - i);
            i = j;
            continue;
        }
        for (auto& n : numbers)
            if (!n.empty())
                sizes.insert(n);
        i = k + 2;
        out.push_back(' ');
    }
    return out;
}

std::string withoutParentheses(const std::string& s) {
    std::string out;
    int depth = 0;
    for (char c : s) {
        if (c == '(')
            ++depth;
        else if (c == ')' && depth > 0)
            --depth;
        else if (depth == 0)
            out.push_back(c);
        else
            continue;
        if (c == '(' || c == ')')
            out.push_back(' ');
    }
    return out;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out(1);
    for (char c : s) {
        if (isAlnum(c))
            out.back().push_back(c);
        else if (!out.back().empty())
            out.emplace_back();
    }
    if (out.back().empty())
        out.pop_back();
    return out;
}

bool memoryAgrees(const ChipNameKey& a, const ChipNameKey& b) {
    if (a.memory_gb.empty() || b.memory_gb.empty())
        return true;
    return std::any_of(a.memory_gb.begin(), a.memory_gb.end(),
                       [&](const std::string& m) { return b.memory_gb.count(m) > 0; });
}

bool formFactorAgrees(const ChipNameKey& a, const ChipNameKey& b) {
    return a.form_factor.empty() || b.form_factor.empty() || a.form_factor == b.form_factor;
}

} // namespace

std::vector<ChipAlias> aliasesFromJsonText(const std::string& text) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("aliases: not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("aliases") || !doc["aliases"].is_array())
        throw std::runtime_error("aliases: expected {\"aliases\": [...]}");
    std::vector<ChipAlias> out;
    int index = 0;
    for (const auto& entry : doc["aliases"]) {
        ++index;
        const std::string where = "aliases: entry " + std::to_string(index);
        if (!entry.is_object())
            throw std::runtime_error(where + ": not an object");
        ChipAlias alias;
        for (const auto& [key, value] : entry.items()) {
            std::string* target = key == "alias"  ? &alias.alias
                                  : key == "chip" ? &alias.chip
                                  : key == "note" ? &alias.note
                                                  : nullptr;
            if (!target)
                throw std::runtime_error(where + ": unknown key \"" + key + "\"");
            if (!value.is_string())
                throw std::runtime_error(where + ": \"" + key + "\" must be a string");
            *target = value.get<std::string>();
        }
        if (alias.alias.empty() || alias.chip.empty())
            throw std::runtime_error(where + ": needs \"alias\" and \"chip\"");
        out.push_back(std::move(alias));
    }
    return out;
}

ChipNameKey chipNameKey(std::string_view name) {
    ChipNameKey key;
    std::string s = asciiFolded(name);
    s = withoutMemorySizes(s, key.memory_gb);
    s = withoutParentheses(s);
    std::vector<std::string> w = words(s);
    // Vendor words at the start, as many as there are ("Intel Habana Gaudi2").
    for (bool dropped = true; dropped;) {
        dropped = false;
        for (const auto& prefix : vendorPrefixes()) {
            if (w.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), w.begin())) {
                w.erase(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(prefix.size()));
                dropped = true;
            }
        }
    }
    for (const std::string& word : w) {
        if (isBrandWord(word) || isMemoryTypeWord(word))
            continue;
        key.with_form_factor += word;
        if (const std::string f = formFactorOf(word); !f.empty()) {
            key.form_factor = f;
            continue;
        }
        key.without_form_factor += word;
    }
    // A name of nothing but dropped words ("NVIDIA Tesla") keeps its plain letters.
    if (key.with_form_factor.empty())
        for (const std::string& word : words(asciiFolded(name)))
            key.with_form_factor += word;
    if (key.without_form_factor.empty())
        key.without_form_factor = key.with_form_factor;
    return key;
}

ChipNameMatcher::ChipNameMatcher(std::vector<std::string> storeNames,
                                 std::vector<ChipAlias> aliases) {
    for (std::string& name : storeNames) {
        std::string folded = asciiFolded(name);
        ChipNameKey key = chipNameKey(name);
        store_.push_back({std::move(name), std::move(folded), std::move(key)});
    }
    for (const ChipAlias& a : aliases)
        aliases_.emplace_back(chipNameKey(a.alias).with_form_factor, a.chip);
}

ChipNameMatch ChipNameMatcher::match(std::string_view rowName) const {
    const std::string folded = asciiFolded(rowName);
    for (const Entry& e : store_)
        if (e.folded == folded)
            return {e.name, {}, "exact"};

    const ChipNameKey key = chipNameKey(rowName);
    for (const auto& [aliasKey, target] : aliases_) {
        if (aliasKey != key.with_form_factor)
            continue;
        const std::string targetFolded = asciiFolded(target);
        for (const Entry& e : store_)
            if (e.folded == targetFolded)
                return {e.name, {}, "alias"};
    }

    const auto candidates = [&](bool withFormFactor) {
        std::vector<std::string> out;
        for (const Entry& e : store_) {
            const bool same = withFormFactor
                                  ? e.key.with_form_factor == key.with_form_factor
                                  : e.key.without_form_factor == key.without_form_factor &&
                                        formFactorAgrees(e.key, key);
            if (same && memoryAgrees(e.key, key))
                out.push_back(e.name);
        }
        return out;
    };
    for (const bool withFormFactor : {true, false}) {
        auto found = candidates(withFormFactor);
        if (found.size() == 1)
            return {found.front(),
                    {},
                    withFormFactor ? "normalised name" : "normalised name, form factor aside"};
        if (found.size() > 1)
            return {std::nullopt, std::move(found), "ambiguous"};
    }
    return {std::nullopt, {}, "not matched"};
}

} // namespace crossroads::data
