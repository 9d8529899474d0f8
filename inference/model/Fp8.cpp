#include "inference/model/Fp8.h"

#include <algorithm>
#include <cmath>

namespace crossroads::inference {

uint8_t floatToFp8E4M3(float value) {
    if (std::isnan(value))
        return 0x7f;
    const uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
    const double magnitude = std::fabs(static_cast<double>(value));
    if (magnitude >= 448.0)
        return sign | 0x7e;
    // The spacing of representable values around the magnitude: 2^-9 below 2^-6 (subnormals),
    // else 2^(e - 3) for magnitude in [2^e, 2^(e+1)).
    int exponent = 0;
    std::frexp(magnitude, &exponent); // magnitude = f x 2^exponent, f in [0.5, 1)
    const int step = std::max(exponent - 1, -6) - 3;
    const double units = std::nearbyint(std::ldexp(magnitude, -step)); // ties to even
    const double rounded = std::ldexp(units, step);
    if (rounded >= 448.0)
        return sign | 0x7e;
    if (rounded == 0.0)
        return sign;
    int e = 0;
    std::frexp(rounded, &e);
    if (e - 1 < -6) // subnormal: m x 2^-9
        return sign | static_cast<uint8_t>(units);
    const int biased = e - 1 + 7;
    const auto mantissa = static_cast<uint8_t>(static_cast<int>(std::ldexp(rounded, -(e - 1) + 3)) -
                                               8); // 8..15 -> 0..7
    return sign | static_cast<uint8_t>(biased << 3) | mantissa;
}

} // namespace crossroads::inference
