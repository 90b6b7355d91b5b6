// N-API bindings of the misc kernel family: random numbers, optimizer updates, data
// movement, selection (contract: src/backend/backend.ts). Every size, length and value
// range is checked here, so bad input throws a JS Error and never reaches a kernel.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>
#include "bind_util.h"
#include "misc/copy.h"
#include "misc/optim.h"
#include "misc/rng.h"
#include "misc/select.h"

namespace stb {
namespace {
std::string num_str(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// The generator state: a Uint32Array of exactly 4 elements, not all zero unless seeding.
uint32_t* rng_state(const Args& a, bool seeding) {
  uint32_t* s = a.arr<uint32_t>(0, "state", 4);
  if (a.length(0, "state") != 4) a.error("state must be a Uint32Array of length 4, got length " + std::to_string(a.length(0, "state")));
  if (!seeding && (s[0] | s[1] | s[2] | s[3]) == 0) a.error("state is all zero (not a valid xoshiro128** state); seed it with rngSeed");
  return s;
}

double finite(const Args& a, size_t idx, const char* name) {
  const double d = a.num(idx, name);
  if (!std::isfinite(d)) a.error(std::string(name) + " must be finite, got " + num_str(d));
  return d;
}

Napi::Value RngSeed(const Napi::CallbackInfo& info) {
  Args a(info, "rngSeed", 2);
  uint32_t* s = rng_state(a, true);
  const double seed = a.num(1, "seed");
  if (!(std::fabs(seed) <= 9007199254740991.0) || seed != std::trunc(seed))
    a.error("seed must be a safe integer (|seed| <= 2^53 - 1), got " + num_str(seed));
  st::rng_seed(s, (uint64_t)(int64_t)seed);
  return info.Env().Undefined();
}

Napi::Value RngUniform(const Napi::CallbackInfo& info) {
  Args a(info, "rngUniform", 5);
  uint32_t* s = rng_state(a, false);
  const int64_t n = a.size(2, "n");
  float* out = a.arr<float>(1, "out", n);
  const double low = finite(a, 3, "low"), high = finite(a, 4, "high");
  if (!(low <= high)) a.error("low must be <= high, got low " + num_str(low) + ", high " + num_str(high));
  st::rng_uniform(s, out, n, low, high);
  return info.Env().Undefined();
}

Napi::Value RngNormal(const Napi::CallbackInfo& info) {
  Args a(info, "rngNormal", 5);
  uint32_t* s = rng_state(a, false);
  const int64_t n = a.size(2, "n");
  float* out = a.arr<float>(1, "out", n);
  const double mean = finite(a, 3, "mean"), sd = finite(a, 4, "std");
  if (sd < 0) a.error("std must be >= 0, got " + num_str(sd));
  st::rng_normal(s, out, n, mean, sd);
  return info.Env().Undefined();
}

Napi::Value RngBernoulli(const Napi::CallbackInfo& info) {
  Args a(info, "rngBernoulli", 4);
  uint32_t* s = rng_state(a, false);
  const int64_t n = a.size(2, "n");
  float* out = a.arr<float>(1, "out", n);
  const double p = a.num(3, "p");
  if (!(p >= 0 && p <= 1)) a.error("p must be in [0, 1], got " + num_str(p));
  st::rng_bernoulli(s, out, n, p);
  return info.Env().Undefined();
}

Napi::Value RngInt(const Napi::CallbackInfo& info) {
  Args a(info, "rngInt", 5);
  uint32_t* s = rng_state(a, false);
  const int64_t n = a.size(2, "n");
  int32_t* out = a.arr<int32_t>(1, "out", n);
  const double low = a.num(3, "low"), high = a.num(4, "high");
  if (low != std::trunc(low) || high != std::trunc(high) || !(low >= -2147483648.0) || !(high <= 2147483648.0) ||
      !(low < high))
    a.error("need integers -2^31 <= low < high <= 2^31, got low " + num_str(low) + ", high " + num_str(high));
  st::rng_int(s, out, n, (int64_t)low, (int64_t)high);
  return info.Env().Undefined();
}

Napi::Value RngPermutation(const Napi::CallbackInfo& info) {
  Args a(info, "rngPermutation", 3);
  uint32_t* s = rng_state(a, false);
  const int64_t n = a.size(2, "n");
  int32_t* out = a.arr<int32_t>(1, "out", n);
  st::rng_permutation(s, out, n);
  return info.Env().Undefined();
}

Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "sgdUpdate", 11);
  const int64_t n = a.size(4, "n");
  float* p = a.arr<float>(0, "p", n);
  const float* g = a.arr<float>(1, "g", n);
  const float* mask = a.arr_or_null<float>(3, "mask", n);
  const double lr = finite(a, 5, "lr"), momentum = finite(a, 6, "momentum"), dampening = finite(a, 7, "dampening");
  const double wd = finite(a, 8, "weightDecay");
  const bool nesterov = a.flag(9, "nesterov"), first = a.flag(10, "firstStep");
  float* buf = nullptr;
  if (momentum != 0) {
    buf = a.arr_or_null<float>(2, "buf", n);
    if (!buf) a.error("buf must be a Float32Array when momentum != 0");
  }
  st::SgdParams hp{(float)lr, (float)momentum, (float)(1.0 - dampening), (float)wd, nesterov, first};
  st::sgd_update(p, g, buf, mask, n, hp);
  return info.Env().Undefined();
}

Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "adamUpdate", 15);
  const int64_t n = a.size(6, "n");
  float* p = a.arr<float>(0, "p", n);
  const float* g = a.arr<float>(1, "g", n);
  float* m = a.arr<float>(2, "m", n);
  float* v = a.arr<float>(3, "v", n);
  const float* mask = a.arr_or_null<float>(5, "mask", n);
  const double lr = finite(a, 7, "lr"), b1 = finite(a, 8, "beta1"), b2 = finite(a, 9, "beta2");
  const double eps = finite(a, 10, "eps"), wd = finite(a, 11, "weightDecay");
  const bool decoupled = a.flag(12, "decoupled"), amsgrad = a.flag(13, "amsgrad");
  const double step = a.num(14, "step");
  if (!(step >= 1) || step != std::trunc(step) || step > 9007199254740991.0)
    a.error("step must be an integer >= 1, got " + num_str(step));
  if (!(b1 >= 0 && b1 < 1)) a.error("beta1 must be in [0, 1), got " + num_str(b1));
  if (!(b2 >= 0 && b2 < 1)) a.error("beta2 must be in [0, 1), got " + num_str(b2));
  float* vmax = nullptr;
  if (amsgrad) {
    vmax = a.arr_or_null<float>(4, "vmax", n);
    if (!vmax) a.error("vmax must be a Float32Array when amsgrad is true");
  }
  st::AdamParams hp;
  hp.beta1 = (float)b1;
  hp.beta2 = (float)b2;
  hp.one_minus_beta1 = (float)(1.0 - b1);
  hp.one_minus_beta2 = (float)(1.0 - b2);
  hp.eps = (float)eps;
  hp.weight_decay = (float)wd;
  hp.decay_factor = (float)(1.0 - lr * wd);
  hp.step_size = (float)(lr / (1.0 - std::pow(b1, step)));
  hp.bias2_sqrt = (float)std::sqrt(1.0 - std::pow(b2, step));
  hp.decoupled = decoupled;
  hp.amsgrad = amsgrad;
  st::adam_update(p, g, m, v, vmax, mask, n, hp);
  return info.Env().Undefined();
}

// Reads an Int32Array of sizes or strides (all >= 0) into int64.
std::vector<int64_t> dims_arg(const Args& a, size_t idx, const char* name) {
  const size_t len = a.length(idx, name);
  const int32_t* d = a.arr<int32_t>(idx, name, len);
  std::vector<int64_t> out(len);
  for (size_t k = 0; k < len; k++) {
    if (d[k] < 0) a.error(std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(d[k]) + " is negative");
    out[k] = d[k];
  }
  return out;
}

// Checks that off + sum((shape-1)*stride) < len (nothing to check when shape has a 0).
void check_extent(const Args& a, const char* name, size_t len, int64_t off, const std::vector<int64_t>& strides,
                  const std::vector<int64_t>& shape) {
  for (int64_t n : shape)
    if (n == 0) return;
  int64_t last = off;  // stays <= len + 2^62 before each addition, so no overflow
  for (size_t k = 0; k < shape.size() && last < (int64_t)len; k++) last += (shape[k] - 1) * strides[k];
  if (last >= (int64_t)len)
    a.error(std::string(name) + " has " + std::to_string(len) + " elements, but the offset and strides reach index " +
            (last < ((int64_t)1 << 53) ? std::to_string(last) : std::string(">= 2^53")));
}

template <typename T> Napi::Value StridedCopy(const Napi::CallbackInfo& info, const char* op) {
  Args a(info, op, 7);
  const int64_t soff = a.size(1, "srcOffset"), doff = a.size(4, "dstOffset");
  const std::vector<int64_t> ss = dims_arg(a, 2, "srcStrides"), ds = dims_arg(a, 5, "dstStrides"),
                             shape = dims_arg(a, 6, "shape");
  if (ss.size() != shape.size() || ds.size() != shape.size())
    a.error("srcStrides, dstStrides and shape must have the same length, got " + std::to_string(ss.size()) + ", " +
            std::to_string(ds.size()) + ", " + std::to_string(shape.size()));
  for (size_t k = 0; k < shape.size(); k++)
    if (ds[k] == 0 && shape[k] > 1)
      a.error("dstStrides[" + std::to_string(k) + "] is 0 for a dimension of size " + std::to_string(shape[k]) +
              ": dst elements must be distinct");
  const size_t slen = a.length(0, "src"), dlen = a.length(3, "dst");
  const T* src = a.arr<T>(0, "src", 0);
  T* dst = a.arr<T>(3, "dst", 0);
  check_extent(a, "src", slen, soff, ss, shape);
  check_extent(a, "dst", dlen, doff, ds, shape);
  guard(a, [&] { st::strided_copy(src, soff, ss.data(), dst, doff, ds.data(), shape.data(), (int)shape.size(), sizeof(T)); });
  return info.Env().Undefined();
}
Napi::Value StridedCopyF32(const Napi::CallbackInfo& info) { return StridedCopy<float>(info, "stridedCopy"); }
Napi::Value StridedCopyI32(const Napi::CallbackInfo& info) { return StridedCopy<int32_t>(info, "stridedCopyI32"); }
Napi::Value StridedCopyU8(const Napi::CallbackInfo& info) { return StridedCopy<uint8_t>(info, "stridedCopyU8"); }

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Args a(info, "gatherRows", 6);
  const int64_t rows = a.size(1, "rows"), row_len = a.size(2, "rowLen"), count = a.size(4, "count");
  const float* x = a.arr<float>(0, "x", rows * row_len);
  const int32_t* index = a.arr<int32_t>(3, "index", count);
  float* out = a.arr<float>(5, "out", count * row_len);
  guard(a, [&] { st::gather_rows(x, rows, row_len, index, count, out); });
  return info.Env().Undefined();
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  Args a(info, "scatterAddRows", 6);
  const int64_t count = a.size(2, "count"), row_len = a.size(3, "rowLen"), rows = a.size(5, "rows");
  const float* dout = a.arr<float>(0, "dout", count * row_len);
  const int32_t* index = a.arr<int32_t>(1, "index", count);
  float* dx = a.arr<float>(4, "dx", rows * row_len);
  guard(a, [&] { st::scatter_add_rows(dout, index, count, row_len, dx, rows); });
  return info.Env().Undefined();
}

Napi::Value KthValue(const Napi::CallbackInfo& info) {
  Args a(info, "kthValue", 3);
  const int64_t n = a.size(1, "n"), k = a.size(2, "k");
  const float* x = a.arr<float>(0, "x", n);
  if (k < 1 || k > n) a.error("k must be in 1.." + std::to_string(n) + " (1-based), got " + std::to_string(k));
  float r = 0;
  guard(a, [&] { r = st::kth_value(x, n, k); });
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Topk(const Napi::CallbackInfo& info) {
  Args a(info, "topk", 7);
  const int64_t rows = a.size(1, "rows"), cols = a.size(2, "cols"), k = a.size(3, "k");
  if (k > cols) a.error("k must be in 0.." + std::to_string(cols) + " (cols), got " + std::to_string(k));
  const float* x = a.arr<float>(0, "x", rows * cols);
  const bool largest = a.flag(4, "largest");
  float* values = a.arr<float>(5, "values", rows * k);
  int32_t* indices = a.arr<int32_t>(6, "indices", rows * k);
  guard(a, [&] { st::topk(x, rows, cols, k, largest, values, indices); });
  return info.Env().Undefined();
}

Napi::Value SortRows(const Napi::CallbackInfo& info) {
  Args a(info, "sortRows", 6);
  const int64_t rows = a.size(1, "rows"), cols = a.size(2, "cols");
  const float* x = a.arr<float>(0, "x", rows * cols);
  const bool descending = a.flag(3, "descending");
  float* values = a.arr<float>(4, "values", rows * cols);
  int32_t* indices = a.arr<int32_t>(5, "indices", rows * cols);
  guard(a, [&] { st::sort_rows(x, rows, cols, descending, values, indices); });
  return info.Env().Undefined();
}
}  // namespace

void register_misc(Napi::Env env, Napi::Object exports) {
  exports.Set("rngSeed", Napi::Function::New(env, RngSeed));
  exports.Set("rngUniform", Napi::Function::New(env, RngUniform));
  exports.Set("rngNormal", Napi::Function::New(env, RngNormal));
  exports.Set("rngBernoulli", Napi::Function::New(env, RngBernoulli));
  exports.Set("rngInt", Napi::Function::New(env, RngInt));
  exports.Set("rngPermutation", Napi::Function::New(env, RngPermutation));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopyF32));
  exports.Set("stridedCopyI32", Napi::Function::New(env, StridedCopyI32));
  exports.Set("stridedCopyU8", Napi::Function::New(env, StridedCopyU8));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows));
  exports.Set("kthValue", Napi::Function::New(env, KthValue));
  exports.Set("topk", Napi::Function::New(env, Topk));
  exports.Set("sortRows", Napi::Function::New(env, SortRows));
}
}  // namespace stb
