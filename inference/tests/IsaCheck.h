// The CPU instruction sets the kernel and forward tests run, by the names CTest passes them.
#pragma once

#include "inference/cpu/Kernels.h"

#include <optional>
#include <string_view>

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

} // namespace check
