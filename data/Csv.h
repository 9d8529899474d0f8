// RFC 4180 CSV, as the chip importers need it: records that remember the physical line they
// start on (so errors can point at a line even when quoted fields span several), strict quoting,
// and a writer whose output this reader reads back byte for byte.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace crossroads::data {

class CsvError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct CsvRecord {
    int line = 0; // 1-based physical line on which the record starts
    std::vector<std::string> fields;
};

// Splits `text` (UTF-8, an optional BOM is skipped) into records. Accepts LF and CRLF line ends;
// a quoted field keeps its line breaks and doubled quotes verbatim (as one quote). Blank lines
// are skipped. Throws CsvError ("line 4: quoted field is never closed") on malformed quoting.
std::vector<CsvRecord> parseCsv(std::string_view text);

// One field, quoted when it holds a comma, a quote, CR or LF, or leading/trailing spaces.
std::string csvField(std::string_view value);
// Fields joined by commas and ended by CRLF (RFC 4180).
std::string csvLine(const std::vector<std::string>& fields);

} // namespace crossroads::data
