#include "analysis/DeviceMatch.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

namespace crossroads::analysis {

namespace {

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (!word.empty()) {
            out.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty())
        out.push_back(std::move(word));
    return out;
}

bool hasDigit(const std::string& w) {
    return std::any_of(w.begin(), w.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

} // namespace

std::optional<std::size_t> matchDeviceToChip(std::string_view deviceName,
                                             const std::vector<ChipSpec>& chips) {
    const std::vector<std::string> device = words(deviceName);
    // The model token: the first word with a digit that is not a memory size ("80gb").
    std::string model;
    for (const std::string& w : device)
        if (hasDigit(w) && !(w.size() > 2 && w.ends_with("gb"))) {
            model = w;
            break;
        }
    if (model.empty())
        return std::nullopt;
    const std::set<std::string> deviceWords(device.begin(), device.end());
    std::optional<std::size_t> best;
    int bestScore = -1;
    for (std::size_t i = 0; i < chips.size(); ++i) {
        const std::vector<std::string> name = words(chips[i].name);
        if (std::find(name.begin(), name.end(), model) == name.end())
            continue;
        int score = 0;
        for (const std::string& w : name)
            score += deviceWords.count(w) ? 2 : 0;
        for (const std::string& w : words(chips[i].vendor))
            score += deviceWords.count(w) ? 1 : 0;
        // A variant the device name does not mention (PCIe, NVL, China) is less likely.
        for (const std::string& w : name)
            if ((w == "pcie" || w == "nvl" || w == "china") && !deviceWords.count(w))
                score -= 3;
        if (score > bestScore) {
            bestScore = score;
            best = i;
        }
    }
    return best;
}

} // namespace crossroads::analysis
