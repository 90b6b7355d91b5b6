// Internal C++ API of the elementwise, reduction and softmax / cross-entropy family
// (contract: src/backend/backend.ts). Sizes are trusted here: the binding layer has
// checked every buffer length. Op codes are the enums of backend.ts.
#pragma once
#include <cstdint>

namespace st {

enum class UnaryOp : int {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, Sigmoid, Tanh, Square, Reciprocal, LeakyRelu, PowScalar,
  AddScalar, MulScalar, Step, LeakyReluStep, Log1p, Expm1, Floor, Ceil, Round, RSubScalar, Count
};
enum class BinaryOp : int {
  Add, Sub, Mul, Div, Pow, Max, Min, Eq, Ne, Lt, Le, Gt, Ge, ReluBackward, TanhBackward, SigmoidBackward, Count
};
enum class ReduceOp : int { Sum, Mean, Max, Min, Prod, SumSquares, SumAbs, CountNonzero, Count };

inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::Ge; }

constexpr int kMaxDims = 16;  // most dimensions binary/where accept

// y[i] = op(x[i]; alpha), i < n. y may equal x.
void ew_unary(UnaryOp op, const float* x, float* y, int64_t n, float alpha);
// out[idx] = op(a[idx . a_strides], b[idx . b_strides]) for every idx of shape[ndim]; out is
// contiguous, float* for arithmetic ops and uint8_t* for comparisons. Strides >= 0.
void ew_binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
               void* out, const int64_t* shape, int ndim);
// out[idx] = cond[...] ? a[...] : b[...], broadcasting as ew_binary.
void ew_where(const uint8_t* cond, const int64_t* c_strides, const float* a, const int64_t* a_strides,
              const float* b, const int64_t* b_strides, float* out, const int64_t* shape, int ndim);
// y[i] = min(max(x[i], lo), hi); NaN x stays NaN, a NaN bound is ignored, lo > hi gives hi. y may equal x.
void ew_clamp(const float* x, float* y, int64_t n, float lo, float hi);
// y[i] += a * x[i].
void ew_axpy(int64_t n, float a, const float* x, float* y);

// x [outer, n, inner] -> out [outer, inner]. n == 0: Sum-like 0, Mean NaN, Prod 1, Max/Min throw.
void ew_reduce(ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out);
// First index of the max (min) along n; a NaN counts as the extreme (first NaN wins). n > 0.
void ew_arg_reduce(bool is_max, const float* x, int64_t outer, int64_t n, int64_t inner, int32_t* out);
// Sum of x[0..n) accumulated in double.
double ew_sum_all(const float* x, int64_t n);

// Row softmax / log-softmax of x [rows, cols]; y may equal x.
void ew_softmax(const float* x, float* y, int64_t rows, int64_t cols, bool log);
// dx from y and dy [rows, cols]; dx may equal dy.
void ew_softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log);
// Throws std::invalid_argument naming the row and value of the first label outside 0..cols-1
// that is not ignore_index.
void ew_check_labels(const int32_t* labels, int64_t rows, int64_t cols, int64_t ignore_index);
// loss [rows], probs [rows, cols]; labels checked first.
void ew_cross_entropy_forward(const float* logits, const int32_t* labels, int64_t rows, int64_t cols,
                              int64_t ignore_index, float* loss, float* probs);
// dlogits [rows, cols]; may equal probs.
void ew_cross_entropy_backward(const float* probs, const int32_t* labels, const float* dloss, int64_t rows,
                               int64_t cols, int64_t ignore_index, float* dlogits);

}  // namespace st
