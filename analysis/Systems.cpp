#include "analysis/Systems.h"

#include "analysis/Caps.h"
#include "analysis/Classifier.h"

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>

namespace crossroads::analysis {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

[[noreturn]] void badSystem(std::string_view text, const std::string& what) {
    throw std::invalid_argument("system \"" + std::string(text) + "\": " + what +
                                " (expected \"NAME=N x CHIP\", e.g. \"DGX H100=8 x H100 SXM5 "
                                "80GB\")");
}

} // namespace

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

SystemDefinition parseSystemDefinition(std::string_view text) {
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos)
        badSystem(text, "no \"=\" between the name and the chips");
    SystemDefinition out;
    out.name = std::string(trim(text.substr(0, equals)));
    if (out.name.empty())
        badSystem(text, "no name before \"=\"");
    std::string_view rest = trim(text.substr(equals + 1));
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
        ++digits;
    if (digits == 0)
        badSystem(text, "no chip count after \"=\"");
    if (digits > 7)
        badSystem(text, "more than " + std::to_string(kMaxSystemChips) + " chips");
    const int count = std::stoi(std::string(rest.substr(0, digits)));
    if (count < 1 || count > kMaxSystemChips)
        badSystem(text, "the chip count must be from 1 to " + std::to_string(kMaxSystemChips));
    rest = trim(rest.substr(digits));
    if (rest.empty() || (rest.front() != 'x' && rest.front() != 'X'))
        badSystem(text, "no \"x\" between the count and the chip");
    out.chip = std::string(trim(rest.substr(1)));
    if (out.chip.empty())
        badSystem(text, "no chip after \"x\"");
    out.chip_count = count;
    out.citation = {"given on the command line", ""};
    return out;
}

std::vector<SystemDefinition> systemDefinitionsFromJsonText(const std::string& text) {
    using nlohmann::json;
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        throw std::invalid_argument(std::string("systems: not valid JSON: ") + e.what());
    }
    const auto fail = [](const std::string& where, const std::string& what) {
        throw std::invalid_argument(where + ": " + what);
    };
    if (!doc.is_object())
        fail("systems", "must be an object with a \"systems\" array");
    for (const auto& [key, value] : doc.items())
        if (key != "about" && key != "systems")
            fail("systems", "unknown key \"" + key + "\"");
    const auto list = doc.find("systems");
    if (list == doc.end() || !list->is_array())
        fail("systems", "\"systems\" must be an array");
    std::vector<SystemDefinition> out;
    std::set<std::string> names;
    for (size_t i = 0; i < list->size(); ++i) {
        const json& entry = (*list)[i];
        std::string where = "system " + std::to_string(i + 1);
        if (!entry.is_object())
            fail(where, "must be an object");
        const auto stringAt = [&](const json& obj, const char* key, const std::string& w) {
            const auto it = obj.find(key);
            if (it == obj.end() || !it->is_string() || it->get<std::string>().empty())
                fail(w, std::string("\"") + key + "\" must be a non-empty string");
            return it->get<std::string>();
        };
        SystemDefinition d;
        d.name = stringAt(entry, "name", where);
        where += " (\"" + d.name + "\")";
        for (const auto& [key, value] : entry.items())
            if (key != "name" && key != "chip" && key != "count" && key != "citation")
                fail(where, "unknown key \"" + key + "\"");
        d.chip = stringAt(entry, "chip", where);
        const auto count = entry.find("count");
        if (count == entry.end() || !count->is_number_integer() || count->get<int64_t>() < 1 ||
            count->get<int64_t>() > kMaxSystemChips)
            fail(where,
                 "\"count\" must be a whole number from 1 to " + std::to_string(kMaxSystemChips));
        d.chip_count = count->get<int>();
        const auto citation = entry.find("citation");
        if (citation == entry.end() || !citation->is_object())
            fail(where, "\"citation\" must be an object {\"text\", \"evidence\"}");
        for (const auto& [key, value] : citation->items())
            if (key != "text" && key != "evidence")
                fail(where, "unknown key \"citation." + key + "\"");
        d.citation.text = stringAt(*citation, "text", where + " citation");
        d.citation.evidence = stringAt(*citation, "evidence", where + " citation");
        if (d.citation.evidence.size() != 1 ||
            std::string_view("PQSDU").find(d.citation.evidence) == std::string_view::npos)
            fail(where, "\"citation.evidence\" must be P, Q, S, D or U");
        if (!names.insert(d.name).second)
            fail(where, "defined twice");
        out.push_back(std::move(d));
    }
    return out;
}

std::optional<int64_t> systemsWithin(const SystemClassification& system, double allocationTpp) {
    if (!system.aggregate_tpp || !(*system.aggregate_tpp > 0.0))
        return std::nullopt;
    return wholeChipsWithin(allocationTpp, *system.aggregate_tpp);
}

} // namespace crossroads::analysis
