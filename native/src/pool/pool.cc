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
  const Axis ah = make_axis(g.H, g.OH, g.KH, g.SH, g.PH, g.DH);
  const Axis aw = make_axis(g.W, g.OW, g.KW, g.SW, g.PW, g.DW);
  const bool two_by_two = g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.DH == 1 && g.DW == 1;
  const auto row2x2 = convpool_isa().maxpool_2x2s2_row;
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * g.KH * g.KW))
  for (int64_t p = 0; p < NP; p++) {
    const float* xp = x + p * HW;
    float* yp = y + p * OHW;
    int32_t* ip = ind + p * OHW;
    for (int64_t oh = 0; oh < g.OH; oh++) {
      const int64_t hs = ah.start[oh], kl = ah.lo[oh], kh = ah.hi[oh];
      float* yr = yp + oh * g.OW;
      int32_t* ir = ip + oh * g.OW;
      const bool full_row = kl == 0 && kh == g.KH;
      const int64_t fa = full_row ? aw.first_full : g.OW, fb = full_row ? aw.end_full : g.OW;
      for (int64_t ow = 0; ow < std::min(fa, g.OW); ow++)
        window_max(xp, g.W, hs, aw.start[ow], kl, kh, aw.lo[ow], aw.hi[ow], g.DH, g.DW, yr + ow, ir + ow);
      if (fb > fa) {
        if (two_by_two) {
          const int64_t base = hs * g.W + aw.start[fa];
          row2x2(xp + base, xp + base + g.W, g.W, yr + fa, ir + fa, fb - fa, (int32_t)base);
        } else {
          for (int64_t ow = fa; ow < fb; ow++)
            window_max(xp, g.W, hs, aw.start[ow], 0, g.KH, 0, g.KW, g.DH, g.DW, yr + ow, ir + ow);
        }
      }
      for (int64_t ow = std::max(fa, fb); ow < g.OW; ow++)
        window_max(xp, g.W, hs, aw.start[ow], kl, kh, aw.lo[ow], aw.hi[ow], g.DH, g.DW, yr + ow, ir + ow);
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
  const Axis ah = make_axis(g.H, g.OH, g.KH, g.SH, g.PH, g.DH);
  const Axis aw = make_axis(g.W, g.OW, g.KW, g.SW, g.PW, g.DW);
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * g.KH * g.KW))
  for (int64_t p = 0; p < NP; p++) {
    const float* xp = x + p * HW;
    float* yp = y + p * OHW;
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++) {
        const int64_t hs = ah.start[oh], ws = aw.start[ow];
        float s = 0;
        for (int64_t a = ah.lo[oh]; a < ah.hi[oh]; a++) {
          const float* row = xp + (hs + a * g.DH) * g.W + ws;
          for (int64_t b = aw.lo[ow]; b < aw.hi[ow]; b++) s += row[b * g.DW];
        }
        const int64_t div = cip ? ah.pad[oh] * aw.pad[ow] : (ah.hi[oh] - ah.lo[oh]) * (aw.hi[ow] - aw.lo[ow]);
        yp[oh * g.OW + ow] = s / (float)div;
      }
  }
}

void avg_pool2d_backward(const float* dy, float* dx, const PoolGeom& g, bool cip) {
  const Axis ah = make_axis(g.H, g.OH, g.KH, g.SH, g.PH, g.DH);
  const Axis aw = make_axis(g.W, g.OW, g.KW, g.SW, g.PW, g.DW);
  const int64_t HW = g.H * g.W, OHW = g.OH * g.OW, NP = planes(g);
#pragma omp parallel for schedule(static) if (parallel(NP * OHW * g.KH * g.KW))
  for (int64_t p = 0; p < NP; p++) {
    float* dxp = dx + p * HW;
    const float* dyp = dy + p * OHW;
    std::memset(dxp, 0, sizeof(float) * HW);
    for (int64_t oh = 0; oh < g.OH; oh++)
      for (int64_t ow = 0; ow < g.OW; ow++) {
        const int64_t hs = ah.start[oh], ws = aw.start[ow];
        const int64_t div = cip ? ah.pad[oh] * aw.pad[ow] : (ah.hi[oh] - ah.lo[oh]) * (aw.hi[ow] - aw.lo[ow]);
        const float v = dyp[oh * g.OW + ow] / (float)div;
        for (int64_t a = ah.lo[oh]; a < ah.hi[oh]; a++) {
          float* row = dxp + (hs + a * g.DH) * g.W + ws;
          for (int64_t b = aw.lo[ow]; b < aw.hi[ow]; b++) row[b * g.DW] += v;
        }
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
