// The FMA peak of one core: N independent accumulator chains of 512-bit (AVX-512) or 256-bit (AVX2)
// fused multiply-adds, no memory operands. Build and run: bench/fma/run.sh
// Prints one JSON line per accumulator count; the best is the peak the kernels are measured against.
#include <immintrin.h>
#include <chrono>
#include <cstdio>

#if defined(__AVX512F__)
typedef __m512 V;
static inline V set1(float x) { return _mm512_set1_ps(x); }
static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline float sum(V a) { return _mm512_reduce_add_ps(a); }
static const int kLanes = 16;
static const char* kIsa = "avx512";
#else
typedef __m256 V;
static inline V set1(float x) { return _mm256_set1_ps(x); }
static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline float sum(V a) {
  float t[8];
  _mm256_storeu_ps(t, a);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
static const int kLanes = 8;
static const char* kIsa = "avx2";
#endif

template <int N>
__attribute__((noinline)) float chains(long reps) {
  V acc[N];
  const V a = set1(0.999f), c = set1(1.f);
  for (int i = 0; i < N; i++) acc[i] = set1((float)i);
  for (long r = 0; r < reps; r++)
#pragma GCC unroll 32
    for (int i = 0; i < N; i++) acc[i] = fma(acc[i], a, c);
  float s = 0;
  for (int i = 0; i < N; i++) s += sum(acc[i]);
  return s;
}

template <int N>
void measure() {
  const long reps = 400000000L / N;
  chains<N>(reps / 100);  // warm up the clock
  const auto t0 = std::chrono::steady_clock::now();
  const float r = chains<N>(reps);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"isa\":\"%s\",\"accumulators\":%d,\"gflops_per_core\":%.1f,\"check\":%g}\n", kIsa, N,
              2.0 * kLanes * N * (double)reps / s / 1e9, r);
}

int main() {
  measure<8>();
  measure<12>();
  measure<16>();
  measure<24>();
  return 0;
}
