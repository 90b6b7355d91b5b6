// Selection and sorting. Sizes are trusted (checked by the binding layer).
// Order of floats: numeric, -0 == +0, NaN above +inf (all NaNs equal), ties broken by
// the lower index first; this makes every result unique and deterministic.
#pragma once
#include <cstdint>

namespace st {
// The k-th smallest (1 <= k <= n) of x[n], x untouched; -0 ranks below +0 here (the
// value returned compares equal either way). Throws std::invalid_argument on a NaN.
// Radix select on the order-preserving integer image of the floats: one (parallel)
// histogram pass over x, then the one bucket holding the answer is narrowed down.
float kth_value(const float* x, int64_t n, int64_t k);
// x [rows, cols] -> values, indices [rows, k]: per row the k largest (descending) or
// smallest (ascending) entries, 0 <= k <= cols.
void topk(const float* x, int64_t rows, int64_t cols, int64_t k, bool largest, float* values, int32_t* indices);
// x [rows, cols] -> values, indices [rows, cols]: stable sort of each row.
void sort_rows(const float* x, int64_t rows, int64_t cols, bool descending, float* values, int32_t* indices);
}  // namespace st
