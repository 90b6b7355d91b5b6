// Internal C++ API of the GEMM family, for other kernel families (convolution).
//
//   C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias)
//   A: [M,K] row stride lda, or [K,M] when trans_a. B: [K,N] ldb, or [N,K] when trans_b.
//   beta == 0: C is not read. bias: nullptr, length N (bias_axis 1) or length M (bias_axis 0).
//   act: 0 none, 1 relu.
//
// sgemm splits the work over st::num_threads() threads (one thread below ~256K multiply-adds, or
// when called inside a parallel region); sgemm_serial runs on the calling thread only and enters no
// OpenMP construct (for callers that parallelise over images themselves; safe to call from several
// threads at once: packing buffers are per thread). Accumulation is in float32.
// C must not overlap A, B or bias. Sizes are trusted here: the binding layer has checked them.
#pragma once
#include <cstdint>

namespace st {
struct GemmProblem;
// The GEMM of a filled-in problem (gemm_isa.h: also B rows at arbitrary offsets); threaded: as sgemm,
// else as sgemm_serial.
void sgemm_problem(const GemmProblem& p, bool threaded);
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis, int act);
void sgemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias,
                  int bias_axis, int act);
}  // namespace st
