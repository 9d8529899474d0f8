#include "data/Bibliography.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace crossroads::data {

namespace {

bool isKeyChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

} // namespace

std::vector<BibliographyEntry> bibliographyFromJsonText(const std::string& text) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("sources: not valid JSON: ") + e.what());
    }
    if (!doc.is_object() || !doc.contains("sources") || !doc["sources"].is_array())
        throw std::runtime_error("sources: expected {\"sources\": [...]}");
    std::vector<BibliographyEntry> out;
    std::set<std::string> keys;
    int index = 0;
    for (const auto& item : doc["sources"]) {
        ++index;
        const std::string where = "sources: entry " + std::to_string(index);
        if (!item.is_object())
            throw std::runtime_error(where + ": not an object");
        BibliographyEntry entry;
        for (const auto& [key, value] : item.items()) {
            std::string* target = key == "key"        ? &entry.key
                                  : key == "citation" ? &entry.citation
                                  : key == "url"      ? &entry.url
                                  : key == "date"     ? &entry.date
                                                      : nullptr;
            if (!target)
                throw std::runtime_error(where + ": unknown key \"" + key + "\"");
            if (!value.is_string())
                throw std::runtime_error(where + ": \"" + key + "\" must be a string");
            *target = value.get<std::string>();
        }
        if (entry.key.empty() || entry.citation.empty())
            throw std::runtime_error(where + ": needs \"key\" and \"citation\"");
        if (!keys.insert(entry.key).second)
            throw std::runtime_error(where + ": key \"" + entry.key + "\" appears twice");
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<BibliographyEntry> citedEntries(const std::vector<BibliographyEntry>& bibliography,
                                            std::string_view citation) {
    std::vector<std::pair<size_t, const BibliographyEntry*>> found;
    for (const auto& entry : bibliography) {
        for (size_t at = citation.find(entry.key); at != std::string_view::npos;
             at = citation.find(entry.key, at + 1)) {
            const size_t end = at + entry.key.size();
            const bool startsToken = at == 0 || !isKeyChar(citation[at - 1]);
            const bool endsToken = end == citation.size() || !isKeyChar(citation[end]);
            if (startsToken && endsToken) {
                found.emplace_back(at, &entry);
                break;
            }
        }
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<BibliographyEntry> out;
    for (const auto& [at, entry] : found)
        out.push_back(*entry);
    return out;
}

} // namespace crossroads::data
