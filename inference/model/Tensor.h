// Element types of checkpoint tensors and the row-major weight matrices the kernels read.
#pragma once

#include "inference/base/Error.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace crossroads::inference {

// The safetensors dtype names; sizes in bits because the newest ones are sub-byte.
enum class DType {
    Bool,
    U8,
    I8,
    F8_E5M2,
    F8_E4M3,
    F8_E8M0,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
    F4,
    F6_E2M3,
    F6_E3M2
};

std::optional<DType> dtypeFromName(std::string_view name);
std::string_view dtypeName(DType dtype);
int dtypeBits(DType dtype);

inline float bf16ToFloat(uint16_t bits) {
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t floatToBf16(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        return static_cast<uint16_t>((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

float f16ToFloat(uint16_t bits);
uint16_t floatToF16(float value);

// The dtypes the kernels read; F16 checkpoints are widened to F32 at load.
enum class WeightType { F32, BF16 };

inline std::size_t weightTypeBytes(WeightType type) {
    return type == WeightType::F32 ? 4 : 2;
}
inline std::string_view weightTypeName(WeightType type) {
    return type == WeightType::F32 ? "f32" : "bf16";
}

// What a product with BF16 weights does to its activations: keeps them in F32, or rounds them to
// BF16 first (the AVX-512-BF16 dot product and BF16 GEMM libraries take BF16 pairs). One rule per
// ISA, whatever the batch, so prefill and decode of a sequence compute the same function, and the
// reference forward can compute it too.
enum class ActivationRounding { None, Bf16 };

// A row-major [rows x cols] matrix, HF Linear orientation (rows = outputs, cols = inputs).
// A view: the storage belongs to the ModelWeights that hands it out.
struct Matrix {
    WeightType type = WeightType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    const void* data = nullptr;

    bool empty() const { return data == nullptr; }
    std::size_t bytes() const {
        return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) *
               weightTypeBytes(type);
    }
    std::size_t rowBytes() const { return static_cast<std::size_t>(cols) * weightTypeBytes(type); }
    const std::byte* row(int64_t r) const {
        return static_cast<const std::byte*>(data) + static_cast<std::size_t>(r) * rowBytes();
    }
    float at(int64_t r, int64_t c) const {
        if (type == WeightType::F32)
            return static_cast<const float*>(data)[r * cols + c];
        return bf16ToFloat(static_cast<const uint16_t*>(data)[r * cols + c]);
    }
    // Rows [first, first + count) as a matrix of their own (the halves of a fused gate_up).
    Matrix rowsView(int64_t first, int64_t count) const {
        return Matrix{type, count, cols, row(first)};
    }
};

} // namespace crossroads::inference
