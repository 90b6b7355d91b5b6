// Interface between the GEMM driver (gemm.cc: argument handling, thread split)
// and the per-ISA blocked kernels (gemm_kernel.inc, compiled once per ISA).
//
// gemm_run computes C[M,N] = act(alpha * op(A)[M,K] @ op(B)[K,N] + beta * C + bias) with the same
// conventions as st::sgemm (gemm.h), on `threads` OpenMP threads (1: on the calling thread only, no
// OpenMP construct is entered). gemm_tile: the register tile (MR x NR), the finest pieces of C the
// kernels can share out among threads.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace st {
struct GemmProblem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  const float* bias;  // nullptr, or length M (bias_axis 0) / N (bias_axis 1)
  int bias_axis;
  int act;
  // Optional: the rows of B as stored lie anywhere, row i at B + boff[i] instead of B + i*ldb (ldb unused):
  // row k of B [K, N], or with trans_b row n of B [N, K]. Lets a convolution hand its padded input image
  // to the GEMM as an implicit column matrix (conv_implicit.h).
  const int64_t* boff = nullptr;
};

struct GemmTile {
  int mr, nr;
};

// Waits until `count` reaches `target` (threads of a team checking in), spinning for a short while
// and then sleeping in short naps. Called before an OpenMP barrier where threads may arrive far apart:
// libgomp spins in its barriers for milliseconds, which on a loaded machine keeps the core busy while
// the thread being waited for sits descheduled behind another process; a napping thread frees its core,
// so the scheduler can run the late thread there.
inline void team_wait(const std::atomic<int>& count, int target) {
  if (count.load(std::memory_order_acquire) >= target) return;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1;; i++) {
    if (count.load(std::memory_order_acquire) >= target) return;
    if ((i & 63) == 0 && std::chrono::steady_clock::now() - start > std::chrono::microseconds(30)) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  while (count.load(std::memory_order_acquire) < target) std::this_thread::sleep_for(std::chrono::microseconds(20));
}

namespace avx512 {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace avx512
namespace avx2 {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace avx2
namespace scalar {
void gemm_run(const GemmProblem& p, int threads);
GemmTile gemm_tile();
}  // namespace scalar
}  // namespace st
