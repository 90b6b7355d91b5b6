// Interface between the GEMM driver (gemm.cc: argument handling, thread split)
// and the per-ISA blocked kernels (gemm_kernel.inc, compiled once per ISA).
//
// gemm_run computes C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias) with the same
// conventions as st::sgemm (gemm.h), on `threads` OpenMP threads (1: on the calling thread only, no
// OpenMP construct is entered). gemm_tile: the register tile (MR x NR), the finest pieces of C the
// kernels can share out among threads.
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
  const float* bias;  // nullptr, or length M (bias_axis 0) / N (bias_axis 1)
  int bias_axis;
  int act;
};

struct GemmTile {
  int mr, nr;
};

namespace avx512 {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace avx512
namespace avx2 {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace avx2
namespace scalar {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace scalar
}  // namespace st
