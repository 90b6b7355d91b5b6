// im2col / col2im on a range of output positions, for one image and one group
// (per-ISA code in conv/im2col_kernel.inc, dispatched on the active ISA).
//
// x (or dx) holds the group's Cg input planes [Cg, H, W]. The column matrix has
// Cg*KH*KW rows, row r = (c*KH + kh)*KW + kw, and one column per output position
// j = oh*OW + ow; only the positions j in [j0, j1) are held, col[r*ldc + (j - j0)].
// Padding cells read as 0 (im2col) and are dropped (col2im).
#pragma once
#include <cstdint>
#include "conv/conv.h"
#include "conv/convpool_isa.h"

namespace st {
// col rows [r0, r1) <- x (padding -> 0).
inline void conv_im2col(const float* x, const ConvGeom& g, int64_t j0, int64_t j1, int64_t r0, int64_t r1, float* col,
                   int64_t ldc) {
  convpool_isa().conv_im2col(x, g, j0, j1, r0, r1, col, ldc);
}
// dx planes [c0, c1) += col (accumulates: the caller zeroes dx first). The padding entries
// of col's rows of those planes may be overwritten (zeroed).
inline void conv_col2im(float* col, int64_t ldc, const ConvGeom& g, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                   float* dx) {
  convpool_isa().conv_col2im(col, ldc, g, j0, j1, c0, c1, dx);
}
}  // namespace st
