#include "data/ChipFiles.h"

#include "analysis/ChipJson.h"
#include "data/Csv.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace crossroads::data {

using analysis::ChipSpec;
using analysis::Precision;

namespace {

constexpr std::string_view kEpochCitation = "Epoch AI, Data on Machine Learning Hardware (CC BY)";

[[noreturn]] void failAt(int line, std::string_view field, const std::string& message) {
    throw ChipFileError("line " + std::to_string(line) + ", field " + std::string(field) + ": " +
                        message);
}

[[noreturn]] void failAt(int line, const std::string& message) {
    throw ChipFileError("line " + std::to_string(line) + ": " + message);
}

std::string inQuotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

std::string_view trimmed(std::string_view s) {
    const auto notSpace = [](char c) { return c != ' ' && c != '\t'; };
    const auto first = std::find_if(s.begin(), s.end(), notSpace);
    const auto last = std::find_if(s.rbegin(), s.rend(), notSpace).base();
    return first < last ? std::string_view(first, last) : std::string_view();
}

char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string asciiLowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), asciiLower);
    return out;
}

// Locale-independent (a German desktop must not read "1.5" as 15): from_chars, whole cell.
std::optional<double> parseNumber(std::string_view cell) {
    cell = trimmed(cell);
    if (cell.starts_with('+'))
        cell.remove_prefix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
    if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size() ||
        !std::isfinite(value))
        return std::nullopt;
    return value;
}

std::optional<int> parseWholeNumber(std::string_view cell) {
    cell = trimmed(cell);
    int value = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
    if (cell.empty() || ec != std::errc() || end != cell.data() + cell.size())
        return std::nullopt;
    return value;
}

// The shortest text that reads back as the same double, so CSV export round-trips exactly.
std::string formatNumber(double value) {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return ec == std::errc() ? std::string(buffer.data(), end) : std::string();
}

std::string formatOptional(const std::optional<double>& value) {
    return value ? formatNumber(*value) : std::string();
}

// The length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8SequenceLength(std::string_view text, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80)
        return 1;
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // the second byte's range
    if (c >= 0xC2 && c <= 0xDF)
        length = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        low = c == 0xE0 ? 0xA0 : 0x80;
        high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        low = c == 0xF0 ? 0x90 : 0x80;
        high = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high)
        return 0;
    for (size_t k = 2; k < length; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
            return 0;
    return length;
}

// The store, the JSON writer and Qt all take text as UTF-8: a spreadsheet saved as Latin-1 is
// refused here, by line, instead of being mangled or failing at export.
void checkUtf8(std::string_view text) {
    int line = 1;
    for (size_t i = 0; i < text.size();) {
        const size_t n = utf8SequenceLength(text, i);
        if (n == 0)
            failAt(line, "not valid UTF-8 text (save the file as UTF-8)");
        if (text[i] == '\n')
            ++line;
        i += n;
    }
}

std::vector<CsvRecord> parseCsvRecords(std::string_view text) {
    checkUtf8(text);
    try {
        return parseCsv(text);
    } catch (const CsvError& e) {
        throw ChipFileError(e.what());
    }
}

// A row that does not give the vendor leaves the stored one; a new chip without one is refused
// by the store, when it knows the chip is new.
std::vector<std::string> patchProblems(const ChipPatch& patch) {
    ChipSpec chip = patch.values;
    chip.sources = patch.sources;
    if (!patch.gives("vendor") && chip.vendor.empty())
        chip.vendor = "(kept)";
    return analysis::validateChip(chip);
}

void checkValid(const ChipPatch& patch, int line) {
    const auto problems = patchProblems(patch);
    if (!problems.empty())
        failAt(line, inQuotes(patch.values.name) + ": " + problems.front());
}

// SQLite's NOCASE folds ASCII only, so duplicates are judged the way the store will judge them.
void checkNoDuplicate(std::map<std::string, int>& firstLineByName, const ChipSpec& chip, int line) {
    const auto [it, inserted] = firstLineByName.emplace(asciiLowered(chip.name), line);
    if (!inserted)
        failAt(line, inQuotes(chip.name) + " appears again (first on line " +
                         std::to_string(it->second) + ")");
}

// ---- Crossroads CSV ---------------------------------------------------------------------------

using analysis::kFigureFields;

std::string sourcesToCell(const std::vector<analysis::Source>& sources) {
    if (sources.empty())
        return {};
    auto array = nlohmann::ordered_json::array();
    for (const auto& s : sources)
        array.push_back(
            {{"field", s.field}, {"citation", s.citation}, {"confidence", s.confidence}});
    return array.dump();
}

std::vector<analysis::Source> sourcesFromCell(std::string_view cell, int line,
                                              std::string_view column) {
    if (trimmed(cell).empty())
        return {};
    nlohmann::json array;
    try {
        array = nlohmann::json::parse(cell);
    } catch (const nlohmann::json::exception&) {
        failAt(line, column, "not valid JSON (expected an array of {field, citation, confidence})");
    }
    if (!array.is_array())
        failAt(line, column, "expected a JSON array of {field, citation, confidence}");
    std::vector<analysis::Source> sources;
    int index = 0;
    for (const auto& entry : array) {
        ++index;
        const std::string where = "entry " + std::to_string(index) + ": ";
        if (!entry.is_object())
            failAt(line, column, where + "not an object");
        analysis::Source source;
        for (const auto& [key, value] : entry.items()) {
            std::string* target = key == "field"        ? &source.field
                                  : key == "citation"   ? &source.citation
                                  : key == "confidence" ? &source.confidence
                                                        : nullptr;
            if (!target)
                failAt(line, column, where + "unknown key " + inQuotes(key));
            if (!value.is_string())
                failAt(line, column, where + inQuotes(key) + " must be a string");
            *target = value.get<std::string>();
        }
        if (source.field.empty())
            source.field = "*"; // as the JSON reader does: no field means the whole row
        sources.push_back(std::move(source));
    }
    return sources;
}

// Alternatives (another source's value for a figure) travel as the interchange object's JSON array
// in one cell, as sources do.
std::string alternativesToCell(const std::vector<analysis::FigureAlternative>& alternatives) {
    if (alternatives.empty())
        return {};
    auto array = nlohmann::ordered_json::array();
    for (const auto& a : alternatives)
        array.push_back({{"field", a.field},
                         {"value", a.value},
                         {"citation", a.citation},
                         {"confidence", a.confidence}});
    return array.dump();
}

std::vector<analysis::FigureAlternative> alternativesFromCell(std::string_view cell, int line) {
    if (trimmed(cell).empty())
        return {};
    nlohmann::json array;
    try {
        array = nlohmann::json::parse(cell);
    } catch (const nlohmann::json::exception&) {
        failAt(line, "alternatives",
               "not valid JSON (expected an array of {field, value, citation, confidence})");
    }
    try {
        return analysis::alternativesFromJson(array, "alternatives");
    } catch (const analysis::ChipFormatError& e) {
        failAt(line, "alternatives", e.what());
    }
}

using CellReader = std::function<void(ChipPatch&, std::string_view cell, int line)>;

struct CsvColumn {
    std::string key;
    CellReader read;
    bool isField = true; // a chipFieldKeys() field (name and sources are not)
};

std::optional<double> numberCell(std::string_view cell, int line, std::string_view key) {
    if (trimmed(cell).empty())
        return std::nullopt;
    const auto value = parseNumber(cell);
    if (!value)
        failAt(line, key, inQuotes(cell) + " is not a number");
    return value;
}

const std::vector<CsvColumn>& csvColumns() {
    static const std::vector<CsvColumn> columns = [] {
        std::vector<CsvColumn> c;
        c.push_back({"name",
                     [](ChipPatch& row, std::string_view cell, int line) {
                         if (trimmed(cell).empty())
                             failAt(line, "name", "empty (every chip needs a name)");
                         row.values.name = std::string(cell);
                     },
                     false});
        c.push_back({"vendor", [](ChipPatch& row, std::string_view cell, int) {
                         row.values.vendor = std::string(cell);
                     }});
        c.push_back({"year", [](ChipPatch& row, std::string_view cell, int line) {
                         if (trimmed(cell).empty())
                             return;
                         row.values.year = parseWholeNumber(cell);
                         if (!row.values.year)
                             failAt(line, "year", inQuotes(cell) + " is not a whole number");
                     }});
        c.push_back({"kind", [](ChipPatch& row, std::string_view cell, int line) {
                         if (trimmed(cell).empty())
                             return;
                         const auto kind = analysis::chipKindFromKey(asciiLowered(trimmed(cell)));
                         if (!kind)
                             failAt(line, "kind", inQuotes(cell) + " is not \"logic\" or \"hbm\"");
                         row.values.kind = *kind;
                     }});
        c.push_back({"datacenter", [](ChipPatch& row, std::string_view cell, int line) {
                         const std::string value = asciiLowered(trimmed(cell));
                         if (value.empty())
                             return;
                         if (value != "true" && value != "false")
                             failAt(line, "datacenter",
                                    inQuotes(cell) + " is not true, false or empty");
                         row.values.datacenter = value == "true";
                     }});
        for (const Precision p : analysis::kAllPrecisions) {
            const std::string key(analysis::precisionKey(p));
            c.push_back({key, [p, key](ChipPatch& row, std::string_view cell, int line) {
                             row.values.dense_tops[p] = numberCell(cell, line, key);
                         }});
        }
        for (const analysis::FigureField& figure : kFigureFields) {
            c.push_back({std::string(figure.key),
                         [figure](ChipPatch& row, std::string_view cell, int line) {
                             row.values.*figure.member = numberCell(cell, line, figure.key);
                         }});
        }
        c.push_back({"notes", [](ChipPatch& row, std::string_view cell, int) {
                         row.values.notes = std::string(cell);
                     }});
        c.push_back({"sources",
                     [](ChipPatch& row, std::string_view cell, int line) {
                         row.sources = sourcesFromCell(cell, line, "sources");
                     },
                     false});
        c.push_back({"alternatives",
                     [](ChipPatch& row, std::string_view cell, int line) {
                         row.values.alternatives = alternativesFromCell(cell, line);
                     },
                     false});
        return c;
    }();
    return columns;
}

std::vector<std::string> chipToCsvFields(const ChipSpec& chip) {
    std::vector<std::string> f;
    f.push_back(chip.name);
    f.push_back(chip.vendor);
    f.push_back(chip.year ? std::to_string(*chip.year) : std::string());
    f.emplace_back(analysis::chipKindKey(chip.kind));
    f.push_back(chip.datacenter ? (*chip.datacenter ? "true" : "false") : "");
    for (const Precision p : analysis::kAllPrecisions)
        f.push_back(formatOptional(chip.dense_tops[p]));
    for (const analysis::FigureField& figure : kFigureFields)
        f.push_back(formatOptional(chip.*figure.member));
    f.push_back(chip.notes);
    f.push_back(sourcesToCell(chip.sources));
    f.push_back(alternativesToCell(chip.alternatives));
    return f;
}

// ---- Epoch AI CSV -----------------------------------------------------------------------------

// Epoch renames columns between snapshots ("Die Size (mm^2)", "Die size (mm2)"): compare only
// lower-case letters and digits.
std::string normalisedColumn(std::string_view header) {
    std::string out;
    for (char c : header) {
        c = asciiLower(c);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out.push_back(c);
    }
    return out;
}

enum class EpochField {
    Name,
    Vendor,
    Type,
    ReleaseDate,
    Fp64,
    Fp32,
    Tf32,
    TensorFp16Bf16,
    Fp16NonTensor,
    Int8,
    Int4,
    Fp8,
    Fp4,
    MemoryCapacity,
    MemoryBandwidth,
    IntranodeBandwidth,
    DieArea,
    Tdp,
    Tpp,
    Datasheet,
    Notes,
};

enum class EpochUnit { None, Rate, Bytes, BytesPerSecond, BitOps };

struct EpochColumnSpec {
    EpochField field;
    EpochUnit unit;
    std::vector<std::string_view> exact;    // normalised names
    std::vector<std::string_view> prefixes; // normalised name starts
};

const std::vector<EpochColumnSpec>& epochColumnSpecs() {
    using F = EpochField;
    using U = EpochUnit;
    static const std::vector<EpochColumnSpec> specs = {
        {F::Name,
         U::None,
         {"hardwarename", "hardware", "name", "model", "chip", "chipname"},
         {"hardwarename"}},
        {F::Vendor, U::None, {"manufacturer", "vendor", "designer", "company"}, {"manufacturer"}},
        {F::Type, U::None, {"type", "hardwaretype"}, {}},
        {F::ReleaseDate,
         U::None,
         {"releasedate", "releaseyear", "release", "year", "launchdate"},
         {"releasedate", "releaseyear"}},
        {F::Fp64, U::Rate, {}, {"fp64", "doubleprecision"}},
        {F::Fp32, U::Rate, {}, {"fp32", "singleprecision"}},
        {F::Tf32, U::Rate, {}, {"tf32", "tensorfloat32", "tensortf32", "tensorfp32"}},
        {F::TensorFp16Bf16, U::Rate, {}, {"tensorfp16", "tensorbf16", "fp16bf16tensor"}},
        {F::Fp16NonTensor, U::Rate, {}, {"fp16", "halfprecision"}},
        {F::Int8, U::Rate, {}, {"int8"}},
        {F::Int4, U::Rate, {}, {"int4"}},
        {F::Fp8, U::Rate, {}, {"fp8"}},
        {F::Fp4, U::Rate, {}, {"fp4"}},
        {F::MemoryCapacity,
         U::Bytes,
         {"memory"},
         {"memorysize", "memorycapacity", "memoryperboard", "memorygb", "memorybyte"}},
        {F::MemoryBandwidth, U::BytesPerSecond, {}, {"memorybandwidth", "memorybw"}},
        {F::IntranodeBandwidth, U::BytesPerSecond, {}, {"intranodebandwidth", "intranodebw"}},
        {F::DieArea, U::None, {}, {"diesize", "diearea"}},
        {F::Tdp, U::None, {}, {"tdp", "thermaldesignpower"}},
        {F::Tpp, U::BitOps, {"tpp"}, {"totalprocessingperformance"}},
        {F::Datasheet,
         U::None,
         {"datasheet", "datasheetlink", "datasheeturl"},
         {"linktodatasheet", "datasheetlink"}},
        {F::Notes, U::None, {"notes", "note", "comments"}, {}},
    };
    return specs;
}

// From the column's unit to the interchange unit, as a multiplier and a divisor that are both
// exact doubles: dividing by 1e12 gives 34 for 3.4e13 where multiplying by 1e-12 (inexact) need
// not. Epoch's own headers carry FLOP/s, Byte, byte/s and bit-OP/s; the alternatives cover
// hand-made sheets in the interchange units.
struct Scale {
    double multiply = 1;
    double divide = 1;
    double apply(double value) const { return value * multiply / divide; }
};

Scale epochScale(EpochUnit unit, std::string_view header) {
    std::string h = asciiLowered(header);
    h.erase(std::remove(h.begin(), h.end(), ' '), h.end());
    const auto has = [&h](std::string_view s) { return h.find(s) != std::string::npos; };
    switch (unit) {
    case EpochUnit::None:
        return {};
    case EpochUnit::Rate:
        if (has("tflop") || has("top/s") || has("(tops"))
            return {};
        if (has("gflop"))
            return {1, 1e3};
        return {1, 1e12};
    case EpochUnit::Bytes:
        return has("gb") ? Scale{} : Scale{1, 1e9};
    case EpochUnit::BytesPerSecond:
        if (has("gb/s") || has("gbps"))
            return {};
        if (has("tb/s"))
            return {1e3, 1};
        if (has("bit/s"))
            return {1, 8e9};
        return {1, 1e9};
    case EpochUnit::BitOps:
        return (has("op/s") || has("ops")) ? Scale{1, 1e12} : Scale{};
    }
    return {};
}

struct EpochColumn {
    EpochField field;
    size_t index;
    std::string header;
    Scale scale;
};

// The column matching each field: an exact normalised name wins, otherwise the longest matching
// prefix (so "fp16bf16tensor..." is tensor FP16/BF16, not plain FP16).
std::vector<EpochColumn> matchEpochColumns(const std::vector<std::string>& headers,
                                           bool throwOnAmbiguity) {
    std::map<EpochField, EpochColumn> byField;
    for (size_t i = 0; i < headers.size(); ++i) {
        const std::string n = normalisedColumn(headers[i]);
        if (n.empty() || n.find("sparse") != std::string::npos ||
            n.find("sparsity") != std::string::npos)
            continue;
        const EpochColumnSpec* best = nullptr;
        size_t bestLength = 0;
        for (const auto& spec : epochColumnSpecs()) {
            for (std::string_view e : spec.exact)
                if (n == e && n.size() + 1 > bestLength) {
                    best = &spec;
                    bestLength = n.size() + 1; // beats any prefix of the same name
                }
            for (std::string_view p : spec.prefixes)
                if (n.starts_with(p) && p.size() > bestLength) {
                    best = &spec;
                    bestLength = p.size();
                }
        }
        if (!best)
            continue;
        const EpochColumn column{best->field, i, std::string(trimmed(headers[i])),
                                 epochScale(best->unit, headers[i])};
        const auto [it, inserted] = byField.emplace(best->field, column);
        if (!inserted && throwOnAmbiguity)
            failAt(1, "columns " + inQuotes(it->second.header) + " and " + inQuotes(column.header) +
                          " both look like the same Epoch column; rename or remove one");
    }
    std::vector<EpochColumn> columns;
    for (auto& [field, column] : byField)
        columns.push_back(column);
    return columns;
}

// The chip fields an Epoch cell gives when it is not empty.
std::vector<std::string_view> epochFieldKeys(EpochField field) {
    switch (field) {
    case EpochField::Vendor:
        return {"vendor"};
    case EpochField::ReleaseDate:
        return {"year"};
    case EpochField::Fp64:
        return {"fp64"};
    case EpochField::Fp32:
        return {"fp32"};
    case EpochField::Tf32:
        return {"tf32"};
    case EpochField::TensorFp16Bf16:
        return {"fp16", "bf16"};
    case EpochField::Fp16NonTensor:
        return {"fp16"};
    case EpochField::Int8:
        return {"int8"};
    case EpochField::Int4:
        return {"int4"};
    case EpochField::Fp8:
        return {"fp8"};
    case EpochField::Fp4:
        return {"fp4"};
    case EpochField::MemoryCapacity:
        return {"memory_capacity_gb"};
    case EpochField::MemoryBandwidth:
        return {"memory_bandwidth_gb_per_s"};
    case EpochField::IntranodeBandwidth:
        return {"io_bidirectional_gb_per_s"};
    case EpochField::DieArea:
        return {"applicable_die_area_mm2"};
    case EpochField::Tdp:
        return {"tdp_w"};
    case EpochField::Tpp:
        return {"tpp_reported"};
    case EpochField::Name:
    case EpochField::Type:
    case EpochField::Datasheet:
    case EpochField::Notes:
        return {};
    }
    return {};
}

ChipSpec chipOf(const ChipPatch& patch) {
    ChipSpec chip = patch.values;
    chip.sources = patch.sources;
    return chip;
}

std::vector<ChipSpec> chipsOf(const std::vector<ChipPatch>& patches) {
    std::vector<ChipSpec> chips;
    chips.reserve(patches.size());
    for (const auto& p : patches)
        chips.push_back(chipOf(p));
    return chips;
}

std::optional<int> yearIn(std::string_view date) {
    for (size_t i = 0; i + 4 <= date.size(); ++i) {
        const auto isDigit = [&](size_t k) {
            return k < date.size() && date[k] >= '0' && date[k] <= '9';
        };
        if ((i > 0 && isDigit(i - 1)) || isDigit(i + 4))
            continue;
        if (!(isDigit(i) && isDigit(i + 1) && isDigit(i + 2) && isDigit(i + 3)))
            continue;
        const int year = (date[i] - '0') * 1000 + (date[i + 1] - '0') * 100 +
                         (date[i + 2] - '0') * 10 + (date[i + 3] - '0');
        if (year >= 1900 && year <= 2199)
            return year;
    }
    return std::nullopt;
}

} // namespace

const std::vector<std::string>& crossroadsCsvColumns() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k;
        for (const auto& column : csvColumns())
            k.push_back(column.key);
        return k;
    }();
    return keys;
}

std::vector<ChipPatch> patchesFromJsonFileText(const std::string& text) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw ChipFileError(std::string("not valid JSON: ") + e.what());
    }
    std::vector<ChipPatch> patches;
    std::map<std::string, int> firstEntryByName;
    const auto add = [&](const nlohmann::json& object, int entry, const std::string& context) {
        ChipPatch patch;
        ChipSpec chip;
        try {
            chip = analysis::chipFromJson(object, context);
        } catch (const analysis::ChipFormatError& e) {
            throw ChipFileError(e.what());
        }
        // The keys the object has are the fields it gives; "dense_tops" gives the rates it
        // names (null: every rate, cleared).
        for (const auto& [key, value] : object.items()) {
            if (isChipFieldKey(key)) {
                patch.fields.insert(key);
            } else if (key == "dense_tops") {
                if (value.is_null())
                    for (const Precision p : analysis::kAllPrecisions)
                        patch.fields.emplace(analysis::precisionKey(p));
                else
                    for (const auto& [rate, ignored] : value.items())
                        patch.fields.insert(rate);
            }
        }
        patch.sources = std::move(chip.sources);
        chip.sources.clear();
        patch.values = std::move(chip);
        patch.origin = context;
        if (const auto problems = patchProblems(patch); !problems.empty())
            throw ChipFileError(context + " (" + inQuotes(patch.values.name) +
                                "): " + problems.front());
        const auto [it, inserted] =
            firstEntryByName.emplace(asciiLowered(patch.values.name), entry);
        if (!inserted)
            throw ChipFileError(context + ": " + inQuotes(patch.values.name) +
                                " appears again (first as chip " + std::to_string(it->second) +
                                ")");
        patches.push_back(std::move(patch));
    };
    if (doc.is_array()) {
        for (size_t i = 0; i < doc.size(); ++i)
            add(doc[i], static_cast<int>(i + 1), "chip " + std::to_string(i + 1));
    } else {
        add(doc, 1, "chip");
    }
    return patches;
}

std::vector<ChipSpec> chipsFromJsonFileText(const std::string& text) {
    return chipsOf(patchesFromJsonFileText(text));
}

std::string chipsToJsonText(const std::vector<ChipSpec>& chips) {
    auto array = nlohmann::json::array();
    for (const auto& chip : chips)
        array.push_back(analysis::chipToJson(chip));
    return array.dump(2) + "\n";
}

std::vector<ChipPatch> patchesFromCsvText(std::string_view text) {
    const auto records = parseCsvRecords(text);
    if (records.empty())
        throw ChipFileError("line 1: no header row (expected " + inQuotes("name,vendor,...") + ")");

    const CsvRecord& header = records.front();
    std::vector<const CsvColumn*> columnAt;
    for (const std::string& cell : header.fields) {
        const std::string key = asciiLowered(trimmed(cell));
        const auto& all = csvColumns();
        const auto it =
            std::find_if(all.begin(), all.end(), [&](const CsvColumn& c) { return c.key == key; });
        if (it == all.end())
            failAt(header.line, "unknown column " + inQuotes(cell) + " (expected " +
                                    "name, vendor, year, kind, datacenter, fp64 ... fp4, " +
                                    "figures in interchange units, notes, sources, alternatives)");
        if (std::find(columnAt.begin(), columnAt.end(), &*it) != columnAt.end())
            failAt(header.line, "column " + inQuotes(key) + " appears twice");
        columnAt.push_back(&*it);
    }
    if (std::none_of(columnAt.begin(), columnAt.end(),
                     [](const CsvColumn* c) { return c->key == "name"; }))
        failAt(header.line, "no \"name\" column");
    // A column the file has is a field every row gives; one it lacks keeps the stored figure.
    std::set<std::string> given;
    for (const CsvColumn* c : columnAt)
        if (c->isField)
            given.insert(c->key);

    std::vector<ChipPatch> patches;
    std::map<std::string, int> firstLineByName;
    for (size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& record = records[r];
        if (record.fields.size() != columnAt.size())
            failAt(record.line, std::to_string(record.fields.size()) +
                                    " fields, but the header has " +
                                    std::to_string(columnAt.size()));
        ChipPatch patch;
        patch.fields = given;
        patch.origin = "line " + std::to_string(record.line);
        for (size_t i = 0; i < columnAt.size(); ++i)
            columnAt[i]->read(patch, record.fields[i], record.line);
        checkValid(patch, record.line);
        checkNoDuplicate(firstLineByName, patch.values, record.line);
        patches.push_back(std::move(patch));
    }
    return patches;
}

ChipPatch fieldEditPatch(const std::string& chipName, const std::string& field,
                         const std::string& text) {
    const auto& all = csvColumns();
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const CsvColumn& c) { return c.key == field && c.isField; });
    if (it == all.end())
        throw ChipFileError("unknown field " + inQuotes(field) +
                            " (expected one of vendor, year, " +
                            "kind, datacenter, fp64 ... fp4, the figures, notes)");
    ChipPatch patch;
    patch.values.name = chipName;
    patch.fields = {field};
    patch.origin = "editor";
    try {
        it->read(patch, text, 0);
    } catch (const ChipFileError& e) {
        // The cell readers name a line; an edit has none.
        std::string message = e.what();
        const std::string prefix = "line 0, ";
        if (message.starts_with(prefix))
            message.erase(0, prefix.size());
        throw ChipFileError(message);
    }
    if (const auto problems = patchProblems(patch); !problems.empty())
        throw ChipFileError(problems.front());
    return patch;
}

std::vector<ChipSpec> chipsFromCsvText(std::string_view text) {
    return chipsOf(patchesFromCsvText(text));
}

std::string chipsToCsvText(const std::vector<ChipSpec>& chips) {
    std::string out = csvLine(crossroadsCsvColumns());
    for (const auto& chip : chips)
        out += csvLine(chipToCsvFields(chip));
    return out;
}

std::vector<ChipPatch> patchesFromEpochCsvText(std::string_view text) {
    const auto records = parseCsvRecords(text);
    if (records.empty())
        throw ChipFileError("line 1: no header row");
    const auto columns = matchEpochColumns(records.front().fields, true);
    const auto nameColumn = std::find_if(columns.begin(), columns.end(), [](const EpochColumn& c) {
        return c.field == EpochField::Name;
    });
    if (nameColumn == columns.end())
        failAt(1, "no hardware name column (expected \"Hardware name\")");
    std::vector<ChipPatch> patches;
    std::map<std::string, int> firstLineByName;
    for (size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& record = records[r];
        const int line = record.line;
        if (std::all_of(record.fields.begin(), record.fields.end(),
                        [](const std::string& f) { return trimmed(f).empty(); }))
            continue; // spreadsheets leave rows of empty cells behind
        if (record.fields.size() != records.front().fields.size())
            failAt(line, std::to_string(record.fields.size()) + " fields, but the header has " +
                             std::to_string(records.front().fields.size()));

        ChipPatch patch;
        // Epoch's table is sparse: an empty Epoch cell means Epoch has no figure, not that the
        // chip has none, so it keeps the stored figure (a Crossroads CSV's empty cell clears).
        patch.origin = "line " + std::to_string(line);
        patch.matching = NameMatching::Epoch;
        ChipSpec& chip = patch.values;
        // Epoch's type, datasheet link and notes say where the row's figures come from: they go
        // into its source, not into the chip's notes (an import must not overwrite the
        // analyst's notes with Epoch's).
        std::string rowCitation(kEpochCitation);
        std::vector<analysis::Source> fieldSources;
        std::optional<double> fp16NonTensor;
        for (const EpochColumn& column : columns) {
            const std::string_view cell = record.fields[column.index];
            if (column.field == EpochField::Name) {
                if (trimmed(cell).empty())
                    failAt(line, column.header, "empty (every chip needs a name)");
                chip.name = std::string(trimmed(cell));
                continue;
            }
            if (trimmed(cell).empty())
                continue;
            for (std::string_view key : epochFieldKeys(column.field))
                patch.fields.emplace(key);
            switch (column.field) {
            case EpochField::Vendor:
                chip.vendor = std::string(trimmed(cell));
                continue;
            case EpochField::Type:
                rowCitation += "; type: " + std::string(trimmed(cell));
                continue;
            case EpochField::Datasheet:
                rowCitation += "; datasheet: " + std::string(trimmed(cell));
                continue;
            case EpochField::Notes:
                rowCitation += "; notes: " + std::string(trimmed(cell));
                continue;
            case EpochField::ReleaseDate:
                chip.year = yearIn(cell);
                if (!chip.year)
                    failAt(line, column.header, inQuotes(cell) + " holds no year");
                continue;
            default:
                break;
            }
            const auto raw = parseNumber(cell);
            if (!raw)
                failAt(line, column.header, inQuotes(cell) + " is not a number");
            const double value = column.scale.apply(*raw);
            switch (column.field) {
            case EpochField::Fp64:
                chip.dense_tops[Precision::Fp64] = value;
                break;
            case EpochField::Fp32:
                chip.dense_tops[Precision::Fp32] = value;
                break;
            case EpochField::Tf32:
                chip.dense_tops[Precision::Tf32] = value;
                break;
            case EpochField::TensorFp16Bf16:
                chip.dense_tops[Precision::Fp16] = value;
                chip.dense_tops[Precision::Bf16] = value;
                break;
            case EpochField::Fp16NonTensor:
                fp16NonTensor = value;
                break;
            case EpochField::Int8:
                chip.dense_tops[Precision::Int8] = value;
                break;
            case EpochField::Int4:
                chip.dense_tops[Precision::Int4] = value;
                break;
            case EpochField::Fp8:
                chip.dense_tops[Precision::Fp8] = value;
                break;
            case EpochField::Fp4:
                chip.dense_tops[Precision::Fp4] = value;
                break;
            case EpochField::MemoryCapacity:
                chip.memory_capacity_gb = value;
                break;
            case EpochField::MemoryBandwidth:
                chip.memory_bandwidth_gb_per_s = value;
                break;
            case EpochField::IntranodeBandwidth:
                chip.io_bidirectional_gb_per_s = value;
                break;
            case EpochField::DieArea:
                chip.applicable_die_area_mm2 = value;
                break;
            case EpochField::Tdp:
                chip.tdp_w = value;
                break;
            case EpochField::Tpp:
                chip.tpp_reported = value;
                break;
            default:
                break;
            }
        }
        // A chip without tensor cores still has an FP16 rate, and TPP counts it; without this a
        // pre-Volta part would look slower than it is.
        if (!chip.dense_tops[Precision::Fp16] && fp16NonTensor) {
            chip.dense_tops[Precision::Fp16] = fp16NonTensor;
            fieldSources.push_back(
                {"fp16",
                 "Epoch AI FP16 (half precision) rate: the row has no tensor FP16/BF16 rate",
                 "medium"});
        }
        if (chip.io_bidirectional_gb_per_s)
            fieldSources.push_back({"io_bidirectional_gb_per_s",
                                    "Epoch AI intranode bandwidth, taken as the bidirectional "
                                    "I/O rate",
                                    "medium"});
        patch.sources.push_back({"*", rowCitation, "medium"});
        patch.sources.insert(patch.sources.end(), fieldSources.begin(), fieldSources.end());
        checkValid(patch, line);
        checkNoDuplicate(firstLineByName, chip, line);
        patches.push_back(std::move(patch));
    }
    return patches;
}

std::vector<ChipSpec> chipsFromEpochCsvText(std::string_view text) {
    return chipsOf(patchesFromEpochCsvText(text));
}

ChipFileFormat detectChipFileFormat(const QString& path, std::string_view content) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("json"))
        return ChipFileFormat::Json;
    if (suffix != QLatin1String("csv"))
        throw ChipFileError(QDir::toNativeSeparators(path).toStdString() +
                            ": unknown chip file type (expected .json or .csv)");
    std::vector<CsvRecord> records;
    try {
        records = parseCsv(content);
    } catch (const CsvError&) {
        return ChipFileFormat::CrossroadsCsv; // its reader reports the quoting error
    }
    if (records.empty())
        return ChipFileFormat::CrossroadsCsv;
    const auto& ours = crossroadsCsvColumns();
    const auto& header = records.front().fields;
    const bool allOurs = std::all_of(header.begin(), header.end(), [&](const std::string& h) {
        return std::find(ours.begin(), ours.end(), asciiLowered(trimmed(h))) != ours.end();
    });
    if (allOurs)
        return ChipFileFormat::CrossroadsCsv;
    // Epoch's file is recognised by its own name for the name or vendor column ("Hardware name",
    // "Manufacturer"); "name,vendor,fp16x" is our format with a typo, and our reader's error
    // names the unknown column.
    const auto epoch = matchEpochColumns(header, false);
    const bool epochNaming = std::any_of(epoch.begin(), epoch.end(), [&](const EpochColumn& c) {
        return (c.field == EpochField::Name || c.field == EpochField::Vendor) &&
               std::find(ours.begin(), ours.end(), asciiLowered(c.header)) == ours.end();
    });
    return epochNaming ? ChipFileFormat::EpochCsv : ChipFileFormat::CrossroadsCsv;
}

ChipFile readChipPatches(const QString& path) {
    const std::string where = QDir::toNativeSeparators(path).toStdString();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw ChipFileError("cannot read " + where + ": " + file.errorString().toStdString());
    const QByteArray bytes = file.readAll();
    const std::string text(bytes.constData(), static_cast<size_t>(bytes.size()));
    try {
        ChipFile out;
        out.format = detectChipFileFormat(path, text);
        switch (out.format) {
        case ChipFileFormat::Json:
            out.rows = patchesFromJsonFileText(text);
            break;
        case ChipFileFormat::CrossroadsCsv:
            out.rows = patchesFromCsvText(text);
            break;
        case ChipFileFormat::EpochCsv:
            out.rows = patchesFromEpochCsvText(text);
            break;
        }
        return out;
    } catch (const ChipFileError& e) {
        const std::string message = e.what();
        if (message.starts_with(where))
            throw;
        throw ChipFileError(where + ": " + message);
    }
}

std::vector<ChipSpec> readChipFile(const QString& path) {
    return chipsOf(readChipPatches(path).rows);
}

void writeChipFile(const QString& path, const std::vector<ChipSpec>& chips) {
    const std::string where = QDir::toNativeSeparators(path).toStdString();
    const QString suffix = QFileInfo(path).suffix().toLower();
    std::string text;
    if (suffix == QLatin1String("json"))
        text = chipsToJsonText(chips);
    else if (suffix == QLatin1String("csv"))
        text = chipsToCsvText(chips);
    else
        throw ChipFileError(where + ": unknown chip file type (expected .json or .csv)");

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw ChipFileError("cannot write " + where + ": " + file.errorString().toStdString());
    const auto size = static_cast<qint64>(text.size());
    if (file.write(text.data(), size) != size || !file.commit())
        throw ChipFileError("cannot write " + where + ": " + file.errorString().toStdString());
}

} // namespace crossroads::data
