// N-API bindings of the elementwise kernel family (see src/backend/backend.ts for the contract).
#include "bind_util.h"

namespace stb {
void register_elementwise(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}
}  // namespace stb
