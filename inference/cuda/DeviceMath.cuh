// Device helpers shared by the kernels: warp and block reductions, BF16 dot products.
#pragma once

#include <cstdint>
#include <cuda_bf16.h>

namespace crossroads::inference::gpu {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarp = 32;

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v += __shfl_xor_sync(kFullMask, v, offset);
    return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
    return v;
}

// Sum over the block, returned to every thread. blockDim.x is a multiple of 32.
__device__ __forceinline__ float blockSum(float v) {
    __shared__ float partial[32];
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    v = warpSum(v);
    __syncthreads(); // a previous call may still be reading `partial`
    if (lane == 0)
        partial[warp] = v;
    __syncthreads();
    v = lane < static_cast<int>(blockDim.x / kWarp) ? partial[lane] : 0.0f;
    return warpSum(v);
}

__device__ __forceinline__ float silu(float x) {
    return x / (1.0f + expf(-x));
}

// acc + the dot product of 8 BF16 pairs held in two 16-byte vectors, in F32.
__device__ __forceinline__ float dot8(const uint4& w, const uint4& x, float acc) {
    const auto* w2 = reinterpret_cast<const __nv_bfloat162*>(&w);
    const auto* x2 = reinterpret_cast<const __nv_bfloat162*>(&x);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 a = __bfloat1622float2(w2[i]);
        const float2 b = __bfloat1622float2(x2[i]);
        acc = fmaf(a.x, b.x, acc);
        acc = fmaf(a.y, b.y, acc);
    }
    return acc;
}

inline unsigned blocksFor(int64_t items, int perBlock) {
    return static_cast<unsigned>((items + perBlock - 1) / perBlock);
}

} // namespace crossroads::inference::gpu
