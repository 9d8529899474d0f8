// Does the class depend on which source is believed? A chip's figure may carry alternative
// values from other sources (ChipSpec::alternatives: H800 I/O 400 vs 300 GB/s; Gaudi 3 BF16 1,835
// vs 1,678 TFLOPS). The chip is reclassified with each alternative alone, with every alternative
// of one source together (a source believed wholesale), and with all of them together; a case
// whose paragraph, classes or flags differ from the chip as stored makes the result
// source-sensitive (`classify --json`: "source_sensitive").
#pragma once

#include "analysis/ChipSpec.h"
#include "analysis/Classifier.h"
#include "analysis/Edition.h"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace crossroads::analysis {

// The chip with the alternatives' values in place of its own. Throws std::invalid_argument for
// an alternative whose field is not a figure (validateChip names it first).
ChipSpec withAlternatives(const ChipSpec& chip, const std::vector<FigureAlternative>& applied);

struct SensitivityCase {
    enum class Kind { One, Source, All };
    Kind kind = Kind::One;
    std::vector<FigureAlternative> applied;
    ClassificationResult result;
    bool paragraph_differs = false;
    bool classes_differ = false;
    std::vector<std::string> flags_added;   // flags of this case the chip as stored lacks
    std::vector<std::string> flags_removed; // flags of the chip as stored this case lacks
    bool differs() const {
        return paragraph_differs || classes_differ || !flags_added.empty() ||
               !flags_removed.empty();
    }
};
std::string_view sensitivityCaseKindKey(SensitivityCase::Kind kind); // "one", "source", "all"

struct SourceSensitivity {
    std::vector<SensitivityCase> cases; // every case tried (none without alternatives)
    bool sensitive() const;             // any case differs
};

// `stored` is classify(chip, edition): the result the cases are compared with.
SourceSensitivity sourceSensitivity(const ChipSpec& chip, const Edition& edition,
                                    const ClassificationResult& stored);

// The classify extension "source_sensitive": one entry per differing case, [] when the class
// holds whichever source is believed: {"field" (the figure; "*" for several), "value" (null for
// several), "citation", "confidence", "case" ("one", "source", "all"), "applied": [{"field",
// "value", "citation", "confidence"}], "paragraph", "classes", "controlled", "flags",
// "flags_added", "flags_removed", "explanation"}.
nlohmann::json sourceSensitiveJson(const SourceSensitivity& sensitivity);

// One line per differing case, for the text output: "io_bidirectional_gb_per_s 300 (CITATION):
// 3A090.a.1 instead of outside 3A090".
std::vector<std::string> sourceSensitivityLines(const SourceSensitivity& sensitivity,
                                                const ClassificationResult& stored);

} // namespace crossroads::analysis
