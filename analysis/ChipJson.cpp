#include "analysis/ChipJson.h"

#include <nlohmann/json.hpp>

#include <set>

namespace crossroads::analysis {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& context, const std::string& what) {
    throw ChipFormatError(context + ": " + what);
}

std::string typeName(const json& v) {
    return v.type_name();
}

std::optional<double> optNumber(const json& obj, const char* key, const std::string& ctx) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return std::nullopt;
    if (!it->is_number())
        fail(ctx, std::string("\"") + key + "\" must be a number or null, not " + typeName(*it));
    return it->get<double>();
}

std::string optString(const json& obj, const char* key, const std::string& ctx) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        return {};
    if (!it->is_string())
        fail(ctx, std::string("\"") + key + "\" must be a string, not " + typeName(*it));
    return it->get<std::string>();
}

const std::set<std::string>& knownKeys() {
    static const std::set<std::string> keys = [] {
        std::set<std::string> k = {"name",       "vendor", "year",    "kind",        "datacenter",
                                   "dense_tops", "notes",  "sources", "alternatives"};
        for (const FigureField& f : kFigureFields)
            k.insert(std::string(f.key));
        return k;
    }();
    return keys;
}

json optToJson(const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
}

} // namespace

ChipSpec chipFromJson(const json& obj, const std::string& context) {
    if (!obj.is_object())
        fail(context, "must be a JSON object, not " + typeName(obj));
    std::string ctx = context;
    if (auto n = obj.find("name"); n != obj.end() && n->is_string())
        ctx += " (\"" + n->get<std::string>() + "\")";
    for (const auto& [key, value] : obj.items())
        if (!knownKeys().count(key))
            fail(ctx, "unknown key \"" + key + "\"");

    ChipSpec chip;
    chip.name = optString(obj, "name", ctx);
    if (chip.name.empty())
        fail(ctx, "\"name\" is required");
    chip.vendor = optString(obj, "vendor", ctx);
    if (auto y = obj.find("year"); y != obj.end() && !y->is_null()) {
        if (!y->is_number_integer())
            fail(ctx, "\"year\" must be an integer or null");
        chip.year = y->get<int>();
    }
    if (auto k = obj.find("kind"); k != obj.end() && !k->is_null()) {
        if (!k->is_string() || !chipKindFromKey(k->get<std::string>()))
            fail(ctx, "\"kind\" must be \"logic\" or \"hbm\"");
        chip.kind = *chipKindFromKey(k->get<std::string>());
    }
    if (auto dc = obj.find("datacenter"); dc != obj.end() && !dc->is_null()) {
        if (!dc->is_boolean())
            fail(ctx, "\"datacenter\" must be true, false or null");
        chip.datacenter = dc->get<bool>();
    }
    if (auto rates = obj.find("dense_tops"); rates != obj.end() && !rates->is_null()) {
        if (!rates->is_object())
            fail(ctx, "\"dense_tops\" must be an object");
        for (const auto& [key, value] : rates->items()) {
            auto p = precisionFromKey(key);
            if (!p)
                fail(ctx, "unknown key \"dense_tops." + key + "\"");
            if (value.is_null())
                continue;
            if (!value.is_number())
                fail(ctx, "\"dense_tops." + key + "\" must be a number or null");
            chip.dense_tops[*p] = value.get<double>();
        }
    }
    for (const FigureField& f : kFigureFields)
        chip.*f.member = optNumber(obj, std::string(f.key).c_str(), ctx);
    chip.notes = optString(obj, "notes", ctx);
    if (auto sources = obj.find("sources"); sources != obj.end() && !sources->is_null()) {
        if (!sources->is_array())
            fail(ctx, "\"sources\" must be an array");
        for (const json& s : *sources) {
            if (!s.is_object())
                fail(ctx, "each source must be an object");
            for (const auto& [key, value] : s.items())
                if (key != "field" && key != "citation" && key != "confidence")
                    fail(ctx, "unknown key \"sources." + key + "\"");
            Source src{optString(s, "field", ctx), optString(s, "citation", ctx),
                       optString(s, "confidence", ctx)};
            if (src.field.empty())
                src.field = "*";
            chip.sources.push_back(std::move(src));
        }
    }
    if (auto alternatives = obj.find("alternatives");
        alternatives != obj.end() && !alternatives->is_null())
        chip.alternatives = alternativesFromJson(*alternatives, ctx);
    return chip;
}

std::vector<FigureAlternative> alternativesFromJson(const json& array, const std::string& ctx) {
    if (!array.is_array())
        fail(ctx, "\"alternatives\" must be an array");
    std::vector<FigureAlternative> out;
    for (const json& a : array) {
        if (!a.is_object())
            fail(ctx, "each alternative must be an object {field, value, citation, confidence}");
        for (const auto& [key, value] : a.items())
            if (key != "field" && key != "value" && key != "citation" && key != "confidence")
                fail(ctx, "unknown key \"alternatives." + key + "\"");
        FigureAlternative alt;
        alt.field = optString(a, "field", ctx);
        if (alt.field.empty())
            fail(ctx, "an alternative needs a \"field\"");
        const auto value = optNumber(a, "value", ctx + " alternative for \"" + alt.field + "\"");
        if (!value)
            fail(ctx, "the alternative for \"" + alt.field + "\" needs a \"value\"");
        alt.value = *value;
        alt.citation = optString(a, "citation", ctx);
        alt.confidence = optString(a, "confidence", ctx);
        out.push_back(std::move(alt));
    }
    return out;
}

json alternativesToJson(const std::vector<FigureAlternative>& alternatives) {
    json out = json::array();
    for (const FigureAlternative& a : alternatives)
        out.push_back({{"field", a.field},
                       {"value", a.value},
                       {"citation", a.citation},
                       {"confidence", a.confidence}});
    return out;
}

json chipToJson(const ChipSpec& chip) {
    json rates = json::object();
    for (Precision p : kAllPrecisions)
        if (chip.dense_tops[p])
            rates[std::string(precisionKey(p))] = *chip.dense_tops[p];
    json sources = json::array();
    for (const Source& s : chip.sources)
        sources.push_back(
            {{"field", s.field}, {"citation", s.citation}, {"confidence", s.confidence}});
    json out = json::object();
    out["name"] = chip.name;
    out["vendor"] = chip.vendor;
    out["year"] = chip.year ? json(*chip.year) : json(nullptr);
    out["kind"] = std::string(chipKindKey(chip.kind));
    out["datacenter"] = chip.datacenter ? json(*chip.datacenter) : json(nullptr);
    out["dense_tops"] = std::move(rates);
    for (const FigureField& f : kFigureFields)
        out[std::string(f.key)] = optToJson(chip.*f.member);
    out["notes"] = chip.notes.empty() ? json(nullptr) : json(chip.notes);
    out["sources"] = std::move(sources);
    if (!chip.alternatives.empty()) // absent when none, as chips without them always printed
        out["alternatives"] = alternativesToJson(chip.alternatives);
    return out;
}

std::vector<ChipSpec> chipsFromJsonText(const std::string& text) {
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        throw ChipFormatError(std::string("not valid JSON: ") + e.what());
    }
    std::vector<ChipSpec> chips;
    auto add = [&](const json& obj, const std::string& ctx) {
        ChipSpec chip = chipFromJson(obj, ctx);
        auto problems = validateChip(chip);
        if (!problems.empty())
            fail(ctx + " (\"" + chip.name + "\")", problems.front());
        chips.push_back(std::move(chip));
    };
    if (doc.is_array()) {
        for (size_t i = 0; i < doc.size(); ++i)
            add(doc[i], "chip " + std::to_string(i + 1));
    } else {
        add(doc, "chip");
    }
    return chips;
}

} // namespace crossroads::analysis
