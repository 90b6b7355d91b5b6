// Benchmark of st::sgemm against OpenBLAS's cblas_sgemm (row-major) on the shapes sparsetrain runs:
// square matrices, convolutions lowered to GEMM (forward, weight gradient, input gradient) and the
// Linear layers of lenet300. Both are timed interleaved, several repetitions, median of each; one
// JSON line per shape and thread count. Plain GEMM (alpha 1, beta 0, no bias) so both do the same work.
//
// usage: gemm_bench [threads,...] [reps] [filter | M,N,K[,transA,transB]]      (default "1,2" 7 "")
//   filter: only shapes whose name contains it; or one custom shape, e.g. 64,192,256,0,1
#include <cblas.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>
#include "dispatch.h"
#include "gemm/gemm.h"
#include "threads.h"

namespace {
struct Shape {
  const char* name;
  bool ta, tb;
  int64_t M, N, K;
};

const Shape kShapes[] = {
    {"square256", false, false, 256, 256, 256},
    {"square512", false, false, 512, 512, 512},
    {"square1024", false, false, 1024, 1024, 1024},
    {"square512_tA_tB", true, true, 512, 512, 512},
    // Convolution forward: W[O, C*KH*KW] @ col[C*KH*KW, batch*OH*OW], batch 64.
    {"conv_fwd_lenet5_c1", false, false, 6, 64 * 24 * 24, 25},
    {"conv_fwd_lenet5_c2", false, false, 16, 64 * 8 * 8, 150},
    {"conv_fwd_caffe_c1", false, false, 20, 64 * 24 * 24, 25},
    {"conv_fwd_caffe_c2", false, false, 50, 64 * 8 * 8, 500},
    // Weight gradient: dY[O, P] @ col[K, P]^T.
    {"conv_dw_lenet5_c1", false, true, 6, 25, 64 * 24 * 24},
    {"conv_dw_lenet5_c2", false, true, 16, 150, 64 * 8 * 8},
    {"conv_dw_caffe_c2", false, true, 50, 500, 64 * 8 * 8},
    // Input gradient: W[O, K]^T @ dY[O, P].
    {"conv_dx_lenet5_c2", true, false, 150, 64 * 8 * 8, 16},
    {"conv_dx_caffe_c2", true, false, 500, 64 * 8 * 8, 50},
    // lenet300, batch 64: forward x @ W^T, input gradient dY @ W, weight gradient dY^T @ x / x^T @ dY.
    {"linear_fwd_784_300", false, true, 64, 300, 784},
    {"linear_fwd_300_100", false, true, 64, 100, 300},
    {"linear_fwd_100_10", false, true, 64, 10, 100},
    {"linear_dx_300_784", false, false, 64, 784, 300},
    {"linear_dw_300x784", true, false, 300, 784, 64},
    {"linear_dw_784x300", true, false, 784, 300, 64},
};

// Wall clock, or with GEMM_BENCH_CLOCK=cpu the process CPU time (for tuning single-thread code on a
// busy machine: time spent descheduled is not counted; meaningless with several threads).
bool g_cpu_clock = false;
double now() {
  if (g_cpu_clock) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void fill(std::vector<float>& v, unsigned seed) {
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = (float)((seed >> 8) * (1.0 / 16777216.0) * 2.0 - 1.0);
  }
}

// Seconds per call of f, averaged over a batch of iters calls.
template <typename F> double time_per_call(F&& f, int iters) {
  double t0 = now();
  for (int i = 0; i < iters; i++) f();
  return (now() - t0) / iters;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  if (argc > 1) {
    threads.clear();
    for (const char* p = argv[1]; *p;) {
      threads.push_back(std::atoi(p));
      while (*p && *p != ',') p++;
      if (*p == ',') p++;
    }
  }
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  const char* filter = argc > 3 ? argv[3] : "";
  const char* clk = std::getenv("GEMM_BENCH_CLOCK");
  g_cpu_clock = clk && !std::strcmp(clk, "cpu");
  std::fprintf(stderr, "isa %s, openblas %s (%s)\n", st::isa_name(st::active_isa()), openblas_get_corename(),
               openblas_get_config());

  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  long long cm, cn, ck;
  int cta = 0, ctb = 0;
  if (std::sscanf(filter, "%lld,%lld,%lld,%d,%d", &cm, &cn, &ck, &cta, &ctb) >= 3) {
    shapes = {Shape{"custom", cta != 0, ctb != 0, cm, cn, ck}};
    filter = "";
  }
  for (const Shape& s : shapes) {
    if (*filter && !std::strstr(s.name, filter)) continue;
    const int64_t arows = s.ta ? s.K : s.M, acols = s.ta ? s.M : s.K;
    const int64_t brows = s.tb ? s.N : s.K, bcols = s.tb ? s.K : s.N;
    std::vector<float> A(arows * acols), B(brows * bcols), C1(s.M * s.N), C2(s.M * s.N);
    fill(A, 1);
    fill(B, 2);
    const double flops = 2.0 * s.M * s.N * s.K;
    for (int T : threads) {
      st::set_num_threads(T);
      openblas_set_num_threads(T);
      auto ours = [&] {
        st::sgemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A.data(), acols, B.data(), bcols, 0.f, C1.data(), s.N, nullptr, 1, 0);
      };
      auto blas = [&] {
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, (int)s.M,
                    (int)s.N, (int)s.K, 1.f, A.data(), (int)acols, B.data(), (int)bcols, 0.f, C2.data(), (int)s.N);
      };
      // After a batch, each library's idle worker threads keep spinning for a while (OpenBLAS ~0.1 s,
      // libgomp less) and would compete with the other library's threads for the two cores: pause
      // before each batch, then wake the library's threads with one untimed call.
      auto settle = [&] {
        if (T > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      };
      auto batch = [&](auto& f, int n) {
        settle();
        f();
        return time_per_call(f, n);
      };
      // Calibrate: each timed batch lasts ~30 ms (at least 5 calls).
      const double t1 = std::min(batch(ours, 3), batch(blas, 3));
      const int iters = std::max(5, (int)(0.03 / std::max(t1, 1e-7)));
      std::vector<double> to, tb;
      for (int r = 0; r < reps; r++) {
        to.push_back(batch(ours, iters));
        tb.push_back(batch(blas, iters));
      }
      double maxdiff = 0, maxref = 0;
      for (size_t i = 0; i < C1.size(); i++) {
        maxdiff = std::max(maxdiff, (double)std::fabs(C1[i] - C2[i]));
        maxref = std::max(maxref, (double)std::fabs(C2[i]));
      }
      const double go = flops / median(to) * 1e-9, gb = flops / median(tb) * 1e-9;
      std::printf(
          "{\"shape\":\"%s\",\"isa\":\"%s\",\"transA\":%s,\"transB\":%s,\"M\":%lld,\"N\":%lld,\"K\":%lld,\"threads\":%d,"
          "\"ours_gflops\":%.1f,\"openblas_gflops\":%.1f,\"ratio\":%.3f,\"ours_us\":%.1f,\"max_rel_diff\":%.1e}\n",
          s.name, st::isa_name(st::active_isa()), s.ta ? "true" : "false", s.tb ? "true" : "false", (long long)s.M, (long long)s.N, (long long)s.K, T,
          go, gb, go / gb, median(to) * 1e6, maxdiff / (maxref > 0 ? maxref : 1));
      std::fflush(stdout);
    }
  }
  return 0;
}
