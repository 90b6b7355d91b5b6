// Implicit-GEMM stride-1 convolution (see conv_implicit.h).
#include "conv/conv_implicit.h"
#include <algorithm>
#include <memory>
#include <vector>
#include "conv/scratch.h"
#include "gemm/gemm.h"
#include "gemm/gemm_isa.h"

namespace st {
namespace {

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
struct Layout {
  int64_t Wp, base, plane;
  explicit Layout(const ImplicitConv& c)
      : Wp(std::max(c.W + c.PW, c.OW())), base(c.PH * Wp + c.PW), plane((c.H + 2 * c.PH) * Wp + c.PW) {}
};

// xp [Ci, plane] <- x in the padded layout.
void pad_image(const float* x, const ImplicitConv& c, const Layout& L, float* xp) {
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

// The padded image and the row offsets of its implicit column matrix: output (oh, ow) is wide position
// j = oh*Wp + ow; tap (ch, kh, kw) reads xp[off + j] with off = ch*plane + kh*DH*Wp + kw*DW (input row
// oh + kh*DH - PH, column ow + kw*DW - PW, relative to base). Wide positions stop at N = (OH-1)*Wp + OW
// (the last row without its dropped columns); the last tap then reads up to
// (H + 2*PH - 1)*Wp + W + 2*PW - 1 < plane (W + PW <= Wp).
struct Implicit {
  Layout L;
  int64_t N, R;
  const float* xp;
  const int64_t* off;
  Implicit(const float* x, const ImplicitConv& c) : L(c), N((c.OH() - 1) * L.Wp + c.OW()), R(c.Ci * c.KH * c.KW) {
    float* buf = conv_scratch(kScratchPadded, c.Ci * L.plane);
    pad_image(x, c, L, buf);
    xp = buf;
    thread_local std::vector<int64_t> offsets;
    offsets.resize((size_t)R);
    for (int64_t ch = 0, r = 0; ch < c.Ci; ch++)
      for (int64_t kh = 0; kh < c.KH; kh++)
        for (int64_t kw = 0; kw < c.KW; kw++) offsets[(size_t)r++] = ch * L.plane + kh * c.DH * L.Wp + kw * c.DW;
    off = offsets.data();
  }
};
}  // namespace

void conv_implicit_forward(const float* x, const float* w, const float* bias, float* y, const ImplicitConv& c,
                           bool threaded) {
  const Implicit im(x, c);
  const int64_t Wp = im.L.Wp, N = im.N, OH = c.OH(), OW = c.OW();
  const bool compact = Wp != OW;
  float* yw = compact ? conv_scratch(kScratchWide, c.Co * N) : y;
  GemmProblem p{false, false, c.Co, N, im.R, 1.f, w, im.R, im.xp, 0, 0.f, yw, N, bias, 0, 0};
  p.boff = im.off;
  sgemm_problem(p, threaded);
  if (!compact) return;
  for (int64_t o = 0; o < c.Co; o++)
    for (int64_t oh = 0; oh < OH; oh++)
      copy_row(y + (o * OH + oh) * OW, yw + o * N + oh * Wp, OW);
}

void conv_implicit_weight(const float* x, const float* dy, float* dw, bool accumulate, const ImplicitConv& c,
                          bool threaded) {
  const Implicit im(x, c);
  const int64_t Wp = im.L.Wp, N = im.N, OH = c.OH(), OW = c.OW();
  // dy in the wide layout, zero in the dropped columns (so they add nothing).
  const float* dyw = dy;
  if (Wp != OW) {
    float* buf = conv_scratch(kScratchWide, c.Co * N);
    for (int64_t o = 0; o < c.Co; o++)
      for (int64_t oh = 0; oh < OH; oh++) {
        float* d = buf + o * N + oh * Wp;
        copy_row(d, dy + (o * OH + oh) * OW, OW);
        if (oh + 1 < OH) zero_row(d + OW, Wp - OW);
      }
    dyw = buf;
  }
  GemmProblem p{false, true, c.Co, im.R, N, 1.f, dyw, N, im.xp, 0, accumulate ? 1.f : 0.f, dw, im.R, nullptr, 0, 0};
  p.boff = im.off;
  sgemm_problem(p, threaded);
}
}  // namespace st
