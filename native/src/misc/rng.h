// Random numbers: xoshiro128** with a caller-held state uint32[4], advanced in place.
// Every kernel runs sequentially on the calling thread, so a stream never depends on
// the thread count, and each is bit-identical to src/backend/reference/rng.ts
// (rng_normal up to the last ulp of the libm log/cos/sin). Sizes are trusted: the
// binding layer has checked them and the value ranges documented in backend.ts.
#pragma once
#include <cstdint>

namespace st {
// state[4] = two splitmix64 outputs (seed as a 64-bit two's complement value).
void rng_seed(uint32_t* state, uint64_t seed);
// out[n] = float(low + (high - low) * u), u = (next() >> 8) * 2^-24, computed in double.
void rng_uniform(uint32_t* state, float* out, int64_t n, double low, double high);
// out[n]: Box-Muller, two next() per pair (the second value of an odd tail is dropped).
void rng_normal(uint32_t* state, float* out, int64_t n, double mean, double std);
// out[n] = u < p ? 1 : 0, u as in rng_uniform.
void rng_bernoulli(uint32_t* state, float* out, int64_t n, double p);
// out[n] uniform in [low, high), 1 <= high - low <= 2^32, Lemire's unbiased method.
void rng_int(uint32_t* state, int32_t* out, int64_t n, int64_t low, int64_t high);
// out[n] = permutation of 0..n-1, Fisher-Yates from the last index down.
void rng_permutation(uint32_t* state, int32_t* out, int64_t n);
}  // namespace st
