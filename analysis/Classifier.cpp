#include "analysis/Classifier.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

enum class Tri { False, True, Unknown };

// Metric values of one chip; a missing entry means the figure is unknown.
using MetricValues = std::map<std::string, MetricValue, std::less<>>;

struct Evaluation {
    Tri value = Tri::True;
    std::vector<const Criterion*> deciding; // the criteria that settle `value`
    std::set<std::string> missing;          // metrics that were unknown
};

bool compare(const MetricValue& a, Comparator op, const MetricValue& b) {
    if (std::holds_alternative<double>(a))
        return compareNumbers(std::get<double>(a), op, std::get<double>(b));
    return op == Comparator::NotEqual ? a != b : a == b;
}

Evaluation evaluate(const Condition& c, const MetricValues& values) {
    Evaluation out;
    if (c.kind == Condition::Kind::Leaf) {
        auto it = values.find(c.criterion.metric);
        if (it == values.end()) {
            out.value = Tri::Unknown;
            out.missing.insert(c.criterion.metric);
        } else {
            out.value =
                compare(it->second, c.criterion.op, c.criterion.threshold) ? Tri::True : Tri::False;
        }
        out.deciding.push_back(&c.criterion);
        return out;
    }
    // Kleene logic: for All a false child decides, for Any a true one; unknown otherwise wins
    // over the neutral value.
    const Tri decisive = c.kind == Condition::Kind::All ? Tri::False : Tri::True;
    const Tri neutral = c.kind == Condition::Kind::All ? Tri::True : Tri::False;
    std::vector<Evaluation> children;
    for (const Condition& child : c.children)
        children.push_back(evaluate(child, values));
    auto collect = [&](Tri which) {
        for (const Evaluation& e : children)
            if (e.value == which) {
                out.deciding.insert(out.deciding.end(), e.deciding.begin(), e.deciding.end());
                out.missing.insert(e.missing.begin(), e.missing.end());
            }
    };
    auto has = [&](Tri which) {
        return std::any_of(children.begin(), children.end(),
                           [&](const Evaluation& e) { return e.value == which; });
    };
    if (has(decisive)) {
        out.value = decisive;
        collect(decisive);
    } else if (has(Tri::Unknown)) {
        out.value = Tri::Unknown;
        collect(Tri::Unknown);
    } else {
        out.value = neutral;
        collect(neutral);
    }
    return out;
}

struct ChipMetrics {
    std::optional<TotalProcessingPerformance> tpp;
    std::optional<double> pd;
    std::optional<double> mbd;
    MetricValues values;
};

ChipMetrics computeMetrics(const ChipSpec& chip, const Edition& edition) {
    ChipMetrics m;
    m.tpp = totalProcessingPerformance(chip, edition.bit_lengths);
    std::optional<double> tpp = m.tpp ? std::optional(m.tpp->tpp) : std::nullopt;
    m.pd = performanceDensity(tpp, chip.applicable_die_area_mm2);
    m.mbd = memoryBandwidthDensityGbPerSPerMm2(chip);
    auto put = [&](const char* key, const std::optional<double>& v) {
        if (v)
            m.values[key] = *v;
    };
    put("tpp", tpp);
    put("performance_density", m.pd);
    put("memory_bandwidth_density", m.mbd);
    put("io_bidirectional_gb_per_s", chip.io_bidirectional_gb_per_s);
    put("memory_bandwidth_gb_per_s", chip.memory_bandwidth_gb_per_s);
    put("memory_capacity_gb", chip.memory_capacity_gb);
    put("tdp_w", chip.tdp_w);
    if (chip.datacenter)
        m.values["datacenter"] = *chip.datacenter;
    m.values["kind"] = std::string(chipKindKey(chip.kind));
    return m;
}

struct ClauseOutcome {
    const Clause* clause;
    Evaluation eval;
};

struct NoteOutcome {
    const ExclusionNote* note;
    Evaluation eval;
};

// The classification proper, without borderline analysis or text.
struct Decision {
    ChipMetrics metrics;
    std::vector<ClauseOutcome> clauses;
    std::vector<NoteOutcome> notes;
    Tri excluded = Tri::False; // by a note
    std::optional<std::string> paragraph;
    std::optional<bool> controlled;
    std::set<std::string> missing_metrics;
};

Decision decide(const ChipSpec& chip, const Edition& edition) {
    Decision d;
    d.metrics = computeMetrics(chip, edition);
    for (const Clause& clause : edition.clauses)
        d.clauses.push_back({&clause, evaluate(clause.when, d.metrics.values)});
    for (const ExclusionNote& note : edition.notes) {
        d.notes.push_back({&note, evaluate(note.when, d.metrics.values)});
        const Tri v = d.notes.back().eval.value;
        if (v == Tri::True)
            d.excluded = Tri::True;
        else if (v == Tri::Unknown && d.excluded == Tri::False)
            d.excluded = Tri::Unknown;
    }

    // The paragraph an item is reported under: .a before .b before .c.
    std::optional<std::string> candidate = std::string("none");
    bool anyMet = false;
    for (const char* p : {"a", "b", "c"}) {
        bool met = false, unknown = false;
        for (const ClauseOutcome& o : d.clauses) {
            if (o.clause->paragraph != p)
                continue;
            met = met || o.eval.value == Tri::True;
            if (o.eval.value == Tri::Unknown) {
                unknown = true;
                d.missing_metrics.insert(o.eval.missing.begin(), o.eval.missing.end());
            }
        }
        anyMet = anyMet || met;
        if (met) {
            candidate = p;
            break;
        }
        if (unknown) {
            candidate.reset();
            break;
        }
    }
    if (candidate) // a determined paragraph needs no missing figure from the clauses
        d.missing_metrics.clear();

    if (d.excluded == Tri::True) {
        d.paragraph = "none";
        d.controlled = false;
        d.missing_metrics.clear();
    } else if (d.excluded == Tri::Unknown && candidate != std::optional<std::string>("none")) {
        for (const NoteOutcome& n : d.notes)
            if (n.eval.value == Tri::Unknown)
                d.missing_metrics.insert(n.eval.missing.begin(), n.eval.missing.end());
        d.paragraph.reset();
        d.controlled.reset();
    } else {
        d.paragraph = candidate;
        if (candidate)
            d.controlled = *candidate != "none";
        else if (anyMet && d.excluded == Tri::False)
            d.controlled = true; // controlled either way; only the paragraph is open
    }
    return d;
}

MetricValues outcomeValues(const Decision& d) {
    MetricValues outcome = d.metrics.values;
    if (d.paragraph)
        outcome["paragraph"] = *d.paragraph;
    if (d.controlled)
        outcome["controlled"] = *d.controlled;
    return outcome;
}

// The texts of the flags (heuristics, review policies) that hold for a decision.
std::vector<std::string> flagsOf(const Decision& d, const Edition& edition) {
    const MetricValues outcome = outcomeValues(d);
    std::vector<std::string> out;
    for (const Flag& f : edition.flags)
        if (evaluate(f.when, outcome).value == Tri::True)
            out.push_back(f.text);
    return out;
}

// Interchange keys of the inputs behind an unknown metric.
std::vector<std::string> inputsOf(const std::string& metric, const ChipSpec& chip,
                                  const ChipMetrics& m) {
    if (metric == "tpp")
        return {"dense_tops"};
    if (metric == "performance_density") {
        std::vector<std::string> out;
        if (!m.tpp)
            out.push_back("dense_tops");
        if (!chip.applicable_die_area_mm2)
            out.push_back("applicable_die_area_mm2");
        return out;
    }
    if (metric == "memory_bandwidth_density") {
        std::vector<std::string> out;
        if (!chip.memory_bandwidth_gb_per_s)
            out.push_back("memory_bandwidth_gb_per_s");
        if (!chip.package_area_mm2)
            out.push_back("package_area_mm2");
        return out;
    }
    return {metric};
}

struct MetricLabel {
    const char* label;
    const char* unit;
};

MetricLabel labelOf(const std::string& metric) {
    static const std::map<std::string, MetricLabel, std::less<>> labels = {
        {"tpp", {"TPP", ""}},
        {"performance_density", {"PD", ""}},
        {"io_bidirectional_gb_per_s", {"I/O", " GB/s"}},
        {"memory_bandwidth_gb_per_s", {"memory bandwidth", " GB/s"}},
        {"memory_bandwidth_density", {"memory bandwidth density", " GB/s/mm2"}},
        {"memory_capacity_gb", {"memory", " GB"}},
        {"tdp_w", {"TDP", " W"}},
        {"kind", {"kind", ""}},
        {"paragraph", {"paragraph", ""}},
    };
    auto it = labels.find(metric);
    return it == labels.end() ? MetricLabel{"?", ""} : it->second;
}

Comparator negate(Comparator c) {
    switch (c) {
    case Comparator::Less:
        return Comparator::GreaterEqual;
    case Comparator::LessEqual:
        return Comparator::Greater;
    case Comparator::Greater:
        return Comparator::LessEqual;
    case Comparator::GreaterEqual:
        return Comparator::Less;
    case Comparator::Equal:
        return Comparator::NotEqual;
    case Comparator::NotEqual:
        return Comparator::Equal;
    }
    return c;
}

// Formats a figure against its threshold with enough decimals that the two differ when they do
// (PD 3.1998 must not read "3.2 < 3.2").
std::pair<std::string, std::string> formatPair(double value, double threshold) {
    std::string v = formatFigure(value), t = formatFigure(threshold);
    for (int digits = 4; v == t && value != threshold && digits <= 9; ++digits) {
        v = fixedDecimals(value, digits);
    }
    return {v, t};
}

// "TPP 2,368 < 2,400", "not designed or marketed for datacenters", "memory bandwidth unknown".
std::string describe(const Criterion& c, const MetricValues& values) {
    auto it = values.find(c.metric);
    if (c.metric == "datacenter") {
        if (it == values.end())
            return "datacenter status unknown";
        return std::get<bool>(it->second) ? "designed or marketed for datacenters"
                                          : "not designed or marketed for datacenters";
    }
    if (c.metric == "controlled") {
        if (it == values.end())
            return "control status undetermined";
        return std::get<bool>(it->second) ? "controlled" : "not controlled";
    }
    const MetricLabel label = labelOf(c.metric);
    if (it == values.end())
        return std::string(label.label) + " unknown";
    const bool holds = compare(it->second, c.op, c.threshold);
    const std::string op(comparatorSymbol(holds ? c.op : negate(c.op)));
    if (std::holds_alternative<double>(it->second)) {
        auto [v, t] = formatPair(std::get<double>(it->second), std::get<double>(c.threshold));
        return std::string(label.label) + " " + v + label.unit + " " + op + " " + t + label.unit;
    }
    return std::string(label.label) + " " + std::get<std::string>(it->second) + " " + op + " " +
           std::get<std::string>(c.threshold);
}

std::string paragraphName(const std::optional<std::string>& p) {
    if (!p)
        return "undetermined";
    return *p == "none" ? "outside 3A090" : "3A090." + *p;
}

double roundForOutput(double v) {
    return std::round(v * 1e6) / 1e6;
}

} // namespace

ClassificationResult classify(const ChipSpec& chip, const Edition& edition) {
    const Decision d = decide(chip, edition);
    const MetricValues& values = d.metrics.values;
    ClassificationResult r;
    r.chip_name = chip.name;
    r.edition_id = edition.id;
    r.tpp = d.metrics.tpp;
    r.tpp_reported = chip.tpp_reported;
    r.performance_density = d.metrics.pd;
    r.memory_bandwidth_density = d.metrics.mbd;
    r.paragraph = d.paragraph;
    r.controlled = d.controlled;

    // classes: every clause met, .a hiding .b; none when a note takes the item out.
    if (d.excluded != Tri::True) {
        const bool inA = std::any_of(d.clauses.begin(), d.clauses.end(), [](const auto& o) {
            return o.clause->paragraph == "a" && o.eval.value == Tri::True;
        });
        for (const ClauseOutcome& o : d.clauses)
            if (o.eval.value == Tri::True && !(inA && o.clause->paragraph == "b"))
                r.classes.push_back(o.clause->id);
    }

    for (const std::string& metric : d.missing_metrics)
        for (const std::string& input : inputsOf(metric, chip, d.metrics))
            if (std::find(r.undetermined.begin(), r.undetermined.end(), input) ==
                r.undetermined.end())
                r.undetermined.push_back(input);

    // Explanation: one line per deciding criterion.
    auto line = [&](const Criterion* c, const std::string& conclusion, const Citation& cite) {
        if (c->metric == "paragraph" || c->metric == "controlled")
            return; // outcomes, not figures: the lines above already give their reasons
        r.explanation.push_back(describe(*c, values) + ": " + conclusion + ", " + cite.text);
    };
    if (d.excluded == Tri::True) {
        for (const NoteOutcome& n : d.notes)
            if (n.eval.value == Tri::True)
                for (const Criterion* c : n.eval.deciding)
                    line(c, "outside 3A090 by " + n.note->id, n.note->citation);
    } else {
        const bool inA = d.paragraph == std::optional<std::string>("a");
        for (const ClauseOutcome& o : d.clauses) {
            const Clause& clause = *o.clause;
            if (inA && clause.paragraph == "b")
                continue; // .a hides .b, and its reasons with it
            if (o.eval.value == Tri::Unknown && d.paragraph)
                continue; // an open clause that cannot change the paragraph decides nothing
            if (o.eval.value == Tri::False &&
                std::all_of(o.eval.deciding.begin(), o.eval.deciding.end(),
                            [](const Criterion* c) { return c->metric == "kind"; }))
                continue; // a clause for another kind of item (HBM) says nothing here
            const std::string conclusion = o.eval.value == Tri::True ? clause.id
                                           : o.eval.value == Tri::False
                                               ? "not " + clause.id
                                               : clause.id + " undetermined";
            for (const Criterion* c : o.eval.deciding)
                line(c, conclusion, clause.citation);
        }
        for (const NoteOutcome& n : d.notes)
            if (n.eval.value == Tri::Unknown && !d.paragraph)
                for (const Criterion* c : n.eval.deciding)
                    line(c, n.note->id + " undetermined", n.note->citation);
    }

    // License exceptions and flags see the outcome.
    const MetricValues outcome = outcomeValues(d);
    for (const LicenseException& e : edition.license_exceptions) {
        const Evaluation ev = evaluate(e.when, outcome);
        if (ev.value == Tri::True) {
            r.license_exceptions.push_back(e.id);
        } else if (ev.value == Tri::Unknown && d.controlled != std::optional<bool>(false)) {
            std::string needs;
            for (const std::string& metric : ev.missing)
                needs += (needs.empty() ? "" : ", ") + metric;
            r.remarks.push_back("License Exception " + e.id + ": eligibility undetermined (" +
                                needs + " unknown)");
        }
    }
    for (const Flag& f : edition.flags) {
        const Evaluation ev = evaluate(f.when, outcome);
        if (ev.value != Tri::True)
            continue;
        r.flags.push_back(f.text);
        for (const Criterion* c : ev.deciding)
            line(c, f.text, f.citation);
    }

    // Remarks: how the TPP was reached, and how it compares with the reported one.
    if (r.tpp && r.tpp->basis) {
        r.remarks.push_back("TPP " + formatFigure(r.tpp->tpp) + " = " +
                            std::string(precisionKey(*r.tpp->basis)) + " " +
                            formatFigure(r.tpp->basis_rate_tops) + " dense TOPS x " +
                            std::to_string(r.tpp->basis_bit_length) + " bits");
        if (*r.tpp->basis == Precision::Tf32 && !edition.bit_length_assumption.empty())
            r.remarks.push_back("TF32 decides this TPP: " + edition.bit_length_assumption);
    }
    if (r.tpp && r.tpp_reported && *r.tpp_reported > 0) {
        r.tpp_gap_percent = (r.tpp->tpp - *r.tpp_reported) / *r.tpp_reported * 100.0;
        if (std::fabs(*r.tpp_gap_percent) > 1.0)
            r.remarks.push_back("computed TPP " + formatFigure(r.tpp->tpp) +
                                " differs from the reported " + formatFigure(*r.tpp_reported) +
                                " by " + formatFigure(*r.tpp_gap_percent) + "%");
    }

    // Borderline: does scaling any one input figure by 0.98 or 1.02 change the paragraph, or the
    // flags (MI300X at TPP 20,919 sits 0.4% under the 21,000 line of the 2026-01 policy)?
    struct Input {
        std::string name;
        std::optional<double> ChipSpec::*field = nullptr;
        std::optional<Precision> precision;
    };
    std::vector<Input> inputs;
    for (Precision p : kAllPrecisions)
        if (chip.dense_tops[p])
            inputs.push_back({"dense_tops." + std::string(precisionKey(p)), nullptr, p});
    for (const FigureField& f : kFigureFields)
        if (f.member != &ChipSpec::tpp_reported && chip.*f.member) // reported TPP decides nothing
            inputs.push_back({std::string(f.key), f.member, std::nullopt});
    if (d.paragraph) {
        // Rates that tie for the TPP move it alike: one reason lists them together.
        std::vector<std::pair<std::string, std::vector<std::string>>> reasons; // effect -> inputs
        for (const Input& in : inputs) {
            for (double factor : {0.98, 1.02}) {
                ChipSpec scaled = chip;
                if (in.precision)
                    scaled.dense_tops[*in.precision] = *chip.dense_tops[*in.precision] * factor;
                else
                    scaled.*in.field = *(chip.*in.field) * factor;
                const Decision s = decide(scaled, edition);
                const bool paragraphChanges = s.paragraph != d.paragraph;
                std::vector<std::string> flagChanges;
                if (!paragraphChanges) {
                    const std::vector<std::string> scaledFlags = flagsOf(s, edition);
                    for (const std::string& f : r.flags)
                        if (std::find(scaledFlags.begin(), scaledFlags.end(), f) ==
                            scaledFlags.end())
                            flagChanges.push_back("loses \"" + f + "\"");
                    for (const std::string& f : scaledFlags)
                        if (std::find(r.flags.begin(), r.flags.end(), f) == r.flags.end())
                            flagChanges.push_back("gains \"" + f + "\"");
                    if (flagChanges.empty())
                        continue;
                }
                std::string effect;
                if (s.metrics.tpp && (!d.metrics.tpp || s.metrics.tpp->tpp != d.metrics.tpp->tpp))
                    effect = "TPP " + formatFigure(s.metrics.tpp->tpp);
                if (s.metrics.pd && s.metrics.pd != d.metrics.pd)
                    effect += (effect.empty() ? "" : ", ") + ("PD " + formatFigure(*s.metrics.pd));
                std::string outcomeChange;
                if (paragraphChanges)
                    outcomeChange =
                        paragraphName(s.paragraph) + " instead of " + paragraphName(d.paragraph);
                for (const std::string& f : flagChanges)
                    outcomeChange += (outcomeChange.empty() ? "" : "; ") + f;
                if (s.metrics.mbd && s.metrics.mbd != d.metrics.mbd && effect.empty())
                    effect = "memory bandwidth density " + formatFigure(*s.metrics.mbd);
                const std::string key = std::string(factor < 1 ? " x0.98" : " x1.02") +
                                        (effect.empty() ? "" : " (" + effect + ")") + ": " +
                                        outcomeChange;
                auto it = std::find_if(reasons.begin(), reasons.end(),
                                       [&](const auto& reason) { return reason.first == key; });
                if (it == reasons.end())
                    reasons.push_back({key, {in.name}});
                else
                    it->second.push_back(in.name);
            }
        }
        for (const auto& [key, names] : reasons) {
            std::string who;
            for (const std::string& n : names)
                who += (who.empty() ? "" : ", ") + n;
            r.borderline_reasons.push_back((names.size() > 1 ? "any of " + who : who) + key);
        }
    }
    r.borderline = !r.borderline_reasons.empty();
    return r;
}

ConditionCheck checkCondition(const Condition& condition, const ChipSpec& chip,
                              const Edition& edition, const ClassificationResult& result) {
    MetricValues values = computeMetrics(chip, edition).values;
    if (result.paragraph)
        values["paragraph"] = *result.paragraph;
    if (result.controlled)
        values["controlled"] = *result.controlled;
    const Evaluation ev = evaluate(condition, values);
    ConditionCheck out;
    if (ev.value != Tri::Unknown)
        out.holds = ev.value == Tri::True;
    for (const std::string& metric : ev.missing)
        out.missing.push_back(metric);
    for (const Criterion* c : ev.deciding) {
        std::string line = c->metric == "paragraph"
                               ? (result.paragraph ? "paragraph " + paragraphName(result.paragraph)
                                                   : std::string("paragraph undetermined"))
                               : describe(*c, values);
        if (std::find(out.reasons.begin(), out.reasons.end(), line) == out.reasons.end())
            out.reasons.push_back(std::move(line));
    }
    return out;
}

json resultToJson(const ClassificationResult& r) {
    auto opt = [](const std::optional<double>& v) {
        return v ? json(roundForOutput(*v)) : json(nullptr);
    };
    json basis = nullptr;
    if (r.tpp && r.tpp->basis)
        basis = {{"precision", std::string(precisionKey(*r.tpp->basis))},
                 {"dense_tops", roundForOutput(r.tpp->basis_rate_tops)},
                 {"bit_length", r.tpp->basis_bit_length}};
    return {{"name", r.chip_name},
            {"tpp", opt(r.tppValue())},
            {"tpp_reported", opt(r.tpp_reported)},
            {"tpp_gap_percent", opt(r.tpp_gap_percent)},
            {"tpp_basis", basis},
            {"performance_density", opt(r.performance_density)},
            {"memory_bandwidth_density", opt(r.memory_bandwidth_density)},
            {"classes", r.classes},
            {"paragraph", r.paragraph ? json(*r.paragraph) : json(nullptr)},
            {"controlled", r.controlled ? json(*r.controlled) : json(nullptr)},
            {"undetermined", r.undetermined},
            {"borderline", r.borderline},
            {"borderline_reasons", r.borderline_reasons},
            {"license_exceptions", r.license_exceptions},
            {"flags", r.flags},
            {"explanation", r.explanation},
            {"remarks", r.remarks}};
}

} // namespace crossroads::analysis
