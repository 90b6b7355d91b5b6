// Strided copies, gather and scatter-add of rows (see copy.h).
#include "misc/copy.h"
#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>
#include "threads.h"

namespace st {
namespace {
constexpr int64_t kCopyParallelMin = 1 << 16;  // elements; serial below

// A set of dims, outer to inner: sizes and the two element strides.
struct Dims {
  std::vector<int64_t> n, s, d;
  int rank() const { return (int)n.size(); }
  int64_t count() const {
    int64_t c = 1;
    for (int64_t v : n) c *= v;
    return c;
  }
  void push(int64_t size, int64_t sstride, int64_t dstride) {
    n.push_back(size);
    s.push_back(sstride);
    d.push_back(dstride);
  }
};

// Calls f(src_off, dst_off) for the row-major linear indices [lo, hi) of dims o.
template <typename F> void walk(const Dims& o, int64_t lo, int64_t hi, int64_t so, int64_t dof, F&& f) {
  const int r = o.rank();
  if (lo >= hi) return;
  std::vector<int64_t> idx(r > 0 ? r : 1, 0);
  int64_t rem = lo;
  for (int k = r - 1; k >= 0; k--) {
    idx[k] = rem % o.n[k];
    rem /= o.n[k];
    so += idx[k] * o.s[k];
    dof += idx[k] * o.d[k];
  }
  for (int64_t t = lo; t < hi; t++) {
    f(so, dof);
    for (int k = r - 1; k >= 0; k--) {
      so += o.s[k];
      dof += o.d[k];
      if (++idx[k] < o.n[k]) break;
      so -= o.n[k] * o.s[k];
      dof -= o.n[k] * o.d[k];
      idx[k] = 0;
    }
  }
}

// walk over all of o, split into contiguous index ranges over threads when the whole
// copy (count * work elements) is large.
template <typename F> void walk_parallel(const Dims& o, int64_t work, int64_t so, int64_t dof, F&& f) {
  const int64_t count = o.count();
  const int nt = num_threads();
  if (nt <= 1 || count < 2 || count * work < kCopyParallelMin) return walk(o, 0, count, so, dof, f);
  const int64_t parts = std::min<int64_t>(count, (int64_t)nt * 4);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t p = 0; p < parts; p++) walk(o, count * p / parts, count * (p + 1) / parts, so, dof, f);
}

// Drops unit dims, orders dims by decreasing dst stride (so the dst-contiguous dim is
// innermost; valid because dst elements are distinct) and merges adjacent dims that
// are contiguous in both src and dst. Returns false when there is nothing to copy.
bool simplify(const int64_t* ss, const int64_t* ds, const int64_t* shape, int rank, Dims& out) {
  std::vector<int> order;
  for (int k = 0; k < rank; k++) {
    if (shape[k] == 0) return false;
    if (shape[k] != 1) order.push_back(k);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return ds[a] > ds[b]; });
  for (int k : order) {
    const int r = out.rank();
    if (r > 0 && out.s[r - 1] == shape[k] * ss[k] && out.d[r - 1] == shape[k] * ds[k]) {
      out.n[r - 1] *= shape[k];
      out.s[r - 1] = ss[k];
      out.d[r - 1] = ds[k];
    } else {
      out.push(shape[k], ss[k], ds[k]);
    }
  }
  return true;
}

// dst[i*da + j] = src[i + j*sb] for i < A, j < B: cache-blocked, one work item per
// (outer index, block of i).
template <typename T>
void transpose(const T* src, T* dst, const Dims& outer, int64_t A, int64_t da, int64_t B, int64_t sb) {
  constexpr int64_t kB = 32;
  const int64_t bi = B >= kB ? kB : std::max<int64_t>(kB, 1024 / B);  // keep items sizeable when B is small
  const int64_t iblocks = (A + bi - 1) / bi;
  const int64_t items = outer.count() * iblocks;
  auto item = [&](int64_t t) {
    const int64_t o = t / iblocks, i0 = (t % iblocks) * bi, i1 = std::min(A, i0 + bi);
    walk(outer, o, o + 1, 0, 0, [&](int64_t so, int64_t dof) {
      const T* s = src + so;
      T* d = dst + dof;
      for (int64_t j0 = 0; j0 < B; j0 += kB) {
        const int64_t j1 = std::min(B, j0 + kB);
        for (int64_t i = i0; i < i1; i++) {
          T* drow = d + i * da;
          const T* scol = s + i;
          for (int64_t j = j0; j < j1; j++) drow[j] = scol[j * sb];
        }
      }
    });
  };
  if (num_threads() > 1 && items > 1 && outer.count() * A * B >= kCopyParallelMin) {
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t t = 0; t < items; t++) item(t);
  } else {
    for (int64_t t = 0; t < items; t++) item(t);
  }
}

template <typename T>
void copy_typed(const T* src, int64_t src_off, const int64_t* ss, T* dst, int64_t dst_off, const int64_t* ds,
                const int64_t* shape, int rank) {
  Dims dims;
  if (!simplify(ss, ds, shape, rank, dims)) return;
  src += src_off;
  dst += dst_off;
  const int r = dims.rank();
  if (r == 0) {  // a single element
    dst[0] = src[0];
    return;
  }
  const int in = r - 1;
  const int64_t len = dims.n[in], sin = dims.s[in], din = dims.d[in];
  Dims outer;
  if (din == 1 && sin == 1) {  // contiguous runs
    for (int k = 0; k < in; k++) outer.push(dims.n[k], dims.s[k], dims.d[k]);
    if (outer.count() == 1 && len >= kCopyParallelMin && num_threads() > 1) {  // one long run: split it
      const int64_t parts = (int64_t)num_threads() * 4;
#pragma omp parallel for schedule(static)
      for (int64_t p = 0; p < parts; p++) {
        const int64_t lo = len * p / parts, hi = len * (p + 1) / parts;
        std::memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T));
      }
      return;
    }
    walk_parallel(outer, len, 0, 0, [&](int64_t so, int64_t dof) {
      std::memcpy(dst + dof, src + so, (size_t)len * sizeof(T));
    });
    return;
  }
  if (din == 1) {
    int a = -1;  // a src-contiguous dim other than the innermost: a transpose
    for (int k = in - 1; k >= 0 && a < 0; k--)
      if (dims.s[k] == 1) a = k;
    if (a >= 0) {
      for (int k = 0; k < in; k++)
        if (k != a) outer.push(dims.n[k], dims.s[k], dims.d[k]);
      transpose(src, dst, outer, dims.n[a], dims.d[a], len, sin);
      return;
    }
  }
  for (int k = 0; k < in; k++) outer.push(dims.n[k], dims.s[k], dims.d[k]);
  walk_parallel(outer, len, 0, 0, [&](int64_t so, int64_t dof) {
    const T* s = src + so;
    T* d = dst + dof;
    if (din == 1 && sin == 0) {
      std::fill(d, d + len, s[0]);
    } else {
      for (int64_t j = 0; j < len; j++) d[j * din] = s[j * sin];
    }
  });
}

void check_rows(const char* what, const int32_t* index, int64_t count, int64_t rows) {
  for (int64_t i = 0; i < count; i++)
    if (index[i] < 0 || index[i] >= rows)
      throw std::out_of_range(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(index[i]) +
                              " is out of range for " + std::to_string(rows) + " rows");
}
}  // namespace

void strided_copy(const void* src, int64_t src_off, const int64_t* ss, void* dst, int64_t dst_off,
                  const int64_t* ds, const int64_t* shape, int rank, int esize) {
  if (esize == 4)
    copy_typed(static_cast<const uint32_t*>(src), src_off, ss, static_cast<uint32_t*>(dst), dst_off, ds, shape, rank);
  else if (esize == 1)
    copy_typed(static_cast<const uint8_t*>(src), src_off, ss, static_cast<uint8_t*>(dst), dst_off, ds, shape, rank);
  else
    throw std::invalid_argument("strided_copy: element size must be 1 or 4");
}

void gather_rows(const float* x, int64_t rows, int64_t row_len, const int32_t* index, int64_t count, float* out) {
  check_rows("index", index, count, rows);
  const bool par = num_threads() > 1 && count > 1 && count * row_len >= kCopyParallelMin;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < count; i++)
    std::memcpy(out + i * row_len, x + (int64_t)index[i] * row_len, (size_t)row_len * sizeof(float));
}

void scatter_add_rows(const float* dout, const int32_t* index, int64_t count, int64_t row_len, float* dx,
                      int64_t rows) {
  check_rows("index", index, count, rows);
  // Threads split the columns, never the rows: duplicate indices then never race and
  // each element sums its contributions in the order of i.
  constexpr int64_t kCols = 256;
  const int64_t blocks = (row_len + kCols - 1) / kCols;
  const bool par = num_threads() > 1 && blocks > 1 && count * row_len >= kCopyParallelMin;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t c0 = b * kCols, c1 = std::min(row_len, c0 + kCols);
    for (int64_t i = 0; i < count; i++) {
      const float* s = dout + i * row_len;
      float* d = dx + (int64_t)index[i] * row_len;
      for (int64_t c = c0; c < c1; c++) d[c] += s[c];
    }
  }
}
}  // namespace st
