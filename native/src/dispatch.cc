#include "dispatch.h"
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace st {
static Isa best_supported() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
  return Isa::Scalar;
}

static Isa initial() {
  Isa best = best_supported();
  const char* env = std::getenv("SPARSETRAIN_ISA");
  if (!env || !*env) return best;
  Isa want = !std::strcmp(env, "avx512") ? Isa::Avx512 : !std::strcmp(env, "avx2") ? Isa::Avx2 : Isa::Scalar;
  return want < best ? want : best;
}

static Isa g_isa = initial();

Isa active_isa() { return g_isa; }
const char* isa_name(Isa isa) { return isa == Isa::Avx512 ? "avx512" : isa == Isa::Avx2 ? "avx2" : "scalar"; }
void set_isa(Isa isa) {
  if (isa > best_supported())
    throw std::invalid_argument(std::string("setIsa: this CPU does not support ") + isa_name(isa) +
                                "; best supported is " + isa_name(best_supported()));
  g_isa = isa;
}
}  // namespace st
