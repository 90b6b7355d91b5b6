// Convolution kernels (2-D, NCHW, grouped, strided, padded, dilated) on raw pointers.
//
//   x [N, C, H, W], w [O, C/G, KH, KW], bias [O] (or null), y [N, O, OH, OW]
//   OH = (H + 2*PH - DH*(KH-1) - 1) / SH + 1, likewise OW.
//
// Implementation: im2col + GEMM (st::sgemm / st::sgemm_serial from gemm/gemm.h).
// Geometry and buffer sizes are trusted here: the binding layer has checked them.
#pragma once
#include <cstdint>

namespace st {
struct ConvGeom {
  int64_t N, C, H, W, O, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, G;
};

// y = conv2d(x, w) + bias. x [N,C,H,W], w [O,C/G,KH,KW], bias [O] or null, y [N,O,OH,OW] (overwritten).
void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const ConvGeom& g);
// dx [N,C,H,W] (overwritten) from dy [N,O,OH,OW] and w [O,C/G,KH,KW].
void conv2d_backward_input(const float* dy, const float* w, float* dx, const ConvGeom& g);
// dw [O,C/G,KH,KW] and dbias [O] (if not null), both overwritten, from dy [N,O,OH,OW] and x [N,C,H,W].
void conv2d_backward_weight(const float* dy, const float* x, float* dw, float* dbias, const ConvGeom& g);
}  // namespace st
