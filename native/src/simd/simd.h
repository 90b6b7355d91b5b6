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
//
// Added for the elementwise family (vectorised exp/log/tanh, masks):
//   vi           vector of ST_VW int32; vm: lane mask (result of a compare)
//   vcastf2i/vcasti2f  bit casts; vcvtf2i (round to nearest even; NaN/out of range ->
//                INT_MIN) / vcvti2f value conversions; vseti1, vaddi, vsubi,
//                vslli/vsrli/vsrai (shift by a constant count)
//   vand, vor, vxor, vandnot(a,b) = ~a & b  (bitwise on floats); vabs, vsqrt,
//   vfloor, vceil, vround (nearest, ties to even)
//   vcmplt/le/gt/ge/eq (ordered: false if NaN), vcmpneq (true if NaN),
//   vcmpunord (true if either is NaN); vselect(m, t, f) = m ? t : f per lane;
//   vmand, vmor, vmany (any lane set)
//   NaN rule of vmax/vmin (all ISAs): if either operand is NaN the second is returned.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cmath>

#if defined(ST_ISA_AVX512)
#include <immintrin.h>
// GCC 12 warns about the _mm512_undefined_*() pass-through operand inside avx512fintrin.h
// (a false positive, GCC bug 105593) wherever an intrinsic is inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
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
// -- added for the elementwise family --
typedef __m512i vi;
typedef __mmask16 vm;
static inline vi vcastf2i(vf a) { return _mm512_castps_si512(a); }
static inline vf vcasti2f(vi a) { return _mm512_castsi512_ps(a); }
static inline vi vcvtf2i(vf a) { return _mm512_cvtps_epi32(a); }
static inline vf vcvti2f(vi a) { return _mm512_cvtepi32_ps(a); }
static inline vi vseti1(int32_t x) { return _mm512_set1_epi32(x); }
static inline vi vaddi(vi a, vi b) { return _mm512_add_epi32(a, b); }
static inline vi vsubi(vi a, vi b) { return _mm512_sub_epi32(a, b); }
static inline vi vslli(vi a, unsigned n) { return _mm512_slli_epi32(a, n); }
static inline vi vsrli(vi a, unsigned n) { return _mm512_srli_epi32(a, n); }
static inline vi vsrai(vi a, unsigned n) { return _mm512_srai_epi32(a, n); }
static inline vf vand(vf a, vf b) { return vcasti2f(_mm512_and_si512(vcastf2i(a), vcastf2i(b))); }
static inline vf vor(vf a, vf b) { return vcasti2f(_mm512_or_si512(vcastf2i(a), vcastf2i(b))); }
static inline vf vxor(vf a, vf b) { return vcasti2f(_mm512_xor_si512(vcastf2i(a), vcastf2i(b))); }
static inline vf vandnot(vf a, vf b) { return vcasti2f(_mm512_andnot_si512(vcastf2i(a), vcastf2i(b))); }
static inline vf vabs(vf a) { return vand(a, vcasti2f(vseti1(0x7fffffff))); }
static inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
static inline vf vfloor(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static inline vf vceil(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
static inline vf vround(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vm vcmplt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vm vcmple(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline vm vcmpgt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline vm vcmpge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline vm vcmpeq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vm vcmpneq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
static inline vm vcmpunord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
static inline vf vselect(vm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
static inline vm vmand(vm a, vm b) { return (vm)(a & b); }
static inline vm vmor(vm a, vm b) { return (vm)(a | b); }
static inline bool vmany(vm a) { return a != 0; }
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
// -- added for the elementwise family --
typedef __m256i vi;
typedef __m256 vm;
static inline vi vcastf2i(vf a) { return _mm256_castps_si256(a); }
static inline vf vcasti2f(vi a) { return _mm256_castsi256_ps(a); }
static inline vi vcvtf2i(vf a) { return _mm256_cvtps_epi32(a); }
static inline vf vcvti2f(vi a) { return _mm256_cvtepi32_ps(a); }
static inline vi vseti1(int32_t x) { return _mm256_set1_epi32(x); }
static inline vi vaddi(vi a, vi b) { return _mm256_add_epi32(a, b); }
static inline vi vsubi(vi a, vi b) { return _mm256_sub_epi32(a, b); }
static inline vi vslli(vi a, unsigned n) { return _mm256_slli_epi32(a, (int)n); }
static inline vi vsrli(vi a, unsigned n) { return _mm256_srli_epi32(a, (int)n); }
static inline vi vsrai(vi a, unsigned n) { return _mm256_srai_epi32(a, (int)n); }
static inline vf vand(vf a, vf b) { return _mm256_and_ps(a, b); }
static inline vf vor(vf a, vf b) { return _mm256_or_ps(a, b); }
static inline vf vxor(vf a, vf b) { return _mm256_xor_ps(a, b); }
static inline vf vandnot(vf a, vf b) { return _mm256_andnot_ps(a, b); }
static inline vf vabs(vf a) { return vand(a, vcasti2f(vseti1(0x7fffffff))); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vfloor(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static inline vf vceil(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
static inline vf vround(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vm vcmplt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vm vcmple(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline vm vcmpgt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline vm vcmpge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline vm vcmpeq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vm vcmpneq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
static inline vm vcmpunord(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
static inline vf vselect(vm m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
static inline vm vmand(vm a, vm b) { return _mm256_and_ps(a, b); }
static inline vm vmor(vm a, vm b) { return _mm256_or_ps(a, b); }
static inline bool vmany(vm a) { return _mm256_movemask_ps(a) != 0; }
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
// -- added for the elementwise family --
struct vi { int32_t v[4]; };
struct vm { int32_t v[4]; };  // -1 (set) or 0 per lane
static inline vi vcastf2i(vf a) { vi r; std::memcpy(r.v, a.v, 16); return r; }
static inline vf vcasti2f(vi a) { vf r; std::memcpy(r.v, a.v, 16); return r; }
// lrintf compiles to cvtss2si (rounds as the current mode, nearest even) under -fno-math-errno.
static inline vi vcvtf2i(vf a) {
  vi r;
  for (int i = 0; i < 4; i++) {
    float x = a.v[i];  // as cvtps2dq: NaN and out of range give INT_MIN
    r.v[i] = (x >= -2147483648.f && x < 2147483648.f) ? (int32_t)__builtin_lrintf(x) : INT32_MIN;
  }
  return r;
}
// Nearest-even rounding without SSE4.1: floats of magnitude >= 2^23 are integers already.
static inline float st_scalar_round(float x) {
  return std::fabs(x) < 8388608.f ? std::copysign((float)__builtin_lrintf(x), x) : x;
}
static inline vf vcvti2f(vi a) { vf r; for (int i = 0; i < 4; i++) r.v[i] = (float)a.v[i]; return r; }
static inline vi vseti1(int32_t x) { return vi{{x, x, x, x}}; }
#define ST_SCALAR_IOP(name, expr) \
  static inline vi name(vi a, vi b) { vi r; for (int i = 0; i < 4; i++) { uint32_t x = (uint32_t)a.v[i], y = (uint32_t)b.v[i]; r.v[i] = (int32_t)(expr); } return r; }
ST_SCALAR_IOP(vaddi, x + y)
ST_SCALAR_IOP(vsubi, x - y)
#undef ST_SCALAR_IOP
static inline vi vslli(vi a, unsigned n) { vi r; for (int i = 0; i < 4; i++) r.v[i] = (int32_t)((uint32_t)a.v[i] << n); return r; }
static inline vi vsrli(vi a, unsigned n) { vi r; for (int i = 0; i < 4; i++) r.v[i] = (int32_t)((uint32_t)a.v[i] >> n); return r; }
static inline vi vsrai(vi a, unsigned n) { vi r; for (int i = 0; i < 4; i++) r.v[i] = a.v[i] >> n; return r; }
#define ST_SCALAR_BITOP(name, expr) \
  static inline vf name(vf a, vf b) { vi x = vcastf2i(a), y = vcastf2i(b), r; for (int i = 0; i < 4; i++) r.v[i] = (expr); return vcasti2f(r); }
ST_SCALAR_BITOP(vand, x.v[i] & y.v[i])
ST_SCALAR_BITOP(vor, x.v[i] | y.v[i])
ST_SCALAR_BITOP(vxor, x.v[i] ^ y.v[i])
ST_SCALAR_BITOP(vandnot, ~x.v[i] & y.v[i])
#undef ST_SCALAR_BITOP
static inline vf vabs(vf a) { return vand(a, vcasti2f(vseti1(0x7fffffff))); }
#define ST_SCALAR_UN(name, expr) \
  static inline vf name(vf a) { vf r; for (int i = 0; i < 4; i++) { float x = a.v[i]; r.v[i] = (expr); } return r; }
ST_SCALAR_UN(vsqrt, std::sqrt(x))
ST_SCALAR_UN(vround, st_scalar_round(x))
ST_SCALAR_UN(vfloor, st_scalar_round(x) > x ? std::copysign(st_scalar_round(x) - 1.f, x) : st_scalar_round(x))
ST_SCALAR_UN(vceil, st_scalar_round(x) < x ? std::copysign(st_scalar_round(x) + 1.f, x) : st_scalar_round(x))
#undef ST_SCALAR_UN
#define ST_SCALAR_CMP(name, expr) \
  static inline vm name(vf a, vf b) { vm r; for (int i = 0; i < 4; i++) { float x = a.v[i], y = b.v[i]; r.v[i] = (expr) ? -1 : 0; } return r; }
ST_SCALAR_CMP(vcmplt, x < y)
ST_SCALAR_CMP(vcmple, x <= y)
ST_SCALAR_CMP(vcmpgt, x > y)
ST_SCALAR_CMP(vcmpge, x >= y)
ST_SCALAR_CMP(vcmpeq, x == y)
ST_SCALAR_CMP(vcmpneq, !(x == y))
ST_SCALAR_CMP(vcmpunord, x != x || y != y)
#undef ST_SCALAR_CMP
static inline vf vselect(vm m, vf t, vf f) {  // bitwise, so that the compiler emits no branches
  vi a = vcastf2i(t), b = vcastf2i(f), r;
  for (int i = 0; i < 4; i++) r.v[i] = (a.v[i] & m.v[i]) | (b.v[i] & ~m.v[i]);
  return vcasti2f(r);
}
static inline vm vmand(vm a, vm b) { vm r; for (int i = 0; i < 4; i++) r.v[i] = a.v[i] & b.v[i]; return r; }
static inline vm vmor(vm a, vm b) { vm r; for (int i = 0; i < 4; i++) r.v[i] = a.v[i] | b.v[i]; return r; }
static inline bool vmany(vm a) { return (a.v[0] | a.v[1] | a.v[2] | a.v[3]) != 0; }
}}
#else
#error "define one of ST_ISA_AVX512, ST_ISA_AVX2, ST_ISA_SCALAR before including simd.h"
#endif
