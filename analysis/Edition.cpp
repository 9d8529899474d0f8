#include "analysis/Edition.h"

#include "analysis/Countries.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
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

std::vector<std::string> stringList(const json& obj, const char* key, const std::string& where) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return out;
    if (!it->is_array())
        fail(where, std::string("\"") + key + "\" must be an array of strings");
    for (const json& v : *it) {
        if (!v.is_string() || v.get<std::string>().empty())
            fail(where, std::string("\"") + key + "\" must be an array of non-empty strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

bool optBool(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return false;
    if (!it->is_boolean())
        fail(where, std::string("\"") + key + "\" must be true or false");
    return it->get<bool>();
}

bool looksLikeCountryCode(const std::string& s) {
    return s.size() == 2 && std::isupper(static_cast<unsigned char>(s[0])) &&
           std::isupper(static_cast<unsigned char>(s[1]));
}

std::optional<DestinationSet> parseDestinations(const json& obj, const char* key,
                                                const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return std::nullopt;
    const std::string w = where + " " + key;
    if (!it->is_object())
        fail(w, "must be an object {\"include\": [...], \"exclude\": [...]}");
    checkKeys(*it, {"include", "exclude"}, w);
    DestinationSet set{stringList(*it, "include", w), stringList(*it, "exclude", w)};
    if (set.include.empty())
        fail(w, "\"include\" names no destination");
    return set;
}

std::vector<CitedText> parseCitedTexts(const json& obj, const char* key, const std::string& where) {
    std::vector<CitedText> out;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return out;
    if (!it->is_array())
        fail(where, std::string("\"") + key + "\" must be an array of {\"text\", \"citation\"}");
    for (const json& c : *it) {
        const std::string cw = where + " " + key;
        if (!c.is_object())
            fail(cw, "each entry must be an object {\"text\", \"citation\"}");
        checkKeys(c, {"text", "citation"}, cw);
        out.push_back({reqString(c, "text", cw), parseCitation(c, cw)});
    }
    return out;
}

// Every code in the edition's country data is an ISO 3166-1 alpha-2 code, every other entry of
// a destination set a group the edition defines.
void checkCountryData(const Edition& e) {
    const std::string where = "\"" + e.id + "\"";
    for (const CountryGroup& g : e.country_groups)
        for (const CountryGroupMembers& m : g.members)
            for (const std::string& code : m.codes)
                if (!isCountryCode(code))
                    fail(where + " country group " + g.id,
                         "\"" + code + "\" is not an ISO 3166-1 alpha-2 code");
    for (const CountryAlias& a : e.country_aliases)
        if (!isCountryCode(a.id) || !isCountryCode(a.as))
            fail(where + " country alias " + a.id, "both codes must be ISO 3166-1 alpha-2 codes");
    auto check = [&](const std::optional<DestinationSet>& set, const std::string& what) {
        if (!set)
            return;
        for (const auto* list : {&set->include, &set->exclude})
            for (const std::string& entry : *list) {
                if (entry == "*")
                    continue;
                if (looksLikeCountryCode(entry)) {
                    if (!isCountryCode(entry))
                        fail(where + " " + what,
                             "\"" + entry + "\" is not an ISO 3166-1 alpha-2 code");
                } else if (!findCountryGroup(e, entry)) {
                    fail(where + " " + what, "names unknown country group \"" + entry + "\"");
                }
            }
    };
    for (const LicenseRequirement& r : e.license_requirements) {
        check(r.destinations, "license requirement " + r.id);
        check(r.headquarters, "license requirement " + r.id);
    }
    for (const ReviewPolicy& p : e.review_policies) {
        check(p.destinations, "review policy " + p.id);
        check(p.headquarters, "review policy " + p.id);
    }
    for (const LicenseException& x : e.license_exceptions) {
        check(x.destinations, "license exception " + x.id);
        check(x.headquarters, "license exception " + x.id);
    }
    for (const OtherRestriction& o : e.other_restrictions)
        check(o.destinations, "other restriction " + o.id);
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
              {"id",
               "extends",
               "title",
               "citation",
               "effective",
               "status",
               "status_note",
               "bit_lengths",
               "bit_length_assumption",
               "clauses",
               "notes",
               "license_exceptions",
               "flags",
               "caps",
               "remove",
               "country_groups",
               "country_aliases",
               "license_requirements",
               "review_policies",
               "other_restrictions"},
              where);
    edition.id = id;
    edition.title = reqString(obj, "title", where);
    edition.citation = parseCitation(obj, where);
    edition.effective = reqString(obj, "effective", where);
    edition.status = reqString(obj, "status", where);
    static const std::set<std::string> statuses = {"in force", "superseded", "rescinded",
                                                   "not enforced", "heuristic"};
    if (!statuses.count(edition.status))
        fail(where, "status \"" + edition.status +
                        "\" is not one of in force, superseded, "
                        "rescinded, not enforced, heuristic");
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
                !drop(edition.license_exceptions) && !drop(edition.flags) &&
                !drop(edition.country_groups) && !drop(edition.country_aliases) &&
                !drop(edition.license_requirements) && !drop(edition.review_policies) &&
                !drop(edition.other_restrictions))
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
            checkKeys(
                e,
                {"id", "summary", "citation", "when", "destinations", "headquarters", "conditions"},
                ew);
            own.push_back({eid, optString(e, "summary", ew), parseCitation(e, ew),
                           parseCondition(e.value("when", json::object()), ew, Phase::Outcome),
                           parseDestinations(e, "destinations", ew),
                           parseDestinations(e, "headquarters", ew),
                           parseCitedTexts(e, "conditions", ew)});
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
    if (const json* groups = list("country_groups")) {
        std::vector<CountryGroup> own;
        for (const json& g : *groups) {
            const std::string gid = reqString(g, "id", where);
            const std::string gw = where + " country group " + gid;
            checkKeys(g, {"id", "title", "complete", "note", "members"}, gw);
            CountryGroup group{gid,
                               optString(g, "title", gw),
                               optBool(g, "complete", gw),
                               optString(g, "note", gw),
                               {}};
            auto members = g.find("members");
            if (members == g.end() || !members->is_array())
                fail(gw, "\"members\" must be an array of {\"codes\", \"citation\"}");
            for (const json& m : *members) {
                if (!m.is_object())
                    fail(gw, "each member entry must be an object {\"codes\", \"citation\"}");
                checkKeys(m, {"codes", "citation", "uncertain"}, gw);
                group.members.push_back({stringList(m, "codes", gw), parseCitation(m, gw),
                                         optBool(m, "uncertain", gw)});
            }
            own.push_back(std::move(group));
        }
        mergeById(edition.country_groups, std::move(own));
    }
    if (const json* aliases = list("country_aliases")) {
        std::vector<CountryAlias> own;
        for (const json& a : *aliases) {
            const std::string aid = reqString(a, "id", where);
            const std::string aw = where + " country alias " + aid;
            checkKeys(a, {"id", "as", "citation"}, aw);
            own.push_back({aid, reqString(a, "as", aw), parseCitation(a, aw)});
        }
        mergeById(edition.country_aliases, std::move(own));
    }
    if (const json* requirements = list("license_requirements")) {
        std::vector<LicenseRequirement> own;
        for (const json& r : *requirements) {
            const std::string rid = reqString(r, "id", where);
            const std::string rw = where + " license requirement " + rid;
            checkKeys(r,
                      {"id", "summary", "citation", "when", "named_items", "heuristic",
                       "destinations", "headquarters"},
                      rw);
            LicenseRequirement req{
                rid,
                reqString(r, "summary", rw),
                parseCitation(r, rw),
                parseCondition(r.value("when", json::object()), rw, Phase::Outcome),
                stringList(r, "named_items", rw),
                optBool(r, "heuristic", rw),
                parseDestinations(r, "destinations", rw),
                parseDestinations(r, "headquarters", rw)};
            if (!req.destinations && !req.headquarters)
                fail(rw, "needs \"destinations\" or \"headquarters\"");
            own.push_back(std::move(req));
        }
        mergeById(edition.license_requirements, std::move(own));
    }
    if (const json* policies = list("review_policies")) {
        std::vector<ReviewPolicy> own;
        for (const json& p : *policies) {
            const std::string pid = reqString(p, "id", where);
            const std::string pw = where + " review policy " + pid;
            checkKeys(p,
                      {"id", "policy", "summary", "citation", "when", "destinations",
                       "headquarters", "conditions", "supersedes"},
                      pw);
            ReviewPolicy policy{pid,
                                reqString(p, "policy", pw),
                                optString(p, "summary", pw),
                                parseCitation(p, pw),
                                parseCondition(p.value("when", json::object()), pw, Phase::Outcome),
                                parseDestinations(p, "destinations", pw),
                                parseDestinations(p, "headquarters", pw),
                                parseCitedTexts(p, "conditions", pw),
                                stringList(p, "supersedes", pw)};
            static const std::set<std::string> kinds = {"presumption of denial", "case-by-case",
                                                        "presumption of approval"};
            if (!kinds.count(policy.policy))
                fail(pw, "policy \"" + policy.policy +
                             "\" is not one of presumption of denial, case-by-case, "
                             "presumption of approval");
            if (!policy.destinations && !policy.headquarters)
                fail(pw, "needs \"destinations\" or \"headquarters\"");
            own.push_back(std::move(policy));
        }
        mergeById(edition.review_policies, std::move(own));
    }
    if (const json* restrictions = list("other_restrictions")) {
        std::vector<OtherRestriction> own;
        for (const json& o : *restrictions) {
            const std::string oid = reqString(o, "id", where);
            const std::string ow = where + " other restriction " + oid;
            checkKeys(o, {"id", "text", "citation", "destinations", "named_items"}, ow);
            own.push_back({oid, reqString(o, "text", ow), parseCitation(o, ow),
                           parseDestinations(o, "destinations", ow),
                           stringList(o, "named_items", ow)});
        }
        mergeById(edition.other_restrictions, std::move(own));
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

bool compareNumbers(double x, Comparator op, double y) {
    switch (op) {
    case Comparator::Less:
        return x < y;
    case Comparator::LessEqual:
        return x <= y;
    case Comparator::Greater:
        return x > y;
    case Comparator::GreaterEqual:
        return x >= y;
    case Comparator::Equal:
        return x == y;
    case Comparator::NotEqual:
        return x != y;
    }
    return false;
}

void forEachCriterion(const Condition& c, const std::function<void(const Criterion&)>& f) {
    if (c.kind == Condition::Kind::Leaf)
        f(c.criterion);
    for (const Condition& child : c.children)
        forEachCriterion(child, f);
}

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
        Edition edition = parseOwn(raw.object, id, std::move(base));
        checkCountryData(edition);
        return done.emplace(id, std::move(edition)).first->second;
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
    json out = {{"id", e.id},
                {"title", e.title},
                {"citation", e.citation.text},
                {"effective", e.effective},
                {"status", e.status}};
    if (e.scenario) {
        out["scenario"] = true;
        out["base"] = e.base;
    }
    return out;
}

const Edition* newestInForce(const std::vector<Edition>& editions) {
    const Edition* best = nullptr;
    for (const Edition& e : editions)
        if (!e.scenario && e.status == "in force" && (!best || e.effective >= best->effective))
            best = &e;
    return best;
}

const CountryGroup* findCountryGroup(const Edition& edition, std::string_view id) {
    for (const CountryGroup& g : edition.country_groups)
        if (g.id == id)
            return &g;
    return nullptr;
}

const Edition* findEdition(const std::vector<Edition>& editions, std::string_view id) {
    for (const Edition& e : editions)
        if (e.id == id)
            return &e;
    return nullptr;
}

} // namespace crossroads::analysis
