// libFuzzer target for the safetensors header parser: any input is a file image; the parser
// must accept it or throw EngineError, never crash, leak, overflow or read out of bounds
// (built with -fsanitize=fuzzer,address,undefined; configure with -DCROSSROADS_FUZZ=ON, clang).
#include "inference/model/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto header = crossroads::inference::parseSafetensorsHeader(
            std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz");
        // Whatever is accepted must describe data inside the input.
        for (const auto& tensor : header.tensors)
            if (header.dataOffset + tensor.end > size)
                std::abort();
    } catch (const crossroads::inference::EngineError&) {
    }
    return 0;
}
