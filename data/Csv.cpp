#include "data/Csv.h"

namespace crossroads::data {

namespace {

bool isBlank(const CsvRecord& record) {
    return record.fields.size() == 1 && record.fields.front().empty();
}

} // namespace

std::vector<CsvRecord> parseCsv(std::string_view text) {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (text.starts_with(kBom))
        text.remove_prefix(kBom.size());

    std::vector<CsvRecord> records;
    CsvRecord record;
    std::string field;
    int line = 1;
    record.line = line;
    // A quoted field that was closed: only a separator or a line end may follow.
    bool afterClosingQuote = false;
    // Distinguishes a line holding one empty quoted field ("") from a blank line.
    bool recordHasQuotes = false;

    auto endRecord = [&] {
        record.fields.push_back(std::move(field));
        field.clear();
        if (recordHasQuotes || !isBlank(record))
            records.push_back(std::move(record));
        record = CsvRecord{};
        record.line = line;
        afterClosingQuote = false;
        recordHasQuotes = false;
    };

    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '"') {
            if (!field.empty() || afterClosingQuote)
                throw CsvError("line " + std::to_string(line) +
                               ": a quote inside an unquoted field (quote the whole field and "
                               "double the quote)");
            const int startLine = line;
            recordHasQuotes = true;
            ++i;
            for (;;) {
                if (i >= text.size())
                    throw CsvError("line " + std::to_string(startLine) +
                                   ": quoted field is never closed");
                const char q = text[i];
                if (q == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field.push_back('"');
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                if (q == '\n')
                    ++line;
                field.push_back(q);
                ++i;
            }
            afterClosingQuote = true;
            continue;
        }
        if (c == ',') {
            record.fields.push_back(std::move(field));
            field.clear();
            afterClosingQuote = false;
            ++i;
            continue;
        }
        const bool crlf = c == '\r' && (i + 1 == text.size() || text[i + 1] == '\n');
        if (c == '\n' || crlf) {
            i += (c == '\r' && i + 1 < text.size()) ? 2 : 1;
            ++line;
            endRecord();
            continue;
        }
        if (afterClosingQuote)
            throw CsvError("line " + std::to_string(line) +
                           ": unexpected text after a closing quote");
        field.push_back(c);
        ++i;
    }
    // The last record may lack a line end.
    if (!field.empty() || !record.fields.empty() || recordHasQuotes)
        endRecord();
    return records;
}

std::string csvField(std::string_view value) {
    const bool needsQuotes = value.find_first_of(",\"\r\n") != std::string_view::npos ||
                             (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (!needsQuotes)
        return std::string(value);
    std::string out;
    out.reserve(value.size() + 2);
    out.push_back('"');
    for (char c : value) {
        if (c == '"')
            out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string csvLine(const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0)
            out.push_back(',');
        out += csvField(fields[i]);
    }
    out += "\r\n";
    return out;
}

} // namespace crossroads::data
