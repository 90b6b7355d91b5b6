// im2col / col2im over a range of output positions (see im2col.h).
// Per (kh, kw) row the valid output columns [ow_lo, ow_hi) are computed once, so the
// inner loops are plain copies (memcpy when the stride is 1) without bounds checks.
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
}  // namespace

void im2col(const float* x, const ConvGeom& g, int64_t j0, int64_t j1, int64_t r0, int64_t r1, float* col,
            int64_t ldc) {
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

void col2im(const float* col, int64_t ldc, const ConvGeom& g, int64_t j0, int64_t j1, int64_t c0, int64_t c1,
            float* dx) {
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
