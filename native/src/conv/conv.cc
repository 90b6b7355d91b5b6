// Convolution drivers: im2col + GEMM, threaded over images or inside the GEMM (see conv.h).
//
// Per image n and group g (Cg = C/G input channels, Og = O/G outputs, R = Cg*KH*KW, P = OH*OW):
//   forward          y_n,g [Og, P]  = W_g [Og, R] @ col [R, P] + bias_g     (bias fused in the GEMM)
//   backward input   col [R, P]     = W_g^T @ dy_n,g [Og, P];  dx_n,g += col2im(col)
//   backward weight  dW_g [Og, R]  += dy_n,g [Og, P] @ col^T
// A 1x1, stride-1, unpadded convolution needs no im2col: col is the input itself.
// With images over threads (or one thread), the forward pass and weight gradient of layers with a
// multiple of 32 output channels, and the input gradient of stride-1 ones, run on the channel-vector
// kernels (conv_chvec.h); other weight gradients with output rows of 16+ by dot products along rows.
// Other stride-1 convolutions run forward, backward weight, and backward input as the forward
// convolution of dy with the flipped, transposed kernel, as implicit GEMMs over a padded image (conv_implicit.h), where the
// padding adds at most a quarter more GEMM columns (measured on ResNet-20: the im2col and col2im copies
// and their zero-fills were ~20% of a training step).
// The column matrix is built in chunks of output positions, at most kColBudget floats,
// so it stays in cache and large images do not need huge buffers.
//
// Threads: when there are at least as many images as threads, each thread takes whole
// images with its own col buffer and the serial GEMM (backward weight: fixed chunks of images
// with one partial dW each, summed at the end); otherwise images run one after another with
// the threaded GEMM. Measured on LeNet-5 / ResNet-20 shapes, per-image GEMMs with partial sums
// beat one large GEMM over a batched column matrix [R, N*P] (which also needs N times the memory).
#include "conv/conv.h"
#include "conv/scratch.h"
#include <omp.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>
#include "conv/conv_chvec.h"
#include "conv/conv_implicit.h"
#include "conv/convpool_isa.h"
#include "conv/im2col.h"
#include "gemm/gemm.h"
#include "threads.h"

namespace st {
namespace {
constexpr int64_t kColBudget = int64_t(1) << 18;  // floats in one col chunk (1 MiB)
constexpr int64_t kParallelWork = int64_t(1) << 16;  // multiply-adds below which one thread runs


struct Plan {
  int64_t Cg, Og, R, P, HW, chunk;
  bool direct;  // 1x1, stride 1, no padding: col is x itself
  bool implicit_fwd, implicit_bwd;  // forward / backward input as implicit GEMMs (conv_implicit.h)
  bool chvec_fwd, chvec_bwd;  // those two instead with channel-vector kernels (conv_chvec.h), images over threads
  bool chvec_weight;  // the weight gradient likewise
  bool dot_weight;  // else by dot products along output rows (conv_dot_weight), images over threads
  int64_t bwd_ph, bwd_pw;  // padding of the input-gradient convolution (implicit_bwd)
  int threads;  // threads for this call
  bool by_image;  // parallel over images (else threaded GEMM)
};

Plan make_plan(const ConvGeom& g) {
  Plan p;
  p.Cg = g.C / g.G;
  p.Og = g.O / g.G;
  p.R = p.Cg * g.KH * g.KW;
  p.P = g.OH * g.OW;
  p.HW = g.H * g.W;
  p.chunk = std::max<int64_t>(1, std::min(p.P, kColBudget / std::max<int64_t>(1, p.R)));
  p.direct = g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0;
  // Implicit GEMM where it costs at most 25% more multiply-adds than the convolution (Og*OH*OW*R per
  // group): its GEMM has (rows-1)*Wp + cols wide columns (conv_implicit.h), each worth R products. The
  // input gradient, a convolution of dy padded by about the kernel size, would mostly multiply padding
  // on small images (LeNet-5's 10x10 -> 14x14: twice the work): there col2im stays.
  const bool s1 = g.SH == 1 && g.SW == 1 && !p.direct && g.OH > 0 && g.OW > 0;
  const int64_t useful = g.OH * g.OW;
  p.implicit_fwd = s1 && 4 * ((g.OH - 1) * std::max(g.W + g.PW, g.OW) + g.OW) <= 5 * useful;
  p.bwd_ph = g.DH * (g.KH - 1) - g.PH;
  p.bwd_pw = g.DW * (g.KW - 1) - g.PW;
  p.implicit_bwd = s1 && p.bwd_ph >= 0 && p.bwd_pw >= 0 &&
                   4 * ((g.H - 1) * std::max(g.OW + p.bwd_pw, g.W) + g.W) <= 5 * useful;
  const double work = (double)g.N * (double)g.O * (double)p.R * (double)p.P;  // may exceed int64 in theory
  const int T = num_threads();
  p.threads = work < (double)kParallelWork ? 1 : T;
  // Whole images per thread when that balances: N a multiple of T, or many images per thread.
  p.by_image = p.threads > 1 && g.N >= T && (g.N % T == 0 || g.N >= 4 * T);
  // The channel-vector kernels run on one thread per image: only where images are shared out, or on a
  // single thread. (Measured on ResNet-20's 32- and 64-channel stages: see conv_chvec.h.)
  const bool per_image = p.by_image || p.threads == 1;
  // Any stride and padding (strided: the padded image laid out by column phase, conv_chvec.cc).
  p.chvec_fwd = !p.direct && per_image && chvec_applies(p.Og);
  p.chvec_bwd = s1 && p.bwd_ph >= 0 && p.bwd_pw >= 0 && per_image && chvec_applies(p.Cg);
  p.chvec_weight = p.chvec_fwd;
  p.dot_weight = !p.chvec_weight && !p.direct && per_image && g.OW >= 16;
  return p;
}

void gemm(bool threaded, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias) {
  if (threaded)
    sgemm(ta, tb, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc, bias, 0, 0);
  else
    sgemm_serial(ta, tb, M, N, K, 1.f, A, lda, B, ldb, beta, C, ldc, bias, 0, 0);
}

// im2col of the chunk [j0, j1) of one group's planes, split over threads when asked and large.
void im2col_chunk(const float* xg, const ConvGeom& g, const Plan& p, int64_t j0, int64_t j1, float* col,
                  bool threaded) {
  const int64_t nj = j1 - j0;
  if (threaded && p.R * nj >= kParallelWork) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < p.R; r++) conv_im2col(xg, g, j0, j1, r, r + 1, col, nj);
  } else {
    conv_im2col(xg, g, j0, j1, 0, p.R, col, nj);
  }
}

void col2im_chunk(float* col, const ConvGeom& g, const Plan& p, int64_t j0, int64_t j1, float* dxg,
                  bool threaded) {
  const int64_t nj = j1 - j0;
  if (threaded && p.R * nj >= kParallelWork) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < p.Cg; c++) conv_col2im(col, nj, g, j0, j1, c, c + 1, dxg);
  } else {
    conv_col2im(col, nj, g, j0, j1, 0, p.Cg, dxg);
  }
}

// Runs body(n) for every image, over threads when p.by_image; exceptions (allocation) are rethrown.
template <typename F> void for_images(const ConvGeom& g, const Plan& p, F&& body) {
  if (!p.by_image) {
    for (int64_t n = 0; n < g.N; n++) body(n, p.threads > 1);
    return;
  }
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.threads)
  for (int64_t n = 0; n < g.N; n++) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      body(n, false);
    } catch (...) {
      failed = true;
    }
  }
  if (failed) throw std::runtime_error("out of memory for convolution scratch buffers");
}

// w: the kernel, or with p.chvec_fwd the channel-contiguous kernel (chvec_forward_kernel).
void forward_image(const float* xn, const float* w, const float* bias, float* yn, const ConvGeom& g, const Plan& p,
                   bool threaded) {
  for (int64_t gi = 0; gi < g.G; gi++) {
    const float* xg = xn + gi * p.Cg * p.HW;
    const float* wg = w + gi * p.Og * p.R;
    const float* bg = bias ? bias + gi * p.Og : nullptr;
    float* yg = yn + gi * p.Og * p.P;
    if (p.direct) {
      gemm(threaded, false, false, p.Og, p.P, p.R, wg, p.R, xg, p.HW, 0.f, yg, p.P, bg);
      continue;
    }
    const ImplicitConv ic{p.Cg, g.H, g.W, p.Og, g.KH, g.KW, g.PH, g.PW, g.DH, g.DW, g.SH, g.SW};
    if (p.chvec_fwd) {
      conv_chvec_forward(xg, wg, bg, yg, ic);
      continue;
    }
    if (p.implicit_fwd) {
      conv_implicit_forward(xg, wg, bg, yg, ic, threaded);
      continue;
    }
    for (int64_t j0 = 0; j0 < p.P; j0 += p.chunk) {
      const int64_t j1 = std::min(p.P, j0 + p.chunk), nj = j1 - j0;
      float* col = conv_scratch(kScratchCol, p.R * nj);
      im2col_chunk(xg, g, p, j0, j1, col, threaded);
      gemm(threaded, false, false, p.Og, nj, p.R, wg, p.R, col, nj, 0.f, yg + j0, p.P, bg);
    }
  }
}

// w: the kernel, or with p.implicit_bwd the flipped kernel (flipped_kernel), with p.chvec_bwd that
// channel-contiguous (chvec_input_kernel).
void backward_input_image(const float* dyn, const float* w, float* dxn, const ConvGeom& g, const Plan& p,
                          bool threaded) {
  for (int64_t gi = 0; gi < g.G; gi++) {
    const float* dyg = dyn + gi * p.Og * p.P;
    const float* wg = w + gi * p.Og * p.R;
    float* dxg = dxn + gi * p.Cg * p.HW;
    const ImplicitConv ic{p.Og, g.OH, g.OW, p.Cg, g.KH, g.KW, p.bwd_ph, p.bwd_pw, g.DH, g.DW};
    if (p.chvec_bwd) {
      conv_chvec_forward(dyg, wg, nullptr, dxg, ic);
      continue;
    }
    if (p.implicit_bwd) {
      conv_implicit_forward(dyg, wg, nullptr, dxg, ic, threaded);
      continue;
    }
    if (p.direct) {
      gemm(threaded, true, false, p.R, p.P, p.Og, wg, p.R, dyg, p.P, 0.f, dxg, p.HW, nullptr);
      continue;
    }
    std::memset(dxg, 0, sizeof(float) * p.Cg * p.HW);
    for (int64_t j0 = 0; j0 < p.P; j0 += p.chunk) {
      const int64_t j1 = std::min(p.P, j0 + p.chunk), nj = j1 - j0;
      float* col = conv_scratch(kScratchCol, p.R * nj);
      gemm(threaded, true, false, p.R, nj, p.Og, wg, p.R, dyg + j0, p.P, 0.f, col, nj, nullptr);
      col2im_chunk(col, g, p, j0, j1, dxg, threaded);
    }
  }
}

// The kernel of the input gradient as a stride-1 convolution of dy: per group [Cg, Og, KH, KW] with
// wt[c, o, kh, kw] = w[o, c, KH-1-kh, KW-1-kw].
std::vector<float> flipped_kernel(const float* w, const ConvGeom& g, const Plan& p) {
  const int64_t KK = g.KH * g.KW;
  std::vector<float> wt((size_t)(g.O * p.R));
  for (int64_t gi = 0; gi < g.G; gi++)
    for (int64_t o = 0; o < p.Og; o++)
      for (int64_t c = 0; c < p.Cg; c++)
        for (int64_t k = 0; k < KK; k++)
          wt[(size_t)(((gi * p.Cg + c) * p.Og + o) * KK + k)] = w[((gi * p.Og + o) * p.Cg + c) * KK + (KK - 1 - k)];
  return wt;
}

// dw (all groups, [O, R]) += (or = when *first) the contribution of image n.
void backward_weight_image(const float* dyn, const float* xn, float* dw, bool& first, const ConvGeom& g,
                           const Plan& p, bool threaded) {
  for (int64_t gi = 0; gi < g.G; gi++) {
    const float* dyg = dyn + gi * p.Og * p.P;
    const float* xg = xn + gi * p.Cg * p.HW;
    float* dwg = dw + gi * p.Og * p.R;
    if (p.direct) {
      gemm(threaded, false, true, p.Og, p.R, p.P, dyg, p.P, xg, p.HW, first ? 0.f : 1.f, dwg, p.R, nullptr);
      continue;
    }
    if (p.implicit_fwd) {
      conv_implicit_weight(xg, dyg, dwg, !first,
                           ImplicitConv{p.Cg, g.H, g.W, p.Og, g.KH, g.KW, g.PH, g.PW, g.DH, g.DW}, threaded);
      continue;
    }
    for (int64_t j0 = 0; j0 < p.P; j0 += p.chunk) {
      const int64_t j1 = std::min(p.P, j0 + p.chunk), nj = j1 - j0;
      float* col = conv_scratch(kScratchCol, p.R * nj);
      im2col_chunk(xg, g, p, j0, j1, col, threaded);
      const bool overwrite = first && j0 == 0;
      gemm(threaded, false, true, p.Og, p.R, nj, dyg + j0, p.P, col, nj, overwrite ? 0.f : 1.f, dwg, p.R, nullptr);
    }
  }
  first = false;
}

// Images per call of the channel-vector and dot-product weight-gradient kernels: up to 8, as many as
// keep their padded copies within ~1 MiB (L2), which every register tile streams (ResNet-20's
// 16x16x32 layer: 8 x 39 KB, plus the gradients).
constexpr int64_t kChunkImages = 8, kChunkFloats = int64_t(1) << 18;

// The sum of per-chunk weight gradients: the images are cut into K fixed chunks, handed out
// dynamically over T threads (a busy core slows one chunk, not half the batch); chunk(acc, n0, n1)
// overwrites acc (wsize floats) with images [n0, n1)'s gradient, chunk 0 into out itself, and the
// partials are added in chunk order, so the result is bit-for-bit reproducible for a given thread count.
template <typename F>
void sum_over_image_chunks(int64_t N, int T, int64_t wsize, float* out, F&& chunk) {
  const int64_t K = std::min<int64_t>(N, 4 * T);
  float* part = conv_scratch(kScratchPartial, (K - 1) * wsize);  // the calling thread's buffer, shared for this call
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(T) if (T > 1)
  {
#pragma omp for schedule(dynamic, 1)
    for (int64_t k = 0; k < K; k++) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        chunk(k == 0 ? out : part + (k - 1) * wsize, N * k / K, N * (k + 1) / K);
      } catch (...) {
        failed = true;
      }
    }
    if (!failed) {
#pragma omp for schedule(static)
      for (int64_t i = 0; i < wsize; i++) {
        float s = out[i];
        for (int64_t k = 1; k < K; k++) s += part[(k - 1) * wsize + i];
        out[i] = s;
      }
    }
  }
  if (failed) throw std::runtime_error("out of memory for convolution scratch buffers");
}

// The weight gradient with the channel-vector kernels (per group [R, Og], channel-contiguous,
// transposed into dw [O, R] at the end) or the dot-product kernels (straight into dw), over chunks of
// images (sum_over_image_chunks), per_call images to a kernel call.
void backward_weight_chunked(const float* dy, const float* x, float* dw, const ConvGeom& g, const Plan& p) {
  const int64_t wsize = g.O * p.R;
  const ImplicitConv ic{p.Cg, g.H, g.W, p.Og, g.KH, g.KW, g.PH, g.PW, g.DH, g.DW, g.SH, g.SW};
  const int64_t per_call = std::max<int64_t>(1, std::min(kChunkImages, kChunkFloats / chvec_padded_floats(ic)));
  std::vector<float> dwt(p.chvec_weight ? (size_t)wsize : 0);
  float* out = p.chvec_weight ? dwt.data() : dw;
  sum_over_image_chunks(g.N, p.by_image ? p.threads : 1, wsize, out, [&](float* acc, int64_t n0, int64_t n1) {
    for (int64_t gi = 0; gi < g.G; gi++)
      for (int64_t n = n0; n < n1; n += per_call) {
        const float* xn = x + n * g.C * p.HW + gi * p.Cg * p.HW;
        const float* dyn = dy + n * g.O * p.P + gi * p.Og * p.P;
        const int64_t m = std::min(per_call, n1 - n);
        float* acc_g = acc + gi * p.R * p.Og;
        if (p.chvec_weight) conv_chvec_weight(xn, g.C * p.HW, dyn, g.O * p.P, m, acc_g, n > n0, ic);
        else conv_dot_weight(xn, g.C * p.HW, dyn, g.O * p.P, m, acc_g, n > n0, ic);
      }
  });
  if (!p.chvec_weight) return;
  for (int64_t gi = 0; gi < g.G; gi++)
    for (int64_t o = 0; o < p.Og; o++)
      for (int64_t r = 0; r < p.R; r++) dw[(gi * p.Og + o) * p.R + r] = dwt[(size_t)((gi * p.R + r) * p.Og + o)];
}
}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, float* y, const ConvGeom& g) {
  if (g.N == 0) return;
  const Plan p = make_plan(g);
  const std::vector<float> wt = p.chvec_fwd ? chvec_forward_kernel(w, g.G, p.Og, p.R) : std::vector<float>();
  const float* wk = p.chvec_fwd ? wt.data() : w;
  for_images(g, p, [&](int64_t n, bool threaded) {
    forward_image(x + n * g.C * p.HW, wk, bias, y + n * g.O * p.P, g, p, threaded);
  });
}

void conv2d_backward_input(const float* dy, const float* w, float* dx, const ConvGeom& g) {
  if (g.N == 0) return;
  const Plan p = make_plan(g);
  const std::vector<float> wt = p.chvec_bwd      ? chvec_input_kernel(w, g.G, p.Og, p.Cg, g.KH * g.KW)
                                : p.implicit_bwd ? flipped_kernel(w, g, p)
                                                 : std::vector<float>();
  const float* wk = p.chvec_bwd || p.implicit_bwd ? wt.data() : w;
  for_images(g, p, [&](int64_t n, bool threaded) {
    backward_input_image(dy + n * g.O * p.P, wk, dx + n * g.C * p.HW, g, p, threaded);
  });
}

void conv2d_backward_weight(const float* dy, const float* x, float* dw, float* dbias, const ConvGeom& g) {
  const Plan p = make_plan(g);
  const int64_t wsize = g.O * p.R;
  if (g.N == 0) {
    std::memset(dw, 0, sizeof(float) * wsize);
  } else if (p.chvec_weight || p.dot_weight) {
    backward_weight_chunked(dy, x, dw, g, p);
  } else if (!p.by_image) {
    bool first = true;
    for (int64_t n = 0; n < g.N; n++)
      backward_weight_image(dy + n * g.O * p.P, x + n * g.C * p.HW, dw, first, g, p, p.threads > 1);
  } else {
    sum_over_image_chunks(g.N, p.threads, wsize, dw, [&](float* acc, int64_t n0, int64_t n1) {
      bool first = true;
      for (int64_t n = n0; n < n1; n++)
        backward_weight_image(dy + n * g.O * p.P, x + n * g.C * p.HW, acc, first, g, p, false);
    });
  }
  if (dbias) {
    const auto bn_row_sum = convpool_isa().bn_row_sum;
    const bool par = g.N * g.O * p.P >= kParallelWork;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < g.O; o++) {
      double s = 0;
      for (int64_t n = 0; n < g.N; n++) s += bn_row_sum(dy + (n * g.O + o) * p.P, p.P);
      dbias[o] = (float)s;
    }
  }
}
}  // namespace st
