// Per-thread scratch buffers of the convolution kernels, kept across calls and grown on demand
// (never shrunk: a training step calls the same shapes again). Slots:
//   0: im2col column chunk (conv.cc)          1: split-K partial sums (conv.cc)
//   2: zero-padded image (conv_implicit.cc)   3: wide output rows (conv_implicit.cc)
//   4: zero-padded images of a chunk, 5: their output gradients channel-contiguous (conv_chvec.cc)
// Contents are undefined on return. One definition for every translation unit (inline function).
#pragma once
#include <cstdint>
#include <memory>

namespace st {
enum ConvScratch : int { kScratchCol = 0, kScratchPartial = 1, kScratchPadded = 2, kScratchWide = 3, kScratchChunkImages = 4, kScratchChunkGrads = 5 };

inline float* conv_scratch(int slot, int64_t n) {
  thread_local std::unique_ptr<float[]> buf[6];
  thread_local int64_t cap[6] = {0, 0, 0, 0, 0, 0};
  if (cap[slot] < n) {
    buf[slot].reset();  // free first: the old and new buffers need not coexist
    buf[slot].reset(new float[n]);
    cap[slot] = n;
  }
  return buf[slot].get();
}
}  // namespace st
