// N-API bindings of the conv kernel family (see src/backend/backend.ts for the contract).
// The geometry is validated in full here, so the kernels can trust it.
#include <string>
#include "bind_util.h"
#include "conv/conv.h"

namespace stb {
namespace {
constexpr int kConvGeomLen = 16;
const char* const kNames[kConvGeomLen] = {"N", "C", "H", "W", "O", "KH", "KW", "OH", "OW",
                                          "SH", "SW", "PH", "PW", "DH", "DW", "G"};

// Product of sizes, or an error if it does not fit the addressable range.
int64_t product(const Args& a, std::initializer_list<int64_t> xs) {
  int64_t p = 1;
  for (int64_t x : xs)
    if (__builtin_mul_overflow(p, x, &p) || p > (int64_t(1) << 53)) a.error("geometry describes a tensor too large");
  return p;
}

st::ConvGeom conv_geom(const Args& a, size_t idx) {
  const int32_t* v = a.arr<int32_t>(idx, "geom", 0);
  const size_t len = a.length(idx, "geom");
  if (len != kConvGeomLen)
    a.error("geom must have 16 entries [N, C, H, W, O, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, G], got " +
            std::to_string(len));
  for (int i = 0; i < kConvGeomLen; i++) {
    const bool may_be_zero = i == 0 || i == 11 || i == 12;  // N, PH, PW
    if (v[i] < 0 || (v[i] == 0 && !may_be_zero))
      a.error(std::string("geom ") + kNames[i] + " must be " + (may_be_zero ? ">= 0" : ">= 1") + ", got " +
              std::to_string(v[i]));
  }
  st::ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (g.C % g.G) a.error("geom: C = " + std::to_string(g.C) + " is not divisible by G = " + std::to_string(g.G));
  if (g.O % g.G) a.error("geom: O = " + std::to_string(g.O) + " is not divisible by G = " + std::to_string(g.G));
  auto axis = [&](const char* in, int64_t L, int64_t K, int64_t S, int64_t P, int64_t D, const char* on,
                  int64_t OL) {
    const int64_t span = D * (K - 1) + 1;  // extent of the dilated kernel
    if (L + 2 * P < span)
      a.error(std::string("geom: the dilated kernel spans ") + std::to_string(span) + " cells, more than the padded " +
              in + " + 2*pad = " + std::to_string(L + 2 * P));
    const int64_t want = (L + 2 * P - span) / S + 1;
    if (OL != want)
      a.error(std::string("geom: ") + on + " = " + std::to_string(OL) + " but (" + in +
              " + 2*pad - dilation*(kernel-1) - 1)/stride + 1 = " + std::to_string(want));
  };
  axis("H", g.H, g.KH, g.SH, g.PH, g.DH, "OH", g.OH);
  axis("W", g.W, g.KW, g.SW, g.PW, g.DW, "OW", g.OW);
  product(a, {g.N, g.C, g.H, g.W});
  product(a, {g.N, g.O, g.OH, g.OW});
  product(a, {g.C, g.KH, g.KW, g.OH, g.OW});  // the column matrix
  return g;
}

int64_t x_len(const Args& a, const st::ConvGeom& g) { return product(a, {g.N, g.C, g.H, g.W}); }
int64_t y_len(const Args& a, const st::ConvGeom& g) { return product(a, {g.N, g.O, g.OH, g.OW}); }
int64_t w_len(const Args& a, const st::ConvGeom& g) { return product(a, {g.O, g.C / g.G, g.KH, g.KW}); }

// conv2dForward(x, w, bias | null, y, geom)
void Conv2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dForward", 5);
  const st::ConvGeom g = conv_geom(a, 4);
  const float* x = a.arr<float>(0, "x", x_len(a, g));
  const float* w = a.arr<float>(1, "w", w_len(a, g));
  const float* bias = a.arr_or_null<float>(2, "bias", g.O);
  float* y = a.arr<float>(3, "y", y_len(a, g));
  guard(a, [&] { st::conv2d_forward(x, w, bias, y, g); });
}

// conv2dBackwardInput(dy, w, dx, geom)
void Conv2dBackwardInput(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardInput", 4);
  const st::ConvGeom g = conv_geom(a, 3);
  const float* dy = a.arr<float>(0, "dy", y_len(a, g));
  const float* w = a.arr<float>(1, "w", w_len(a, g));
  float* dx = a.arr<float>(2, "dx", x_len(a, g));
  guard(a, [&] { st::conv2d_backward_input(dy, w, dx, g); });
}

// conv2dBackwardWeight(dy, x, dw, dbias | null, geom)
void Conv2dBackwardWeight(const Napi::CallbackInfo& info) {
  Args a(info, "conv2dBackwardWeight", 5);
  const st::ConvGeom g = conv_geom(a, 4);
  const float* dy = a.arr<float>(0, "dy", y_len(a, g));
  const float* x = a.arr<float>(1, "x", x_len(a, g));
  float* dw = a.arr<float>(2, "dw", w_len(a, g));
  float* dbias = a.arr_or_null<float>(3, "dbias", g.O);
  guard(a, [&] { st::conv2d_backward_weight(dy, x, dw, dbias, g); });
}
}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward));
  exports.Set("conv2dBackwardInput", Napi::Function::New(env, Conv2dBackwardInput));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight));
}
}  // namespace stb
