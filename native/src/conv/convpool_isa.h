// Per-ISA inner kernels of the conv / pool / batchnorm families. They are written
// once (conv/im2col_kernel.inc, pool/pool_kernel.inc, norm/batchnorm_kernel.inc) and
// compiled for each ISA; the threaded drivers (conv.cc, pool.cc, batchnorm.cc) call them
// through convpool_isa(), the table of the active ISA.
#pragma once
#include <cstdint>
#include "conv/conv.h"

// clang-format off
#define ST_CONVPOOL_ISA_DECLS                                                                                \
  /* im2col / col2im of one image and group (see conv/im2col.h). */                                          \
  void conv_im2col(const float* x, const ConvGeom& g, int64_t j0, int64_t j1, int64_t r0, int64_t r1,        \
                   float* col, int64_t ldc);                                                                 \
  void conv_col2im(float* col, int64_t ldc, const ConvGeom& g, int64_t j0, int64_t j1, int64_t c0,           \
                   int64_t c1, float* dx);                                                                   \
  /* 2x2 stride-2 max pooling of n windows whose top-left cells are r0[2i] (row ih) and r1[2i]             */ \
  /* (row ih+1), r1 = r0 + W; base = flat index of r0[0] in the plane. y[n], ind[n].                       */ \
  /* First max wins, NaN propagates.                                                                       */ \
  void pool_max_2x2s2_row(const float* r0, const float* r1, int64_t W, float* y, int32_t* ind, int64_t n,    \
                          int32_t base);                                                                     \
  /* Max pooling of n windows wholly inside the input: window i starts at x + i*SW, its cells lie at the   */ \
  /* KK offsets taps[] (taps[0] = 0); flat index of a cell = base + i*SW + tap.                            */ \
  void pool_max_row(const float* x, int64_t SW, const int64_t* taps, int64_t KK, int64_t n, int32_t base,    \
                    float* y, int32_t* ind);                                                                 \
  /* Sum of x[n]: float vector partial sums per block of 4096, blocks added in double.                     */ \
  double bn_row_sum(const float* x, int64_t n);                                                              \
  /* Sum of (x[i] - mean)^2, likewise.                                                                     */ \
  double bn_row_sqdev(const float* x, int64_t n, float mean);                                                \
  /* *sdy += sum g[i]; *sdyxc += sum g[i] * (x[i] - mean), g = dy, or with relu_out (nullable)           */ \
  /* g[i] = relu_out[i] > 0 ? dy[i] : 0 (BN fused with a ReLU whose output is relu_out).                  */ \
  /* g is also stored to g_out unless it is null.                                                         */ \
  void bn_row_dot_centered(const float* dy, const float* x, const float* relu_out, int64_t n, float mean,     \
                           double* sdy, double* sdyxc, float* g_out);                                        \
  /* y[i] = (x[i] - mean) * a + b (+ res[i] unless res is null), then max(y[i], 0) if relu (NaN kept).     */ \
  /* y may be x.                                                                                           */ \
  void bn_row_affine(const float* x, const float* res, float* y, int64_t n, float mean, float a, float b,    \
                     bool relu);                                                                             \
  /* dx[i] = a * g[i] + b * (x[i] - mean) + c, g as in bn_row_dot_centered.                                */ \
  void bn_row_backward(const float* dy, const float* x, const float* relu_out, float* dx, int64_t n,         \
                       float mean, float a, float b, float c);                                               \
  /* Channel-vector convolution (conv/conv_chvec.h): channels per register tile (Co must be a multiple).  */ \
  int chvec_channel_block();                                                                                 \
  /* y [Co, OH*OW] = sum_k xp[off[k] + oh*Wp + ow] * wt[k*Co + c] (+ bias[c]); K taps.                    */ \
  void chvec_forward_image(const float* xp, const int64_t* off, int64_t K, int64_t Wp, int64_t OH,           \
                           int64_t OW, const float* wt, int64_t Co, const float* bias, float* y);            \
  /* dwt [R, Co] (+)= sum over nimg images n, positions: xp[n*img + off[r] + oh*Wp + ow] * dyt[n][p][c]   */ \
  void chvec_weight_images(const float* xp, int64_t img, int64_t nimg, const int64_t* off, int64_t R,       \
                           int64_t Wp, int64_t OH, int64_t OW, const float* dyt, int64_t Co, float* dwt,     \
                           bool accumulate);                                                         \
  /* dw [Co, R] (+)= sum over nimg images n, positions: xp[n*img + off[r] + oh*Wp + ow] * dy[n*dys + c*P + p] */ \
  void wdot_weight_images(const float* xp, int64_t img, int64_t nimg, const int64_t* off, int64_t R,        \
                          int64_t Wp, int64_t OH, int64_t OW, const float* dy, int64_t dys, int64_t Co,      \
                          float* dw, bool accumulate);
// clang-format on

namespace st {
namespace avx512 { ST_CONVPOOL_ISA_DECLS }
namespace avx2 { ST_CONVPOOL_ISA_DECLS }
namespace scalar { ST_CONVPOOL_ISA_DECLS }

struct ConvPoolIsa {
  void (*conv_im2col)(const float*, const ConvGeom&, int64_t, int64_t, int64_t, int64_t, float*, int64_t);
  void (*conv_col2im)(float*, int64_t, const ConvGeom&, int64_t, int64_t, int64_t, int64_t, float*);
  void (*pool_max_2x2s2_row)(const float*, const float*, int64_t, float*, int32_t*, int64_t, int32_t);
  void (*pool_max_row)(const float*, int64_t, const int64_t*, int64_t, int64_t, int32_t, float*, int32_t*);
  double (*bn_row_sum)(const float*, int64_t);
  double (*bn_row_sqdev)(const float*, int64_t, float);
  void (*bn_row_dot_centered)(const float*, const float*, const float*, int64_t, float, double*, double*, float*);
  void (*bn_row_affine)(const float*, const float*, float*, int64_t, float, float, float, bool);
  void (*bn_row_backward)(const float*, const float*, const float*, float*, int64_t, float, float, float, float);
  int (*chvec_channel_block)();
  void (*chvec_forward_image)(const float*, const int64_t*, int64_t, int64_t, int64_t, int64_t, const float*, int64_t,
                              const float*, float*);
  void (*chvec_weight_images)(const float*, int64_t, int64_t, const int64_t*, int64_t, int64_t, int64_t, int64_t,
                              const float*, int64_t, float*, bool);
  void (*wdot_weight_images)(const float*, int64_t, int64_t, const int64_t*, int64_t, int64_t, int64_t, int64_t,
                             const float*, int64_t, int64_t, float*, bool);
};
// The table for st::active_isa() (read at each call, so setIsa takes effect at once).
const ConvPoolIsa& convpool_isa();
}  // namespace st
