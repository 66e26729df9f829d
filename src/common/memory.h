// Process memory figures for INFO memory.
#pragma once

#include <cstddef>
#include <string>

namespace shoal {

// Bytes the allocator has handed out and not taken back (Redis's used_memory).
size_t UsedMemory();
// Resident set size of the process in bytes.
size_t ResidentMemory();
// Allocator name for INFO (mem_allocator).
std::string AllocatorName();

}  // namespace shoal
