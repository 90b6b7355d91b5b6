// Interface between the GEMM driver (gemm.cc: argument handling, thread split)
// and the per-ISA blocked kernels (gemm_kernel.inc, compiled once per ISA).
//
// gemm_rect computes one rectangle of C on the calling thread:
//   C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias)
// with the same conventions as st::sgemm (gemm.h); the pointers are already
// offset to the rectangle's first row/column.
#pragma once
#include <cstdint>

namespace st {
struct GemmProblem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  const float* bias;  // nullptr, or offset so that bias[i] (axis 0) / bias[j] (axis 1) is this rectangle's
  int bias_axis;
  int act;
};

// Register-block geometry of one ISA: rows per microkernel (mr) and columns (nr).
struct GemmGeometry {
  int mr, nr, vw;
};

namespace avx512 { void gemm_rect(const GemmProblem& p); GemmGeometry gemm_geometry(); }
namespace avx2 { void gemm_rect(const GemmProblem& p); GemmGeometry gemm_geometry(); }
namespace scalar { void gemm_rect(const GemmProblem& p); GemmGeometry gemm_geometry(); }
}  // namespace st
