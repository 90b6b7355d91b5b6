// The SIMD kernel families compiled for one ISA (see native/src/simd/simd.h).
// Each .inc defines its functions inside namespace st::ST_NS.
#define ST_ISA_AVX512
#include "simd/simd.h"
#include "isa/isa_kernels.inc"
