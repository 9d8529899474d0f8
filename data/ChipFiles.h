// Chip import and export: the JSON interchange format, Crossroads CSV (one column per
// interchange key, sources as a JSON array in one cell) and Epoch AI's hardware CSV.
// Every reader is all or nothing: the first bad row stops it, named by line and field.
//
// Each reader comes in two forms: patches (data/ChipPatch.h), which say which fields each row
// gives, for imports that merge into the store (a CSV column or JSON key the file lacks keeps
// the stored figure; an empty cell or a null clears it); and whole chips, where a field the row
// does not give is unknown (classify --spec, round trips).
#pragma once

#include "analysis/ChipSpec.h"
#include "data/ChipPatch.h"

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

// JSON: one chip object or an array of them (analysis::chipFromJson); writes an array. A patch
// gives the keys its object has; in "dense_tops", the rates it names ("dense_tops": null gives
// every rate, cleared).
std::vector<ChipPatch> patchesFromJsonFileText(const std::string& text);
std::vector<analysis::ChipSpec> chipsFromJsonFileText(const std::string& text);
std::string chipsToJsonText(const std::vector<analysis::ChipSpec>& chips);

// Crossroads CSV. Empty cell = null; datacenter true/false/empty; unknown columns are errors.
// Writing then reading gives back equal chips. A patch gives the columns of the header.
std::vector<ChipPatch> patchesFromCsvText(std::string_view text);
std::vector<analysis::ChipSpec> chipsFromCsvText(std::string_view text);
std::string chipsToCsvText(const std::vector<analysis::ChipSpec>& chips);

// An edit of one field, its text read as a Crossroads CSV cell would be (empty clears), so the
// editor refuses what an import refuses: throws ChipFileError naming the field ("field fp16:
// \"abc\" is not a number", "tdp_w must be a positive number ...").
ChipPatch fieldEditPatch(const std::string& chipName, const std::string& field,
                         const std::string& text);

// Epoch AI "Data on Machine Learning Hardware" CSV: columns matched by normalised name (case,
// punctuation and spacing ignored; known variants accepted), units converted to the interchange
// ones, every row sourced to Epoch AI (its type, datasheet link and notes columns go into that
// source's citation). Unrelated columns are ignored. A patch gives the fields of the columns
// found and matches names loosely (NameMatching::Epoch).
std::vector<ChipPatch> patchesFromEpochCsvText(std::string_view text);
std::vector<analysis::ChipSpec> chipsFromEpochCsvText(std::string_view text);

// By extension (.json, .csv) and, for .csv, by the header (Epoch's or ours). Throws
// ChipFileError for any other extension.
ChipFileFormat detectChipFileFormat(const QString& path, std::string_view content);

struct ChipFile {
    ChipFileFormat format = ChipFileFormat::Json;
    std::vector<ChipPatch> rows;
};

// Reads and parses a chip file of any supported format; throws ChipFileError ("PATH: line 7,
// field fp32: ..."). Nothing is returned unless every row is good.
ChipFile readChipPatches(const QString& path);
std::vector<analysis::ChipSpec> readChipFile(const QString& path);
// Writes JSON or Crossroads CSV by extension, atomically (the old file survives a failure).
void writeChipFile(const QString& path, const std::vector<analysis::ChipSpec>& chips);

} // namespace crossroads::data
