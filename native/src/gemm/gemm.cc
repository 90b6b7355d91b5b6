// GEMM entry points. PLACEHOLDER naive loops, to be replaced by the packed SIMD kernels.
#include "gemm/gemm.h"

namespace st {
void sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis,
                  int act) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      float s = 0;
      for (int64_t k = 0; k < K; k++) s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      float c = alpha * s + (beta == 0.f ? 0.f : beta * C[i * ldc + j]);
      if (bias) c += bias_axis == 1 ? bias[j] : bias[i];
      if (act == 1 && c < 0) c = 0;
      C[i * ldc + j] = c;
    }
}
void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis, int act) {
  sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_axis, act);
}
}  // namespace st
