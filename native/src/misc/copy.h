// Data movement kernels. Sizes are trusted (checked by the binding layer), except the
// row indices of gather_rows / scatter_add_rows, which are data: those kernels check
// every index before touching the output and throw std::out_of_range naming the
// position and the value, so a bad index never writes anything.
#pragma once
#include <cstdint>

namespace st {
// Strided N-d copy of elements of esize bytes (1 or 4):
//   dst[dst_off + idx . ds] = src[src_off + idx . ss] for every idx < shape[rank].
// Strides are >= 0 (0 broadcasts the source); dst elements must be distinct.
// Unit dims are dropped and adjacent dims merged where both sides are contiguous;
// then contiguous innermost runs are memcpy'd, a src-contiguous dim against the
// dst-contiguous dim is a cache-blocked transpose (matrix transpose, NCHW<->NHWC),
// and anything else is a strided inner loop. Large copies use OpenMP.
void strided_copy(const void* src, int64_t src_off, const int64_t* ss, void* dst, int64_t dst_off,
                  const int64_t* ds, const int64_t* shape, int rank, int esize);

// x [rows, row_len], index [count] -> out [count, row_len], out[i] = x[index[i]].
void gather_rows(const float* x, int64_t rows, int64_t row_len, const int32_t* index, int64_t count, float* out);
// dout [count, row_len], index [count], dx [rows, row_len]: dx[index[i]] += dout[i], in order
// of i for every element (so the sums are bit-identical whatever the thread count).
void scatter_add_rows(const float* dout, const int32_t* index, int64_t count, int64_t row_len, float* dx,
                      int64_t rows);
}  // namespace st
