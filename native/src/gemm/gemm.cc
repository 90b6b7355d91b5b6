// GEMM entry points: ISA dispatch, the thread count for a call, split-K for shapes whose C is too
// small to share out (convolution weight gradients: C [6 x 25] with K = 36864), and K slabs for
// extremely deep products.
#include "gemm/gemm.h"
#include <omp.h>
#include <atomic>
#include <cstddef>
#include <vector>
#include "dispatch.h"
#include "gemm/gemm_isa.h"
#include "threads.h"

namespace st {
namespace {

// Below this many multiply-adds a call stays on the calling thread: waking the OpenMP team costs
// more than it saves (measured crossover on 2 cores: ~250K, e.g. 64x64x64).
constexpr int64_t kParallelMinMacs = 256 * 1024;
// Each thread gets at least this much work.
constexpr int64_t kMinMacsPerThread = 128 * 1024;
// Split K (see prefer_split_k) only this deep; always when C has fewer tiles than this per thread.
constexpr int64_t kSplitKMaxUnitsPerThread = 3;
constexpr int64_t kSplitKMinK = 1024;

// The kernels pack all of K for a block of rows (at least MR of them); past this depth the call is cut
// into K slabs, accumulated through C, so packing buffers stay bounded (8 rows x 64K floats = 2 MB).
constexpr int64_t kMaxKSlab = 64 * 1024;

void run_isa(const GemmProblem& p, int threads) {
  switch (active_isa()) {
    case Isa::Avx512: avx512::gemm_run(p, threads); break;
    case Isa::Avx2: avx2::gemm_run(p, threads); break;
    default: scalar::gemm_run(p, threads); break;
  }
}

void run(const GemmProblem& p, int threads) {
  if (p.K <= kMaxKSlab) {
    run_isa(p, threads);
    return;
  }
  const int64_t nslab = (p.K + kMaxKSlab - 1) / kMaxKSlab;
  for (int64_t s = 0; s < nslab; s++) {
    const int64_t k0 = p.K * s / nslab, k1 = p.K * (s + 1) / nslab;
    GemmProblem q = p;
    q.K = k1 - k0;
    q.A = p.A + (p.ta ? k0 * p.lda : k0);
    if (p.boff && !p.tb) q.boff = p.boff + k0;  // (rows of B at offsets: see GemmProblem::boff)
    else q.B = p.B + (p.tb ? k0 : k0 * p.ldb);
    if (s > 0) q.beta = 1.f;  // accumulate onto the previous slabs
    if (s < nslab - 1) {      // bias and activation once, at the end
      q.bias = nullptr;
      q.act = 0;
    }
    run_isa(q, threads);
  }
}

GemmTile tile() {
  switch (active_isa()) {
    case Isa::Avx512: return avx512::gemm_tile();
    case Isa::Avx2: return avx2::gemm_tile();
    default: return scalar::gemm_tile();
  }
}

// Whether to split K rather than C among T threads. Splitting C makes every thread pack all of one
// operand (all of B when C is split by rows, as gemm_run does with fewer than 4 column panels per
// thread; all of A when split by columns), which dominates when K is deep and C small; split-K packs
// each operand once but has to add up T partial results. Also when C has fewer than 3 tiles per thread.
bool prefer_split_k(const GemmProblem& p, int T) {
  if (p.K < kSplitKMinK) return false;
  const GemmTile g = tile();
  const int64_t col_panels = (p.N + g.nr - 1) / g.nr, tiles = (p.M + g.mr - 1) / g.mr * col_panels;
  if (tiles < kSplitKMaxUnitsPerThread * T) return true;
  const double duplicated = (double)p.K * (double)(col_panels < 4 * T ? p.N : p.M);
  return duplicated > 4.0 * (double)p.M * (double)p.N * T;
}

// Each thread multiplies a slice of K into its own [M, N] buffer, then the team sums the buffers
// row by row and applies the epilogue.
void split_k(const GemmProblem& p, int threads) {
  static thread_local std::vector<float> scratch;
  const int64_t MN = p.M * p.N;
  scratch.resize((size_t)(MN * threads));
  float* const part = scratch.data();
  std::atomic<int> finished{0};
#pragma omp parallel num_threads(threads)
  {
    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t k0 = p.K * tid / nt, k1 = p.K * (tid + 1) / nt;
    GemmProblem q = p;
    q.K = k1 - k0;
    q.A = p.A + (p.ta ? k0 * p.lda : k0);
    if (p.boff && !p.tb) q.boff = p.boff + k0;  // (rows of B at offsets: see GemmProblem::boff)
    else q.B = p.B + (p.tb ? k0 : k0 * p.ldb);
    q.alpha = 1.f;
    q.beta = 0.f;
    q.C = part + MN * tid;
    q.ldc = p.N;
    q.bias = nullptr;
    q.act = 0;
    run(q, 1);  // K = 0 writes zeros
    finished.fetch_add(1, std::memory_order_acq_rel);
    team_wait(finished, nt);  // (see gemm_isa.h), then the barrier orders the partial results
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < p.M; i++) {
      float* c = p.C + i * p.ldc;
      for (int64_t j = 0; j < p.N; j++) {
        float s = 0.f;
        for (int t = 0; t < nt; t++) s += part[MN * t + i * p.N + j];
        float x = p.alpha * s;
        if (p.beta != 0.f) x += p.beta * c[j];
        if (p.bias) x += p.bias_axis == 1 ? p.bias[j] : p.bias[i];
        if (p.act == 1) x = x < 0.f ? 0.f : x;
        c[j] = x;
      }
    }
  }
}

}  // namespace

void sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis,
                  int act) {
  if (M <= 0 || N <= 0) return;
  run(GemmProblem{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_axis, act}, 1);
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis, int act) {
  sgemm_problem(GemmProblem{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_axis, act}, true);
}

void sgemm_problem(const GemmProblem& p, bool threaded) {
  const int64_t M = p.M, N = p.N, K = p.K;
  if (M <= 0 || N <= 0) return;
  if (!threaded) {
    run(p, 1);
    return;
  }
  const double macs = (double)M * (double)N * (double)(K > 0 ? K : 1);  // (may exceed int64)
  int T = num_threads();
  if (macs < kParallelMinMacs || omp_in_parallel()) T = 1;
  if (T > 1 && macs / T < kMinMacsPerThread) T = (int)(macs / kMinMacsPerThread);
  if (T > 1) {
    if (prefer_split_k(p, T)) {
      split_k(p, T);
      return;
    }
    const GemmTile g = tile();
    const int64_t tiles = (M + g.mr - 1) / g.mr * ((N + g.nr - 1) / g.nr);
    if (tiles < T) T = (int)tiles;
  }
  run(p, T < 1 ? 1 : T);
}
}  // namespace st
