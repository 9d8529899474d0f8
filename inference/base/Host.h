// What the host machine is, for device descriptions and bench metadata.
#pragma once

#include <string>

namespace crossroads::inference {

// The CPU's model name from /proc/cpuinfo ("unknown CPU" when it cannot be read).
std::string cpuName();

} // namespace crossroads::inference
