// Element types of checkpoint tensors and the row-major weight matrices the kernels read.
#pragma once

#include "inference/base/Error.h"
#include "inference/model/Fp8.h"

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

// The dtypes the kernels read; F16 checkpoints are widened to F32 at load. FP8E4M3 is
// float8_e4m3fn with an F32 scale per block of the matrix (DeepSeek-V3's weight_scale_inv).
enum class WeightType { F32, BF16, FP8E4M3 };

inline std::size_t weightTypeBytes(WeightType type) {
    switch (type) {
    case WeightType::F32:
        return 4;
    case WeightType::BF16:
        return 2;
    case WeightType::FP8E4M3:
        return 1;
    }
    return 0;
}
inline std::string_view weightTypeName(WeightType type) {
    switch (type) {
    case WeightType::F32:
        return "f32";
    case WeightType::BF16:
        return "bf16";
    case WeightType::FP8E4M3:
        return "fp8-e4m3";
    }
    return "?";
}

// What a product with BF16 or FP8 weights does to its activations: keeps them in F32, or rounds
// them to BF16 first (the AVX-512-BF16 dot product and BF16 GEMM libraries take BF16 pairs; every
// FP8 E4M3 weight is a BF16 value). F32 weights always keep F32 activations. One rule per ISA,
// whatever the batch, so prefill and decode of a sequence compute the same function, and the
// reference forward can compute it too.
enum class ActivationRounding { None, Bf16 };
// Whether a product with weights of `type` rounds its input under `rounding`.
inline bool roundsInput(ActivationRounding rounding, WeightType type) {
    return rounding == ActivationRounding::Bf16 && type != WeightType::F32;
}

// A row-major [rows x cols] matrix, HF Linear orientation (rows = outputs, cols = inputs).
// A view: the storage belongs to the ModelWeights that hands it out.
// FP8E4M3 matrices carry block scales: weight (r, c) = fp8(r, c) x scale of block
// ((blockRowOffset + r) / blockRows, c / blockCols), the scales row-major F32 of
// scaleCols() = ceil(cols / blockCols) per block row, edge blocks partial. `scales` points at
// the block row of the view's row 0, and blockRowOffset (< blockRows) says where in that block
// row 0 lies: a view of rows that does not start on a block boundary keeps its scales right.
struct Matrix {
    WeightType type = WeightType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    const void* data = nullptr;
    const float* scales = nullptr; // FP8E4M3 only
    int64_t blockRows = 0;
    int64_t blockCols = 0;
    int64_t blockRowOffset = 0;

    bool empty() const { return data == nullptr; }
    // The weights alone, at weightTypeBytes each.
    std::size_t bytes() const {
        return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) *
               weightTypeBytes(type);
    }
    int64_t scaleCols() const { return blockCols > 0 ? (cols + blockCols - 1) / blockCols : 0; }
    int64_t scaleRowCount() const {
        return blockRows > 0 && rows > 0 ? (blockRowOffset + rows + blockRows - 1) / blockRows : 0;
    }
    // The block scales this view reads (FP8E4M3; 0 otherwise): what a product reads besides the
    // weights.
    std::size_t scaleBytes() const {
        return type == WeightType::FP8E4M3
                   ? static_cast<std::size_t>(scaleRowCount()) *
                         static_cast<std::size_t>(scaleCols()) * sizeof(float)
                   : 0;
    }
    std::size_t rowBytes() const { return static_cast<std::size_t>(cols) * weightTypeBytes(type); }
    const std::byte* row(int64_t r) const {
        return static_cast<const std::byte*>(data) + static_cast<std::size_t>(r) * rowBytes();
    }
    // The scales of row r's blocks, scaleCols() of them (FP8E4M3).
    const float* scaleRow(int64_t r) const {
        return scales + ((blockRowOffset + r) / blockRows) * scaleCols();
    }
    float scaleAt(int64_t r, int64_t c) const { return scaleRow(r)[c / blockCols]; }
    float at(int64_t r, int64_t c) const {
        switch (type) {
        case WeightType::F32:
            return static_cast<const float*>(data)[r * cols + c];
        case WeightType::BF16:
            return bf16ToFloat(static_cast<const uint16_t*>(data)[r * cols + c]);
        case WeightType::FP8E4M3:
            return fp8E4M3ToFloat(static_cast<const uint8_t*>(data)[r * cols + c]) * scaleAt(r, c);
        }
        return 0.0f;
    }
    // Rows [first, first + count) as a matrix of their own (the halves of a fused gate_up).
    Matrix rowsView(int64_t first, int64_t count) const {
        Matrix view = *this;
        view.rows = count;
        view.data = row(first);
        if (type == WeightType::FP8E4M3) {
            view.scales = scaleRow(first);
            view.blockRowOffset = (blockRowOffset + first) % blockRows;
        }
        return view;
    }
};

} // namespace crossroads::inference
