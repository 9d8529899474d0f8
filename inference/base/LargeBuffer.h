// Large, long-lived buffers (owned weights, the bandwidth kernel's buffer) in transparent huge
// pages where the kernel allows them (Debian's default THP mode is "madvise", so a buffer gets
// them only when it asks). Streaming reads are what decode does, and the hardware prefetchers
// stop at page boundaries while every 4 KiB page costs a TLB entry: on the 2-core EPYC the same
// read kernel ran at ~33 GB/s over 4 KiB pages and ~45-50 GB/s over 2 MiB pages. The weights and
// the bandwidth measurement use the same allocation, so their ratio compares like with like.
#pragma once

#include <cstddef>
#include <memory>

namespace crossroads::inference {

// `bytes` of zeroed memory, 64-byte aligned at least; buffers of a huge page or more are
// 2 MiB-aligned and advised MADV_HUGEPAGE. Throws std::bad_alloc when the memory is not there.
std::shared_ptr<std::byte[]> allocateLargeBuffer(std::size_t bytes);

// The huge page size the allocator aligns to.
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

} // namespace crossroads::inference
