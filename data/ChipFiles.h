// Chip import and export: the JSON interchange format, Crossroads CSV (one column per
// interchange key, sources as a JSON array in one cell) and Epoch AI's hardware CSV.
// Every reader is all or nothing: the first bad row stops it, named by line and field.
#pragma once

#include "analysis/ChipSpec.h"

#include <QString>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::data {

// "line 7, field fp32: \"abc\" is not a number"; readChipFile prefixes the file's path.
class ChipFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ChipFileFormat { Json, CrossroadsCsv, EpochCsv };

// The columns of Crossroads CSV, in the order it is written.
const std::vector<std::string>& crossroadsCsvColumns();

// JSON: one chip object or an array of them (analysis::chipsFromJsonText); writes an array.
std::vector<analysis::ChipSpec> chipsFromJsonFileText(const std::string& text);
std::string chipsToJsonText(const std::vector<analysis::ChipSpec>& chips);

// Crossroads CSV. Empty cell = null; datacenter true/false/empty; unknown columns are errors.
// Writing then reading gives back equal chips.
std::vector<analysis::ChipSpec> chipsFromCsvText(std::string_view text);
std::string chipsToCsvText(const std::vector<analysis::ChipSpec>& chips);

// Epoch AI "Data on Machine Learning Hardware" CSV: columns matched by normalised name (case,
// punctuation and spacing ignored; known variants accepted), units converted to the interchange
// ones, every row sourced to Epoch AI. Unrelated columns are ignored.
std::vector<analysis::ChipSpec> chipsFromEpochCsvText(std::string_view text);

// By extension (.json, .csv) and, for .csv, by the header (Epoch's or ours). Throws
// ChipFileError for any other extension.
ChipFileFormat detectChipFileFormat(const QString& path, std::string_view content);

// Reads and parses a chip file of any supported format; throws ChipFileError ("PATH: line 7,
// field fp32: ..."). Nothing is returned unless every row is good.
std::vector<analysis::ChipSpec> readChipFile(const QString& path);
// Writes JSON or Crossroads CSV by extension, atomically (the old file survives a failure).
void writeChipFile(const QString& path, const std::vector<analysis::ChipSpec>& chips);

} // namespace crossroads::data
