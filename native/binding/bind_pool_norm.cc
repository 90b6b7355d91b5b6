// N-API bindings of the pooling and batch-normalisation kernels (see src/backend/backend.ts).
// The pooling geometry is validated in full here, so the kernels can trust it.
#include <cmath>
#include <string>
#include "bind_util.h"
#include "norm/batchnorm.h"
#include "pool/pool.h"

namespace stb {
namespace {
constexpr int kPoolGeomLen = 14;
const char* const kNames[kPoolGeomLen] = {"N",  "C",  "H",  "W",  "OH", "OW", "KH",
                                          "KW", "SH", "SW", "PH", "PW", "DH", "DW"};

int64_t product(const Args& a, std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs)
    if (__builtin_mul_overflow(p, x, &p) || p > (int64_t(1) << 53)) a.error("sizes describe a tensor too large");
  return p;
}

// One axis: OL must be the floor- or ceil-mode output size, and every window must hold an input cell.
void pool_axis(const Args& a, const char* in, int64_t L, int64_t K, int64_t S, int64_t P, int64_t D, const char* on,
               int64_t OL) {
  const int64_t span = D * (K - 1) + 1;
  if (L + 2 * P < span)
    a.error(std::string("geom: the dilated window spans ") + std::to_string(span) + " cells, more than the padded " +
            in + " + 2*pad = " + std::to_string(L + 2 * P));
  const int64_t lo = (L + 2 * P - span) / S + 1, hi = (L + 2 * P - span + S - 1) / S + 1;
  if (OL < lo || OL > hi)
    a.error(std::string("geom: ") + on + " = " + std::to_string(OL) + " is neither the floor-mode (" +
            std::to_string(lo) + ") nor the ceil-mode (" + std::to_string(hi) + ") output size");
  for (int64_t o = 0; o < OL; o++) {
    const int64_t s = o * S - P;
    const int64_t k = s >= 0 ? 0 : (-s + D - 1) / D;  // first tap at or after cell 0
    if (k >= K || s + k * D >= L)
      a.error(std::string("geom: window ") + std::to_string(o) + " along " + in +
              " covers only padding (pad larger than half the window?)");
  }
}

st::PoolGeom pool_geom(const Args& a, size_t idx) {
  const int32_t* v = a.arr<int32_t>(idx, "geom", 0);
  const size_t len = a.length(idx, "geom");
  if (len != kPoolGeomLen)
    a.error("geom must have 14 entries [N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW], got " +
            std::to_string(len));
  for (int i = 0; i < kPoolGeomLen; i++) {
    const bool may_be_zero = i == 0 || i == 1 || i == 10 || i == 11;  // N, C, PH, PW
    if (v[i] < 0 || (v[i] == 0 && !may_be_zero))
      a.error(std::string("geom ") + kNames[i] + " must be " + (may_be_zero ? ">= 0" : ">= 1") + ", got " +
              std::to_string(v[i]));
  }
  st::PoolGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  if (g.H * g.W > 2147483647) a.error("geom: H*W must fit in an int32 index");
  pool_axis(a, "H", g.H, g.KH, g.SH, g.PH, g.DH, "OH", g.OH);
  pool_axis(a, "W", g.W, g.KW, g.SW, g.PW, g.DW, "OW", g.OW);
  return g;
}

int64_t in_len(const Args& a, const st::PoolGeom& g) { return product(a, {g.N, g.C, g.H, g.W}); }
int64_t out_len(const Args& a, const st::PoolGeom& g) { return product(a, {g.N, g.C, g.OH, g.OW}); }

// maxPool2dForward(x, y, indices, geom)
void MaxPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dForward", 4);
  const st::PoolGeom g = pool_geom(a, 3);
  const float* x = a.arr<float>(0, "x", in_len(a, g));
  float* y = a.arr<float>(1, "y", out_len(a, g));
  int32_t* ind = a.arr<int32_t>(2, "indices", out_len(a, g));
  guard(a, [&] { st::max_pool2d_forward(x, y, ind, g); });
}

// maxPool2dBackward(dy, indices, dx, geom)
void MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dBackward", 4);
  const st::PoolGeom g = pool_geom(a, 3);
  const float* dy = a.arr<float>(0, "dy", out_len(a, g));
  const int32_t* ind = a.arr<int32_t>(1, "indices", out_len(a, g));
  float* dx = a.arr<float>(2, "dx", in_len(a, g));
  guard(a, [&] { st::max_pool2d_backward(dy, ind, dx, g); });
}

// avgPool2dForward(x, y, geom, countIncludePad)
void AvgPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dForward", 4);
  const st::PoolGeom g = pool_geom(a, 2);
  const bool cip = a.flag(3, "countIncludePad");
  const float* x = a.arr<float>(0, "x", in_len(a, g));
  float* y = a.arr<float>(1, "y", out_len(a, g));
  guard(a, [&] { st::avg_pool2d_forward(x, y, g, cip); });
}

// avgPool2dBackward(dy, dx, geom, countIncludePad)
void AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dBackward", 4);
  const st::PoolGeom g = pool_geom(a, 2);
  const bool cip = a.flag(3, "countIncludePad");
  const float* dy = a.arr<float>(0, "dy", out_len(a, g));
  float* dx = a.arr<float>(1, "dx", in_len(a, g));
  guard(a, [&] { st::avg_pool2d_backward(dy, dx, g, cip); });
}

struct Adaptive {
  int64_t P, H, W, OH, OW;
};
Adaptive adaptive_sizes(const Args& a) {
  Adaptive s{a.size(2, "P"), a.size(3, "H"), a.size(4, "W"), a.size(5, "OH"), a.size(6, "OW")};
  if (s.H < 1 || s.W < 1 || s.OH < 1 || s.OW < 1)
    a.error("H, W, OH, OW must be >= 1, got " + std::to_string(s.H) + ", " + std::to_string(s.W) + ", " +
            std::to_string(s.OH) + ", " + std::to_string(s.OW));
  return s;
}

// adaptiveAvgPool2dForward(x, y, P, H, W, OH, OW)
void AdaptiveAvgPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dForward", 7);
  const Adaptive s = adaptive_sizes(a);
  const float* x = a.arr<float>(0, "x", product(a, {s.P, s.H, s.W}));
  float* y = a.arr<float>(1, "y", product(a, {s.P, s.OH, s.OW}));
  guard(a, [&] { st::adaptive_avg_pool2d_forward(x, y, s.P, s.H, s.W, s.OH, s.OW); });
}

// adaptiveAvgPool2dBackward(dy, dx, P, H, W, OH, OW)
void AdaptiveAvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dBackward", 7);
  const Adaptive s = adaptive_sizes(a);
  const float* dy = a.arr<float>(0, "dy", product(a, {s.P, s.OH, s.OW}));
  float* dx = a.arr<float>(1, "dx", product(a, {s.P, s.H, s.W}));
  guard(a, [&] { st::adaptive_avg_pool2d_backward(dy, dx, s.P, s.H, s.W, s.OH, s.OW); });
}

float eps_arg(const Args& a, size_t idx) {
  const double e = a.num(idx, "eps");
  if (!(e >= 0) || !std::isfinite(e)) a.error("eps must be a finite number >= 0, got " + std::to_string(e));
  return (float)e;
}

// batchNormForwardTrain(x, gamma, beta, y, N, C, S, eps, saveMean, saveInvStd, runningMean, runningVar, momentum, relu,
//   residual)
void BatchNormForwardTrain(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormForwardTrain", 15);
  const int64_t N = a.size(4, "N"), C = a.size(5, "C"), S = a.size(6, "S");
  const float eps = eps_arg(a, 7);
  const double momentum = a.num(12, "momentum");
  if (!std::isfinite(momentum)) a.error("momentum must be a finite number");
  const int64_t n = product(a, {N, C, S});
  const float* x = a.arr<float>(0, "x", n);
  const float* gamma = a.arr_or_null<float>(1, "gamma", C);
  const float* beta = a.arr_or_null<float>(2, "beta", C);
  float* y = a.arr<float>(3, "y", n);
  float* save_mean = a.arr<float>(8, "saveMean", C);
  float* save_invstd = a.arr<float>(9, "saveInvStd", C);
  float* running_mean = a.arr_or_null<float>(10, "runningMean", C);
  float* running_var = a.arr_or_null<float>(11, "runningVar", C);
  const bool relu = a.flag(13, "relu");
  const float* residual = a.arr_or_null<float>(14, "residual", n);
  guard(a, [&] {
    st::batchnorm_forward_train(x, gamma, beta, y, N, C, S, eps, save_mean, save_invstd, running_mean, running_var,
                                (float)momentum, relu, residual);
  });
}

// batchNormForwardEval(x, gamma, beta, runningMean, runningVar, y, N, C, S, eps, relu, residual)
void BatchNormForwardEval(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormForwardEval", 12);
  const int64_t N = a.size(6, "N"), C = a.size(7, "C"), S = a.size(8, "S");
  const float eps = eps_arg(a, 9);
  const int64_t n = product(a, {N, C, S});
  const float* x = a.arr<float>(0, "x", n);
  const float* gamma = a.arr_or_null<float>(1, "gamma", C);
  const float* beta = a.arr_or_null<float>(2, "beta", C);
  const float* running_mean = a.arr<float>(3, "runningMean", C);
  const float* running_var = a.arr<float>(4, "runningVar", C);
  float* y = a.arr<float>(5, "y", n);
  const bool relu = a.flag(10, "relu");
  const float* residual = a.arr_or_null<float>(11, "residual", n);
  guard(a, [&] { st::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, y, N, C, S, eps, relu, residual); });
}

// batchNormBackward(dy, x, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, N, C, S, reluOut, gradOut)
void BatchNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "batchNormBackward", 13);
  const int64_t N = a.size(8, "N"), C = a.size(9, "C"), S = a.size(10, "S");
  const int64_t n = product(a, {N, C, S});
  const float* dy = a.arr<float>(0, "dy", n);
  const float* x = a.arr<float>(1, "x", n);
  const float* gamma = a.arr_or_null<float>(2, "gamma", C);
  const float* save_mean = a.arr<float>(3, "saveMean", C);
  const float* save_invstd = a.arr<float>(4, "saveInvStd", C);
  float* dx = a.arr<float>(5, "dx", n);
  float* dgamma = a.arr_or_null<float>(6, "dgamma", C);
  float* dbeta = a.arr_or_null<float>(7, "dbeta", C);
  const float* relu_out = a.arr_or_null<float>(11, "reluOut", n);
  float* grad_out = a.arr_or_null<float>(12, "gradOut", n);
  if (grad_out && !relu_out) a.error("gradOut needs reluOut (it is dy masked by the ReLU)");
  guard(a, [&] {
    st::batchnorm_backward(dy, x, gamma, save_mean, save_invstd, dx, dgamma, dbeta, N, C, S, relu_out, grad_out);
  });
}
}  // namespace

void register_pool_norm(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward));
  exports.Set("avgPool2dForward", Napi::Function::New(env, AvgPool2dForward));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward));
  exports.Set("adaptiveAvgPool2dForward", Napi::Function::New(env, AdaptiveAvgPool2dForward));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvgPool2dBackward));
  exports.Set("batchNormForwardTrain", Napi::Function::New(env, BatchNormForwardTrain));
  exports.Set("batchNormForwardEval", Napi::Function::New(env, BatchNormForwardEval));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward));
}
}  // namespace stb
