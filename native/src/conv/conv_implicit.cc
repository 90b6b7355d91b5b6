// Implicit-GEMM stride-1 convolution (see conv_implicit.h).
#include "conv/conv_implicit.h"
#include <algorithm>
#include <memory>
#include <vector>
#include "conv/padded_image.h"
#include "conv/scratch.h"
#include "gemm/gemm.h"
#include "gemm/gemm_isa.h"

namespace st {
namespace {

// The padded image and the row offsets of its implicit column matrix: output (oh, ow) is wide position
// j = oh*Wp + ow; tap (ch, kh, kw) reads xp[off + j] with off = ch*plane + kh*DH*Wp + kw*DW (input row
// oh + kh*DH - PH, column ow + kw*DW - PW, relative to base). Wide positions stop at N = (OH-1)*Wp + OW
// (the last row without its dropped columns); the last tap then reads up to
// (H + 2*PH - 1)*Wp + W + 2*PW - 1 < plane (W + PW <= Wp).
struct Implicit {
  PaddedLayout L;
  int64_t N, R;
  const float* xp;
  const int64_t* off;
  Implicit(const float* x, const ImplicitConv& c) : L(c), N((c.OH() - 1) * L.Wp + c.OW()), R(c.Ci * c.KH * c.KW) {
    float* buf = conv_scratch(kScratchPadded, c.Ci * L.plane);
    pad_image(x, c, L, buf);
    xp = buf;
    thread_local std::vector<int64_t> offsets;
    offsets.resize((size_t)R);
    padded_tap_offsets(c, L, offsets.data());
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
