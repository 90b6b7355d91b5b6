// N-API bindings of the elementwise, reduction and softmax / cross-entropy kernels
// (see src/backend/backend.ts for the contract). Every size, stride and buffer length is
// checked here; the kernels in native/src/elementwise trust them.
#include <cmath>
#include <string>
#include "bind_util.h"
#include "elementwise/elementwise.h"

namespace stb {
namespace {

constexpr double kMaxElems = 9007199254740992.0;  // 2^53: anything larger cannot be a real buffer

// a*b*c of sizes checked with Args::size, rejecting absurd products instead of overflowing.
int64_t product(const Args& a, const char* what, double x, double y, double z = 1) {
  double p = x * y * z;
  if (p > kMaxElems) a.error(std::string(what) + " is too large (" + std::to_string(p) + " elements)");
  return (int64_t)p;
}

template <typename E> E op_arg(const Args& a, size_t idx) {
  int64_t v = a.integer(idx, "op");
  if (v < 0 || v >= (int64_t)E::Count)
    a.error("op must be 0.." + std::to_string((int)E::Count - 1) + ", got " + std::to_string(v));
  return (E)v;
}

// A shape or strides Int32Array of non-negative entries into dst; returns its length.
int dims_arg(const Args& a, size_t idx, const char* name, int64_t* dst) {
  const int32_t* p = a.arr<int32_t>(idx, name, 0);
  size_t len = a.length(idx, name);
  if (len > (size_t)st::kMaxDims)
    a.error(std::string(name) + " has " + std::to_string(len) + " dimensions, at most " + std::to_string(st::kMaxDims) + " are supported");
  for (size_t d = 0; d < len; d++) {
    if (p[d] < 0) a.error(std::string(name) + "[" + std::to_string(d) + "] = " + std::to_string(p[d]) + " must be >= 0");
    dst[d] = p[d];
  }
  return (int)len;
}

// Strides of an operand of the broadcast: same length as the shape; returns the buffer
// length the operand needs (1 + the largest index reached; 0 if the shape is empty).
int64_t strided_need(const Args& a, size_t idx, const char* name, int64_t* dst, const int64_t* shape, int nd, int64_t total) {
  int n = dims_arg(a, idx, name, dst);
  if (n != nd)
    a.error(std::string(name) + " has " + std::to_string(n) + " entries but outShape has " + std::to_string(nd));
  if (total == 0) return 0;
  double need = 1;
  for (int d = 0; d < nd; d++) need += (double)(shape[d] - 1) * (double)dst[d];
  if (need > kMaxElems) a.error(std::string(name) + " reach too far");
  return (int64_t)need;
}

int64_t shape_arg(const Args& a, size_t idx, int64_t* shape, int& nd) {
  nd = dims_arg(a, idx, "outShape", shape);
  double total = 1;
  for (int d = 0; d < nd; d++) total *= (double)shape[d];
  if (total > kMaxElems) a.error("outShape is too large");
  return (int64_t)total;
}

void Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary", 5);
  auto op = op_arg<st::UnaryOp>(a, 0);
  int64_t n = a.size(3, "n");
  const float* x = a.arr<float>(1, "x", n);
  float* y = a.arr<float>(2, "y", n);
  float alpha = (float)a.num(4, "alpha");
  guard(a, [&] { st::ew_unary(op, x, y, n, alpha); });
}

void Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary", 7);
  auto op = op_arg<st::BinaryOp>(a, 0);
  int64_t shape[st::kMaxDims], as[st::kMaxDims], bs[st::kMaxDims];
  int nd;
  int64_t total = shape_arg(a, 6, shape, nd);
  int64_t na = strided_need(a, 2, "aStrides", as, shape, nd, total);
  int64_t nb = strided_need(a, 4, "bStrides", bs, shape, nd, total);
  const float* pa = a.arr<float>(1, "a", na);
  const float* pb = a.arr<float>(3, "b", nb);
  void* out = st::is_comparison(op) ? (void*)a.arr<uint8_t>(5, "out (comparison result)", total)
                                    : (void*)a.arr<float>(5, "out", total);
  guard(a, [&] { st::ew_binary(op, pa, as, pb, bs, out, shape, nd); });
}

void Where(const Napi::CallbackInfo& info) {
  Args a(info, "where", 8);
  int64_t shape[st::kMaxDims], cs[st::kMaxDims], as[st::kMaxDims], bs[st::kMaxDims];
  int nd;
  int64_t total = shape_arg(a, 7, shape, nd);
  int64_t nc = strided_need(a, 1, "condStrides", cs, shape, nd, total);
  int64_t na = strided_need(a, 3, "aStrides", as, shape, nd, total);
  int64_t nb = strided_need(a, 5, "bStrides", bs, shape, nd, total);
  const uint8_t* pc = a.arr<uint8_t>(0, "cond", nc);
  const float* pa = a.arr<float>(2, "a", na);
  const float* pb = a.arr<float>(4, "b", nb);
  float* out = a.arr<float>(6, "out", total);
  guard(a, [&] { st::ew_where(pc, cs, pa, as, pb, bs, out, shape, nd); });
}

void Clamp(const Napi::CallbackInfo& info) {
  Args a(info, "clamp", 5);
  int64_t n = a.size(2, "n");
  const float* x = a.arr<float>(0, "x", n);
  float* y = a.arr<float>(1, "y", n);
  float lo = (float)a.num(3, "lo"), hi = (float)a.num(4, "hi");
  guard(a, [&] { st::ew_clamp(x, y, n, lo, hi); });
}

void Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy", 4);
  int64_t n = a.size(0, "n");
  float alpha = (float)a.num(1, "a");
  const float* x = a.arr<float>(2, "x", n);
  float* y = a.arr<float>(3, "y", n);
  guard(a, [&] { st::ew_axpy(n, alpha, x, y); });
}

void Reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce", 6);
  auto op = op_arg<st::ReduceOp>(a, 0);
  int64_t outer = a.size(2, "outer"), n = a.size(3, "n"), inner = a.size(4, "inner");
  if (n == 0 && (op == st::ReduceOp::Max || op == st::ReduceOp::Min))
    a.error(std::string(op == st::ReduceOp::Max ? "Max" : "Min") + " over an empty axis (n = 0) is undefined");
  int64_t total = product(a, "outer*n*inner", (double)outer, (double)n, (double)inner);
  int64_t nout = product(a, "outer*inner", (double)outer, (double)inner);
  const float* x = a.arr<float>(1, "x", total);
  float* out = a.arr<float>(5, "out", nout);
  guard(a, [&] { st::ew_reduce(op, x, outer, n, inner, out); });
}

void ArgReduce(const Napi::CallbackInfo& info) {
  Args a(info, "argReduce", 6);
  bool is_max = a.flag(0, "isMax");
  int64_t outer = a.size(2, "outer"), n = a.size(3, "n"), inner = a.size(4, "inner");
  if (n == 0) a.error("argmax/argmin over an empty axis (n = 0) is undefined");
  int64_t total = product(a, "outer*n*inner", (double)outer, (double)n, (double)inner);
  int64_t nout = product(a, "outer*inner", (double)outer, (double)inner);
  const float* x = a.arr<float>(1, "x", total);
  int32_t* out = a.arr<int32_t>(5, "out", nout);
  guard(a, [&] { st::ew_arg_reduce(is_max, x, outer, n, inner, out); });
}

Napi::Value SumAll(const Napi::CallbackInfo& info) {
  Args a(info, "sumAll", 2);
  int64_t n = a.size(1, "n");
  const float* x = a.arr<float>(0, "x", n);
  double s = 0;
  guard(a, [&] { s = st::ew_sum_all(x, n); });
  return Napi::Number::New(info.Env(), s);
}

void Softmax(const Napi::CallbackInfo& info) {
  Args a(info, "softmax", 5);
  int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  int64_t total = product(a, "rows*cols", (double)rows, (double)cols);
  const float* x = a.arr<float>(0, "x", total);
  float* y = a.arr<float>(1, "y", total);
  bool log = a.flag(4, "log");
  guard(a, [&] { st::ew_softmax(x, y, rows, cols, log); });
}

void SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward", 6);
  int64_t rows = a.size(3, "rows"), cols = a.size(4, "cols");
  int64_t total = product(a, "rows*cols", (double)rows, (double)cols);
  const float* y = a.arr<float>(0, "y", total);
  const float* dy = a.arr<float>(1, "dy", total);
  float* dx = a.arr<float>(2, "dx", total);
  bool log = a.flag(5, "log");
  guard(a, [&] { st::ew_softmax_backward(y, dy, dx, rows, cols, log); });
}

void CrossEntropyForward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyForward", 7);
  int64_t rows = a.size(2, "rows"), cols = a.size(3, "cols");
  int64_t total = product(a, "rows*cols", (double)rows, (double)cols);
  const float* logits = a.arr<float>(0, "logits", total);
  const int32_t* labels = a.arr<int32_t>(1, "labels", rows);
  int64_t ignore = a.integer(4, "ignoreIndex");
  float* loss = a.arr<float>(5, "lossPerRow", rows);
  float* probs = a.arr<float>(6, "probs", total);
  guard(a, [&] { st::ew_cross_entropy_forward(logits, labels, rows, cols, ignore, loss, probs); });
}

void CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyBackward", 7);
  int64_t rows = a.size(3, "rows"), cols = a.size(4, "cols");
  int64_t total = product(a, "rows*cols", (double)rows, (double)cols);
  const float* probs = a.arr<float>(0, "probs", total);
  const int32_t* labels = a.arr<int32_t>(1, "labels", rows);
  const float* dloss = a.arr<float>(2, "dlossPerRow", rows);
  int64_t ignore = a.integer(5, "ignoreIndex");
  float* dlogits = a.arr<float>(6, "dlogits", total);
  guard(a, [&] { st::ew_cross_entropy_backward(probs, labels, dloss, rows, cols, ignore, dlogits); });
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("where", Napi::Function::New(env, Where));
  exports.Set("clamp", Napi::Function::New(env, Clamp));
  exports.Set("axpy", Napi::Function::New(env, Axpy));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce));
  exports.Set("sumAll", Napi::Function::New(env, SumAll));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
  exports.Set("crossEntropyForward", Napi::Function::New(env, CrossEntropyForward));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward));
}
}  // namespace stb
