// N-d broadcasting iteration for binary / where: dimensions are collapsed (size-1 dims
// dropped, adjacent dims merged where every operand is contiguous across them), then the
// flat output range is walked as runs along the innermost dimension.
#pragma once
#include <cstdint>
#include "elementwise/elementwise.h"

namespace st {

template <int NOP> struct StridedPlan {
  int nd = 0;                       // >= 1 after make()
  int64_t shape[kMaxDims];          // collapsed shape, outermost first
  int64_t st[NOP][kMaxDims];        // per-operand element strides
  int64_t total = 0;

  void make(const int64_t* shp, const int64_t* const* strides, int ndim) {
    total = 1;
    for (int d = 0; d < ndim; d++) total *= shp[d];
    nd = 0;
    for (int d = 0; d < ndim; d++) {
      if (shp[d] == 1) continue;
      if (nd > 0) {
        bool merge = true;  // previous (outer) dim folds into this one
        for (int k = 0; k < NOP; k++) merge = merge && st[k][nd - 1] == strides[k][d] * shp[d];
        if (merge) {
          shape[nd - 1] *= shp[d];
          for (int k = 0; k < NOP; k++) st[k][nd - 1] = strides[k][d];
          continue;
        }
      }
      shape[nd] = shp[d];
      for (int k = 0; k < NOP; k++) st[k][nd] = strides[k][d];
      nd++;
    }
    if (nd == 0) {
      nd = 1;
      shape[0] = 1;
      for (int k = 0; k < NOP; k++) st[k][0] = 0;
    }
  }

  // Calls f(off, pos, len) for the runs covering output range [begin, end): off[k] is the
  // element offset of operand k at output position pos, the run continues along the
  // innermost dimension with stride st[k][nd-1].
  template <typename F> void for_each_run(int64_t begin, int64_t end, F&& f) const {
    const int k_in = nd - 1;
    const int64_t inner = shape[k_in];
    int64_t idx[kMaxDims];
    int64_t base[NOP];
    int64_t o = begin / inner, j = begin % inner;
    for (int k = 0; k < NOP; k++) base[k] = 0;
    for (int d = k_in - 1; d >= 0; d--) {
      idx[d] = o % shape[d];
      o /= shape[d];
      for (int k = 0; k < NOP; k++) base[k] += idx[d] * st[k][d];
    }
    int64_t pos = begin;
    while (pos < end) {
      int64_t len = inner - j < end - pos ? inner - j : end - pos;
      int64_t off[NOP];
      for (int k = 0; k < NOP; k++) off[k] = base[k] + j * st[k][k_in];
      f(off, pos, len);
      pos += len;
      if (pos >= end) break;
      j = 0;
      for (int d = k_in - 1; d >= 0; d--) {  // odometer step over the outer dims
        for (int k = 0; k < NOP; k++) base[k] += st[k][d];
        if (++idx[d] < shape[d]) break;
        for (int k = 0; k < NOP; k++) base[k] -= st[k][d] * shape[d];
        idx[d] = 0;
      }
    }
  }
};

}  // namespace st
