#include "analysis/License.h"

#include "analysis/Countries.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

using Tri = std::optional<bool>; // nullopt: unknown (Kleene logic)

Tri and3(Tri a, Tri b) {
    if (a == false || b == false)
        return false;
    if (!a || !b)
        return std::nullopt;
    return true;
}

Tri or3(Tri a, Tri b) {
    if (a == true || b == true)
        return true;
    if (!a || !b)
        return std::nullopt;
    return false;
}

Tri not3(Tri a) {
    return a ? Tri(!*a) : std::nullopt;
}

std::string cite(const Citation& c) {
    return c.text + " [" + c.evidence + "]";
}

std::string joined(const std::vector<std::string>& parts, const char* separator = ", ") {
    std::string out;
    for (const std::string& p : parts)
        out += (out.empty() ? "" : separator) + p;
    return out;
}

// "H20 (China)" and "h20" name the same item: case is ignored, and so is a trailing
// parenthetical (the store's market suffix).
std::string itemKey(const std::string& name) {
    std::string s = name;
    if (auto open = s.rfind(" ("); open != std::string::npos && !s.empty() && s.back() == ')')
        s.erase(open);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool names(const std::vector<std::string>& items, const std::string& chip) {
    const std::string key = itemKey(chip);
    return std::any_of(items.begin(), items.end(),
                       [&](const std::string& n) { return itemKey(n) == key; });
}

bool isCodeEntry(const std::string& entry) {
    return entry.size() == 2 && std::isupper(static_cast<unsigned char>(entry[0])) &&
           std::isupper(static_cast<unsigned char>(entry[1]));
}

const CountryAlias* aliasOf(const Edition& e, const std::string& code) {
    for (const CountryAlias& a : e.country_aliases)
        if (a.id == code)
            return &a;
    return nullptr;
}

struct GroupLookup {
    Tri in;
    const CountryGroupMembers* entry = nullptr; // the listing that decides, when listed
};

GroupLookup lookupOne(const CountryGroup& g, const std::string& code) {
    GroupLookup out{g.complete ? Tri(false) : std::nullopt};
    for (const CountryGroupMembers& m : g.members)
        if (std::find(m.codes.begin(), m.codes.end(), code) != m.codes.end()) {
            if (!m.uncertain)
                return {true, &m};
            out = {std::nullopt, &m};
        }
    return out;
}

// Membership of `code` in one entry of a destination set ("*", a code, a group), with the
// words that say why.
struct Membership {
    Tri in;
    std::string why;
};

Membership inEntry(const Edition& e, const std::string& entry, const std::string& code) {
    const CountryAlias* alias = aliasOf(e, code);
    if (entry == "*")
        return {true, "every destination"};
    if (isCodeEntry(entry)) {
        if (entry == code)
            return {true, code + " is named"};
        if (alias && alias->as == entry)
            return {true, code + " is treated as " + entry + " (" + cite(alias->citation) + ")"};
        return {false, ""};
    }
    const CountryGroup* g = findCountryGroup(e, entry);
    if (!g)
        return {std::nullopt, "country group " + entry + " is not in the edition's data"};
    GroupLookup own = lookupOne(*g, code);
    std::string why;
    if (own.in == true)
        why = code + " is in " + entry + " (" + cite(own.entry->citation) + ")";
    if (alias && own.in != true) {
        GroupLookup via = lookupOne(*g, alias->as);
        if (via.in == true) {
            own = via;
            why = code + " is treated as " + alias->as + " (" + cite(alias->citation) + "), in " +
                  entry + " (" + cite(via.entry->citation) + ")";
        } else if (!via.in) {
            own.in = or3(own.in, via.in);
        }
    }
    if (own.in == false)
        why = code + " is not in " + entry;
    else if (!own.in)
        why = code + "'s membership in " + entry + " is not in the data" +
              (own.entry ? " (listed as uncertain, " + cite(own.entry->citation) + ")"
                         : std::string(" (the list is partial: ") +
                               (g->note.empty() ? "see the edition data" : g->note) + ")");
    return {own.in, why};
}

Membership inSet(const Edition& e, const DestinationSet& set, const std::string& code) {
    auto scan = [&](const std::vector<std::string>& entries) {
        Tri any = false;
        std::vector<std::string> yes, unknown;
        for (const std::string& entry : entries) {
            const Membership m = inEntry(e, entry, code);
            any = or3(any, m.in);
            if (m.in == true)
                yes.push_back(m.why);
            else if (!m.in)
                unknown.push_back(m.why);
        }
        return std::make_tuple(any, yes, unknown);
    };
    const auto [inc, incYes, incUnknown] = scan(set.include);
    const auto [exc, excYes, excUnknown] = scan(set.exclude);
    const Tri in = and3(inc, not3(exc));
    if (exc == true)
        return {false, joined(excYes, "; ") + ", which is excepted"};
    if (inc == true) {
        if (!exc)
            return {std::nullopt, joined(incYes, "; ") + "; " + joined(excUnknown, "; ")};
        return {in, joined(incYes, "; ")};
    }
    if (!inc)
        return {std::nullopt, joined(incUnknown, "; ")};
    return {false, code + " is in none of " + joined(set.include)};
}

int severity(const std::string& policy) {
    if (policy == "presumption of denial")
        return 3;
    if (policy == "case-by-case")
        return 2;
    return 1;
}

void addUnique(std::vector<std::string>& list, const std::string& value) {
    if (std::find(list.begin(), list.end(), value) == list.end())
        list.push_back(value);
}

std::string paragraphWords(const ClassificationResult& r) {
    if (!r.paragraph)
        return "classification undetermined";
    if (*r.paragraph == "none")
        return "outside 3A090";
    return r.classes.empty() ? "3A090." + *r.paragraph : joined(r.classes, " ");
}

// "not controlled (outside 3A090)": the reasons, and the paragraph unless they already say it.
std::string withParagraph(const std::string& reasons, const ClassificationResult& r) {
    const std::string paragraph = paragraphWords(r);
    return reasons.find(paragraph) != std::string::npos ? reasons
                                                        : reasons + " (" + paragraph + ")";
}

} // namespace

std::optional<bool> inCountryGroup(const Edition& edition, const std::string& groupId,
                                   const std::string& code) {
    return inEntry(edition, groupId, code).in;
}

LicenseResult determineLicense(const ChipSpec& chip, const Edition& edition,
                               const LicenseQuery& query) {
    return determineLicense(chip, classify(chip, edition), edition, query);
}

LicenseResult determineLicense(const ChipSpec& chip, const ClassificationResult& classification,
                               const Edition& edition, const LicenseQuery& query) {
    if (!isCountryCode(query.destination))
        throw LicenseQueryError("destination \"" + query.destination +
                                "\" is not an ISO 3166-1 alpha-2 country code");
    if (query.headquarters && !isCountryCode(*query.headquarters))
        throw LicenseQueryError("headquarters \"" + *query.headquarters +
                                "\" is not an ISO 3166-1 alpha-2 country code");

    LicenseResult r;
    r.chip_name = chip.name;
    r.edition_id = edition.id;
    r.destination = query.destination;
    r.headquarters = query.headquarters;
    r.classes = classification.classes;
    r.paragraph = classification.paragraph;
    r.controlled = classification.controlled;
    const std::string dest = query.destination;
    const std::string hq = query.headquarters.value_or(query.destination);

    if (edition.status == "not enforced" || edition.status == "rescinded")
        r.basis.push_back("Edition " + edition.id + " is " + edition.status + ": " +
                          edition.status_note + " " + cite(edition.citation));
    if (!query.headquarters)
        r.basis.push_back("Headquarters not given: the buyer is taken to be headquartered in " +
                          dest + " (" + countryName(dest) +
                          "); a buyer headquartered elsewhere may change the answer");
    if (!classification.paragraph) {
        r.basis.push_back("Classification under " + edition.id + " is undetermined (needs " +
                          joined(classification.undetermined) + ")");
        for (const std::string& u : classification.undetermined)
            addUnique(r.undetermined, u);
    }

    // The requirement: any that holds requires a licence.
    Tri required = false;
    auto place = [&](const std::optional<DestinationSet>& destinations,
                     const std::optional<DestinationSet>& headquarters) {
        Tri in = true;
        std::vector<std::string> why;
        if (destinations) {
            const Membership m = inSet(edition, *destinations, dest);
            in = and3(in, m.in);
            why.push_back("destination " + m.why);
        }
        if (headquarters) {
            const Membership m = inSet(edition, *headquarters, hq);
            in = and3(in, m.in);
            why.push_back("headquarters " + m.why);
        }
        return Membership{in, joined(why, "; ")};
    };
    for (const LicenseRequirement& req : edition.license_requirements) {
        Tri item;
        std::string itemWhy;
        if (names(req.named_items, chip.name)) {
            item = true;
            itemWhy = chip.name + " is named";
        } else {
            const ConditionCheck check = checkCondition(req.when, chip, edition, classification);
            item = check.holds;
            itemWhy = joined(check.reasons);
            if (req.heuristic && item == true) {
                item = std::nullopt;
                itemWhy += " (a heuristic: no thresholds were published, and the letters bind "
                           "the items they name)";
            }
            if (!check.holds)
                for (const std::string& metric : check.missing)
                    if (metric != "paragraph" && metric != "controlled")
                        addUnique(r.undetermined, metric);
        }
        if (itemWhy.empty())
            itemWhy = paragraphWords(classification);
        const Membership where = place(req.destinations, req.headquarters);
        const Tri applies = and3(item, where.in);
        required = or3(required, applies);
        std::string line;
        if (applies == true)
            line = "Licence required: " + req.summary + " (" + itemWhy + "; " + where.why + ")";
        else if (!applies)
            line = "Licence may be required: " + req.summary + " (" +
                   (item == true ? where.why : itemWhy + (where.in ? "" : "; " + where.why)) + ")";
        else
            line = "Not required by " + req.id + ": " +
                   (item == false ? withParagraph(itemWhy, classification) : where.why);
        r.basis.push_back(line + ", " + cite(req.citation));
        if (!applies && item != false && !where.in) {
            if (req.headquarters && !query.headquarters)
                addUnique(r.undetermined, "headquarters");
            addUnique(r.undetermined, "country group membership of " + dest);
        }
    }
    r.license_required = required;

    if (r.license_required != false) {
        // Review policy: those that apply, less the ones superseded, most restrictive first.
        struct Candidate {
            const ReviewPolicy* policy;
            Tri applies;
            std::string why;
        };
        std::vector<Candidate> candidates;
        for (const ReviewPolicy& p : edition.review_policies) {
            Tri where = false;
            std::vector<std::string> why;
            if (p.destinations) {
                const Membership m = inSet(edition, *p.destinations, dest);
                where = or3(where, m.in);
                if (m.in != false)
                    why.push_back("destination " + m.why);
            }
            if (p.headquarters) {
                const Membership m = inSet(edition, *p.headquarters, hq);
                where = or3(where, m.in);
                if (m.in != false)
                    why.push_back("headquarters " + m.why);
            }
            const ConditionCheck check = checkCondition(p.when, chip, edition, classification);
            const Tri applies = and3(where, check.holds);
            if (applies == false)
                continue;
            for (const std::string& reason : check.reasons)
                why.push_back(reason);
            candidates.push_back({&p, applies, joined(why, "; ")});
        }
        std::vector<Candidate> standing;
        for (const Candidate& c : candidates) {
            const bool superseded =
                std::any_of(candidates.begin(), candidates.end(), [&](const Candidate& other) {
                    return other.applies == true &&
                           std::find(other.policy->supersedes.begin(),
                                     other.policy->supersedes.end(),
                                     c.policy->id) != other.policy->supersedes.end();
                });
            if (!superseded)
                standing.push_back(c);
        }
        const bool open = std::any_of(standing.begin(), standing.end(),
                                      [](const Candidate& c) { return !c.applies; });
        std::stable_sort(standing.begin(), standing.end(), [](const auto& a, const auto& b) {
            return severity(a.policy->policy) > severity(b.policy->policy);
        });
        for (const Candidate& c : standing)
            r.basis.push_back(std::string(c.applies ? "Review: " : "Review may be: ") +
                              c.policy->policy + ": " + c.policy->summary + " (" + c.why + "), " +
                              cite(c.policy->citation));
        if (!open && !standing.empty()) {
            const ReviewPolicy& chosen = *standing.front().policy;
            r.review_policy = chosen.policy;
            for (const CitedText& t : chosen.conditions)
                r.review_conditions.push_back(t.text + ", " + cite(t.citation));
        } else if (standing.empty()) {
            r.basis.push_back("Review policy: none in the edition's data for this item and "
                              "destination");
        }

        // Licence exceptions the item is eligible for (classification) and the place allows.
        for (const LicenseException& x : edition.license_exceptions) {
            if (std::find(classification.license_exceptions.begin(),
                          classification.license_exceptions.end(),
                          x.id) == classification.license_exceptions.end())
                continue;
            Tri where = (!x.destinations && !x.headquarters) ? Tri(true) : Tri(false);
            std::string why;
            if (x.destinations) {
                const Membership m = inSet(edition, *x.destinations, dest);
                where = or3(where, m.in);
                why = "destination " + m.why;
            }
            if (x.headquarters) {
                const Membership m = inSet(edition, *x.headquarters, hq);
                where = or3(where, m.in);
                why += (why.empty() ? "" : "; ") + ("headquarters " + m.why);
            }
            if (where == false)
                continue;
            if (!where) {
                r.basis.push_back("License Exception " + x.id + " may be available (" + why +
                                  "), " + cite(x.citation));
                continue;
            }
            AvailableException available{x.id, x.summary, x.citation, {}};
            for (const CitedText& t : x.conditions)
                available.conditions.push_back(t.text + ", " + cite(t.citation));
            r.license_exceptions.push_back(std::move(available));
        }
    }

    for (const OtherRestriction& o : edition.other_restrictions) {
        bool shown = !o.destinations && o.named_items.empty();
        if (o.destinations && inSet(edition, *o.destinations, dest).in == true)
            shown = true;
        if (names(o.named_items, chip.name))
            shown = true;
        if (shown)
            r.other_restrictions.push_back(o.text + ", " + cite(o.citation));
    }
    return r;
}

std::string licenseSummary(const LicenseResult& l,
                           const std::function<std::string(std::string_view)>& label) {
    std::string text = !l.license_required   ? "Depends"
                       : *l.license_required ? "Required"
                                             : "Not required";
    if (l.license_required.value_or(false) && l.review_policy) {
        text += ": " + *l.review_policy;
    } else if (!l.license_required && !l.undetermined.empty()) {
        text += ": ";
        for (std::size_t i = 0; i < l.undetermined.size(); ++i)
            text += (i ? ", " : "") + (label ? label(l.undetermined[i]) : l.undetermined[i]);
    }
    return text;
}

json licenseResultToJson(const LicenseResult& r) {
    json exceptions = json::array();
    for (const AvailableException& x : r.license_exceptions)
        exceptions.push_back({{"id", x.id},
                              {"summary", x.summary},
                              {"conditions", x.conditions},
                              {"citation", cite(x.citation)}});
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    return {{"chip", r.chip_name},
            {"classes", r.classes},
            {"paragraph", opt(r.paragraph)},
            {"controlled", opt(r.controlled)},
            {"license_required", opt(r.license_required)},
            {"basis", r.basis},
            {"review_policy", opt(r.review_policy)},
            {"review_conditions", r.review_conditions},
            {"license_exceptions", exceptions},
            {"other_restrictions", r.other_restrictions},
            {"undetermined", r.undetermined}};
}

} // namespace crossroads::analysis
