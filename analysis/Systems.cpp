#include "analysis/Systems.h"

#include "analysis/Classifier.h"

#include <stdexcept>

namespace crossroads::analysis {

SystemClassification classifySystem(const SystemSpec& system, const Edition& edition) {
    if (system.chip_count < 1)
        throw std::invalid_argument("system \"" + system.name + "\": chip_count must be 1 or more");
    if (const auto problems = validateChip(system.chip); !problems.empty())
        throw std::invalid_argument("system \"" + system.name + "\": " + problems.front());
    const ClassificationResult chip = classify(system.chip, edition);
    SystemClassification out;
    out.name = system.name;
    out.chip = system.chip.name;
    out.chip_count = system.chip_count;
    out.chip_paragraph = chip.paragraph;
    out.chip_classes = chip.classes;
    if (chip.tpp)
        out.aggregate_tpp = chip.tpp->tpp * system.chip_count;
    const std::string count = std::to_string(system.chip_count) + " x " + system.chip.name;
    if (!chip.paragraph) {
        out.reason = count + ": the chip's class is undetermined, so is the system's";
    } else if (*chip.paragraph == "a" || *chip.paragraph == "b") {
        out.eccn = "4A090." + *chip.paragraph;
        out.reason = count + ": contains ICs meeting 3A090." + *chip.paragraph + " -> " + *out.eccn;
    } else {
        // 3A090.c (HBM) and items outside 3A090: 4A090.a/.b read only ICs meeting 3A090.a/.b.
        out.eccn = "none";
        out.reason = count + ": contains no IC meeting 3A090.a or .b -> not 4A090.a/.b";
    }
    if (out.aggregate_tpp)
        out.reason += " (aggregate TPP " + formatFigure(*out.aggregate_tpp) + ")";
    return out;
}

} // namespace crossroads::analysis
