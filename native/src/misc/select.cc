// kthValue (radix select), topk and stable row sort (see select.h).
#include "misc/select.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>
#include "threads.h"

namespace st {
namespace {
// Order-preserving map float -> uint32 (negative: all bits flipped; else sign bit set).
inline uint32_t radix_key(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
}
inline float radix_unkey(uint32_t k) {
  const uint32_t b = (k & 0x80000000u) ? (k ^ 0x80000000u) : ~k;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
// The sort key of select.h: NaN highest, -0 folded onto +0.
inline uint32_t order_key(float f) {
  if (std::isnan(f)) return 0xFFFFFFFFu;
  return radix_key(f == 0.f ? 0.f : f);
}

constexpr int kTopBits = 11;  // first radix digit: bits 21..31
constexpr int64_t kSelectParallelMin = 1 << 18;

[[noreturn]] void throw_nan(const float* x, int64_t n) {
  int64_t i = 0;
  while (i < n && !std::isnan(x[i])) i++;
  throw std::invalid_argument("x[" + std::to_string(i) + "] is NaN; kthValue needs NaN-free input");
}

// Finds the bucket of a histogram holding the k-th (1-based) element; k becomes the rank within it.
int pick_bucket(const int64_t* hist, int bins, int64_t& k) {
  for (int b = 0; b < bins; b++) {
    if (k <= hist[b]) return b;
    k -= hist[b];
  }
  throw std::logic_error("kth_value: rank beyond the histogram");
}
}  // namespace

float kth_value(const float* x, int64_t n, int64_t k) {
  constexpr int bins = 1 << kTopBits;
  const int64_t parts = n >= kSelectParallelMin ? std::max(1, num_threads()) : 1;
  // Pass 1: per-part histograms of the top digit (and a NaN check).
  std::vector<int64_t> hist((size_t)parts * bins, 0);
  std::vector<char> nan(parts, 0);
#pragma omp parallel for schedule(static, 1) if (parts > 1)
  for (int64_t p = 0; p < parts; p++) {
    const int64_t lo = n * p / parts, hi = n * (p + 1) / parts;
    int64_t* h = &hist[(size_t)p * bins];
    bool any_nan = false;
    for (int64_t i = lo; i < hi; i++) {
      any_nan |= std::isnan(x[i]);
      h[radix_key(x[i]) >> (32 - kTopBits)]++;
    }
    nan[p] = any_nan;
  }
  for (int64_t p = 0; p < parts; p++)
    if (nan[p]) throw_nan(x, n);
  std::vector<int64_t> total(bins, 0);
  for (int64_t p = 0; p < parts; p++)
    for (int b = 0; b < bins; b++) total[b] += hist[(size_t)p * bins + b];
  const uint32_t top = (uint32_t)pick_bucket(total.data(), bins, k);

  // Pass 2: gather the keys of that bucket; each part knows where its share goes.
  std::vector<uint32_t> cand((size_t)total[top]);
  std::vector<int64_t> start(parts + 1, 0);
  for (int64_t p = 0; p < parts; p++) start[p + 1] = start[p] + hist[(size_t)p * bins + top];
#pragma omp parallel for schedule(static, 1) if (parts > 1)
  for (int64_t p = 0; p < parts; p++) {
    const int64_t lo = n * p / parts, hi = n * (p + 1) / parts;
    uint32_t* out = cand.data() + start[p];
    for (int64_t i = lo; i < hi; i++) {
      const uint32_t key = radix_key(x[i]);
      if ((key >> (32 - kTopBits)) == top) *out++ = key;
    }
  }

  // Remaining digits (bits 10..20, then 0..9) on the candidates only.
  uint32_t prefix = top << (32 - kTopBits);
  const int shifts[2] = {10, 0}, widths[2] = {11, 10};
  for (int d = 0; d < 2; d++) {
    const int sh = shifts[d], nb = 1 << widths[d];
    const uint32_t mask = (uint32_t)nb - 1;
    std::vector<int64_t> h(nb, 0);
    for (uint32_t key : cand) h[(key >> sh) & mask]++;
    const uint32_t digit = (uint32_t)pick_bucket(h.data(), nb, k);
    prefix |= digit << sh;
    if (d == 0) {
      size_t m = 0;
      for (uint32_t key : cand)
        if (((key >> sh) & mask) == digit) cand[m++] = key;
      cand.resize(m);
    }
  }
  return radix_unkey(prefix);
}

namespace {
// Row entries as (order key << 32 | column): ascending order of these is the order of
// select.h; for descending, the key is complemented (ties still lower column first).
void make_items(const float* row, int64_t cols, bool descending, uint64_t* items) {
  const uint32_t flip = descending ? 0xFFFFFFFFu : 0u;
  for (int64_t j = 0; j < cols; j++) items[j] = ((uint64_t)(order_key(row[j]) ^ flip) << 32) | (uint64_t)j;
}

// Stable LSD radix sort of items by their upper 32 bits (items arrive in column order,
// so equal keys stay in column order). tmp has room for n items.
void radix_sort_items(uint64_t* items, uint64_t* tmp, int64_t n) {
  int64_t count[256];
  uint64_t *a = items, *b = tmp;
  for (int shift = 32; shift < 64; shift += 8) {
    std::fill(count, count + 256, 0);
    for (int64_t i = 0; i < n; i++) count[(a[i] >> shift) & 255]++;
    if (std::any_of(count, count + 256, [&](int64_t c) { return c == n; })) continue;  // one bucket: no-op pass
    int64_t sum = 0;
    for (int v = 0; v < 256; v++) {
      const int64_t c = count[v];
      count[v] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) b[count[(a[i] >> shift) & 255]++] = a[i];
    std::swap(a, b);
  }
  if (a != items) std::memcpy(items, a, (size_t)n * sizeof(uint64_t));
}

constexpr int64_t kRadixSortMin = 1024;  // std::sort below this row length
constexpr int64_t kRowsParallelMin = 1 << 15;

template <typename F> void for_rows(int64_t rows, int64_t cols, F&& f) {
  const bool par = num_threads() > 1 && rows > 1 && rows * cols >= kRowsParallelMin;
#pragma omp parallel if (par)
  {
    std::vector<uint64_t> items((size_t)cols), tmp;
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < rows; r++) f(r, items, tmp);
  }
}
}  // namespace

void topk(const float* x, int64_t rows, int64_t cols, int64_t k, bool largest, float* values, int32_t* indices) {
  if (k == 0 || rows == 0) return;
  for_rows(rows, cols, [&](int64_t r, std::vector<uint64_t>& items, std::vector<uint64_t>&) {
    const float* row = x + r * cols;
    make_items(row, cols, largest, items.data());
    uint64_t *b = items.data(), *e = b + cols;
    if (k * 8 <= cols) {
      std::partial_sort(b, b + k, e);
    } else {
      if (k < cols) std::nth_element(b, b + k, e);
      std::sort(b, b + k);
    }
    for (int64_t j = 0; j < k; j++) {
      const int32_t c = (int32_t)(uint32_t)b[j];
      indices[r * k + j] = c;
      values[r * k + j] = row[c];
    }
  });
}

void sort_rows(const float* x, int64_t rows, int64_t cols, bool descending, float* values, int32_t* indices) {
  if (cols == 0 || rows == 0) return;
  for_rows(rows, cols, [&](int64_t r, std::vector<uint64_t>& items, std::vector<uint64_t>& tmp) {
    const float* row = x + r * cols;
    make_items(row, cols, descending, items.data());
    if (cols >= kRadixSortMin) {
      tmp.resize((size_t)cols);
      radix_sort_items(items.data(), tmp.data(), cols);
    } else {
      std::sort(items.begin(), items.end());  // keys are unique, so this is stable
    }
    for (int64_t j = 0; j < cols; j++) {
      const int32_t c = (int32_t)(uint32_t)items[j];
      indices[r * cols + j] = c;
      values[r * cols + j] = row[c];
    }
  });
}
}  // namespace st
