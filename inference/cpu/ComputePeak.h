// Measured compute ceiling of the CPU: every thread of the pool runs independent chains of F32
// fused multiply-adds from registers, as many chains as it takes to hide the FMA latency on both
// pipes, with the widest vectors the kernels use. What the prefill GEMM is compared with, as the
// read bandwidth is for decode.
#pragma once

#include <cstdint>

namespace crossroads::inference {

class ThreadPool;

struct ComputePeakResult {
    double tflops = 0; // best of the repetitions
    int threads = 0;
    int lanes = 0;       // F32 lanes per vector of the active ISA (1 when scalar)
    double checksum = 0; // of one thread's chains: equals fmaChainsReference
};

ComputePeakResult measureFmaPeak(ThreadPool& pool, int64_t iterations = 40'000'000,
                                 int repetitions = 5);

// One thread's chains: `iterations` rounds of acc = acc * a + b on kFmaChains vectors, the sum
// of every lane at the end; and the same recurrence in scalar std::fma (bit-identical, since an
// FMA rounds once either way).
constexpr int kFmaChains = 12;
double fmaChains(int64_t iterations);
double fmaChainsReference(int64_t iterations, int lanes);
int fmaLanes(); // of the active ISA

} // namespace crossroads::inference
