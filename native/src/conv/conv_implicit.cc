// Implicit-GEMM stride-1 convolution (see conv_implicit.h).
#include "conv/conv_implicit.h"
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>
#include "gemm/gemm.h"

namespace st {
namespace {
// Per-thread buffers kept across calls (slot 0: padded image, 1: wide output).
float* buffer(int slot, int64_t n) {
  thread_local std::unique_ptr<float[]> buf[2];
  thread_local int64_t cap[2] = {0, 0};
  if (cap[slot] < n) {
    buf[slot].reset();
    buf[slot].reset(new float[n]);
    cap[slot] = n;
  }
  return buf[slot].get();
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
    std::memset(d, 0, sizeof(float) * L.base);
    for (int64_t ih = 0; ih < c.H; ih++) {
      float* row = d + L.base + ih * L.Wp;
      std::memcpy(row, s + ih * c.W, sizeof(float) * c.W);
      const int64_t zeros = ih + 1 < c.H ? L.Wp - c.W : L.plane - (L.base + ih * L.Wp + c.W);
      std::memset(row + c.W, 0, sizeof(float) * zeros);
    }
  }
}
}  // namespace

void conv_implicit_forward(const float* x, const float* w, const float* bias, float* y, const ImplicitConv& c,
                           bool threaded) {
  const Layout L(c);
  const int64_t Wp = L.Wp, OH = c.OH(), OW = c.OW(), R = c.Ci * c.KH * c.KW;
  // Output (oh, ow) is wide position j = oh*Wp + ow; tap (ch, kh, kw) reads xp[off + j] with
  // off = ch*plane + kh*DH*Wp + kw*DW (input row oh + kh*DH - PH, column ow + kw*DW - PW, relative to
  // base). Wide positions stop at N = (OH-1)*Wp + OW (the last row without its dropped columns); the
  // last tap then reads up to (H + 2*PH - 1)*Wp + W + 2*PW - 1 < plane (W + PW <= Wp).
  const int64_t N = (OH - 1) * Wp + OW;
  float* xp = buffer(0, c.Ci * L.plane);
  pad_image(x, c, L, xp);
  thread_local std::vector<int64_t> off;
  off.resize((size_t)R);
  for (int64_t ch = 0, r = 0; ch < c.Ci; ch++)
    for (int64_t kh = 0; kh < c.KH; kh++)
      for (int64_t kw = 0; kw < c.KW; kw++) off[(size_t)r++] = ch * L.plane + kh * c.DH * Wp + kw * c.DW;
  const bool compact = Wp != OW;
  float* yw = compact ? buffer(1, c.Co * N) : y;
  sgemm_rows(threaded, c.Co, N, R, w, R, xp, off.data(), yw, N, bias);
  if (!compact) return;
  for (int64_t o = 0; o < c.Co; o++)
    for (int64_t oh = 0; oh < OH; oh++)
      std::memcpy(y + (o * OH + oh) * OW, yw + o * N + oh * Wp, sizeof(float) * OW);
}
}  // namespace st
