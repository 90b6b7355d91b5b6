// The zero-padded image layout shared by the implicit-GEMM (conv_implicit.cc) and channel-vector
// (conv_chvec.cc) stride-1 convolutions, and the short row copies that build it.
#pragma once
#include <algorithm>
#include <cstdint>
#include "conv/conv_implicit.h"

namespace st {
// Short row copies and fills, inline: the rows are 8-32 floats and there are millions per training
// step, so calls into memcpy / memset cost more than the copying (measured on ResNet-20: ~8% of a
// step). Fixed-size blocks, which the compiler turns into vector moves, and no loops over the tail,
// which it might turn back into those calls.
inline void copy_row(float* __restrict d, const float* __restrict s, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) __builtin_memcpy(d + i, s + i, 8 * sizeof(float));
  if (n - i >= 4) __builtin_memcpy(d + i, s + i, 4 * sizeof(float)), i += 4;
  if (n - i >= 2) __builtin_memcpy(d + i, s + i, 2 * sizeof(float)), i += 2;
  if (n - i >= 1) d[i] = s[i];
}
inline void zero_row(float* __restrict d, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) __builtin_memset(d + i, 0, 8 * sizeof(float));
  if (n - i >= 4) __builtin_memset(d + i, 0, 4 * sizeof(float)), i += 4;
  if (n - i >= 2) __builtin_memset(d + i, 0, 2 * sizeof(float)), i += 2;
  if (n - i >= 1) d[i] = 0.f;
}

// Padded plane layout: rows of Wp = max(W + PW, OW) floats, image row ih at base + ih*Wp with
// base = PH*Wp + PW, zeros everywhere else. The zeros after a row ([W, Wp), at least PW of them) are at
// once its right padding and the next row's left padding (one row's left neighbours are the tail of the
// row before), so a row costs W + PW floats, not W + 2*PW. A plane is (H + 2*PH)*Wp + PW floats.
struct PaddedLayout {
  int64_t Wp, base, plane;
  explicit PaddedLayout(const ImplicitConv& c)
      : Wp(std::max(c.W + c.PW, c.OW())), base(c.PH * Wp + c.PW), plane((c.H + 2 * c.PH) * Wp + c.PW) {}
};

// xp [Ci, plane] <- x in the padded layout.
inline void pad_image(const float* x, const ImplicitConv& c, const PaddedLayout& L, float* xp) {
  for (int64_t ch = 0; ch < c.Ci; ch++) {
    const float* s = x + ch * c.H * c.W;
    float* d = xp + ch * L.plane;
    zero_row(d, L.base);
    for (int64_t ih = 0; ih < c.H; ih++) {
      float* row = d + L.base + ih * L.Wp;
      copy_row(row, s + ih * c.W, c.W);
      zero_row(row + c.W, ih + 1 < c.H ? L.Wp - c.W : L.plane - (L.base + ih * L.Wp + c.W));
    }
  }
}

// Row offsets of the taps in the padded layout: tap r = (ch, kh, kw) of output position j = oh*Wp + ow
// reads xp[off[r] + j] (see conv_implicit.h).
inline void padded_tap_offsets(const ImplicitConv& c, const PaddedLayout& L, int64_t* off) {
  for (int64_t ch = 0, r = 0; ch < c.Ci; ch++)
    for (int64_t kh = 0; kh < c.KH; kh++)
      for (int64_t kw = 0; kw < c.KW; kw++) off[r++] = ch * L.plane + kh * c.DH * L.Wp + kw * c.DW;
}
}  // namespace st
