// Convolution with output channels in the vector lanes ("channel-vector"), for layers whose output
// channel count is a multiple of the kernels' channel block (32 with AVX-512): ResNet's 32- and
// 64-channel stages, their stride-2 first convolutions included (the padded image is then stored by
// column phase, so the columns that consecutive outputs read are still consecutive floats;
// conv_chvec.cc). The implicit GEMM (conv_implicit.h) puts output positions in the lanes and pays for
// the padding columns of its wide rows (8x8 images: 9 computed per 8 kept) and for part-filled column
// panels; here a register tile is 8 positions of one output row (or 8 kernel taps) x 32 channels, read
// straight from the padded image and a channel-contiguous copy of the kernel, so no lane is wasted and
// nothing is packed per image. Measured on ResNet-20 (batch 64, 2 threads, ms per call, implicit GEMM ->
// channel-vector): 8x8x64 layer forward 2.0 -> 1.5, input gradient 2.1 -> 1.5, weight gradient 2.5 -> 1.6;
// 16x16x32 layer 1.75 -> 1.5, 1.84 -> 1.5, 2.1 -> 1.6. Blocks of 16 channels (16 positions x 1 vector)
// were tried for the 32x32x16 layer and lost (forward 1.8 -> 2.45, weight gradient 2.2 -> 2.5): with
// one broadcast per FMA the tile is bound by loads, so those layers keep the implicit GEMM.
// Stride 2 (im2col + GEMM -> channel-vector): 32x32x16 -> 16x16x32 forward 1.2 -> 1.1 ms, weight
// gradient 1.24 -> 1.16; 16x16x32 -> 8x8x64 1.23 -> 0.94 and 1.28 -> 1.08.
//
//   forward / input gradient, one image:  y [Co, OH*OW] = sum_r xcol [r, p] * wt [r, Co]   (r < Ci*KH*KW)
//   weight gradient, a run of images:     dwt [R, Co]  = sum_n,p xcol_n [r, p] * dy_n [Co, p]
#pragma once
#include <cstdint>
#include <vector>
#include "conv/conv_implicit.h"

namespace st {
// Whether the kernels of the active ISA take Co output channels.
bool chvec_applies(int64_t Co);

// The kernel channel-contiguous, per group: wt [G][Cg*KH*KW, Og] from w [O, Cg, KH, KW].
std::vector<float> chvec_forward_kernel(const float* w, int64_t G, int64_t Og, int64_t R);
// The kernel of the input gradient (the flipped, transposed kernel) channel-contiguous, per group:
// wt [G][Og*KH*KW, Cg] with wt[(o*KK + k)*Cg + c] = w[o, c, KK-1-k] (KK = KH*KW).
std::vector<float> chvec_input_kernel(const float* w, int64_t G, int64_t Og, int64_t Cg, int64_t KK);

// Floats of one image's padded copy (what conv_chvec_weight and conv_dot_weight hold per image).
int64_t chvec_padded_floats(const ImplicitConv& c);

// y [Co, OH, OW] = conv(x [Ci, H, W]) with wt [Ci*KH*KW, Co] (+ bias [Co] or null), on the calling thread.
void conv_chvec_forward(const float* x, const float* wt, const float* bias, float* y, const ImplicitConv& c);

// dwt [Ci*KH*KW, Co] = (accumulate ? dwt : 0) + the weight gradient of nimg images: image n's input at
// x + n*xstride ([Ci, H, W]) and output gradient at dy + n*dystride ([Co, OH, OW]). On the calling thread;
// its scratch holds all nimg padded images and gradients (keep nimg small enough for L2).
void conv_chvec_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dwt,
                       bool accumulate, const ImplicitConv& c);

// The same weight gradient (any stride) by dot products along output positions, into dw [Co, Ci*KH*KW]
// (the kernel's own layout), for layers with too few output channels for the channel blocks (ResNet's
// 16-channel stage, batch 64, 2 threads: 2.2 -> 1.5 ms per call; LeNet-5 conv1: 0.5 -> 0.27). Output
// rows of at least 16 positions keep its vectors full.
void conv_dot_weight(const float* x, int64_t xstride, const float* dy, int64_t dystride, int64_t nimg, float* dw,
                     bool accumulate, const ImplicitConv& c);
}  // namespace st
