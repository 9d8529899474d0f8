#include "inference/base/Host.h"

#include <fstream>
#include <sstream>

namespace crossroads::inference {

std::string cpuName() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown CPU";
}

std::optional<double> availableMemoryBytes() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("MemAvailable:", 0) == 0) {
            std::istringstream fields(line.substr(13));
            double kib = 0;
            if (fields >> kib)
                return kib * 1024.0; // the kernel counts in KiB ("kB")
        }
    return std::nullopt;
}

} // namespace crossroads::inference
