// im2col / col2im over a range of output positions (see im2col.h).
// Per (kh, kw) row the valid output columns [ow_lo, ow_hi) are computed once, so the
// inner loops are plain copies (memcpy when the stride is 1) without bounds checks.
//
// Shifted rows: with stride 1 and OW == W ("same" padding, the common 3x3 pad 1 case) the
// input cell of output position j = oh*OW + ow is x[j + c0] for one constant c0 per row, so a
// whole row of col is one contiguous copy of x; only the few positions whose column wraps into
// the neighbouring input row (ow < lo or ow >= hi) are padding and get zeroed afterwards.
#include "conv/im2col.h"
#include <algorithm>
#include <cstring>

namespace st {
namespace {
// Output columns ow whose input column iw = ow*SW + iw0 lies in [0, W).
inline void valid_cols(int64_t iw0, const ConvGeom& g, int64_t& lo, int64_t& hi) {
  lo = iw0 >= 0 ? 0 : (-iw0 + g.SW - 1) / g.SW;
  hi = (g.W - 1 - iw0) < 0 ? 0 : (g.W - 1 - iw0) / g.SW + 1;
  lo = std::min(lo, g.OW);
  hi = std::max(lo, std::min(hi, g.OW));
}

inline bool shifted_rows(const ConvGeom& g) { return g.SH == 1 && g.SW == 1 && g.OW == g.W; }

// For shifted rows: positions [ja, jb) hold every valid position of row (kh, kw) (plus wrapped
// ones in between); x index = j + c0. Empty when ja >= jb.
struct Shift {
  int64_t ja, jb, c0, lo, hi;
};
inline Shift shift_of(const ConvGeom& g, int64_t kh, int64_t kw) {
  Shift s;
  valid_cols(kw * g.DW - g.PW, g, s.lo, s.hi);
  const int64_t oh_a = std::max<int64_t>(0, g.PH - kh * g.DH);
  const int64_t oh_b = std::min<int64_t>(g.OH, g.H + g.PH - kh * g.DH);
  s.c0 = (kh * g.DH - g.PH) * g.W + kw * g.DW - g.PW;
  if (oh_b <= oh_a || s.hi <= s.lo) {
    s.ja = s.jb = 0;
  } else {
    s.ja = oh_a * g.OW + s.lo;
    s.jb = (oh_b - 1) * g.OW + s.hi;
  }
  return s;
}

// Calls f(p, q) for each range [p, q) of wrapped (padding) positions inside [a, b).
template <typename F> inline void for_wrapped(const ConvGeom& g, const Shift& s, int64_t a, int64_t b, F&& f) {
  if (s.lo == 0 && s.hi == g.OW) return;
  for (int64_t row = a / g.OW * g.OW; row < b; row += g.OW) {
    const int64_t p0 = std::max(a, row), q0 = std::min(b, row + s.lo);
    if (q0 > p0) f(p0, q0);
    const int64_t p1 = std::max(a, row + s.hi), q1 = std::min(b, row + g.OW);
    if (q1 > p1) f(p1, q1);
  }
}

void im2col_shifted(const float* x, const ConvGeom& g, int64_t j0, int64_t j1, int64_t r0, int64_t r1, float* col,
                    int64_t ldc) {
  const int64_t KK = g.KH * g.KW, HW = g.H * g.W;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t c = r / KK, kh = (r / g.KW) % g.KH, kw = r % g.KW;
    const Shift s = shift_of(g, kh, kw);
    float* d = col + r * ldc;  // d[j - j0] for j in [j0, j1)
    const int64_t a = std::min(std::max(s.ja, j0), j1), b = std::max(a, std::min(s.jb, j1));
    if (a > j0) std::memset(d, 0, sizeof(float) * (a - j0));
    if (b > a) std::memcpy(d + (a - j0), x + c * HW + a + s.c0, sizeof(float) * (b - a));
    if (j1 > b) std::memset(d + (b - j0), 0, sizeof(float) * (j1 - b));
    for_wrapped(g, s, a, b, [&](int64_t p, int64_t q) {
      for (int64_t j = p; j < q; j++) d[j - j0] = 0.f;
    });
  }
}

void col2im_shifted(float* col, int64_t ldc, const ConvGeom& g, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
                    float* dx) {
  const int64_t KK = g.KH * g.KW, HW = g.H * g.W;
  for (int64_t c = c0; c < c1; c++)
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const Shift s = shift_of(g, kh, kw);
        const int64_t a = std::min(std::max(s.ja, j0), j1), b = std::max(a, std::min(s.jb, j1));
        if (b <= a) continue;
        float* __restrict src = col + (c * KK + kh * g.KW + kw) * ldc + (a - j0);  // position a
        for_wrapped(g, s, a, b, [&](int64_t p, int64_t q) {
          for (int64_t j = p; j < q; j++) src[j - a] = 0.f;  // padding: contributes nothing
        });
        float* __restrict d = dx + c * HW + a + s.c0;  // input cell of position a
        for (int64_t j = 0; j < b - a; j++) d[j] += src[j];
      }
}
}  // namespace

void im2col(const float* x, const ConvGeom& g, int64_t j0, int64_t j1, int64_t r0, int64_t r1, float* col,
            int64_t ldc) {
  if (shifted_rows(g)) return im2col_shifted(x, g, j0, j1, r0, r1, col, ldc);
  const int64_t KK = g.KH * g.KW, HW = g.H * g.W;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t c = r / KK, kh = (r / g.KW) % g.KH, kw = r % g.KW;
    const int64_t iw0 = kw * g.DW - g.PW;
    int64_t lo, hi;
    valid_cols(iw0, g, lo, hi);
    const float* xc = x + c * HW;
    float* dst = col + r * ldc;  // dst[j - j0] is the column of output position j
    int64_t j = j0, oh = j0 / g.OW, ow = j0 % g.OW;
    while (j < j1) {
      const int64_t end = std::min(g.OW, ow + (j1 - j));  // this output row covers [ow, end)
      float* d = dst + (j - j0);  // d[q - ow] for q in [ow, end)
      const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
      if (ih < 0 || ih >= g.H) {
        std::memset(d, 0, sizeof(float) * (end - ow));
      } else {
        const int64_t a = std::min(std::max(ow, lo), end), b = std::max(a, std::min(end, hi));
        // input column of output column q is q*SW + iw0, in [0, W) for q in [a, b)
        const float* src = xc + ih * g.W + a * g.SW + iw0;
        if (a > ow) std::memset(d, 0, sizeof(float) * (a - ow));
        if (g.SW == 1) {
          if (b > a) std::memcpy(d + (a - ow), src, sizeof(float) * (b - a));
        } else {
          for (int64_t q = 0; q < b - a; q++) d[a - ow + q] = src[q * g.SW];
        }
        if (end > b) std::memset(d + (b - ow), 0, sizeof(float) * (end - b));
      }
      j += end - ow;
      oh++;
      ow = 0;
    }
  }
}

void col2im(float* col, int64_t ldc, const ConvGeom& g, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
            float* dx) {
  if (shifted_rows(g)) return col2im_shifted(col, ldc, g, j0, j1, c0, c1, dx);
  const int64_t KK = g.KH * g.KW, HW = g.H * g.W;
  for (int64_t c = c0; c < c1; c++) {
    float* __restrict xc = dx + c * HW;
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const int64_t r = c * KK + kh * g.KW + kw;
        const int64_t iw0 = kw * g.DW - g.PW;
        int64_t lo, hi;
        valid_cols(iw0, g, lo, hi);
        const float* src = col + r * ldc;
        int64_t j = j0, oh = j0 / g.OW, ow = j0 % g.OW;
        while (j < j1) {
          const int64_t end = std::min(g.OW, ow + (j1 - j));
          const int64_t ih = oh * g.SH - g.PH + kh * g.DH;
          if (ih >= 0 && ih < g.H) {
            const int64_t a = std::min(std::max(ow, lo), end), b = std::max(a, std::min(end, hi));
            const float* __restrict s = src + (j - j0) + (a - ow);
            float* __restrict d = xc + ih * g.W + a * g.SW + iw0;
            if (g.SW == 1) {
              for (int64_t q = 0; q < b - a; q++) d[q] += s[q];
            } else {
              for (int64_t q = 0; q < b - a; q++) d[q * g.SW] += s[q];
            }
          }
          j += end - ow;
          oh++;
          ow = 0;
        }
      }
  }
}
}  // namespace st
