// Channel-vector and dot-product convolution drivers (see conv_chvec.h): the padded image layouts and
// the per-image loops; the register tiles are per ISA (conv/chvec_kernel.inc).
#include "conv/conv_chvec.h"
#include <vector>
#include "conv/convpool_isa.h"
#include "conv/padded_image.h"
#include "conv/scratch.h"

namespace st {
namespace {
// The padded image for the kernels and where their reads start: tap r of output (oh, ow) reads
// xp[off[r] + oh*row + ow]. Stride 1: the implicit GEMM's layout (padded_image.h), row = Wp. Strided:
// each padded row (W + 2*PW columns) stored as its SW column phases one after another, Wh = ceil((W +
// 2*PW) / SW) floats each (padded column pc at (pc % SW)*Wh + pc / SW), so that the columns of
// consecutive outputs (pc = ow*SW + kw*DW) are consecutive floats of one phase; row = SH rows.
struct Padded {
  int64_t img, row;  // floats per image, step per output row
  const int64_t* off;
};

Padded padded_layout(const ImplicitConv& c) {
  thread_local std::vector<int64_t> off;
  off.resize((size_t)(c.Ci * c.KH * c.KW));
  if (!c.strided()) {
    const PaddedLayout L(c);
    padded_tap_offsets(c, L, off.data());
    return Padded{c.Ci * L.plane, L.Wp, off.data()};
  }
  const int64_t Wh = (c.W + 2 * c.PW + c.SW - 1) / c.SW, Wr = c.SW * Wh, plane = (c.H + 2 * c.PH) * Wr;
  for (int64_t ch = 0, r = 0; ch < c.Ci; ch++)
    for (int64_t kh = 0; kh < c.KH; kh++)
      for (int64_t kw = 0; kw < c.KW; kw++)
        off[(size_t)r++] = ch * plane + kh * c.DH * Wr + (kw * c.DW) % c.SW * Wh + kw * c.DW / c.SW;
  return Padded{c.Ci * plane, c.SH * Wr, off.data()};
}

// xp [img floats] <- x [Ci, H, W] in the layout of padded_layout.
void pad(const float* x, const ImplicitConv& c, float* xp) {
  if (!c.strided()) {
    pad_image(x, c, PaddedLayout(c), xp);
    return;
  }
  const int64_t Wh = (c.W + 2 * c.PW + c.SW - 1) / c.SW, Wr = c.SW * Wh, Hp = c.H + 2 * c.PH;
  for (int64_t ch = 0; ch < c.Ci; ch++)
    for (int64_t ph = 0; ph < Hp; ph++) {
      float* d = xp + (ch * Hp + ph) * Wr;
      const int64_t ih = ph - c.PH;
      if (ih < 0 || ih >= c.H) {
        zero_row(d, Wr);
        continue;
      }
      const float* s = x + (ch * c.H + ih) * c.W;
      for (int64_t q = 0; q < c.SW; q++, d += Wh)
        for (int64_t j = 0; j < Wh; j++) {
          const int64_t iw = j * c.SW + q - c.PW;  // input column of padded column j*SW + q
          d[j] = iw >= 0 && iw < c.W ? s[iw] : 0.f;
        }
    }
}
}  // namespace

int64_t chvec_padded_floats(const ImplicitConv& c) { return padded_layout(c).img; }

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
  const Padded L = padded_layout(c);
  float* xp = conv_scratch(kScratchPadded, L.img);
  pad(x, c, xp);
  convpool_isa().chvec_forward_image(xp, L.off, c.Ci * c.KH * c.KW, L.row, c.OH(), c.OW(), wt, c.Co, bias, y);
}

void conv_chvec_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dwt,
                       bool accumulate, const ImplicitConv& c) {
  const Padded L = padded_layout(c);
  const int64_t img = L.img, P = c.OH() * c.OW();
  float* xp = conv_scratch(kScratchChunkImages, nimg * img);
  float* dyt = conv_scratch(kScratchChunkGrads, nimg * P * c.Co);
  for (int64_t n = 0; n < nimg; n++) {
    pad(x + n * xstride, c, xp + n * img);
    // dy_n [Co, P] -> dyt_n [P, Co]
    const float* d = dy + n * dystride;
    float* t = dyt + n * P * c.Co;
    for (int64_t o = 0; o < c.Co; o++)
      for (int64_t p = 0; p < P; p++) t[p * c.Co + o] = d[o * P + p];
  }
  convpool_isa().chvec_weight_images(xp, img, nimg, L.off, c.Ci * c.KH * c.KW, L.row, c.OH(), c.OW(), dyt, c.Co, dwt,
                                     accumulate);
}

void conv_dot_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dw,
                     bool accumulate, const ImplicitConv& c) {
  const Padded L = padded_layout(c);
  float* xp = conv_scratch(kScratchChunkImages, nimg * L.img);
  for (int64_t n = 0; n < nimg; n++) pad(x + n * xstride, c, xp + n * L.img);
  convpool_isa().wdot_weight_images(xp, L.img, nimg, L.off, c.Ci * c.KH * c.KW, L.row, c.OH(), c.OW(), dy, dystride,
                                    c.Co, dw, accumulate);
}
}  // namespace st
