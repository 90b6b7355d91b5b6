// Channel-vector stride-1 convolution drivers (see conv_chvec.h); the register tiles are per ISA
// (conv/chvec_kernel.inc).
#include "conv/conv_chvec.h"
#include <vector>
#include "conv/convpool_isa.h"
#include "conv/padded_image.h"
#include "conv/scratch.h"

namespace st {
namespace {
const int64_t* tap_offsets(const ImplicitConv& c, const PaddedLayout& L) {
  thread_local std::vector<int64_t> off;
  off.resize((size_t)(c.Ci * c.KH * c.KW));
  padded_tap_offsets(c, L, off.data());
  return off.data();
}
}  // namespace

bool chvec_applies(int64_t Co) {
  const int64_t cb = convpool_isa().chvec_channel_block();
  return Co > 0 && Co % cb == 0;
}

std::vector<float> chvec_forward_kernel(const float* w, int64_t G, int64_t Og, int64_t R) {
  std::vector<float> wt((size_t)(G * Og * R));
  for (int64_t g = 0; g < G; g++)
    for (int64_t o = 0; o < Og; o++)
      for (int64_t r = 0; r < R; r++) wt[(size_t)((g * R + r) * Og + o)] = w[(g * Og + o) * R + r];
  return wt;
}

std::vector<float> chvec_input_kernel(const float* w, int64_t G, int64_t Og, int64_t Cg, int64_t KK) {
  std::vector<float> wt((size_t)(G * Og * Cg * KK));
  for (int64_t g = 0; g < G; g++)
    for (int64_t o = 0; o < Og; o++)
      for (int64_t c = 0; c < Cg; c++)
        for (int64_t k = 0; k < KK; k++)
          wt[(size_t)(g * Og * KK * Cg + (o * KK + k) * Cg + c)] = w[((g * Og + o) * Cg + c) * KK + (KK - 1 - k)];
  return wt;
}

void conv_chvec_forward(const float* x, const float* wt, const float* bias, float* y, const ImplicitConv& c) {
  const PaddedLayout L(c);
  float* xp = conv_scratch(kScratchPadded, c.Ci * L.plane);
  pad_image(x, c, L, xp);
  convpool_isa().chvec_forward_image(xp, tap_offsets(c, L), c.Ci * c.KH * c.KW, L.Wp, c.OH(), c.OW(), wt, c.Co, bias,
                                     y);
}

void conv_chvec_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dwt,
                       bool accumulate, const ImplicitConv& c) {
  const PaddedLayout L(c);
  const int64_t img = c.Ci * L.plane, P = c.OH() * c.OW();
  float* xp = conv_scratch(kScratchChunkImages, nimg * img);
  float* dyt = conv_scratch(kScratchChunkGrads, nimg * P * c.Co);
  for (int64_t n = 0; n < nimg; n++) {
    pad_image(x + n * xstride, c, L, xp + n * img);
    // dy_n [Co, P] -> dyt_n [P, Co]
    const float* d = dy + n * dystride;
    float* t = dyt + n * P * c.Co;
    for (int64_t o = 0; o < c.Co; o++)
      for (int64_t p = 0; p < P; p++) t[p * c.Co + o] = d[o * P + p];
  }
  convpool_isa().chvec_weight_images(xp, img, nimg, tap_offsets(c, L), c.Ci * c.KH * c.KW, L.Wp, c.OH(), c.OW(), dyt,
                                     c.Co, dwt, accumulate);
}

void conv_dot_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dw,
                     bool accumulate, const ImplicitConv& c) {
  const PaddedLayout L(c);
  const int64_t img = c.Ci * L.plane;
  float* xp = conv_scratch(kScratchChunkImages, nimg * img);
  for (int64_t n = 0; n < nimg; n++) pad_image(x + n * xstride, c, L, xp + n * img);
  convpool_isa().wdot_weight_images(xp, img, nimg, tap_offsets(c, L), c.Ci * c.KH * c.KW, L.Wp, c.OH(), c.OW(), dy,
                                    dystride, c.Co, dw, accumulate);
}
}  // namespace st
