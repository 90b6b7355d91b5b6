// Optimizer updates: run-time choice of the per-ISA implementation (optim_kernel.inc).
#include "misc/optim.h"
#include "dispatch.h"

namespace st {
void sgd_update(float* p, const float* g, float* buf, const float* mask, int64_t n, const SgdParams& hp) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512::sgd_update(p, g, buf, mask, n, hp);
    case Isa::Avx2: return avx2::sgd_update(p, g, buf, mask, n, hp);
    default: return scalar::sgd_update(p, g, buf, mask, n, hp);
  }
}
void adam_update(float* p, const float* g, float* m, float* v, float* vmax, const float* mask, int64_t n,
                 const AdamParams& hp) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512::adam_update(p, g, m, v, vmax, mask, n, hp);
    case Isa::Avx2: return avx2::adam_update(p, g, m, v, vmax, mask, n, hp);
    default: return scalar::adam_update(p, g, m, v, vmax, mask, n, hp);
  }
}
}  // namespace st
