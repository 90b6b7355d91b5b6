// Dispatch table of the per-ISA conv / pool / batchnorm inner kernels.
#include "conv/convpool_isa.h"
#include "dispatch.h"

namespace st {
#define ST_CONVPOOL_TABLE(ns) \
  { ns::im2col, ns::col2im, ns::maxpool_2x2s2_row, ns::maxpool_row, ns::row_sum, ns::row_sqdev, ns::row_dot_centered, ns::row_affine, ns::row_bn_backward }
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
