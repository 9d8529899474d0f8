// What the host machine is, for device descriptions and bench metadata.
#pragma once

#include <optional>
#include <string>

namespace crossroads::inference {

// The CPU's model name from /proc/cpuinfo ("unknown CPU" when it cannot be read).
std::string cpuName();
// MemAvailable of /proc/meminfo, bytes; nullopt when it cannot be read.
std::optional<double> availableMemoryBytes();

} // namespace crossroads::inference
