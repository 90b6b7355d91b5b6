// Pooling drivers (see pool.h): OpenMP over the N*C planes, per-axis window bounds
// computed once per call so the inner loops carry no bounds checks. 2x2 stride-2
// max pooling, the common case, runs through a per-ISA vectorised row kernel.
#include "pool/pool.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>
#include "conv/convpool_isa.h"

namespace st {
namespace {
constexpr int64_t kParallelWork = int64_t(1) << 15;  // window cells below which one thread runs

// Window o of one axis: start s = o*S - P; kernel taps k in [lo, hi) land inside [0, L);
// pad = number of taps inside the padded range [-P, L+P).
struct Axis {
  std::vector<int64_t> start, lo, hi, pad;
  int64_t first_full = 0, end_full = 0;  // outputs [first_full, end_full) have every tap inside
};

int64_t taps_from(int64_t s, int64_t bound, int64_t D) {  // first k >= 0 with s + k*D >= bound
  return s >= bound ? 0 : (bound - s + D - 1) / D;
}
int64_t taps_below(int64_t s, int64_t bound, int64_t D, int64_t K) {  // number of k < K with s + k*D < bound
  return s >= bound ? 0 : std::min(K, (bound - 1 - s) / D + 1);
}

Axis make_axis(int64_t L, int64_t OL, int64_t K, int64_t S, int64_t P, int64_t D) {
  Axis a;
  a.start.resize(OL);
  a.lo.resize(OL);
  a.hi.resize(OL);
  a.pad.resize(OL);
  a.first_full = OL;
  a.end_full = OL;
  bool seen = false;
  for (int64_t o = 0; o < OL; o++) {
    const int64_t s = o * S - P;
    a.start[o] = s;
    a.lo[o] = std::min(K, taps_from(s, 0, D));
    a.hi[o] = std::max(a.lo[o], taps_below(s, L, D, K));
    const int64_t plo = std::min(K, taps_from(s, -P, D));
    a.pad[o] = std::max<int64_t>(0, taps_below(s, L + P, D, K) - plo);
    const bool full = a.lo[o] == 0 && a.hi[o] == K;
    if (full && !seen) a.first_full = o, seen = true;
    if (!full && seen && a.end_full == OL) a.end_full = o;
  }
  if (!seen) a.end_full = a.first_full;
  return a;
}

int64_t planes(const PoolGeom& g) { return g.N * g.C; }
bool parallel(int64_t work) { return work >= kParallelWork; }

// Window bounds of both axes plus the flat offsets (a*DH*W + b*DW) of the KH*KW taps, for the
// windows that lie wholly inside the input (no bounds checks, divisor KH*KW).
struct Windows {
  Axis h, w;
  std::vector<int64_t> taps;
  explicit Windows(const PoolGeom& g)
      : h(make_axis(g.H, g.OH, g.KH, g.SH, g.PH, g.DH)), w(make_axis(g.W, g.OW, g.KW, g.SW, g.PW, g.DW)) {
    for (int64_t a = 0; a < g.KH; a++)
      for (int64_t b = 0; b < g.KW; b++) taps.push_back(a * g.DH * g.W + b * g.DW);
  }
  // For output row oh: edge(ow) for each window that touches padding, inner(fa, fb) for the
  // range of windows wholly inside the input.
  template <typename E, typename I> void row(const PoolGeom& g, int64_t oh, E&& edge, I&& inner) const {
    const bool full_row = h.lo[oh] == 0 && h.hi[oh] == g.KH;
    const int64_t fa = full_row ? w.first_full : g.OW, fb = full_row ? std::max(fa, w.end_full) : g.OW;
    for (int64_t ow = 0; ow < fa; ow++) edge(ow);
    if (fb > fa) inner(fa, fb);
    for (int64_t ow = fb; ow < g.OW; ow++) edge(ow);
  }
  int64_t divisor(int64_t oh, int64_t ow, bool cip) const {
    return cip ? h.pad[oh] * w.pad[ow] : (h.hi[oh] - h.lo[oh]) * (w.hi[ow] - w.lo[ow]);
  }
};

// Max over the taps [kl,kh) x [wl,wh) of the window at (hs, ws); cells are x[ih*W + iw].
inline void window_max(const float* x, int64_t W, int64_t hs, int64_t ws, int64_t kl, int64_t kh, int64_t wl,
                       int64_t wh, int64_t DH, int64_t DW, float* y, int32_t* ind) {
  float m = -std::numeric_limits<float>::infinity();
  int64_t best = (hs + kl * DH) * W + ws + wl * DW;
  for (int64_t a = kl; a < kh; a++) {
    const int64_t row = (hs + a * DH) * W;
    for (int64_t b = wl; b < wh; b++) {
      const int64_t i = row + ws + b * DW;
      const float v = x[i];
      if (v > m || std::isnan(v)) m = v, best = i;
    }
  }
  *y = m;
  *ind = (int32_t)best;
}
}  // namespace

void max_pool2d_forward(const float* x, float* y, int32_t* ind, const PoolGeom& g) {
  const Windows win(g);
  const int64_t* taps = win.taps.data();
  const int64_t KK = g.KH * g.KW;
  const bool two_by_two = g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.DH == 1 && g.DW == 1;
  const auto row2x2 = convpool_isa().pool_max_2x2s2_row;
  const auto rowk = convpool_isa().pool_max_row;
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * KK))
  for (int64_t p = 0; p < NP; p++) {
    const float* xp = x + p * HW;
    for (int64_t oh = 0; oh < g.OH; oh++) {
      const int64_t hs = win.h.start[oh];
      float* yr = y + p * OHW + oh * g.OW;
      int32_t* ir = ind + p * OHW + oh * g.OW;
      win.row(
          g, oh,
          [&](int64_t ow) {
            window_max(xp, g.W, hs, win.w.start[ow], win.h.lo[oh], win.h.hi[oh], win.w.lo[ow], win.w.hi[ow], g.DH,
                       g.DW, yr + ow, ir + ow);
          },
          [&](int64_t fa, int64_t fb) {
            if (two_by_two) {
              const int64_t base = hs * g.W + win.w.start[fa];
              row2x2(xp + base, xp + base + g.W, g.W, yr + fa, ir + fa, fb - fa, (int32_t)base);
              return;
            }
            const int64_t base = hs * g.W + win.w.start[fa];
            rowk(xp + base, g.SW, taps, KK, fb - fa, (int32_t)base, yr + fa, ir + fa);
          });
    }
  }
}

void max_pool2d_backward(const float* dy, const int32_t* ind, float* dx, const PoolGeom& g) {
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
  int64_t bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if (parallel(NP * (HW + OHW)))
  for (int64_t p = 0; p < NP; p++) {
    float* dxp = dx + p * HW;
    const float* dyp = dy + p * OHW;
    const int32_t* ip = ind + p * OHW;
    std::memset(dxp, 0, sizeof(float) * HW);
    for (int64_t o = 0; o < OHW; o++) {
      const int32_t i = ip[o];
      if (i < 0 || i >= HW) {
        bad++;
        continue;
      }
      dxp[i] += dyp[o];
    }
  }
  if (bad)
    throw std::invalid_argument("indices: " + std::to_string(bad) + " entries outside the plane [0, " +
                                std::to_string(HW) + ")");
}

void avg_pool2d_forward(const float* x, float* y, const PoolGeom& g, bool cip) {
  const Windows win(g);
  const int64_t* taps = win.taps.data();
  const int64_t KK = g.KH * g.KW;
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * KK))
  for (int64_t p = 0; p < NP; p++) {
    const float* xp = x + p * HW;
    for (int64_t oh = 0; oh < g.OH; oh++) {
      const int64_t hs = win.h.start[oh];
      float* yr = y + p * OHW + oh * g.OW;
      win.row(
          g, oh,
          [&](int64_t ow) {
            const int64_t ws = win.w.start[ow];
            float s = 0;
            for (int64_t a = win.h.lo[oh]; a < win.h.hi[oh]; a++) {
              const float* row = xp + (hs + a * g.DH) * g.W + ws;
              for (int64_t b = win.w.lo[ow]; b < win.w.hi[ow]; b++) s += row[b * g.DW];
            }
            yr[ow] = s / (float)win.divisor(oh, ow, cip);
          },
          [&](int64_t fa, int64_t fb) {
            const float kk = (float)KK;
            for (int64_t ow = fa; ow < fb; ow++) {
              const float* xw = xp + hs * g.W + win.w.start[ow];
              float s = 0;
              for (int64_t t = 0; t < KK; t++) s += xw[taps[t]];
              yr[ow] = s / kk;
            }
          });
    }
  }
}

void avg_pool2d_backward(const float* dy, float* dx, const PoolGeom& g, bool cip) {
  const Windows win(g);
  const int64_t* taps = win.taps.data();
  const int64_t KK = g.KH * g.KW;
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * KK))
  for (int64_t p = 0; p < NP; p++) {
    float* dxp = dx + p * HW;
    std::memset(dxp, 0, sizeof(float) * HW);
    for (int64_t oh = 0; oh < g.OH; oh++) {
      const int64_t hs = win.h.start[oh];
      const float* dyr = dy + p * OHW + oh * g.OW;
      win.row(
          g, oh,
          [&](int64_t ow) {
            const int64_t ws = win.w.start[ow];
            const float v = dyr[ow] / (float)win.divisor(oh, ow, cip);
            for (int64_t a = win.h.lo[oh]; a < win.h.hi[oh]; a++) {
              float* row = dxp + (hs + a * g.DH) * g.W + ws;
              for (int64_t b = win.w.lo[ow]; b < win.w.hi[ow]; b++) row[b * g.DW] += v;
            }
          },
          [&](int64_t fa, int64_t fb) {
            const float kk = (float)KK;
            for (int64_t ow = fa; ow < fb; ow++) {
              float* xw = dxp + hs * g.W + win.w.start[ow];
              const float v = dyr[ow] / kk;
              for (int64_t t = 0; t < KK; t++) xw[taps[t]] += v;
            }
          });
    }
  }
}

void adaptive_avg_pool2d_forward(const float* x, float* y, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  const int64_t HW = H * W, OHW = OH * OW;
#pragma omp parallel for schedule(static) if (parallel(P * std::max(HW, OHW)))
  for (int64_t p = 0; p < P; p++) {
    const float* xp = x + p * HW;
    float* yp = y + p * OHW;
    for (int64_t oh = 0; oh < OH; oh++) {
      const int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ow++) {
        const int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
        float s = 0;
        for (int64_t ih = hs; ih < he; ih++)
          for (int64_t iw = ws; iw < we; iw++) s += xp[ih * W + iw];
        yp[oh * OW + ow] = s / (float)((he - hs) * (we - ws));
      }
    }
  }
}

void adaptive_avg_pool2d_backward(const float* dy, float* dx, int64_t P, int64_t H, int64_t W, int64_t OH,
                                  int64_t OW) {
  const int64_t HW = H * W, OHW = OH * OW;
#pragma omp parallel for schedule(static) if (parallel(P * std::max(HW, OHW)))
  for (int64_t p = 0; p < P; p++) {
    float* dxp = dx + p * HW;
    const float* dyp = dy + p * OHW;
    std::memset(dxp, 0, sizeof(float) * HW);
    for (int64_t oh = 0; oh < OH; oh++) {
      const int64_t hs = oh * H / OH, he = ((oh + 1) * H + OH - 1) / OH;
      for (int64_t ow = 0; ow < OW; ow++) {
        const int64_t ws = ow * W / OW, we = ((ow + 1) * W + OW - 1) / OW;
        const float v = dyp[oh * OW + ow] / (float)((he - hs) * (we - ws));
        for (int64_t ih = hs; ih < he; ih++)
          for (int64_t iw = ws; iw < we; iw++) dxp[ih * W + iw] += v;
      }
    }
  }
}
}  // namespace st
