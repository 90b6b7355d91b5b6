// Splitting a range over the OpenMP threads, serially when it is small (the
// per-call overhead of a parallel region matters for small training steps).
#pragma once
#include <omp.h>
#include <algorithm>
#include <cstdint>
#include "threads.h"

namespace st {

constexpr int64_t kEwSerialBelow = 32768;  // elements: below this a kernel runs on one thread

// Calls f(begin, end) on disjoint pieces covering [0, n). Pieces are multiples of `align`
// (except the last); work = an estimate of the cost in elements, compared with kEwSerialBelow.
template <typename F> void parallel_ranges(int64_t n, int64_t work, int64_t align, F&& f) {
  int T = num_threads();
  int64_t max_pieces = (n + align - 1) / align;
  // Serial when small, and inside another parallel region (a kernel family calling ours per image).
  if (T <= 1 || work < kEwSerialBelow || max_pieces <= 1 || omp_in_parallel()) {
    if (n > 0) f((int64_t)0, n);
    return;
  }
  int P = (int)std::min<int64_t>(T, max_pieces);
#pragma omp parallel num_threads(P)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t units = max_pieces;
    int64_t b = units * t / nt * align, e = units * (t + 1) / nt * align;
    if (e > n) e = n;
    if (b < e) f(b, e);
  }
}

}  // namespace st
