#include "analysis/SourceSensitivity.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace crossroads::analysis {

namespace {

using nlohmann::json;

std::vector<std::string> missingFrom(const std::vector<std::string>& from,
                                     const std::vector<std::string>& in) {
    std::vector<std::string> out;
    for (const std::string& s : from)
        if (std::find(in.begin(), in.end(), s) == in.end())
            out.push_back(s);
    return out;
}

bool distinctFields(const std::vector<FigureAlternative>& list) {
    std::set<std::string> fields;
    for (const FigureAlternative& a : list)
        if (!fields.insert(a.field).second)
            return false;
    return true;
}

SensitivityCase runCase(SensitivityCase::Kind kind, std::vector<FigureAlternative> applied,
                        const ChipSpec& chip, const Edition& edition,
                        const ClassificationResult& stored) {
    SensitivityCase c;
    c.kind = kind;
    c.applied = std::move(applied);
    c.result = classify(withAlternatives(chip, c.applied), edition);
    c.paragraph_differs = c.result.paragraph != stored.paragraph;
    c.classes_differ = c.result.classes != stored.classes;
    c.flags_added = missingFrom(c.result.flags, stored.flags);
    c.flags_removed = missingFrom(stored.flags, c.result.flags);
    return c;
}

std::string paragraphWords(const std::optional<std::string>& p) {
    if (!p)
        return "undetermined";
    return *p == "none" ? "outside 3A090" : "3A090." + *p;
}

std::string classWords(const ClassificationResult& r) {
    if (r.classes.empty())
        return paragraphWords(r.paragraph);
    std::string out;
    for (const std::string& c : r.classes)
        out += (out.empty() ? "" : " ") + c;
    return out;
}

json alternativeJson(const FigureAlternative& a) {
    return {{"field", a.field},
            {"value", a.value},
            {"citation", a.citation},
            {"confidence", a.confidence}};
}

} // namespace

std::string_view sensitivityCaseKindKey(SensitivityCase::Kind kind) {
    switch (kind) {
    case SensitivityCase::Kind::One:
        return "one";
    case SensitivityCase::Kind::Source:
        return "source";
    case SensitivityCase::Kind::All:
        return "all";
    }
    return "one";
}

ChipSpec withAlternatives(const ChipSpec& chip, const std::vector<FigureAlternative>& applied) {
    ChipSpec out = chip;
    out.alternatives.clear();
    for (const FigureAlternative& a : applied) {
        if (const auto p = precisionFromKey(a.field)) {
            out.dense_tops[*p] = a.value;
            continue;
        }
        const auto figure = std::find_if(kFigureFields.begin(), kFigureFields.end(),
                                         [&](const FigureField& f) { return f.key == a.field; });
        if (figure == kFigureFields.end())
            throw std::invalid_argument("chip \"" + chip.name + "\": alternative for \"" + a.field +
                                        "\", which is not a figure");
        out.*figure->member = a.value;
    }
    return out;
}

bool SourceSensitivity::sensitive() const {
    return std::any_of(cases.begin(), cases.end(),
                       [](const SensitivityCase& c) { return c.differs(); });
}

SourceSensitivity sourceSensitivity(const ChipSpec& chip, const Edition& edition,
                                    const ClassificationResult& stored) {
    SourceSensitivity out;
    const auto& alternatives = chip.alternatives;
    for (const FigureAlternative& a : alternatives)
        out.cases.push_back(runCase(SensitivityCase::Kind::One, {a}, chip, edition, stored));
    // A source believed wholesale: its alternatives together (Epoch's 1,678 for both FP16 and
    // BF16 moves the TPP where either alone does not). Only where the source gives several
    // figures, each once (two values for one figure cannot both be believed).
    std::vector<std::string> citations;
    for (const FigureAlternative& a : alternatives)
        if (std::find(citations.begin(), citations.end(), a.citation) == citations.end())
            citations.push_back(a.citation);
    for (const std::string& citation : citations) {
        std::vector<FigureAlternative> group;
        for (const FigureAlternative& a : alternatives)
            if (a.citation == citation)
                group.push_back(a);
        if (group.size() > 1 && distinctFields(group))
            out.cases.push_back(
                runCase(SensitivityCase::Kind::Source, group, chip, edition, stored));
    }
    // Every other source believed at once: new only where there are several sources.
    if (citations.size() > 1 && distinctFields(alternatives))
        out.cases.push_back(
            runCase(SensitivityCase::Kind::All, alternatives, chip, edition, stored));
    return out;
}

json sourceSensitiveJson(const SourceSensitivity& sensitivity) {
    json out = json::array();
    for (const SensitivityCase& c : sensitivity.cases) {
        if (!c.differs())
            continue;
        json applied = json::array();
        for (const FigureAlternative& a : c.applied)
            applied.push_back(alternativeJson(a));
        const bool single = c.applied.size() == 1;
        std::set<std::string> citations, confidences;
        for (const FigureAlternative& a : c.applied) {
            citations.insert(a.citation);
            confidences.insert(a.confidence);
        }
        const auto joined = [](const std::set<std::string>& s) {
            std::string text;
            for (const std::string& t : s)
                text += (text.empty() ? "" : "; ") + t;
            return text;
        };
        out.push_back({
            {"field", single ? json(c.applied.front().field) : json("*")},
            {"value", single ? json(c.applied.front().value) : json()},
            {"citation", joined(citations)},
            {"confidence", joined(confidences)},
            {"case", std::string(sensitivityCaseKindKey(c.kind))},
            {"applied", applied},
            {"paragraph", c.result.paragraph ? json(*c.result.paragraph) : json()},
            {"classes", c.result.classes},
            {"controlled", c.result.controlled ? json(*c.result.controlled) : json()},
            {"flags", c.result.flags},
            {"flags_added", c.flags_added},
            {"flags_removed", c.flags_removed},
            {"explanation", c.result.explanation},
        });
    }
    return out;
}

std::vector<std::string> sourceSensitivityLines(const SourceSensitivity& sensitivity,
                                                const ClassificationResult& stored) {
    std::vector<std::string> lines;
    for (const SensitivityCase& c : sensitivity.cases) {
        if (!c.differs())
            continue;
        std::string what;
        for (const FigureAlternative& a : c.applied)
            what += (what.empty() ? "" : ", ") + a.field + " " + formatFigure(a.value);
        std::string citation;
        for (const FigureAlternative& a : c.applied)
            if (citation.find(a.citation) == std::string::npos)
                citation += (citation.empty() ? "" : "; ") + a.citation;
        std::string line = what + " (" + citation + "): ";
        if (c.paragraph_differs || c.classes_differ)
            line += classWords(c.result) + " instead of " + classWords(stored);
        else
            line += "same class";
        for (const std::string& f : c.flags_added)
            line += "; adds flag \"" + f + "\"";
        for (const std::string& f : c.flags_removed)
            line += "; drops flag \"" + f + "\"";
        lines.push_back(std::move(line));
    }
    return lines;
}

} // namespace crossroads::analysis
