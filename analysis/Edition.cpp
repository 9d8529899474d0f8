#include "analysis/Edition.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

enum class MetricType { Number, Bool, String };
enum class Phase { Classification, Outcome };

struct MetricInfo {
    MetricType type;
    Phase phase; // Outcome metrics exist only once the paragraph is known
};

const std::map<std::string, MetricInfo, std::less<>>& metrics() {
    static const std::map<std::string, MetricInfo, std::less<>> m = {
        {"tpp", {MetricType::Number, Phase::Classification}},
        {"performance_density", {MetricType::Number, Phase::Classification}},
        {"io_bidirectional_gb_per_s", {MetricType::Number, Phase::Classification}},
        {"memory_bandwidth_gb_per_s", {MetricType::Number, Phase::Classification}},
        {"memory_bandwidth_density", {MetricType::Number, Phase::Classification}},
        {"memory_capacity_gb", {MetricType::Number, Phase::Classification}},
        {"tdp_w", {MetricType::Number, Phase::Classification}},
        {"datacenter", {MetricType::Bool, Phase::Classification}},
        {"kind", {MetricType::String, Phase::Classification}},
        {"paragraph", {MetricType::String, Phase::Outcome}},
        {"controlled", {MetricType::Bool, Phase::Outcome}},
    };
    return m;
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw EditionFormatError("edition " + where + ": " + what);
}

void checkKeys(const json& obj, const std::set<std::string>& allowed, const std::string& where) {
    for (const auto& [key, value] : obj.items())
        if (!allowed.count(key))
            fail(where, "unknown key \"" + key + "\"");
}

std::string reqString(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string() || it->get<std::string>().empty())
        fail(where, std::string("\"") + key + "\" must be a non-empty string");
    return it->get<std::string>();
}

std::string optString(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return {};
    if (!it->is_string())
        fail(where, std::string("\"") + key + "\" must be a string");
    return it->get<std::string>();
}

Comparator parseComparator(const std::string& op, const std::string& where) {
    static const std::map<std::string, Comparator> ops = {
        {"<", Comparator::Less},    {"<=", Comparator::LessEqual},
        {">", Comparator::Greater}, {">=", Comparator::GreaterEqual},
        {"==", Comparator::Equal},  {"!=", Comparator::NotEqual}};
    auto it = ops.find(op);
    if (it == ops.end())
        fail(where, "unknown operator \"" + op + "\"");
    return it->second;
}

Citation parseCitation(const json& obj, const std::string& where) {
    auto it = obj.find("citation");
    if (it == obj.end() || !it->is_object())
        fail(where, "\"citation\" must be an object {\"text\", \"evidence\"}");
    checkKeys(*it, {"text", "evidence"}, where + " citation");
    Citation c{reqString(*it, "text", where), reqString(*it, "evidence", where)};
    static const std::set<std::string> marks = {"P", "Q", "S", "D", "U"};
    if (!marks.count(c.evidence))
        fail(where, "evidence mark \"" + c.evidence + "\" is not one of P, Q, S, D, U");
    return c;
}

Condition parseCondition(const json& obj, const std::string& where, Phase phase) {
    if (!obj.is_object())
        fail(where, "a condition must be an object");
    if (obj.contains("all") || obj.contains("any")) {
        checkKeys(obj, {"all", "any"}, where);
        if (obj.size() != 1)
            fail(where, "a condition has either \"all\" or \"any\"");
        const bool all = obj.contains("all");
        const json& list = all ? obj["all"] : obj["any"];
        if (!list.is_array())
            fail(where, "\"all\"/\"any\" must be an array");
        Condition c;
        c.kind = all ? Condition::Kind::All : Condition::Kind::Any;
        for (const json& child : list)
            c.children.push_back(parseCondition(child, where, phase));
        return c;
    }
    checkKeys(obj, {"metric", "op", "value"}, where);
    Condition c;
    c.kind = Condition::Kind::Leaf;
    c.criterion.metric = reqString(obj, "metric", where);
    auto info = metrics().find(c.criterion.metric);
    if (info == metrics().end())
        fail(where, "unknown metric \"" + c.criterion.metric + "\"");
    if (info->second.phase == Phase::Outcome && phase == Phase::Classification)
        fail(where, "metric \"" + c.criterion.metric +
                        "\" is known only after classification (use it in license exceptions "
                        "and flags)");
    c.criterion.op = parseComparator(reqString(obj, "op", where), where);
    auto value = obj.find("value");
    if (value == obj.end())
        fail(where, "criterion on \"" + c.criterion.metric + "\" has no \"value\"");
    switch (info->second.type) {
    case MetricType::Number:
        if (!value->is_number())
            fail(where, "\"" + c.criterion.metric + "\" compares with a number");
        c.criterion.threshold = value->get<double>();
        break;
    case MetricType::Bool:
        if (!value->is_boolean())
            fail(where, "\"" + c.criterion.metric + "\" compares with true or false");
        c.criterion.threshold = value->get<bool>();
        break;
    case MetricType::String:
        if (!value->is_string())
            fail(where, "\"" + c.criterion.metric + "\" compares with a string");
        c.criterion.threshold = value->get<std::string>();
        break;
    }
    if (info->second.type != MetricType::Number && c.criterion.op != Comparator::Equal &&
        c.criterion.op != Comparator::NotEqual)
        fail(where, "\"" + c.criterion.metric + "\" takes only == or !=");
    return c;
}

// Items with an id: an extending edition replaces same-id items and appends new ones.
template <typename T> void mergeById(std::vector<T>& base, std::vector<T> own) {
    for (T& item : own) {
        auto it =
            std::find_if(base.begin(), base.end(), [&](const T& b) { return b.id == item.id; });
        if (it != base.end())
            *it = std::move(item);
        else
            base.push_back(std::move(item));
    }
}

struct Raw {
    json object;
    std::string id;
    std::string extends;
};

Edition parseOwn(const json& obj, const std::string& id, Edition edition) {
    const std::string where = "\"" + id + "\"";
    checkKeys(obj,
              {"id", "extends", "title", "citation", "effective", "status", "status_note",
               "bit_lengths", "bit_length_assumption", "clauses", "notes", "license_exceptions",
               "flags", "caps", "remove"},
              where);
    edition.id = id;
    edition.title = reqString(obj, "title", where);
    edition.citation = parseCitation(obj, where);
    edition.effective = reqString(obj, "effective", where);
    edition.status = reqString(obj, "status", where);
    static const std::set<std::string> statuses = {"in force", "superseded", "rescinded",
                                                   "heuristic"};
    if (!statuses.count(edition.status))
        fail(where, "status \"" + edition.status +
                        "\" is not one of in force, superseded, "
                        "rescinded, heuristic");
    edition.status_note = optString(obj, "status_note", where);
    if (auto bits = obj.find("bit_lengths"); bits != obj.end()) {
        if (!bits->is_object())
            fail(where, "\"bit_lengths\" must be an object");
        for (const auto& [key, value] : bits->items()) {
            auto p = precisionFromKey(key);
            if (!p)
                fail(where, "unknown precision \"" + key + "\" in bit_lengths");
            if (!value.is_number_integer() || value.get<int>() <= 0)
                fail(where, "bit length of " + key + " must be a positive integer");
            edition.bit_lengths[*p] = value.get<int>();
        }
    }
    if (obj.contains("bit_length_assumption"))
        edition.bit_length_assumption = optString(obj, "bit_length_assumption", where);
    if (edition.bit_lengths.empty())
        fail(where, "no \"bit_lengths\" (own or inherited)");

    if (auto remove = obj.find("remove"); remove != obj.end()) {
        if (!remove->is_array())
            fail(where, "\"remove\" must be an array of ids");
        for (const json& r : *remove) {
            const std::string rid = r.is_string() ? r.get<std::string>() : std::string();
            auto drop = [&](auto& items) {
                auto before = items.size();
                std::erase_if(items, [&](const auto& item) { return item.id == rid; });
                return before != items.size();
            };
            if (!drop(edition.clauses) && !drop(edition.notes) &&
                !drop(edition.license_exceptions) && !drop(edition.flags))
                fail(where, "\"remove\" names \"" + rid + "\", which the base does not have");
        }
    }

    auto list = [&](const char* key) -> const json* {
        auto it = obj.find(key);
        if (it == obj.end())
            return nullptr;
        if (!it->is_array())
            fail(where, std::string("\"") + key + "\" must be an array");
        return &*it;
    };
    if (const json* clauses = list("clauses")) {
        std::vector<Clause> own;
        for (const json& c : *clauses) {
            const std::string cid = reqString(c, "id", where);
            const std::string cw = where + " clause " + cid;
            checkKeys(c, {"id", "paragraph", "summary", "citation", "when"}, cw);
            Clause clause{
                cid, reqString(c, "paragraph", cw), optString(c, "summary", cw),
                parseCitation(c, cw),
                parseCondition(c.value("when", json::object()), cw, Phase::Classification)};
            if (clause.paragraph != "a" && clause.paragraph != "b" && clause.paragraph != "c")
                fail(cw, "paragraph must be \"a\", \"b\" or \"c\"");
            own.push_back(std::move(clause));
        }
        mergeById(edition.clauses, std::move(own));
    }
    if (const json* notes = list("notes")) {
        std::vector<ExclusionNote> own;
        for (const json& n : *notes) {
            const std::string nid = reqString(n, "id", where);
            const std::string nw = where + " note " + nid;
            checkKeys(n, {"id", "summary", "citation", "when"}, nw);
            own.push_back(
                {nid, optString(n, "summary", nw), parseCitation(n, nw),
                 parseCondition(n.value("when", json::object()), nw, Phase::Classification)});
        }
        mergeById(edition.notes, std::move(own));
    }
    if (const json* exceptions = list("license_exceptions")) {
        std::vector<LicenseException> own;
        for (const json& e : *exceptions) {
            const std::string eid = reqString(e, "id", where);
            const std::string ew = where + " license exception " + eid;
            checkKeys(e, {"id", "summary", "citation", "when"}, ew);
            own.push_back({eid, optString(e, "summary", ew), parseCitation(e, ew),
                           parseCondition(e.value("when", json::object()), ew, Phase::Outcome)});
        }
        mergeById(edition.license_exceptions, std::move(own));
    }
    if (const json* flags = list("flags")) {
        std::vector<Flag> own;
        for (const json& f : *flags) {
            const std::string fid = reqString(f, "id", where);
            const std::string fw = where + " flag " + fid;
            checkKeys(f, {"id", "kind", "text", "citation", "when"}, fw);
            Flag flag{fid, reqString(f, "kind", fw), reqString(f, "text", fw), parseCitation(f, fw),
                      parseCondition(f.value("when", json::object()), fw, Phase::Outcome)};
            if (flag.kind != "heuristic" && flag.kind != "review-policy")
                fail(fw, "kind must be \"heuristic\" or \"review-policy\"");
            own.push_back(std::move(flag));
        }
        mergeById(edition.flags, std::move(own));
    }
    if (auto caps = obj.find("caps"); caps != obj.end() && !caps->is_null()) {
        const std::string cw = where + " caps";
        checkKeys(*caps,
                  {"lpp_tpp_per_consignee_per_year", "tier2_allocation_tpp",
                   "tier2_allocation_period", "tier1_countries", "tier3_description", "citation"},
                  cw);
        CapParameters p;
        auto number = [&](const char* key) {
            auto it = caps->find(key);
            if (it == caps->end() || !it->is_number() || it->get<double>() <= 0)
                fail(cw, std::string("\"") + key + "\" must be a positive number");
            return it->get<double>();
        };
        p.lpp_tpp_per_consignee_per_year = number("lpp_tpp_per_consignee_per_year");
        p.tier2_allocation_tpp = number("tier2_allocation_tpp");
        p.tier2_allocation_period = optString(*caps, "tier2_allocation_period", cw);
        p.tier3_description = optString(*caps, "tier3_description", cw);
        if (auto t1 = caps->find("tier1_countries"); t1 != caps->end()) {
            if (!t1->is_array())
                fail(cw, "\"tier1_countries\" must be an array of names");
            for (const json& c : *t1) {
                if (!c.is_string())
                    fail(cw, "\"tier1_countries\" must be an array of names");
                p.tier1_countries.push_back(c.get<std::string>());
            }
        }
        p.citation = parseCitation(*caps, cw);
        edition.caps = std::move(p);
    }
    return edition;
}

} // namespace

std::string_view comparatorSymbol(Comparator c) {
    switch (c) {
    case Comparator::Less:
        return "<";
    case Comparator::LessEqual:
        return "<=";
    case Comparator::Greater:
        return ">";
    case Comparator::GreaterEqual:
        return ">=";
    case Comparator::Equal:
        return "==";
    case Comparator::NotEqual:
        return "!=";
    }
    return "?";
}

std::vector<Edition> editionsFromJson(const std::vector<json>& objects) {
    std::map<std::string, Raw> raws;
    for (const json& obj : objects) {
        if (!obj.is_object())
            throw EditionFormatError("an edition must be a JSON object");
        const std::string id = reqString(obj, "id", "(no id)");
        if (raws.count(id))
            fail("\"" + id + "\"", "defined twice");
        std::string extends;
        if (auto e = obj.find("extends"); e != obj.end() && !e->is_null()) {
            if (!e->is_string())
                fail("\"" + id + "\"", "\"extends\" must be an edition id");
            extends = e->get<std::string>();
        }
        raws[id] = Raw{obj, id, extends};
    }
    std::map<std::string, Edition> done;
    std::set<std::string> visiting;
    std::function<const Edition&(const std::string&)> resolve =
        [&](const std::string& id) -> const Edition& {
        if (auto it = done.find(id); it != done.end())
            return it->second;
        if (!visiting.insert(id).second)
            fail("\"" + id + "\"", "\"extends\" forms a cycle");
        const Raw& raw = raws.at(id);
        Edition base;
        if (!raw.extends.empty()) {
            if (!raws.count(raw.extends))
                fail("\"" + id + "\"", "extends unknown edition \"" + raw.extends + "\"");
            base = resolve(raw.extends);
            base.caps.reset(); // quantity caps belong to the edition that sets them
            base.status_note.clear();
        }
        visiting.erase(id);
        return done.emplace(id, parseOwn(raw.object, id, std::move(base))).first->second;
    };
    std::vector<Edition> editions;
    for (const auto& [id, raw] : raws)
        editions.push_back(resolve(id));
    std::stable_sort(editions.begin(), editions.end(),
                     [](const Edition& a, const Edition& b) { return a.effective < b.effective; });
    return editions;
}

std::vector<Edition> editionsFromJsonTexts(const std::vector<std::string>& texts) {
    std::vector<json> objects;
    for (const std::string& text : texts) {
        try {
            objects.push_back(json::parse(text));
        } catch (const json::parse_error& e) {
            throw EditionFormatError(std::string("edition file is not valid JSON: ") + e.what());
        }
    }
    return editionsFromJson(objects);
}

json editionSummaryJson(const Edition& e) {
    return {{"id", e.id},
            {"title", e.title},
            {"citation", e.citation.text},
            {"effective", e.effective},
            {"status", e.status}};
}

const Edition* newestInForce(const std::vector<Edition>& editions) {
    const Edition* best = nullptr;
    for (const Edition& e : editions)
        if (e.status == "in force" && (!best || e.effective >= best->effective))
            best = &e;
    return best;
}

const Edition* findEdition(const std::vector<Edition>& editions, std::string_view id) {
    for (const Edition& e : editions)
        if (e.id == id)
            return &e;
    return nullptr;
}

} // namespace crossroads::analysis
