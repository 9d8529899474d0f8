// The real derivatives: chips cut down from a controlled one to stay under a line of an edition
// (A800/H800 after 2022-10, H20/L20/L2 and the RTX 4090D after 2023-10, ...). The timeline
// chart marks them and the design-around search shows them beside its changes. Each entry
// names what was cut and where that is reported (docs/reference/, with its evidence mark).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crossroads::analysis {

struct Precedent {
    std::string chip;            // the derivative, as the store names it
    std::string derived_from;    // the controlled chip it comes from
    std::string designed_around; // the edition whose line it stays under
    std::string note;            // what was cut, in words
    std::string citation;        // where the cut is reported
    std::string evidence;        // P, Q, S, D or U (docs/reference/export-rules.md)
};

const std::vector<Precedent>& precedents();
// Entries for `chip` (case-sensitive store name); empty when it is no known derivative.
std::vector<Precedent> precedentsOf(std::string_view chip);

} // namespace crossroads::analysis
