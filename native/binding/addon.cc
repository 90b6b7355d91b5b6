// Module entry of the native addon: runtime information plus each kernel family's bindings.
#include "bind_util.h"
#include "dispatch.h"
#include "misc/malloc_policy.h"
#include "threads.h"

namespace stb {
static Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), st::num_threads()); }
static void SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads", 1);
  int64_t n = a.size(0, "threads");
  guard(a, [&] { st::set_num_threads((int)n); });
}
static Napi::Value GetIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), st::isa_name(st::active_isa())); }
static void SetIsa(const Napi::CallbackInfo& info) {
  Args a(info, "setIsa", 1);
  if (!info[0].IsString()) a.error("isa must be one of 'avx512', 'avx2', 'scalar'");
  std::string s = info[0].As<Napi::String>().Utf8Value();
  st::Isa isa;
  if (s == "avx512") isa = st::Isa::Avx512;
  else if (s == "avx2") isa = st::Isa::Avx2;
  else if (s == "scalar") isa = st::Isa::Scalar;
  else a.error("isa must be one of 'avx512', 'avx2', 'scalar', got '" + s + "'");
  guard(a, [&] { st::set_isa(isa); });
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  st::apply_malloc_policy();
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getIsa", Napi::Function::New(env, GetIsa));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  register_gemm(env, exports);
  register_conv(env, exports);
  register_pool_norm(env, exports);
  register_elementwise(env, exports);
  register_misc(env, exports);
  return exports;
}
}  // namespace stb

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return stb::Init(env, exports); }
NODE_API_MODULE(sparsetrain_native, InitModule)
