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

// xp [Ci, Hp, Wp] <- x with PH / PW zero rows and columns around each plane.
void pad_image(const float* x, const ImplicitConv& c, float* xp) {
  const int64_t Wp = c.W + 2 * c.PW, Hp = c.H + 2 * c.PH;
  for (int64_t ch = 0; ch < c.Ci; ch++) {
    const float* s = x + ch * c.H * c.W;
    float* d = xp + ch * Hp * Wp;
    std::memset(d, 0, sizeof(float) * (c.PH * Wp + c.PW));
    d += c.PH * Wp + c.PW;
    for (int64_t ih = 0; ih < c.H; ih++, d += Wp) {
      std::memcpy(d, s + ih * c.W, sizeof(float) * c.W);
      if (ih + 1 < c.H) std::memset(d + c.W, 0, sizeof(float) * 2 * c.PW);  // right pad + next row's left pad
    }
    d -= Wp;  // last image row
    std::memset(d + c.W, 0, sizeof(float) * (c.PW + c.PH * Wp));
  }
}
}  // namespace

void conv_implicit_forward(const float* x, const float* w, const float* bias, float* y, const ImplicitConv& c,
                           bool threaded) {
  const int64_t Wp = c.W + 2 * c.PW, Hp = c.H + 2 * c.PH, plane = Hp * Wp;
  const int64_t OH = c.OH(), OW = c.OW(), R = c.Ci * c.KH * c.KW;
  // Wide positions j < N = (OH-1)*Wp + OW (the last output row without its dropped columns): the last
  // tap's row, off = (Ci-1)*plane + DH*(KH-1)*Wp + DW*(KW-1), then ends exactly at the end of xp
  // (OH - 1 + DH*(KH-1) = Hp - 1, OW + DW*(KW-1) = Wp).
  const int64_t N = (OH - 1) * Wp + OW;
  float* xp = buffer(0, c.Ci * plane);
  pad_image(x, c, xp);
  thread_local std::vector<int64_t> off;
  off.resize((size_t)R);
  for (int64_t ch = 0, r = 0; ch < c.Ci; ch++)
    for (int64_t kh = 0; kh < c.KH; kh++)
      for (int64_t kw = 0; kw < c.KW; kw++) off[(size_t)r++] = ch * plane + kh * c.DH * Wp + kw * c.DW;
  const bool compact = Wp != OW;
  float* yw = compact ? buffer(1, c.Co * N) : y;
  sgemm_rows(threaded, c.Co, N, R, w, R, xp, off.data(), yw, N, bias);
  if (!compact) return;
  for (int64_t o = 0; o < c.Co; o++)
    for (int64_t oh = 0; oh < OH; oh++)
      std::memcpy(y + (o * OH + oh) * OW, yw + o * N + oh * Wp, sizeof(float) * OW);
}
}  // namespace st
