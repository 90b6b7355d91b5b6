// Helpers for the N-API binding layer (node-addon-api, C++ exceptions on).
// Only files under native/binding/ see N-API; kernels take raw pointers.
//
// Every argument is checked here before a kernel runs: a wrong type or a
// buffer shorter than the sizes imply throws a JS Error whose message names
// the op, the argument and what was expected, and whose code is ERR_SPARSETRAIN.
#pragma once
#include <napi.h>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace stb {

[[noreturn]] inline void fail(const Napi::Env& env, const std::string& msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_SPARSETRAIN"));
  throw e;
}

template <typename T> struct TA;
template <> struct TA<float> { static constexpr napi_typedarray_type type = napi_float32_array; static const char* name() { return "Float32Array"; } };
template <> struct TA<int32_t> { static constexpr napi_typedarray_type type = napi_int32_array; static const char* name() { return "Int32Array"; } };
template <> struct TA<uint8_t> { static constexpr napi_typedarray_type type = napi_uint8_array; static const char* name() { return "Uint8Array"; } };
template <> struct TA<uint32_t> { static constexpr napi_typedarray_type type = napi_uint32_array; static const char* name() { return "Uint32Array"; } };

struct Args {
  const Napi::CallbackInfo& info;
  const char* op;
  Args(const Napi::CallbackInfo& i, const char* o, size_t expected) : info(i), op(o) {
    if (i.Length() != expected)
      fail(i.Env(), std::string(op) + ": expected " + std::to_string(expected) + " arguments, got " + std::to_string(i.Length()));
  }
  Napi::Env env() const { return info.Env(); }
  [[noreturn]] void error(const std::string& msg) const { fail(info.Env(), std::string(op) + ": " + msg); }

  // A typed array of element type T holding at least `need` elements.
  template <typename T> T* arr(size_t idx, const char* name, size_t need) const {
    Napi::Value v = info[idx];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TA<T>::type)
      error(std::string(name) + " must be a " + TA<T>::name());
    auto a = v.As<Napi::TypedArrayOf<T>>();
    if (a.ElementLength() < need)
      error(std::string(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs at least " + std::to_string(need));
    return a.Data();
  }
  // Same, or nullptr when the argument is null/undefined.
  template <typename T> T* arr_or_null(size_t idx, const char* name, size_t need) const {
    Napi::Value v = info[idx];
    if (v.IsNull() || v.IsUndefined()) return nullptr;
    return arr<T>(idx, name, need);
  }
  // Element count of a typed array argument (any element type).
  size_t length(size_t idx, const char* name) const {
    Napi::Value v = info[idx];
    if (!v.IsTypedArray()) error(std::string(name) + " must be a typed array");
    return v.As<Napi::TypedArray>().ElementLength();
  }
  double num(size_t idx, const char* name) const {
    Napi::Value v = info[idx];
    if (!v.IsNumber()) error(std::string(name) + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
  }
  // A non-negative integer below 2^31 (sizes, strides, counts).
  int64_t size(size_t idx, const char* name) const {
    double d = num(idx, name);
    if (!(d >= 0) || d != (double)(int64_t)d || d > 2147483647.0)
      error(std::string(name) + " must be a non-negative integer, got " + std::to_string(d));
    return (int64_t)d;
  }
  int64_t integer(size_t idx, const char* name) const {
    double d = num(idx, name);
    if (d != (double)(int64_t)d) error(std::string(name) + " must be an integer, got " + std::to_string(d));
    return (int64_t)d;
  }
  bool flag(size_t idx, const char* name) const {
    Napi::Value v = info[idx];
    if (!v.IsBoolean()) error(std::string(name) + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
};

// Runs a kernel body, turning std::exception from the kernel into a JS Error.
template <typename F> inline void guard(const Args& a, F&& body) {
  try {
    body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    a.error(e.what());
  }
}

// Registration hooks, one per binding file.
void register_gemm(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);
void register_pool_norm(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_misc(Napi::Env env, Napi::Object exports);

}  // namespace stb
