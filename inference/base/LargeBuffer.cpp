#include "inference/base/LargeBuffer.h"

#include <cstdint>
#include <new>
#include <sys/mman.h>

namespace crossroads::inference {

std::shared_ptr<std::byte[]> allocateLargeBuffer(std::size_t bytes) {
    if (bytes < kHugePageBytes) {
        // Value-initialised, as the mapped pages below are zero.
        return std::shared_ptr<std::byte[]>(
            new (std::align_val_t{64}) std::byte[bytes](),
            [](std::byte* p) { operator delete[](p, std::align_val_t{64}); });
    }
    // Map a huge page more than needed and trim both ends to 2 MiB alignment: mmap only promises
    // 4 KiB, and a huge page must start on a 2 MiB boundary.
    const std::size_t length = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void* mapped = ::mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        throw std::bad_alloc();
    auto* base = static_cast<std::byte*>(mapped);
    const auto address = reinterpret_cast<std::uintptr_t>(base);
    const std::size_t head = (kHugePageBytes - address % kHugePageBytes) % kHugePageBytes;
    if (head > 0)
        ::munmap(base, head);
    ::munmap(base + head + length, kHugePageBytes - head);
    std::byte* aligned = base + head;
    // Advice, not a requirement: with THP off the buffer works on 4 KiB pages.
    ::madvise(aligned, length, MADV_HUGEPAGE);
    return std::shared_ptr<std::byte[]>(aligned, [length](std::byte* p) { ::munmap(p, length); });
}

} // namespace crossroads::inference
