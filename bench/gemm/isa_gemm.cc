// The GEMM microkernels for one ISA, for the standalone benchmark (the addon compiles them through
// native/src/isa/*.cc together with the other kernel families). Compile with -DST_ISA_AVX512,
// -DST_ISA_AVX2 or -DST_ISA_SCALAR and the matching -m flags; run.sh does.
#include "simd/simd.h"
#include "gemm/gemm_kernel.inc"
