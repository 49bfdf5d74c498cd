#pragma once

namespace ntks {

/// Makes glibc keep freed memory for reuse instead of returning every large
/// block to the kernel. Tensor code allocates and frees many large
/// temporaries; with glibc's defaults each is a fresh mmap whose pages fault
/// in on first touch, which measured 2-10x slower GEMMs and softmaxes on CPU
/// (see docs/architecture.md). Leaves any MALLOC_*_ setting of the user alone.
void tune_malloc_for_tensors();

}  // namespace ntks
