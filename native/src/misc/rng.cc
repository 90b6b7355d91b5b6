// xoshiro128** generator and the distributions built on it (see rng.h).
#include "misc/rng.h"
#include <cmath>

namespace st {
namespace {
struct Xoshiro128ss {
  uint32_t s[4];
  explicit Xoshiro128ss(const uint32_t* st) { for (int i = 0; i < 4; i++) s[i] = st[i]; }
  void save(uint32_t* st) const { for (int i = 0; i < 4; i++) st[i] = s[i]; }
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t next() {
    const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  // Uniform in [0, 1) from the top 24 bits (exact in float and double).
  double uniform24() { return (double)(next() >> 8) * (1.0 / 16777216.0); }
  // Uniform integer in [0, range), 1 <= range <= 2^32 (Lemire 2019, unbiased).
  uint32_t below(uint64_t range) {
    if (range == (uint64_t)1 << 32) return next();
    const uint32_t r32 = (uint32_t)range;
    uint64_t m = (uint64_t)next() * r32;
    uint32_t low = (uint32_t)m;
    if (low < r32) {
      const uint32_t threshold = (uint32_t)(0u - r32) % r32;  // 2^32 mod range
      while (low < threshold) {
        m = (uint64_t)next() * r32;
        low = (uint32_t)m;
      }
    }
    return (uint32_t)(m >> 32);
  }
};

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

void rng_seed(uint32_t* state, uint64_t seed) {
  uint64_t x = seed;
  const uint64_t a = splitmix64(x), b = splitmix64(x);
  state[0] = (uint32_t)a;
  state[1] = (uint32_t)(a >> 32);
  state[2] = (uint32_t)b;
  state[3] = (uint32_t)(b >> 32);
  // Two consecutive splitmix64 outputs are never both zero (it is a bijection of the
  // counter), but keep the guard: the all-zero state is a fixed point of xoshiro.
  if ((state[0] | state[1] | state[2] | state[3]) == 0) state[0] = 1;
}

void rng_uniform(uint32_t* state, float* out, int64_t n, double low, double high) {
  Xoshiro128ss g(state);
  const double span = high - low;
  for (int64_t i = 0; i < n; i++) out[i] = (float)(low + span * g.uniform24());
  g.save(state);
}

void rng_normal(uint32_t* state, float* out, int64_t n, double mean, double std) {
  Xoshiro128ss g(state);
  const double two_pi = 6.283185307179586;
  const double inv32 = 1.0 / 4294967296.0;
  for (int64_t i = 0; i < n; i += 2) {
    const double u1 = (double)g.next() * inv32, u2 = (double)g.next() * inv32;
    const double r = std::sqrt(-2.0 * std::log(1.0 - u1)), theta = two_pi * u2;
    out[i] = (float)(mean + std * (r * std::cos(theta)));
    if (i + 1 < n) out[i + 1] = (float)(mean + std * (r * std::sin(theta)));
  }
  g.save(state);
}

void rng_bernoulli(uint32_t* state, float* out, int64_t n, double p) {
  Xoshiro128ss g(state);
  for (int64_t i = 0; i < n; i++) out[i] = g.uniform24() < p ? 1.f : 0.f;
  g.save(state);
}

void rng_int(uint32_t* state, int32_t* out, int64_t n, int64_t low, int64_t high) {
  Xoshiro128ss g(state);
  const uint64_t range = (uint64_t)(high - low);
  for (int64_t i = 0; i < n; i++) out[i] = (int32_t)(low + (int64_t)g.below(range));
  g.save(state);
}

void rng_permutation(uint32_t* state, int32_t* out, int64_t n) {
  Xoshiro128ss g(state);
  for (int64_t i = 0; i < n; i++) out[i] = (int32_t)i;
  for (int64_t i = n - 1; i > 0; i--) {
    const int64_t j = g.below((uint64_t)i + 1);
    const int32_t t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  g.save(state);
}
}  // namespace st
