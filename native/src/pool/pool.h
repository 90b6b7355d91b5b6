// 2-D pooling kernels on raw pointers (NCHW; every plane of the N*C planes is independent).
//
//   x [N, C, H, W], y [N, C, OH, OW]; window (oh, ow) covers the cells
//   (oh*SH - PH + kh*DH, ow*SW - PW + kw*DW), kh < KH, kw < KW; cells outside the
//   input are padding. The caller guarantees every window holds at least one input cell.
// Geometry and buffer sizes are trusted here: the binding layer has checked them.
#pragma once
#include <cstdint>

namespace st {
struct PoolGeom {
  int64_t N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW;
};

// y = max over each window, ind = flat index ih*W + iw of the max in its plane
// (first max wins; a NaN propagates, as PyTorch).
void max_pool2d_forward(const float* x, float* y, int32_t* ind, const PoolGeom& g);
// dx [N,C,H,W] = 0, then dx[plane, ind] += dy. Throws std::invalid_argument if an index
// is outside [0, H*W) (those entries are skipped; dx is then incomplete).
void max_pool2d_backward(const float* dy, const int32_t* ind, float* dx, const PoolGeom& g);
// Average over each window. Divisor: the number of window cells inside the padded input
// [-PH, H+PH) x [-PW, W+PW) when count_include_pad, else the number of input cells.
void avg_pool2d_forward(const float* x, float* y, const PoolGeom& g, bool count_include_pad);
// dx (overwritten) = adjoint of avg_pool2d_forward.
void avg_pool2d_backward(const float* dy, float* dx, const PoolGeom& g, bool count_include_pad);

// x [P, H, W] -> y [P, OH, OW]; window rows [floor(i*H/OH), ceil((i+1)*H/OH)), likewise columns.
void adaptive_avg_pool2d_forward(const float* x, float* y, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW);
// dx [P, H, W] (overwritten) = adjoint of the forward.
void adaptive_avg_pool2d_backward(const float* dy, float* dx, int64_t P, int64_t H, int64_t W, int64_t OH,
                                  int64_t OW);
}  // namespace st
