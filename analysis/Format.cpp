#include "analysis/Classifier.h"

#include <charconv>
#include <cmath>

namespace crossroads::analysis {

// std::to_chars, unlike printf, ignores the C locale (QCoreApplication sets it from the user's
// environment, where a decimal comma would break the figures and their separators).
std::string fixedDecimals(double value, int decimals) {
    char buffer[400];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    return std::string(buffer, result.ptr);
}

std::string formatFigure(double value) {
    if (!std::isfinite(value))
        return std::to_string(value);
    const double magnitude = std::fabs(value);
    const int decimals = magnitude >= 1000 ? 1 : magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3;
    std::string text = fixedDecimals(value, decimals);
    if (auto dot = text.find('.'); dot != std::string::npos) {
        while (text.back() == '0')
            text.pop_back();
        if (text.back() == '.')
            text.pop_back();
    }
    // Thousands separators on the integer part (built afresh: GCC 12 misreports insert()).
    const size_t start = text[0] == '-' ? 1 : 0;
    size_t end = text.find('.');
    if (end == std::string::npos)
        end = text.size();
    std::string grouped = text.substr(0, start);
    for (size_t i = start; i < end; ++i) {
        grouped += text[i];
        const size_t remaining = end - i - 1;
        if (remaining > 0 && remaining % 3 == 0)
            grouped += ',';
    }
    grouped += text.substr(end);
    text = std::move(grouped);
    return text;
}

} // namespace crossroads::analysis
