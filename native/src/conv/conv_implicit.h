// Stride-1 convolution as one GEMM over a padded copy of the image, without a column matrix
// ("implicit GEMM"), used by conv.cc for the forward pass, the weight gradient and, on the flipped
// kernel, the input gradient of stride-1 convolutions.
//
// With the image zero-padded into planes of rows Wp floats long (Wp = W + PW: one run of zeros serves
// as right padding of a row and left padding of the next; see conv_implicit.cc), the input cell of
// output (oh, ow) for kernel tap (c, kh, kw) is xp[c*plane + kh*DH*Wp + kw*DW + (oh*Wp + ow)]:
// over "wide" output positions j = oh*Wp + ow (ow < Wp), every row of the column matrix is the
// contiguous run xp + off[r] + j. The GEMM reads those rows in place (GemmProblem::boff); the
// Wp - OW wide columns per output row are computed and dropped when the result is compacted into y.
// So the im2col copy (KH*KW copies of the image, written and read back) becomes one padded copy,
// at the price of (Wp - OW) / OW extra GEMM columns: conv.cc uses it only where that is small.
#pragma once
#include <cstdint>

namespace st {
// One image's convolution. The implicit GEMM takes stride 1 only; the channel-vector kernels
// (conv_chvec.h) any stride.
struct ImplicitConv {
  int64_t Ci, H, W, Co, KH, KW, PH, PW, DH, DW;
  int64_t SH = 1, SW = 1;
  int64_t OH() const { return (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1; }
  int64_t OW() const { return (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1; }
  bool strided() const { return SH != 1 || SW != 1; }
};

// y [Co, OH*OW] = w [Co, Ci*KH*KW] (x) x [Ci, H, W] + bias [Co] (or null), overwriting y.
// threaded: the GEMM over st::num_threads() threads, else all on the calling thread.
// Needs OH, OW >= 1 and PH, PW >= 0.
void conv_implicit_forward(const float* x, const float* w, const float* bias, float* y, const ImplicitConv& c,
                           bool threaded);
// dw [Co, Ci*KH*KW] = (accumulate ? dw : 0) + dy [Co, OH*OW] (x) x [Ci, H, W]: the weight gradient, as
// the GEMM dy @ col^T over the same implicit column matrix (dy copied into the wide layout).
void conv_implicit_weight(const float* x, const float* dy, float* dw, bool accumulate, const ImplicitConv& c,
                          bool threaded);
}  // namespace st
