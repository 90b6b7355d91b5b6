// Reductions over the middle axis of x [outer, n, inner]: work splitting around the per-ISA
// kernels of reduce_kernel.inc, plus argmax / argmin and the double-precision total sum.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>
#include "elementwise/elementwise.h"
#include "elementwise/ew_isa.h"
#include "elementwise/parallel.h"

namespace st {

namespace {
constexpr int64_t kColTask = 512;     // columns per task when inner > 1
constexpr int64_t kMinChunk = 8192;   // fewest elements per chunk when one row is split
constexpr int64_t kMinRowChunk = 64;  // fewest rows per chunk when the rows are split

double combine(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::Max: return a != a ? a : (b != b ? b : (b > a ? b : a));
    case ReduceOp::Min: return a != a ? a : (b != b ? b : (b < a ? b : a));
    case ReduceOp::Prod: return a * b;
    default: return a + b;
  }
}
}  // namespace

void ew_reduce(ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out) {
  if (n == 0 && (op == ReduceOp::Max || op == ReduceOp::Min))
    throw std::invalid_argument(std::string(op == ReduceOp::Max ? "Max" : "Min") + " of an empty axis (n = 0)");
  const int64_t nout = outer * inner;
  if (nout == 0) return;
  if (n == 0) {
    const float v = op == ReduceOp::Mean ? NAN : op == ReduceOp::Prod ? 1.f : 0.f;
    for (int64_t i = 0; i < nout; i++) out[i] = v;
    return;
  }
  const EwIsa& isa = ew_isa();
  const int T = num_threads();
  const int64_t work = nout * n;
  auto fin = [&](double v) { return op == ReduceOp::Mean ? (float)(v / (double)n) : (float)v; };

  if (inner == 1) {
    // Each output is a contiguous run of n; split a run only when there are fewer rows than threads.
    int64_t c = outer >= T ? 1 : (T + outer - 1) / outer;
    c = std::min<int64_t>(c, std::max<int64_t>(1, n / kMinChunk));
    if (c == 1 || work < kEwSerialBelow) {
      parallel_ranges(outer, work, 1, [&](int64_t b, int64_t e) { isa.reduce_rows((int)op, x + b * n, e - b, n, out + b); });
      return;
    }
    std::vector<double> part(outer * c);
    parallel_ranges(outer * c, work, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; t++) {
        int64_t o = t / c, q = t % c, i0 = n * q / c, i1 = n * (q + 1) / c;
        part[t] = isa.reduce_contig((int)op, x + o * n + i0, i1 - i0);
      }
    });
    for (int64_t o = 0; o < outer; o++) {
      double v = part[o * c];
      for (int64_t q = 1; q < c; q++) v = combine(op, v, part[o * c + q]);
      out[o] = fin(v);
    }
    return;
  }

  // inner > 1: tasks are (outer index, column tile); rows are split only when tasks are few.
  const int64_t tiles = (inner + kColTask - 1) / kColTask, tasks = outer * tiles;
  int64_t c = tasks >= T ? 1 : (T + tasks - 1) / tasks;
  c = std::min<int64_t>(c, std::max<int64_t>(1, n / kMinRowChunk));
  if (c == 1 || work < kEwSerialBelow) {
    parallel_ranges(tasks, work, 1, [&](int64_t b, int64_t e) {
      double acc[kColTask];
      for (int64_t t = b; t < e; t++) {
        int64_t o = t / tiles, j0 = (t % tiles) * kColTask, w = std::min(kColTask, inner - j0);
        isa.reduce_cols((int)op, x + o * n * inner + j0, n, w, inner, acc);
        for (int64_t j = 0; j < w; j++) out[o * inner + j0 + j] = fin(acc[j]);
      }
    });
    return;
  }
  std::vector<double> part(c * nout);  // [c][outer, inner]
  parallel_ranges(tasks * c, work, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      int64_t q = t % c, tt = t / c, o = tt / tiles, j0 = (tt % tiles) * kColTask, w = std::min(kColTask, inner - j0);
      int64_t r0 = n * q / c, r1 = n * (q + 1) / c;
      isa.reduce_cols((int)op, x + (o * n + r0) * inner + j0, r1 - r0, w, inner, part.data() + q * nout + o * inner + j0);
    }
  });
  for (int64_t i = 0; i < nout; i++) {
    double v = part[i];
    for (int64_t q = 1; q < c; q++) v = combine(op, v, part[q * nout + i]);
    out[i] = fin(v);
  }
}

namespace {
// Is v a better candidate than the current best? NaN beats everything, the first NaN is kept.
template <bool IsMax> inline bool better(float v, float best) {
  if (best != best) return false;
  if (v != v) return true;
  return IsMax ? v > best : v < best;
}

template <bool IsMax> void arg_reduce_impl(const float* x, int64_t outer, int64_t n, int64_t inner, int32_t* out) {
  const int64_t work = outer * n * inner;
  if (inner == 1) {
    parallel_ranges(outer, work, 1, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const float* p = x + o * n;
        float best = p[0];
        int32_t bi = 0;
        for (int64_t i = 1; i < n; i++)
          if (better<IsMax>(p[i], best)) best = p[i], bi = (int32_t)i;
        out[o] = bi;
      }
    });
    return;
  }
  const int64_t tiles = (inner + kColTask - 1) / kColTask;
  parallel_ranges(outer * tiles, work, 1, [&](int64_t b, int64_t e) {
    float best[kColTask];
    for (int64_t t = b; t < e; t++) {
      int64_t o = t / tiles, j0 = (t % tiles) * kColTask, w = std::min(kColTask, inner - j0);
      const float* p = x + o * n * inner + j0;
      int32_t* oi = out + o * inner + j0;
      for (int64_t j = 0; j < w; j++) best[j] = p[j], oi[j] = 0;
      for (int64_t i = 1; i < n; i++) {
        const float* row = p + i * inner;
        for (int64_t j = 0; j < w; j++)
          if (better<IsMax>(row[j], best[j])) best[j] = row[j], oi[j] = (int32_t)i;
      }
    }
  });
}
}  // namespace

void ew_arg_reduce(bool is_max, const float* x, int64_t outer, int64_t n, int64_t inner, int32_t* out) {
  if (n == 0) throw std::invalid_argument("argmax/argmin of an empty axis (n = 0)");
  if (outer * inner == 0) return;
  if (is_max) arg_reduce_impl<true>(x, outer, n, inner, out);
  else arg_reduce_impl<false>(x, outer, n, inner, out);
}

double ew_sum_all(const float* x, int64_t n) {
  auto f = ew_isa().sum_all_range;
  const int T = num_threads();
  if (T <= 1 || n < 4 * kEwSerialBelow) return f(x, n);
  std::vector<double> part(T, 0.0);
  const int64_t piece = (n + T - 1) / T;
  parallel_ranges(T, n, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      int64_t i0 = std::min(n, t * piece), i1 = std::min(n, i0 + piece);
      part[t] = f(x + i0, i1 - i0);
    }
  });
  double s = 0;
  for (double v : part) s += v;
  return s;
}

}  // namespace st
