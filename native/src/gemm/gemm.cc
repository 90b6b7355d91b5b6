// GEMM entry points: ISA dispatch and the split of C into one rectangle per thread.
//
// Each thread computes its own rectangle of C with the serial blocked kernel (gemm_kernel.inc), packing
// its own panels; no barriers inside. The grid (tm x tn rectangles) is chosen per shape to minimise
// per-thread compute plus packing: narrow convolution shapes (M = 6..50, N in the thousands) split N,
// tall ones ([784 x 300] weight gradients) split M.
#include "gemm/gemm.h"
#include <omp.h>
#include <new>
#include "dispatch.h"
#include "gemm/gemm_isa.h"
#include "threads.h"

namespace st {
namespace {

// Below this many multiply-adds a call stays on the calling thread: waking the OpenMP team costs
// more than it saves (lenet300's 64x100x10 layers are ~64K).
constexpr int64_t kParallelMinMacs = 192 * 1024;
// Each thread gets at least this much work.
constexpr int64_t kMinMacsPerThread = 96 * 1024;

void rect(const GemmProblem& p) {
  switch (active_isa()) {
    case Isa::Avx512: avx512::gemm_rect(p); break;
    case Isa::Avx2: avx2::gemm_rect(p); break;
    default: scalar::gemm_rect(p); break;
  }
}

GemmGeometry geometry() {
  switch (active_isa()) {
    case Isa::Avx512: return avx512::gemm_geometry();
    case Isa::Avx2: return avx2::gemm_geometry();
    default: return scalar::gemm_geometry();
  }
}

int64_t round_up(int64_t x, int64_t g) { return (x + g - 1) / g * g; }

// Boundary idx of `parts` near-equal parts of `total`, at multiples of `gran` (except the end).
int64_t split_at(int64_t total, int parts, int idx, int64_t gran) {
  if (idx >= parts) return total;
  int64_t b = (total * idx / parts + gran / 2) / gran * gran;
  return b < total ? b : total;
}

struct Grid {
  int tm, tn;
};

// Picks tm x tn = T minimising the largest rectangle's estimated cost: its multiply-adds (columns
// padded to the vector width) plus its packing work, weighted as ~8 multiply-adds per packed element.
Grid choose_grid(int64_t M, int64_t N, int64_t K, int T, const GemmGeometry& g) {
  Grid best{1, T};
  double best_cost = -1;
  for (int tm = 1; tm <= T; tm++) {
    if (T % tm) continue;
    const int tn = T / tm;
    const int64_t ms = (M + tm - 1) / tm, ns = round_up((N + tn - 1) / tn, g.vw);
    if (ms < 1 || (tm > 1 && ms < g.mr / 2) || (tn > 1 && ns < g.vw)) continue;
    const double cost = (double)ms * (double)ns * (double)K + 8.0 * (double)K * (double)(ms + ns);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = Grid{tm, tn};
    }
  }
  return best;
}

GemmProblem sub_problem(const GemmProblem& p, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  GemmProblem q = p;
  q.M = i1 - i0;
  q.N = j1 - j0;
  q.A = p.A + (p.ta ? i0 : i0 * p.lda);
  q.B = p.B + (p.tb ? j0 * p.ldb : j0);
  q.C = p.C + i0 * p.ldc + j0;
  if (p.bias) q.bias = p.bias + (p.bias_axis == 0 ? i0 : j0);
  return q;
}

}  // namespace

void sgemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis,
                  int act) {
  if (M <= 0 || N <= 0) return;
  rect(GemmProblem{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_axis, act});
}

void sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, int bias_axis, int act) {
  if (M <= 0 || N <= 0) return;
  const GemmProblem p{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, bias_axis, act};
  const int64_t macs = M * N * (K > 0 ? K : 1);
  int T = num_threads();
  if (macs < kParallelMinMacs || omp_in_parallel()) T = 1;
  if (T > 1 && macs / T < kMinMacsPerThread) T = (int)(macs / kMinMacsPerThread);
  if (T <= 1) {
    rect(p);
    return;
  }
  const GemmGeometry g = geometry();
  bool failed = false;  // an exception must not leave the parallel region (packing buffer allocation)
#pragma omp parallel num_threads(T)
  {
    // The team may be smaller than asked for: split for the team we got.
    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const Grid grid = choose_grid(M, N, K, nt, g);
    const int ti = tid / grid.tn, tj = tid % grid.tn;
    const int64_t i0 = split_at(M, grid.tm, ti, g.mr), i1 = split_at(M, grid.tm, ti + 1, g.mr);
    const int64_t j0 = split_at(N, grid.tn, tj, g.vw), j1 = split_at(N, grid.tn, tj + 1, g.vw);
    if (i1 > i0 && j1 > j0) {
      try {
        rect(sub_problem(p, i0, i1, j0, j1));
      } catch (...) {
#pragma omp atomic write
        failed = true;
      }
    }
  }
  if (failed) throw std::bad_alloc();
}
}  // namespace st
