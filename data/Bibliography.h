// The bibliography behind the short source keys of the seed's citations ("EPOCH; SA (15,831);
// NV-DS"): each key's full citation, its public URL where the reference data gives one, and its
// date. Bundled as data/seed/sources.json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossroads::data {

struct BibliographyEntry {
    std::string key;      // "SA", "NV-8K-2023-10", "THE REGISTER"
    std::string citation; // the full citation
    std::string url;      // empty when no public URL is known
    std::string date;     // ISO 8601, as precise as known ("2025-01", "2023-10-17"), or empty
    bool operator==(const BibliographyEntry&) const = default;
};

// {"sources": [{"key", "citation", "url", "date"}]}. Throws std::runtime_error naming the entry
// (a missing key or citation, an unknown member, a key given twice).
std::vector<BibliographyEntry> bibliographyFromJsonText(const std::string& text);

// The entries whose key a citation text names, in the order the text names them. A key counts
// as a whole token, case-sensitively: "SA" in "SA (White Zone)" but not in "USA", and
// "TECHNICALISSUE" not inside "THETECHNICALISSUE".
std::vector<BibliographyEntry> citedEntries(const std::vector<BibliographyEntry>& bibliography,
                                            std::string_view citation);

} // namespace crossroads::data
