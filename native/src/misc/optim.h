// Optimizer updates, in place, elementwise over n entries (torch.optim semantics, see
// src/backend/backend.ts). Every hyperparameter is rounded to float32 once; derived
// scalars (1 - dampening, 1 - beta, lr / bias correction, ...) are computed in double
// from the unrounded values and then rounded, as PyTorch's Python-float scalars are.
// Each float32 operation is rounded on its own (no FMA contraction), in the order the
// reference backend writes, so every ISA gives the same bits as reference/optim.ts.
//
//   sgd:  p[n], g[n], buf[n] (nullptr when momentum == 0), mask[n] or nullptr
//   adam: p[n], g[n], m[n], v[n], vmax[n] (nullptr unless amsgrad), mask[n] or nullptr
// mask[i] == 0 forces p, buf / m, v, vmax to exactly +0 at i.
// Large n is split over OpenMP threads (elementwise, so the result is thread-independent).
#pragma once
#include <cstdint>

namespace st {
struct SgdParams {
  float lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, first_step;
};
struct AdamParams {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
  float decay_factor;      // 1 - lr * wd, for decoupled (AdamW) decay
  float step_size;         // lr / (1 - beta1^step)
  float bias2_sqrt;        // sqrt(1 - beta2^step)
  bool decoupled, amsgrad;
};

void sgd_update(float* p, const float* g, float* buf, const float* mask, int64_t n, const SgdParams& hp);
void adam_update(float* p, const float* g, float* m, float* v, float* vmax, const float* mask, int64_t n,
                 const AdamParams& hp);

// One implementation per ISA (optim_kernel.inc), chosen at run time by the functions above.
#define ST_OPTIM_DECLARE(ns)                                                                                   \
  namespace ns {                                                                                               \
  void sgd_update(float* p, const float* g, float* buf, const float* mask, int64_t n, const SgdParams& hp);     \
  void adam_update(float* p, const float* g, float* m, float* v, float* vmax, const float* mask, int64_t n,    \
                   const AdamParams& hp);                                                                      \
  }
ST_OPTIM_DECLARE(scalar)
ST_OPTIM_DECLARE(avx2)
ST_OPTIM_DECLARE(avx512)
#undef ST_OPTIM_DECLARE
}  // namespace st
