// Per-ISA SIMD mapping: kernels are written once against these names and
// compiled three times (see native/src/isa/*.cc). Exactly one of
// ST_ISA_AVX512 / ST_ISA_AVX2 / ST_ISA_SCALAR is defined before inclusion.
//
//   ST_NS        namespace of this compilation (avx512 / avx2 / scalar)
//   ST_VW        floats per vector (16 / 8 / 4)
//   vf           vector of ST_VW floats
//   vload/vloadu/vstore/vstoreu, vset1, vzero, vadd, vsub, vmul, vdiv,
//   vfma(a,b,c)=a*b+c, vmax, vmin, vhsum (horizontal sum)
//   vload_n / vstore_n: partial load/store of the first n (< ST_VW) lanes
#pragma once
#include <cstddef>
#include <cstring>

#if defined(ST_ISA_AVX512)
#include <immintrin.h>
#define ST_NS avx512
#define ST_VW 16
namespace st { namespace avx512 {
typedef __m512 vf;
static inline vf vloadu(const float* p) { return _mm512_loadu_ps(p); }
static inline void vstoreu(float* p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vzero() { return _mm512_setzero_ps(); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline float vhsum(vf a) { return _mm512_reduce_add_ps(a); }
static inline vf vload_n(const float* p, int n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
static inline void vstore_n(float* p, vf v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v); }
}}
#elif defined(ST_ISA_AVX2)
#include <immintrin.h>
#define ST_NS avx2
#define ST_VW 8
namespace st { namespace avx2 {
typedef __m256 vf;
static inline vf vloadu(const float* p) { return _mm256_loadu_ps(p); }
static inline void vstoreu(float* p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vzero() { return _mm256_setzero_ps(); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline float vhsum(vf a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
static inline __m256i tail_mask(int n) {
  alignas(32) static const int m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i*)(m + 8 - n));
}
static inline vf vload_n(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
static inline void vstore_n(float* p, vf v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
}}
#elif defined(ST_ISA_SCALAR)
// Portable fallback: a 4-wide struct the compiler maps to SSE2 (x86-64 baseline).
#define ST_NS scalar
#define ST_VW 4
namespace st { namespace scalar {
struct vf { float v[4]; };
static inline vf vloadu(const float* p) { vf r; std::memcpy(r.v, p, 16); return r; }
static inline void vstoreu(float* p, vf a) { std::memcpy(p, a.v, 16); }
static inline vf vset1(float x) { return vf{{x, x, x, x}}; }
static inline vf vzero() { return vf{{0, 0, 0, 0}}; }
#define ST_SCALAR_BIN(name, expr) \
  static inline vf name(vf a, vf b) { vf r; for (int i = 0; i < 4; i++) { float x = a.v[i], y = b.v[i]; r.v[i] = (expr); } return r; }
ST_SCALAR_BIN(vadd, x + y)
ST_SCALAR_BIN(vsub, x - y)
ST_SCALAR_BIN(vmul, x * y)
ST_SCALAR_BIN(vdiv, x / y)
ST_SCALAR_BIN(vmax, x > y ? x : y)
ST_SCALAR_BIN(vmin, x < y ? x : y)
#undef ST_SCALAR_BIN
static inline vf vfma(vf a, vf b, vf c) { vf r; for (int i = 0; i < 4; i++) r.v[i] = a.v[i] * b.v[i] + c.v[i]; return r; }
static inline float vhsum(vf a) { return (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]); }
static inline vf vload_n(const float* p, int n) { vf r = vzero(); for (int i = 0; i < n; i++) r.v[i] = p[i]; return r; }
static inline void vstore_n(float* p, vf a, int n) { for (int i = 0; i < n; i++) p[i] = a.v[i]; }
}}
#else
#error "define one of ST_ISA_AVX512, ST_ISA_AVX2, ST_ISA_SCALAR before including simd.h"
#endif
