// Dispatch table of the per-ISA conv / pool / batchnorm inner kernels.
#include "conv/convpool_isa.h"
#include "dispatch.h"

namespace st {
#define ST_CONVPOOL_TABLE(ns) \
  {ns::conv_im2col,   ns::conv_col2im,  ns::pool_max_2x2s2_row,  ns::pool_max_row,   ns::bn_row_sum, \
   ns::bn_row_sqdev,  ns::bn_row_dot_centered, ns::bn_row_affine, ns::bn_row_backward,  \
   ns::chvec_channel_block, ns::chvec_forward_image, ns::chvec_weight_images, \
   ns::wdot_weight_images}
static const ConvPoolIsa k_avx512 = ST_CONVPOOL_TABLE(avx512);
static const ConvPoolIsa k_avx2 = ST_CONVPOOL_TABLE(avx2);
static const ConvPoolIsa k_scalar = ST_CONVPOOL_TABLE(scalar);
#undef ST_CONVPOOL_TABLE

const ConvPoolIsa& convpool_isa() {
  switch (active_isa()) {
    case Isa::Avx512: return k_avx512;
    case Isa::Avx2: return k_avx2;
    default: return k_scalar;
  }
}
}  // namespace st
