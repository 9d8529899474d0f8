// float8_e4m3fn (OCP FP8 E4M3, as torch and DeepSeek-V3 store it): sign, 4 exponent bits
// (bias 7), 3 mantissa bits; no infinities, S.1111.111 is NaN, exponent 0 is subnormal
// (m x 2^-9); the largest finite value is 448.
#pragma once

#include <cstdint>
#include <cstring>

namespace crossroads::inference {

// Exact for every bit pattern. The sign and the seven magnitude bits go where an F16 has them
// (exponent bias 15, so the F16 is the value x 2^-8, subnormals included), then the F16 widens.
inline float fp8E4M3ToFloat(uint8_t bits) {
    if ((bits & 0x7fu) == 0x7fu)
        return (bits & 0x80u) ? -__builtin_nanf("") : __builtin_nanf("");
    const uint32_t magnitude = bits & 0x7fu;
    const uint32_t exponent = magnitude >> 3;
    const uint32_t mantissa = magnitude & 7u;
    float value;
    if (exponent == 0) {
        value = static_cast<float>(mantissa) * 0x1p-9f; // exact: a 3-bit integer times 2^-9
    } else {
        const uint32_t f32 = ((exponent + 120u) << 23) | (mantissa << 20);
        std::memcpy(&value, &f32, sizeof value);
    }
    return (bits & 0x80u) ? -value : value;
}

// Round to nearest even; values beyond the largest finite (448) saturate to +-448, as torch's
// saturating casts do and as a quantiser that picks its scale from the block's maximum needs;
// NaN becomes 0x7f (positive NaN).
uint8_t floatToFp8E4M3(float value);

} // namespace crossroads::inference
