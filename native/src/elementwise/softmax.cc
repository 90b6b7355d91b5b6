// Softmax, log-softmax and cross-entropy over rows: label checks and work splitting
// around the per-ISA row kernels of softmax_kernel.inc.
#include <stdexcept>
#include <string>
#include "elementwise/elementwise.h"
#include "elementwise/ew_isa.h"
#include "elementwise/parallel.h"

namespace st {

// exp costs about 8 adds: weight the serial threshold accordingly.
static int64_t row_work(int64_t rows, int64_t cols) { return rows * cols * 8; }

void ew_softmax(const float* x, float* y, int64_t rows, int64_t cols, bool log) {
  if (cols == 0) return;
  auto f = ew_isa().softmax_rows;
  parallel_ranges(rows, row_work(rows, cols), 1,
                  [&](int64_t b, int64_t e) { f(x + b * cols, y + b * cols, e - b, cols, log); });
}

void ew_softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log) {
  if (cols == 0) return;
  auto f = ew_isa().softmax_backward_rows;
  parallel_ranges(rows, row_work(rows, cols), 1,
                  [&](int64_t b, int64_t e) { f(y + b * cols, dy + b * cols, dx + b * cols, e - b, cols, log); });
}

void ew_check_labels(const int32_t* labels, int64_t rows, int64_t cols, int64_t ignore_index) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t l = labels[r];
    if (l != ignore_index && (l < 0 || l >= cols))
      throw std::invalid_argument("label " + std::to_string(l) + " at row " + std::to_string(r) +
                                  " is out of range 0.." + std::to_string(cols - 1) + " (ignoreIndex " +
                                  std::to_string(ignore_index) + ")");
  }
}

void ew_cross_entropy_forward(const float* logits, const int32_t* labels, int64_t rows, int64_t cols,
                              int64_t ignore_index, float* loss, float* probs) {
  ew_check_labels(labels, rows, cols, ignore_index);
  auto f = ew_isa().ce_forward_rows;
  parallel_ranges(rows, row_work(rows, cols), 1, [&](int64_t b, int64_t e) {
    f(logits + b * cols, labels + b, e - b, cols, ignore_index, loss + b, probs + b * cols);
  });
}

void ew_cross_entropy_backward(const float* probs, const int32_t* labels, const float* dloss, int64_t rows,
                               int64_t cols, int64_t ignore_index, float* dlogits) {
  ew_check_labels(labels, rows, cols, ignore_index);
  auto f = ew_isa().ce_backward_rows;
  parallel_ranges(rows, rows * cols, 1, [&](int64_t b, int64_t e) {
    f(probs + b * cols, labels + b, dloss + b, e - b, cols, ignore_index, dlogits + b * cols);
  });
}

}  // namespace st
