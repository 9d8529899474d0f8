#include "analysis/DesignAround.h"

#include "analysis/Classifier.h"
#include "analysis/CompiledEdition.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

// The search brackets: a change this large stands for "any change of this kind".
constexpr double kSmallestFactor = 1e-6; // cuts: down to a millionth of the figure
constexpr double kLargestFactor = 1e6;   // die area: up to a million times
constexpr int kScanSteps = 2000;         // geometric scan before the bisection

bool tests(const Condition& c, const std::string& metric) {
    bool found = false;
    forEachCriterion(c, [&](const Criterion& k) { found = found || k.metric == metric; });
    return found;
}

bool editionTests(const Edition& e, const std::string& metric) {
    return std::any_of(e.clauses.begin(), e.clauses.end(),
                       [&](const Clause& c) { return tests(c.when, metric); }) ||
           std::any_of(e.notes.begin(), e.notes.end(),
                       [&](const ExclusionNote& n) { return tests(n.when, metric); });
}

// `x` to `digits` significant digits, rounded up or down.
double roundDirected(double x, int digits, bool up) {
    if (x == 0 || !std::isfinite(x))
        return x;
    const double scale = std::pow(10.0, digits - 1 - std::floor(std::log10(std::fabs(x))));
    return (up ? std::ceil(x * scale) : std::floor(x * scale)) / scale;
}

// Between `failing` (the line not crossed: today's figure) and `extreme` (the largest change
// tried), the point nearest `failing` that crosses: a geometric scan finds the first crossing
// step (so a line that is crossed and re-crossed is not jumped over), a bisection refines it, and
// the figure is rounded to 4 significant digits away from `failing` (0.3031, 599.9), checked.
std::optional<double> nearestCrossing(const std::function<bool(double)>& crosses, double failing,
                                      double extreme) {
    const double ratio = std::pow(extreme / failing, 1.0 / kScanSteps);
    double previous = failing, step = failing;
    bool found = false;
    for (int i = 1; i <= kScanSteps; ++i) {
        step = i == kScanSteps ? extreme : failing * std::pow(ratio, i);
        if (crosses(step)) {
            found = true;
            break;
        }
        previous = step;
    }
    if (!found)
        return std::nullopt;
    double no = previous, yes = step;
    for (int i = 0; i < 200; ++i) {
        const double mid = no + (yes - no) / 2;
        if (mid == no || mid == yes)
            break;
        (crosses(mid) ? yes : no) = mid;
    }
    const bool up = extreme > failing;
    for (int digits = 4; digits <= 15; ++digits) {
        const double r = roundDirected(yes, digits, up);
        const bool inside = up ? (r > failing && r <= extreme) : (r < failing && r >= extreme);
        if (inside && crosses(r))
            return r;
    }
    return yes;
}

std::string paragraphName(const std::optional<std::string>& p) {
    if (!p)
        return "undetermined";
    return *p == "none" ? "outside 3A090" : "3A090." + *p;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const std::string& s : items)
        out += (out.empty() ? "" : separator) + s;
    return out;
}

ChipSpec derated(const ChipSpec& chip, double factor) {
    ChipSpec c = chip;
    for (auto& rate : c.dense_tops.tops)
        if (rate)
            *rate *= factor;
    if (c.tpp_reported)
        *c.tpp_reported *= factor;
    return c;
}

ChipSpec withField(const ChipSpec& chip, std::optional<double> ChipSpec::*field, double value) {
    ChipSpec c = chip;
    c.*field = value;
    return c;
}

DesignChange changeTo(const std::string& to, ChangeKind kind) {
    DesignChange c;
    c.to = to;
    c.kind = kind;
    return c;
}

// What the changed chip's figures are, for the note: "TPP 4,798.7, PD 5.9".
std::string figuresOf(const ClassificationResult& r) {
    std::vector<std::string> parts;
    if (r.tpp)
        parts.push_back("TPP " + formatFigure(r.tpp->tpp));
    if (r.performance_density)
        parts.push_back("PD " + formatFigure(*r.performance_density));
    return join(parts, ", ");
}

struct Search {
    const ChipSpec& chip;
    const Edition& edition;
    const CompiledEdition compiled;
    std::vector<const Flag*> heuristics; // the edition's flags of kind "heuristic"
};

// A ClassificationResult carrying only what flag conditions read (paragraph, controlled).
ClassificationResult outcomeOnly(const ParagraphDecision& d) {
    ClassificationResult r;
    if (d.paragraph)
        r.paragraph = std::string(paragraphKey(*d.paragraph));
    r.controlled = d.controlled;
    return r;
}

bool crossesTarget(const Search& s, const std::string& to, const ChipSpec& changed,
                   const std::string& metric) {
    const ParagraphDecision d = s.compiled.classify(changed);
    if (to == kOutsideA)
        return d.paragraph && *d.paragraph != Paragraph::A;
    if (to == kOutside3A090)
        return d.paragraph == std::optional(Paragraph::None);
    // The heuristic: no heuristic flag that tests the changed figure still holds.
    const ClassificationResult outcome = outcomeOnly(d);
    for (const Flag* f : s.heuristics)
        if (tests(f->when, metric) &&
            checkCondition(f->when, changed, s.edition, outcome).holds != false)
            return false;
    return true;
}

// Checks a change found by the search with classify() itself, and fills the result.
void settle(const Search& s, DesignChange& change, const std::optional<ChipSpec>& changed,
            const std::string& metric, const std::string& unreachableWhy) {
    if (!changed) {
        change.reachable = false;
        change.note = unreachableWhy;
        return;
    }
    const ClassificationResult r = classify(*changed, s.edition);
    bool crossed = false;
    if (change.to == kOutsideA)
        crossed = r.paragraph && *r.paragraph != "a";
    else if (change.to == kOutside3A090)
        crossed = r.paragraph == std::optional<std::string>("none");
    else {
        crossed = true;
        for (const Flag* f : s.heuristics) {
            const bool holds = std::find(r.flags.begin(), r.flags.end(), f->text) != r.flags.end();
            if (holds && tests(f->when, metric))
                crossed = false;
        }
    }
    if (!crossed) // the fast path and classify() disagree: a bug, never a silent answer
        throw std::logic_error("design-around: " + std::string(changeKindKey(change.kind)) +
                               " change for " + s.chip.name + " under " + s.edition.id +
                               " does not reach \"" + change.to + "\" by classify()");
    change.reachable = true;
    change.result_paragraph = r.paragraph;
    for (const Flag* f : s.heuristics)
        if (std::find(r.flags.begin(), r.flags.end(), f->text) != r.flags.end())
            change.remaining_flags.push_back(f->text);
    std::string note = paragraphName(r.paragraph);
    const std::string figures = figuresOf(r);
    if (!figures.empty())
        note += " (" + figures + ")";
    if (!change.remaining_flags.empty())
        note += "; still flagged: " + join(change.remaining_flags, "; ");
    change.note = note;
}

// What still holds at the largest change tried, for an unreachable line.
std::string stillMet(const Search& s, const ChipSpec& extreme, const std::string& what) {
    const ClassificationResult r = classify(extreme, s.edition);
    std::string held = r.classes.empty() ? paragraphName(r.paragraph) : join(r.classes, ", ");
    return "not reachable: at any " + what + " the chip still meets " + held;
}

DesignChange derateChange(const Search& s, const std::string& to) {
    DesignChange c = changeTo(to, ChangeKind::Derate);
    auto crosses = [&](double f) { return crossesTarget(s, to, derated(s.chip, f), "tpp"); };
    c.factor = nearestCrossing(crosses, 1.0, kSmallestFactor);
    std::optional<ChipSpec> changed;
    if (c.factor)
        changed = derated(s.chip, *c.factor);
    settle(s, c, changed, "tpp",
           s.chip.dense_tops.any() ? stillMet(s, derated(s.chip, kSmallestFactor), "derate")
                                   : "not reachable: the chip has no dense rate to derate");
    return c;
}

DesignChange dieAreaChange(const Search& s, const std::string& to) {
    DesignChange c = changeTo(to, ChangeKind::DieArea);
    if (!s.chip.applicable_die_area_mm2) {
        settle(s, c, std::nullopt, "performance_density",
               "not reachable: applicable die area unknown");
        return c;
    }
    const double area = *s.chip.applicable_die_area_mm2;
    auto changedBy = [&](double f) {
        return withField(s.chip, &ChipSpec::applicable_die_area_mm2, area * f);
    };
    auto crosses = [&](double f) {
        return crossesTarget(s, to, changedBy(f), "performance_density");
    };
    c.factor = nearestCrossing(crosses, 1.0, kLargestFactor);
    std::optional<ChipSpec> changed;
    if (c.factor)
        changed = changedBy(*c.factor);
    settle(s, c, changed, "performance_density",
           stillMet(s, changedBy(kLargestFactor), "die area"));
    return c;
}

DesignChange figureCut(const Search& s, const std::string& to, ChangeKind kind,
                       std::optional<double> ChipSpec::*field, const std::string& metric,
                       const char* what) {
    DesignChange c = changeTo(to, kind);
    if (!(s.chip.*field)) {
        settle(s, c, std::nullopt, metric, std::string("not reachable: ") + what + " unknown");
        return c;
    }
    const double today = *(s.chip.*field);
    auto crosses = [&](double v) {
        return crossesTarget(s, to, withField(s.chip, field, v), metric);
    };
    c.value = nearestCrossing(crosses, today, today * kSmallestFactor);
    std::optional<ChipSpec> changed;
    if (c.value)
        changed = withField(s.chip, field, *c.value);
    settle(s, c, changed, metric,
           stillMet(s, withField(s.chip, field, today * kSmallestFactor), what));
    return c;
}

double roundForOutput(double v) {
    return std::round(v * 1e6) / 1e6;
}

json optNumber(const std::optional<double>& v) {
    return v ? json(roundForOutput(*v)) : json(nullptr);
}

} // namespace

std::string_view changeKindKey(ChangeKind k) {
    switch (k) {
    case ChangeKind::Derate:
        return "derate";
    case ChangeKind::DieArea:
        return "die_area";
    case ChangeKind::Io:
        return "io";
    case ChangeKind::MemoryBandwidth:
        return "memory_bandwidth";
    }
    return "derate";
}

DesignAroundResult designAround(const ChipSpec& chip, const Edition& edition) {
    if (const auto problems = validateChip(chip); !problems.empty())
        throw std::invalid_argument("design-around: chip \"" + chip.name +
                                    "\" is invalid: " + join(problems, "; "));
    Search s{chip, edition, CompiledEdition(edition), {}};
    for (const Flag& f : edition.flags)
        if (f.kind == "heuristic")
            s.heuristics.push_back(&f);

    const ClassificationResult today = classify(chip, edition);
    DesignAroundResult out;
    out.chip = chip.name;
    out.edition = edition.id;
    out.paragraph = today.paragraph;
    out.classes = today.classes;
    out.flags = today.flags;

    auto addMargins = [&](const Condition& when, const std::string& id, const char* source) {
        forEachCriterion(when, [&](const Criterion& k) {
            const double* threshold = std::get_if<double>(&k.threshold);
            if (!threshold)
                return; // datacenter, kind, paragraph: no distance to a line
            ThresholdMargin m;
            m.clause = id;
            m.source = source;
            m.metric = k.metric;
            m.figure = numericMetric(chip, edition, k.metric);
            m.op = k.op;
            m.threshold = *threshold;
            if (m.figure) {
                if (*threshold != 0)
                    m.margin_percent = (*m.figure - *threshold) / std::fabs(*threshold) * 100.0;
                m.holds = compareNumbers(*m.figure, k.op, *threshold);
            }
            out.margins.push_back(std::move(m));
        });
    };
    for (const Clause& c : edition.clauses)
        addMargins(c.when, c.id, "clause");
    for (const ExclusionNote& n : edition.notes)
        addMargins(n.when, n.id, "note");
    for (const Flag& f : edition.flags)
        addMargins(f.when, f.id, "flag");

    const bool testsPd = editionTests(edition, "performance_density");
    const bool testsIo = editionTests(edition, "io_bidirectional_gb_per_s");
    std::vector<std::string> lines;
    if (today.paragraph == std::optional<std::string>("a"))
        lines.push_back(kOutsideA);
    if (today.paragraph != std::optional<std::string>("none"))
        lines.push_back(kOutside3A090);
    for (const std::string& to : lines) {
        out.changes.push_back(derateChange(s, to));
        if (testsPd)
            out.changes.push_back(dieAreaChange(s, to));
        if (testsIo)
            out.changes.push_back(figureCut(s, to, ChangeKind::Io,
                                            &ChipSpec::io_bidirectional_gb_per_s,
                                            "io_bidirectional_gb_per_s", "I/O"));
    }
    // The heuristic: one change per figure whose heuristic flag holds today.
    auto flagged = [&](const std::string& metric) {
        return std::any_of(s.heuristics.begin(), s.heuristics.end(), [&](const Flag* f) {
            return tests(f->when, metric) &&
                   std::find(today.flags.begin(), today.flags.end(), f->text) != today.flags.end();
        });
    };
    if (flagged("memory_bandwidth_gb_per_s"))
        out.changes.push_back(figureCut(s, kOutsideHeuristic, ChangeKind::MemoryBandwidth,
                                        &ChipSpec::memory_bandwidth_gb_per_s,
                                        "memory_bandwidth_gb_per_s", "memory bandwidth"));
    if (flagged("io_bidirectional_gb_per_s"))
        out.changes.push_back(figureCut(s, kOutsideHeuristic, ChangeKind::Io,
                                        &ChipSpec::io_bidirectional_gb_per_s,
                                        "io_bidirectional_gb_per_s", "I/O"));

    for (const Precedent& p : precedents())
        if (p.derived_from == chip.name || p.chip == chip.name)
            out.precedents.push_back(p);
    return out;
}

json designAroundToJson(const DesignAroundResult& r) {
    json margins = json::array(), changes = json::array(), precedentsOut = json::array();
    for (const ThresholdMargin& m : r.margins)
        margins.push_back({{"clause", m.clause},
                           {"source", m.source},
                           {"metric", m.metric},
                           {"figure", optNumber(m.figure)},
                           {"op", std::string(comparatorSymbol(m.op))},
                           {"threshold", m.threshold},
                           {"margin_percent", optNumber(m.margin_percent)},
                           {"holds", m.holds ? json(*m.holds) : json(nullptr)}});
    for (const DesignChange& c : r.changes)
        changes.push_back(
            {{"to", c.to},
             {"kind", std::string(changeKindKey(c.kind))},
             {"factor", c.factor ? json(*c.factor) : json(nullptr)},
             {"value", c.value ? json(*c.value) : json(nullptr)},
             {"result_paragraph", c.result_paragraph ? json(*c.result_paragraph) : json(nullptr)},
             {"reachable", c.reachable},
             {"remaining_flags", c.remaining_flags},
             {"note", c.note}});
    for (const Precedent& p : r.precedents)
        precedentsOut.push_back({{"chip", p.chip},
                                 {"note", p.note},
                                 {"derived_from", p.derived_from},
                                 {"designed_around", p.designed_around},
                                 {"citation", p.citation},
                                 {"evidence", p.evidence}});
    return {{"chip", r.chip},
            {"edition", r.edition},
            {"paragraph", r.paragraph ? json(*r.paragraph) : json(nullptr)},
            {"classes", r.classes},
            {"flags", r.flags},
            {"margins", margins},
            {"changes", changes},
            {"precedents", precedentsOut}};
}

} // namespace crossroads::analysis
