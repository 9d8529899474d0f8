// ISO 3166-1 alpha-2 country codes: the destinations and headquarters of licence questions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

// True for an assigned ISO 3166-1 alpha-2 code, upper case ("DE", "CN", "HK").
bool isCountryCode(std::string_view code);
// "Germany" for "DE"; the code itself when unknown.
std::string countryName(std::string_view code);
// Every assigned code, in code order (a destination selector lists them).
std::vector<std::string> countryCodes();

} // namespace crossroads::analysis
