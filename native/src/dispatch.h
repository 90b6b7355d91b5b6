// Run-time choice of the SIMD implementation. The environment variable
// SPARSETRAIN_ISA (avx512 | avx2 | scalar) forces a lower level, for tests.
#pragma once
namespace st {
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
Isa active_isa();
const char* isa_name(Isa isa);
void set_isa(Isa isa);  // throws std::invalid_argument if the CPU lacks it
}  // namespace st
