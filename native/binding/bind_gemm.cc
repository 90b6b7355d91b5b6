// N-API bindings of the gemm kernel family (see src/backend/backend.ts for the contract).
#include <cstdint>
#include <string>
#include "bind_util.h"
#include "gemm/gemm.h"

namespace stb {
namespace {

// Elements a row-major [rows, cols] matrix with row stride ld occupies.
size_t span(int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : (size_t)((rows - 1) * ld + cols);
}

bool overlap(const float* a, size_t na, const float* b, size_t nb) {
  if (!na || !nb) return false;
  const uintptr_t a0 = (uintptr_t)a, a1 = (uintptr_t)(a + na), b0 = (uintptr_t)b, b1 = (uintptr_t)(b + nb);
  return a0 < b1 && b0 < a1;
}

// sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, biasAxis, act)
void Sgemm(const Napi::CallbackInfo& info) {
  Args a(info, "sgemm", 16);
  const bool ta = a.flag(0, "transA"), tb = a.flag(1, "transB");
  const int64_t M = a.size(2, "M"), N = a.size(3, "N"), K = a.size(4, "K");
  const double alpha = a.num(5, "alpha");
  const int64_t lda = a.size(7, "lda"), ldb = a.size(9, "ldb");
  const double beta = a.num(10, "beta");
  const int64_t ldc = a.size(12, "ldc");
  const int64_t axis = a.integer(14, "biasAxis"), act = a.integer(15, "act");
  if (axis != 0 && axis != 1) a.error("biasAxis must be 0 (per row) or 1 (per column), got " + std::to_string(axis));
  if (act != 0 && act != 1) a.error("act must be 0 (none) or 1 (relu), got " + std::to_string(act));
  // Stored shapes: A [M,K] or [K,M] (transA), B [K,N] or [N,K] (transB), C [M,N].
  const int64_t arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
  auto ld_check = [&](int64_t ld, int64_t cols, const char* name, const char* what) {
    if (ld < cols)
      a.error(std::string(name) + " = " + std::to_string(ld) + " is less than the row length " + what + " = " +
              std::to_string(cols));
  };
  ld_check(lda, acols, "lda", ta ? "M (transA)" : "K");
  ld_check(ldb, bcols, "ldb", tb ? "K (transB)" : "N");
  ld_check(ldc, N, "ldc", "N");
  const size_t na = span(arows, acols, lda), nb = span(brows, bcols, ldb), nc = span(M, N, ldc);
  const float* A = a.arr<float>(6, "A", na);
  const float* B = a.arr<float>(8, "B", nb);
  float* C = a.arr<float>(11, "C", nc);
  const size_t nbias = (size_t)(axis == 1 ? N : M);
  const float* bias = a.arr_or_null<float>(13, "bias", nbias);
  if (overlap(C, nc, A, na)) a.error("C must not overlap A");
  if (overlap(C, nc, B, nb)) a.error("C must not overlap B");
  if (bias && overlap(C, nc, bias, nbias)) a.error("C must not overlap bias");
  guard(a, [&] {
    st::sgemm(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc, bias, (int)axis, (int)act);
  });
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) { exports.Set("sgemm", Napi::Function::New(env, Sgemm)); }
}  // namespace stb
