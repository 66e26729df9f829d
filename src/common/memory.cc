#include "common/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#ifdef SHOAL_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SHOAL_SANITIZER_ALLOCATOR 1
// The sanitizers replace malloc (mallinfo2 then reads zeros); their runtime counts live bytes.
// Declared here because GCC 12 does not ship sanitizer/allocator_interface.h.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace shoal {

size_t UsedMemory() {
#ifdef SHOAL_JEMALLOC
  // jemalloc caches its statistics; bumping the epoch refreshes them.
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);
  size_t allocated = 0;
  sz = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &sz, nullptr, 0) == 0) return allocated;
  return 0;
#elif defined(SHOAL_SANITIZER_ALLOCATOR)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

size_t ResidentMemory() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string AllocatorName() {
#ifdef SHOAL_JEMALLOC
  return "jemalloc-5.3.0";
#else
  return "libc";
#endif
}

}  // namespace shoal
