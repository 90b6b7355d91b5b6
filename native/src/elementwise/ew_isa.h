// Per-ISA kernels of the elementwise family: defined once in the *_kernel.inc files,
// compiled for each ISA (native/src/isa/*.cc), picked at run time by ew_isa().
// All of them run serially on the calling thread over the range they are given.
#pragma once
#include <cstdint>
#include "dispatch.h"

#define ST_EW_ISA_DECLS                                                                                          \
  void ew_unary_range(int op, const float* x, float* y, int64_t n, float alpha);                                 \
  void ew_binary_run(int op, const float* a, int64_t sa, const float* b, int64_t sb, void* out, int64_t n);      \
  void ew_clamp_range(const float* x, float* y, int64_t n, float lo, float hi);                                  \
  void ew_axpy_range(int64_t n, float a, const float* x, float* y);                                              \
  double ew_reduce_contig(int op, const float* x, int64_t n);                                                    \
  void ew_reduce_rows(int op, const float* x, int64_t rows, int64_t n, float* out);                              \
  void ew_reduce_cols(int op, const float* x, int64_t rows, int64_t width, int64_t ld, double* acc);             \
  double ew_sum_all_range(const float* x, int64_t n);                                                            \
  void ew_softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, bool log);                          \
  void ew_softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log); \
  void ew_ce_forward_rows(const float* logits, const int32_t* labels, int64_t rows, int64_t cols, int64_t ignore, \
                          float* loss, float* probs);                                                            \
  void ew_ce_backward_rows(const float* probs, const int32_t* labels, const float* dloss, int64_t rows,          \
                           int64_t cols, int64_t ignore, float* dlogits);

namespace st {
namespace avx512 { ST_EW_ISA_DECLS }
namespace avx2 { ST_EW_ISA_DECLS }
namespace scalar { ST_EW_ISA_DECLS }

// Function table of one ISA.
struct EwIsa {
  decltype(&scalar::ew_unary_range) unary_range;
  decltype(&scalar::ew_binary_run) binary_run;
  decltype(&scalar::ew_clamp_range) clamp_range;
  decltype(&scalar::ew_axpy_range) axpy_range;
  decltype(&scalar::ew_reduce_contig) reduce_contig;
  decltype(&scalar::ew_reduce_rows) reduce_rows;
  decltype(&scalar::ew_reduce_cols) reduce_cols;
  decltype(&scalar::ew_sum_all_range) sum_all_range;
  decltype(&scalar::ew_softmax_rows) softmax_rows;
  decltype(&scalar::ew_softmax_backward_rows) softmax_backward_rows;
  decltype(&scalar::ew_ce_forward_rows) ce_forward_rows;
  decltype(&scalar::ew_ce_backward_rows) ce_backward_rows;
};

#define ST_EW_TABLE(ns)                                                                                   \
  EwIsa {                                                                                                 \
    ns::ew_unary_range, ns::ew_binary_run, ns::ew_clamp_range, ns::ew_axpy_range, ns::ew_reduce_contig,   \
        ns::ew_reduce_rows, ns::ew_reduce_cols, ns::ew_sum_all_range, ns::ew_softmax_rows, ns::ew_softmax_backward_rows,      \
        ns::ew_ce_forward_rows, ns::ew_ce_backward_rows                                                   \
  }

inline const EwIsa& ew_isa() {
  static const EwIsa t512 = ST_EW_TABLE(avx512), t2 = ST_EW_TABLE(avx2), t1 = ST_EW_TABLE(scalar);
  switch (active_isa()) {
    case Isa::Avx512: return t512;
    case Isa::Avx2: return t2;
    default: return t1;
  }
}
#undef ST_EW_TABLE
}  // namespace st
