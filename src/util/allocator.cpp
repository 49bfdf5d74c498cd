#include "ntks/util/allocator.h"

#include <malloc.h>

#include <cstdlib>

namespace ntks {

void tune_malloc_for_tensors() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      std::getenv("MALLOC_TOP_PAD_"))
    return;
  // Largest threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2): blocks up
  // to 32 MiB come from the reusable heap instead of mmap.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Never shrink the heap: the memory is needed again at the next batch.
  mallopt(M_TRIM_THRESHOLD, -1);
  // Grow it in large steps (untouched pages cost no memory).
  mallopt(M_TOP_PAD, 256 << 20);
}

}  // namespace ntks
