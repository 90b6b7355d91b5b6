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

constexpr int64_t kSelectParallelMin = 1 << 18;

[[noreturn]] void throw_nan(const float* x, int64_t n) {
  int64_t i = 0;
  while (i < n && !std::isnan(x[i])) i++;
  throw std::invalid_argument("x[" + std::to_string(i) + "] is NaN; kthValue needs NaN-free input");
}

// Radix digits, most significant first: bits 21..31, 10..20, 0..9.
struct Digit { int shift, bins; };
constexpr Digit kDigits[3] = {{21, 2048}, {10, 2048}, {0, 1024}};

// The keys being narrowed down: the floats of x (first digit) or a gathered key buffer.
struct KeySource {
  const float* x;
  const uint32_t* keys;
  uint32_t at(int64_t i) const { return x ? radix_key(x[i]) : keys[i]; }
};

// Per-part histograms hist[part][bins] of the digit d over the keys of src[0, m) whose
// bits above the digit equal `prefix` (under `above`); other keys are not counted.
// Four interleaved sub-histograms (plus a dump bin for non-matching keys) keep runs of
// equal digits from serialising on one counter and avoid a branch per key.
// Returns true if some float of src.x is NaN.
bool histogram(const KeySource& src, int64_t m, int64_t parts, const Digit& d, uint32_t above, uint32_t prefix,
               std::vector<int64_t>& hist) {
  const int bins = d.bins, stride = bins + 1;
  const uint32_t dmask = (uint32_t)bins - 1;
  hist.assign((size_t)parts * bins, 0);
  std::vector<char> nan(parts, 0);
#pragma omp parallel for schedule(static, 1) if (parts > 1)
  for (int64_t p = 0; p < parts; p++) {
    const int64_t lo = m * p / parts, hi = m * (p + 1) / parts;
    std::vector<uint32_t> sub(4 * (size_t)stride, 0);  // 4 x 2049 x 4 B: fits L1
    int64_t* h = &hist[(size_t)p * bins];
    auto bin = [&](uint32_t key) { return ((key & above) == prefix) ? (key >> d.shift) & dmask : (uint32_t)bins; };
    bool any_nan = false;
    for (int64_t c0 = lo; c0 < hi; c0 += (int64_t)1 << 30) {  // uint32 counters cannot overflow
      const int64_t c1 = std::min(hi, c0 + ((int64_t)1 << 30));
      int64_t i = c0;
      if (src.x) {
        for (; i + 4 <= c1; i += 4) {
          const float a = src.x[i], b = src.x[i + 1], c = src.x[i + 2], e = src.x[i + 3];
          any_nan |= (a != a) | (b != b) | (c != c) | (e != e);
          sub[bin(radix_key(a))]++;
          sub[stride + bin(radix_key(b))]++;
          sub[2 * stride + bin(radix_key(c))]++;
          sub[3 * stride + bin(radix_key(e))]++;
        }
        for (; i < c1; i++) {
          any_nan |= std::isnan(src.x[i]);
          sub[bin(radix_key(src.x[i]))]++;
        }
      } else {
        for (; i + 4 <= c1; i += 4) {
          sub[bin(src.keys[i])]++;
          sub[stride + bin(src.keys[i + 1])]++;
          sub[2 * stride + bin(src.keys[i + 2])]++;
          sub[3 * stride + bin(src.keys[i + 3])]++;
        }
        for (; i < c1; i++) sub[bin(src.keys[i])]++;
      }
      for (int b = 0; b < bins; b++) {
        h[b] += (int64_t)sub[b] + sub[stride + b] + sub[2 * stride + b] + sub[3 * stride + b];
        sub[b] = sub[stride + b] = sub[2 * stride + b] = sub[3 * stride + b] = 0;
      }
    }
    nan[p] = any_nan;
  }
  for (char c : nan)
    if (c) return true;
  return false;
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
  KeySource src{x, nullptr};
  int64_t m = n;
  std::vector<uint32_t> buf[2];
  int cur = 0;
  uint32_t above = 0, prefix = 0;  // key bits fixed so far
  std::vector<int64_t> hist;
  for (int level = 0; level < 3; level++) {
    const Digit& d = kDigits[level];
    const int64_t parts = m >= kSelectParallelMin ? std::max(1, num_threads()) : 1;
    if (histogram(src, m, parts, d, above, prefix, hist)) throw_nan(x, n);
    std::vector<int64_t> total(d.bins, 0);
    for (int64_t p = 0; p < parts; p++)
      for (int b = 0; b < d.bins; b++) total[b] += hist[(size_t)p * d.bins + b];
    const uint32_t digit = (uint32_t)pick_bucket(total.data(), d.bins, k);
    above |= ((uint32_t)d.bins - 1) << d.shift;
    prefix |= digit << d.shift;
    if (level == 2) break;
    // Gather the keys still in play when that shrinks the next scan enough; otherwise
    // the next level scans the same keys again, filtering on the longer prefix.
    const int64_t count = total[digit];
    if (count > m / 4) continue;
    std::vector<int64_t> start(parts + 1, 0);
    for (int64_t p = 0; p < parts; p++) start[p + 1] = start[p] + hist[(size_t)p * d.bins + digit];
    std::vector<uint32_t>& out = buf[cur];
    out.resize((size_t)count);
#pragma omp parallel for schedule(static, 1) if (parts > 1)
    for (int64_t p = 0; p < parts; p++) {
      const int64_t lo = m * p / parts, hi = m * (p + 1) / parts;
      uint32_t* o = out.data() + start[p];
      for (int64_t i = lo; i < hi; i++) {
        const uint32_t key = src.at(i);
        if ((key & above) == prefix) *o++ = key;
      }
    }
    src = KeySource{nullptr, out.data()};
    m = count;
    cur ^= 1;
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
