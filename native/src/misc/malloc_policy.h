// Allocator policy for the process that loads the addon (called once from the module entry).
//
// Training allocates and frees the same large buffers (activations, gradients, 1-16 MiB) every
// step. With glibc's defaults such buffers are mmap'ed and munmap'ed, or the heap top is trimmed
// back to the kernel, so every step touches fresh pages: about 8000 page faults per ResNet-20
// step (batch 64), 5-10% of its time in the kernel zeroing and mapping pages. Raising the mmap
// threshold to its maximum (32 MiB on 64-bit) and the trim threshold to 1 GiB keeps freed buffers
// in the heap for the next step (about 150 faults per step). The cost: memory freed by the process
// goes back to the kernel only above that, so RSS stays near its high-water mark.
// Other C libraries keep their defaults.
#pragma once

namespace st {
void apply_malloc_policy();
}  // namespace st
