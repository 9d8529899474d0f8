#include "analysis/Scenario.h"

#include "analysis/ChipJson.h"
#include "analysis/Classifier.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw ScenarioError(what);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool sameName(std::string_view a, std::string_view b) {
    return lower(a) == lower(b);
}

std::string trimmed(std::string_view s) {
    size_t begin = 0, end = s.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(s[begin])))
        ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1])))
        --end;
    return std::string(s.substr(begin, end - begin));
}

std::string joinedList(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::optional<Comparator> comparatorFromSymbol(std::string_view op) {
    for (Comparator c : {Comparator::Less, Comparator::LessEqual, Comparator::Greater,
                         Comparator::GreaterEqual, Comparator::Equal, Comparator::NotEqual})
        if (comparatorSymbol(c) == op)
            return c;
    return std::nullopt;
}

bool isNumericMetric(std::string_view metric) {
    const auto& m = numericMetrics();
    return std::find(m.begin(), m.end(), metric) != m.end();
}

// An item of an edition whose condition holds criteria: a clause, a note or a flag.
struct Item {
    std::string id;
    std::string kind;
    Condition* when;
    Citation* citation;
};

std::vector<Item> items(Edition& e) {
    std::vector<Item> out;
    for (Clause& c : e.clauses)
        out.push_back({c.id, "clause", &c.when, &c.citation});
    for (ExclusionNote& n : e.notes)
        out.push_back({n.id, "note", &n.when, &n.citation});
    for (Flag& f : e.flags)
        out.push_back({f.id, "flag", &f.when, &f.citation});
    return out;
}

void forEachLeaf(Condition& c, const std::function<void(Criterion&)>& f) {
    if (c.kind == Condition::Kind::Leaf)
        f(c.criterion);
    for (Condition& child : c.children)
        forEachLeaf(child, f);
}

std::vector<NumericCriterion> criteriaOf(const Item& item) {
    std::vector<NumericCriterion> out;
    forEachLeaf(*item.when, [&](Criterion& k) {
        if (!std::holds_alternative<double>(k.threshold))
            return;
        for (const NumericCriterion& seen : out)
            if (seen.metric == k.metric && sameDirection(seen.op, k.op))
                return;
        out.push_back({item.id, item.kind, k.metric, k.op, std::get<double>(k.threshold)});
    });
    return out;
}

// Finds the item `o` names in `e` and checks it has a criterion to replace; returns the item.
Item itemFor(Edition& e, const ThresholdOverride& o, NumericCriterion* replaced) {
    const std::vector<Item> all = items(e);
    auto it = std::find_if(all.begin(), all.end(), [&](const Item& i) { return i.id == o.clause; });
    if (it == all.end()) {
        std::vector<std::string> ids;
        for (const Clause& c : e.clauses)
            ids.push_back(c.id);
        fail("edition " + e.id + " has no clause \"" + o.clause +
             "\" (its clauses: " + joinedList(ids) + "; notes and flags are named by their ids)");
    }
    const std::vector<NumericCriterion> criteria = criteriaOf(*it);
    std::vector<std::string> onMetric, metrics;
    for (const NumericCriterion& k : criteria) {
        if (std::find(metrics.begin(), metrics.end(), k.metric) == metrics.end())
            metrics.push_back(k.metric);
        if (k.metric != o.metric)
            continue;
        if (sameDirection(k.op, o.op)) {
            if (replaced)
                *replaced = k;
            return *it;
        }
        onMetric.push_back(k.metric + " " + std::string(comparatorSymbol(k.op)) + " " +
                           formatFigure(k.threshold));
    }
    const std::string what = it->kind + " " + o.clause + " of " + e.id;
    if (onMetric.empty())
        fail(what + " has no criterion on " + o.metric +
             (metrics.empty() ? std::string(" (it tests no numeric figure)")
                              : " (it tests " + joinedList(metrics) + ")"));
    fail(what + " has no criterion on " + o.metric + " with an operator of the direction of " +
         std::string(comparatorSymbol(o.op)) + " (it has " + joinedList(onMetric) +
         "): an override keeps the direction of the criterion it replaces");
}

json chipsJson(const std::vector<ChipSpec>& chips) {
    json out = json::array();
    for (const ChipSpec& c : chips)
        out.push_back(chipToJson(c));
    return out;
}

} // namespace

const std::vector<std::string>& numericMetrics() {
    static const std::vector<std::string> m = {"tpp",
                                               "performance_density",
                                               "io_bidirectional_gb_per_s",
                                               "memory_bandwidth_gb_per_s",
                                               "memory_bandwidth_density",
                                               "memory_capacity_gb",
                                               "tdp_w"};
    return m;
}

bool sameDirection(Comparator a, Comparator b) {
    auto direction = [](Comparator c) {
        switch (c) {
        case Comparator::Greater:
        case Comparator::GreaterEqual:
            return 0;
        case Comparator::Less:
        case Comparator::LessEqual:
            return 1;
        case Comparator::Equal:
            return 2;
        case Comparator::NotEqual:
            return 3;
        }
        return -1;
    };
    return direction(a) == direction(b);
}

ThresholdOverride parseThresholdOverride(std::string_view text) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        fail(quoted + " is not CLAUSE:METRIC OP VALUE (e.g. \"3A090.a.1:tpp >= 4000\")");
    ThresholdOverride o;
    o.clause = trimmed(text.substr(0, colon));
    if (o.clause.empty())
        fail(quoted + " names no clause before the \":\"");
    const std::string rest = trimmed(text.substr(colon + 1));
    size_t i = 0;
    while (i < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[i])) || rest[i] == '_'))
        ++i;
    o.metric = rest.substr(0, i);
    if (o.metric.empty())
        fail(quoted + " names no metric after the \":\" (e.g. \"3A090.a.1:tpp >= 4000\")");
    if (!isNumericMetric(o.metric))
        fail("unknown metric \"" + o.metric + "\" in " + quoted +
             " (numeric metrics: " + joinedList(numericMetrics()) + ")");
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i])))
        ++i;
    size_t opEnd = i;
    while (opEnd < rest.size() && std::string_view("<>=!").find(rest[opEnd]) != std::string::npos)
        ++opEnd;
    const std::string op = rest.substr(i, opEnd - i);
    if (op.empty())
        fail(quoted + " has no operator after " + o.metric + " (one of <, <=, >, >=, ==, !=)");
    const auto comparator = comparatorFromSymbol(op);
    if (!comparator)
        fail("unknown operator \"" + op + "\" in " + quoted + " (one of <, <=, >, >=, ==, !=)");
    o.op = *comparator;
    const std::string value = trimmed(std::string_view(rest).substr(opEnd));
    if (value.empty())
        fail(quoted + " has no value after " + op);
    double v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size())
        fail("\"" + value + "\" in " + quoted + " is not a number");
    if (!std::isfinite(v))
        fail("the value in " + quoted + " is not a finite number");
    if (v < 0)
        fail("the value in " + quoted + " is negative: the figures the rules compare never are");
    o.threshold = v;
    return o;
}

std::string thresholdOverrideText(const ThresholdOverride& o) {
    // The shortest text that reads back as the same double.
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, o.threshold);
    const std::string value = ec == std::errc() ? std::string(buffer, end) : "?";
    return o.clause + ":" + o.metric + " " + std::string(comparatorSymbol(o.op)) + " " + value;
}

std::vector<NumericCriterion> numericCriteria(const Edition& edition) {
    Edition copy = edition; // items() hands out mutable pointers; this never changes them
    std::vector<NumericCriterion> out;
    for (const Item& item : items(copy))
        for (NumericCriterion& k : criteriaOf(item))
            out.push_back(std::move(k));
    return out;
}

NumericCriterion overriddenCriterion(const Edition& base, const ThresholdOverride& o) {
    if (!isNumericMetric(o.metric))
        fail("unknown metric \"" + o.metric +
             "\" (numeric metrics: " + joinedList(numericMetrics()) + ")");
    Edition copy = base;
    NumericCriterion replaced;
    itemFor(copy, o, &replaced);
    return replaced;
}

void checkScenarioName(std::string_view name) {
    if (name.empty())
        fail("a scenario needs a name");
    if (name.size() > 80)
        fail("scenario name \"" + std::string(name.substr(0, 40)) +
             "...\" is longer than 80 characters");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f)
            fail("scenario name \"" + std::string(name) + "\" holds a control character");
    if (std::isspace(static_cast<unsigned char>(name.front())) ||
        std::isspace(static_cast<unsigned char>(name.back())))
        fail("scenario name \"" + std::string(name) + "\" starts or ends with a space");
    if (name.front() == '-')
        fail("scenario name \"" + std::string(name) +
             "\" starts with \"-\" (it would read as "
             "an option)");
}

void validateScenario(const Scenario& scenario, const Edition& base,
                      const std::vector<std::string>& storedChipNames) {
    checkScenarioName(scenario.name);
    std::set<std::string> seen;
    for (const ChipSpec& chip : scenario.hypothetical_chips) {
        const std::string what = "hypothetical chip \"" + chip.name + "\"";
        const auto problems = validateChip(chip);
        if (!problems.empty())
            fail(what + ": " + problems.front());
        if (!seen.insert(lower(chip.name)).second)
            fail(what + " is given twice");
        for (const std::string& stored : storedChipNames)
            if (sameName(stored, chip.name))
                fail(what + " has the name of the stored chip \"" + stored +
                     "\": a hypothetical chip needs a name of its own");
    }
    resolveScenario(scenario, base);
}

Edition resolveScenario(const Scenario& scenario, const Edition& base) {
    checkScenarioName(scenario.name);
    Edition e = base;
    e.id = scenario.name;
    e.scenario = true;
    e.base = base.id;
    e.note = scenario.note;
    e.title = "Scenario of " + base.id + (scenario.note.empty() ? "" : ": " + scenario.note);
    e.citation = {"scenario " + scenario.name + " of " + base.id + " (" + base.citation.text + ")",
                  "U"};
    // What each overridden item replaced, for its citation: "was tpp >= 4,800".
    std::map<std::string, std::vector<std::string>> was;
    std::map<std::string, Citation> original;
    for (const ThresholdOverride& o : scenario.overrides) {
        if (!isNumericMetric(o.metric))
            fail("unknown metric \"" + o.metric +
                 "\" (numeric metrics: " + joinedList(numericMetrics()) + ")");
        if (!std::isfinite(o.threshold) || o.threshold < 0)
            fail(thresholdOverrideText(o) + ": the value must be a finite number of zero or more");
        Item item = itemFor(e, o, nullptr);
        if (!original.count(item.id))
            original[item.id] = *item.citation;
        // The base's criterion, not an earlier override's: "was" names what the base says.
        const NumericCriterion replaced = overriddenCriterion(base, o);
        const std::string old = o.metric + " " + std::string(comparatorSymbol(replaced.op)) + " " +
                                formatFigure(replaced.threshold);
        auto& list = was[item.id];
        if (std::find(list.begin(), list.end(), old) == list.end())
            list.push_back(old);
        forEachLeaf(*item.when, [&](Criterion& k) {
            if (k.metric == o.metric && std::holds_alternative<double>(k.threshold) &&
                sameDirection(k.op, o.op)) {
                k.op = o.op;
                k.threshold = o.threshold;
            }
        });
    }
    for (const Item& item : items(e)) {
        auto it = was.find(item.id);
        if (it == was.end())
            continue;
        *item.citation = {"scenario " + scenario.name + ", was " + joinedList(it->second) + " (" +
                              original[item.id].text + ")",
                          "U"};
    }
    for (const ChipSpec& chip : scenario.hypothetical_chips) {
        auto same = std::find_if(e.hypothetical_chips.begin(), e.hypothetical_chips.end(),
                                 [&](const ChipSpec& c) { return sameName(c.name, chip.name); });
        if (same != e.hypothetical_chips.end())
            *same = chip;
        else
            e.hypothetical_chips.push_back(chip);
    }
    return e;
}

json scenarioToJson(const Scenario& s) {
    json overrides = json::array();
    for (const ThresholdOverride& o : s.overrides)
        overrides.push_back({{"clause", o.clause},
                             {"metric", o.metric},
                             {"op", std::string(comparatorSymbol(o.op))},
                             {"threshold", o.threshold}});
    return {{"format", 1},
            {"name", s.name},
            {"base", s.base},
            {"overrides", overrides},
            {"chips", chipsJson(s.hypothetical_chips)},
            {"note", s.note}};
}

Scenario scenarioFromJson(const json& obj) {
    if (!obj.is_object())
        fail("a scenario definition must be a JSON object");
    static const std::set<std::string> keys = {"format",    "name",  "base",
                                               "overrides", "chips", "note"};
    for (const auto& [key, value] : obj.items())
        if (!keys.count(key))
            fail("scenario definition: unknown key \"" + key + "\"");
    if (auto f = obj.find("format"); f != obj.end() && !(f->is_number_integer() && *f == 1))
        fail("scenario definition: \"format\" " + f->dump() + " is not 1 (a newer Crossroads?)");
    auto text = [&](const char* key, bool required) {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (required)
                fail(std::string("scenario definition: \"") + key + "\" is required");
            return std::string();
        }
        if (!it->is_string())
            fail(std::string("scenario definition: \"") + key + "\" must be a string");
        return it->get<std::string>();
    };
    Scenario s;
    s.name = text("name", true);
    const std::string where = "scenario \"" + s.name + "\"";
    s.base = text("base", true);
    s.note = text("note", false);
    if (auto list = obj.find("overrides"); list != obj.end() && !list->is_null()) {
        if (!list->is_array())
            fail(where + ": \"overrides\" must be an array");
        for (const json& o : *list) {
            if (!o.is_object())
                fail(where + ": each override must be an object {\"clause\", \"metric\", "
                             "\"op\", \"threshold\"}");
            for (const auto& [key, value] : o.items())
                if (key != "clause" && key != "metric" && key != "op" && key != "threshold")
                    fail(where + ": unknown key \"overrides." + key + "\"");
            auto str = [&](const char* key) {
                auto it = o.find(key);
                if (it == o.end() || !it->is_string() || it->get<std::string>().empty())
                    fail(where + ": override \"" + key + "\" must be a non-empty string");
                return it->get<std::string>();
            };
            ThresholdOverride parsed;
            parsed.clause = str("clause");
            parsed.metric = str("metric");
            const std::string op = str("op");
            const auto comparator = comparatorFromSymbol(op);
            if (!comparator)
                fail(where + ": unknown operator \"" + op + "\"");
            parsed.op = *comparator;
            auto t = o.find("threshold");
            if (t == o.end() || !t->is_number())
                fail(where + ": override \"threshold\" must be a number");
            parsed.threshold = t->get<double>();
            if (!isNumericMetric(parsed.metric))
                fail(where + ": unknown metric \"" + parsed.metric + "\"");
            s.overrides.push_back(std::move(parsed));
        }
    }
    if (auto chips = obj.find("chips"); chips != obj.end() && !chips->is_null()) {
        if (!chips->is_array())
            fail(where + ": \"chips\" must be an array of chip objects");
        for (size_t i = 0; i < chips->size(); ++i) {
            try {
                s.hypothetical_chips.push_back(
                    chipFromJson((*chips)[i], "hypothetical chip " + std::to_string(i + 1)));
            } catch (const ChipFormatError& e) {
                fail(where + ": " + e.what());
            }
        }
    }
    return s;
}

std::vector<ChipSpec> chipsWithHypothetical(const std::vector<ChipSpec>& stored, const Edition& a,
                                            const Edition* b) {
    std::vector<ChipSpec> out = stored;
    std::set<std::string> names;
    for (const ChipSpec& c : stored)
        names.insert(lower(c.name));
    for (const Edition* e : {&a, b}) {
        if (!e)
            continue;
        for (const ChipSpec& c : e->hypothetical_chips)
            if (names.insert(lower(c.name)).second)
                out.push_back(c);
    }
    return out;
}

const ChipSpec* findHypotheticalChip(const Edition& edition, std::string_view name) {
    for (const ChipSpec& c : edition.hypothetical_chips)
        if (sameName(c.name, name))
            return &c;
    return nullptr;
}

bool isHypotheticalChip(const Edition& edition, std::string_view name) {
    return findHypotheticalChip(edition, name) != nullptr;
}

ScenarioDiff diffScenario(const Scenario& scenario, const Edition& base, const Edition& resolved,
                          const std::vector<ChipSpec>& storedChips) {
    ScenarioDiff d;
    d.name = resolved.id;
    d.base = base.id;
    d.note = resolved.note;
    for (const ThresholdOverride& o : scenario.overrides)
        d.thresholds.push_back({o, overriddenCriterion(base, o)});
    d.hypothetical_chips = resolved.hypothetical_chips;
    for (const ChipSpec& c : resolved.hypothetical_chips)
        d.hypothetical_results.push_back(classify(c, resolved));
    d.comparison = compareEditions(storedChips, base, resolved);
    return d;
}

json scenarioDiffToJson(const ScenarioDiff& d) {
    json thresholds = json::array();
    for (const ScenarioDiff::Threshold& t : d.thresholds)
        thresholds.push_back({{"clause", t.scenario.clause},
                              {"kind", t.base.kind},
                              {"metric", t.scenario.metric},
                              {"op", std::string(comparatorSymbol(t.scenario.op))},
                              {"threshold", t.scenario.threshold},
                              {"base_op", std::string(comparatorSymbol(t.base.op))},
                              {"base_threshold", t.base.threshold}});
    json results = json::array();
    for (const ClassificationResult& r : d.hypothetical_results) {
        json j = resultToJson(r);
        j["hypothetical"] = true;
        results.push_back(std::move(j));
    }
    return {{"name", d.name},
            {"scenario", true},
            {"base", d.base},
            {"note", d.note},
            {"overrides", thresholds},
            {"hypothetical_chips", chipsJson(d.hypothetical_chips)},
            {"hypothetical_results", results},
            {"comparison", comparisonToJson(d.comparison)}};
}

} // namespace crossroads::analysis
