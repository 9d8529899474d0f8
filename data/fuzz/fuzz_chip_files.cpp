// libFuzzer target for the chip file readers: CROSSROADS_FUZZ_FORMAT picks Crossroads CSV (0),
// Epoch AI CSV (1) or chip JSON (2). Any input must either parse or throw ChipFileError: no
// crash, no other exception, no sanitizer report. What parses must survive its own round trip
// (written as Crossroads CSV and JSON, read back equal).
#include "data/ChipFiles.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

using namespace crossroads::data;

namespace {

void checkRoundTrip(const std::vector<crossroads::analysis::ChipSpec>& chips) {
    // A row that gives no vendor parses (it may be a merge into a stored chip) but is no whole
    // chip, so only chips that are valid on their own are written back.
    std::vector<crossroads::analysis::ChipSpec> whole;
    for (const auto& c : chips)
        if (crossroads::analysis::validateChip(c).empty())
            whole.push_back(c);
    if (chipsFromCsvText(chipsToCsvText(whole)) != whole)
        std::abort();
    if (chipsFromJsonFileText(chipsToJsonText(whole)) != whole)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
#if CROSSROADS_FUZZ_FORMAT == 0
        checkRoundTrip(chipsFromCsvText(text));
        (void)patchesFromCsvText(text);
#elif CROSSROADS_FUZZ_FORMAT == 1
        checkRoundTrip(chipsFromEpochCsvText(text));
#else
        checkRoundTrip(chipsFromJsonFileText(text));
#endif
    } catch (const ChipFileError&) {
        // A clear refusal is the expected outcome for most inputs.
    }
    return 0;
}
