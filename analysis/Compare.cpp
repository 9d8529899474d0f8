#include "analysis/Compare.h"

#include "analysis/Scenario.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace crossroads::analysis {

namespace {

using nlohmann::json;

// 2: .a, 1: .b or .c (controlled), 0: not controlled, -1: undetermined.
int severity(const ClassificationResult& r) {
    if (!r.controlled)
        return -1;
    if (!*r.controlled)
        return 0;
    return r.paragraph == std::optional<std::string>("a") ? 2 : 1;
}

ChangeDirection direction(const ClassificationResult& from, const ClassificationResult& to) {
    const int a = severity(from), b = severity(to);
    const bool fromControlled = a >= 1, toControlled = b >= 1;
    if (!fromControlled && toControlled)
        return ChangeDirection::Tightened;
    if (fromControlled && !toControlled)
        return b < 0 ? ChangeDirection::Changed : ChangeDirection::Loosened;
    if (fromControlled && toControlled && a != b)
        return b > a ? ChangeDirection::Tightened : ChangeDirection::Loosened;
    return ChangeDirection::Changed;
}

std::vector<std::string> missingFrom(const std::vector<std::string>& lines,
                                     const std::vector<std::string>& other) {
    std::vector<std::string> out;
    for (const std::string& line : lines)
        if (std::find(other.begin(), other.end(), line) == other.end())
            out.push_back(line);
    return out;
}

json side(const ClassificationResult& r) {
    return {{"paragraph", r.paragraph ? json(*r.paragraph) : json(nullptr)},
            {"classes", r.classes},
            {"controlled", r.controlled ? json(*r.controlled) : json(nullptr)}};
}

} // namespace

std::string classSummary(const ClassificationResult& r) {
    if (!r.controlled)
        return "undetermined";
    if (r.classes.empty())
        return "outside 3A090";
    std::string out;
    for (const std::string& c : r.classes)
        out += (out.empty() ? "" : ", ") + c;
    return out;
}

std::string_view changeDirectionKey(ChangeDirection d) {
    switch (d) {
    case ChangeDirection::Tightened:
        return "tightened";
    case ChangeDirection::Loosened:
        return "loosened";
    case ChangeDirection::Changed:
        break;
    }
    return "changed";
}

EditionComparison compareEditions(const std::vector<ChipSpec>& chips, const Edition& baseline,
                                  const Edition& vs) {
    EditionComparison out;
    out.baseline = baseline.id;
    out.vs = vs.id;
    out.baseline_scenario = baseline.scenario;
    out.vs_scenario = vs.scenario;
    for (const ChipSpec& chip : chipsWithHypothetical(chips, baseline, &vs)) {
        if (isHypotheticalChip(baseline, chip.name) || isHypotheticalChip(vs, chip.name))
            out.hypothetical_chips.push_back(chip.name);
        ClassificationResult from = classify(chip, baseline);
        ClassificationResult to = classify(chip, vs);
        const bool same = from.paragraph == to.paragraph && from.classes == to.classes &&
                          from.controlled == to.controlled;
        if (same) {
            ++out.unchanged;
            std::vector<std::string> added = missingFrom(to.flags, from.flags);
            std::vector<std::string> removed = missingFrom(from.flags, to.flags);
            if (!added.empty() || !removed.empty())
                out.flag_changes.push_back({chip.name, std::move(added), std::move(removed)});
        } else {
            ChipChange change;
            change.chip = chip.name;
            change.direction = direction(from, to);
            change.because = missingFrom(to.explanation, from.explanation);
            for (const std::string& line : missingFrom(from.explanation, to.explanation))
                change.because.push_back("baseline: " + line);
            change.from = from;
            change.to = to;
            out.changes.push_back(std::move(change));
        }
        out.baseline_results.push_back(std::move(from));
        out.vs_results.push_back(std::move(to));
    }
    return out;
}

json comparisonToJson(const EditionComparison& c) {
    auto hypothetical = [&](const std::string& chip) {
        return std::find(c.hypothetical_chips.begin(), c.hypothetical_chips.end(), chip) !=
               c.hypothetical_chips.end();
    };
    json changes = json::array();
    for (const ChipChange& ch : c.changes) {
        changes.push_back({{"chip", ch.chip},
                           {"from", side(ch.from)},
                           {"to", side(ch.to)},
                           {"direction", std::string(changeDirectionKey(ch.direction))},
                           {"because", ch.because}});
        if (hypothetical(ch.chip))
            changes.back()["hypothetical"] = true;
    }
    json flags = json::array();
    for (const FlagChange& f : c.flag_changes) {
        flags.push_back({{"chip", f.chip}, {"added", f.added}, {"removed", f.removed}});
        if (hypothetical(f.chip))
            flags.back()["hypothetical"] = true;
    }
    json out = {{"baseline", c.baseline},
                {"vs", c.vs},
                {"unchanged", c.unchanged},
                {"changes", changes},
                {"flag_changes", flags}};
    if (c.baseline_scenario || c.vs_scenario) {
        out["scenario"] = true;
        out["baseline_scenario"] = c.baseline_scenario;
        out["vs_scenario"] = c.vs_scenario;
    }
    return out;
}

} // namespace crossroads::analysis
