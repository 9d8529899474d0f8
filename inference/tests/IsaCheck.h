// The CPU instruction sets the kernel and forward tests run, by the names CTest passes them.
#pragma once

#include "Check.h"
#include "inference/cpu/Kernels.h"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace check {

// Every CPU instruction set the kernels have a path for, and the names the tests take.
inline constexpr crossroads::inference::Isa kIsas[] = {
    crossroads::inference::Isa::Scalar, crossroads::inference::Isa::Avx2,
    crossroads::inference::Isa::Avx512, crossroads::inference::Isa::Avx512Bf16};
inline std::optional<crossroads::inference::Isa> isaFromName(std::string_view name) {
    for (const auto isa : kIsas)
        if (crossroads::inference::isaName(isa) == name)
            return isa;
    return std::nullopt;
}

// The instruction sets a test's argument asks for: none ("common"), every one this CPU has (no
// argument), or the one named. Returns the exit code when the test must stop there: 77 with the
// reason when this CPU lacks it, 2 for a name that is none of kIsas.
inline std::optional<int> isasFromArgument(const std::string& what,
                                           std::vector<crossroads::inference::Isa>& isas) {
    using crossroads::inference::isaSupported;
    if (what.empty()) {
        for (const auto isa : kIsas)
            if (isaSupported(isa))
                isas.push_back(isa);
        return std::nullopt;
    }
    if (what == "common")
        return std::nullopt;
    const auto isa = isaFromName(what);
    if (!isa) {
        std::fprintf(stderr, "unknown ISA %s\n", what.c_str());
        return 2;
    }
    if (!isaSupported(*isa))
        return skip("this CPU lacks " + what);
    isas.push_back(*isa);
    return std::nullopt;
}

} // namespace check
