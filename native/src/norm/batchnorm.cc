// Batch normalisation drivers (see batchnorm.h).
//
// Two layouts: for S >= kRowMin each (n, c) row of S values is contiguous and the
// per-ISA row kernels reduce it (threads over channels); for small S (BatchNorm1d,
// tiny feature maps) x is walked as [N, C*S] rows with one double accumulator per
// column (threads over n, per-thread partials), which keeps the loops contiguous.
#include "norm/batchnorm.h"
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>
#include "conv/convpool_isa.h"
#include "threads.h"

namespace st {
namespace {
constexpr int64_t kRowMin = 32;
constexpr int64_t kParallelWork = int64_t(1) << 15;

int threads_for(int64_t work) { return work >= kParallelWork ? num_threads() : 1; }

// Column sums over n of f(n, j) for the [N, L] view, threads over n: out[j] = sum_n f(n, j).
template <typename F> void column_sums(int64_t N, int64_t L, std::vector<double>& out, F&& f) {
  const int T = threads_for(N * L);
  std::vector<double> part((size_t)T * L, 0.0);
#pragma omp parallel num_threads(T)
  {
    double* acc = part.data() + (size_t)omp_get_thread_num() * L;
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; n++)
      for (int64_t j = 0; j < L; j++) acc[j] += f(n, j);
  }
  out.assign(L, 0.0);
  for (int t = 0; t < T; t++)
    for (int64_t j = 0; j < L; j++) out[j] += part[(size_t)t * L + j];
}

void update_running(float* r, double stat, float momentum) {
  *r = (float)((1.0 - momentum) * (double)*r + (double)momentum * stat);
}
}  // namespace

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y, int64_t N, int64_t C,
                             int64_t S, float eps, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, float momentum, bool relu, const float* residual) {
  const int64_t M = N * S;
  if (M == 1) throw std::invalid_argument("expected more than 1 value per channel in training mode (N*S = 1)");
  if (M == 0) {
    for (int64_t c = 0; c < C; c++) save_mean[c] = 0.f, save_invstd[c] = (float)(1.0 / std::sqrt((double)eps));
    return;
  }
  // Per channel: mean (float, as saved) and the biased variance about it.
  auto finish = [&](int64_t c, float mean, double var, float* a, float* b) {
    const double invstd = 1.0 / std::sqrt(var + (double)eps);
    save_mean[c] = mean;
    save_invstd[c] = (float)invstd;
    if (running_mean) update_running(running_mean + c, mean, momentum);
    if (running_var) update_running(running_var + c, var * (double)M / (double)(M - 1), momentum);
    *a = (float)(invstd * (gamma ? (double)gamma[c] : 1.0));
    *b = beta ? beta[c] : 0.f;
  };
  if (S >= kRowMin) {
    const ConvPoolIsa& k = convpool_isa();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(N * C * S))
    for (int64_t c = 0; c < C; c++) {
      double s = 0;
      for (int64_t n = 0; n < N; n++) s += k.bn_row_sum(x + (n * C + c) * S, S);
      const double mean = s / (double)M;
      const float mf = (float)mean;
      double q = 0;
      for (int64_t n = 0; n < N; n++) q += k.bn_row_sqdev(x + (n * C + c) * S, S, mf);
      // sum (x - mf)^2 / M = var + (mean - mf)^2
      const double var = std::max(0.0, q / (double)M - (mean - mf) * (mean - mf));
      float a, b;
      finish(c, mf, var, &a, &b);
      for (int64_t n = 0; n < N; n++) {
        const int64_t row = (n * C + c) * S;
        k.bn_row_affine(x + row, residual ? residual + row : nullptr, y + row, S, mf, a, b, relu);
      }
    }
    return;
  }
  const int64_t L = C * S;
  std::vector<double> sums;
  column_sums(N, L, sums, [&](int64_t n, int64_t j) { return (double)x[n * L + j]; });
  std::vector<float> mcol(L), acol(L), bcol(L);
  std::vector<double> mean(C, 0.0);
  for (int64_t j = 0; j < L; j++) mean[j / S] += sums[j];
  for (int64_t j = 0; j < L; j++) mcol[j] = (float)(mean[j / S] / (double)M);
  column_sums(N, L, sums, [&](int64_t n, int64_t j) {
    const double d = (double)x[n * L + j] - (double)mcol[j];
    return d * d;
  });
  for (int64_t c = 0; c < C; c++) {
    double q = 0;
    for (int64_t s = 0; s < S; s++) q += sums[c * S + s];
    const double md = mean[c] / (double)M, mf = mcol[c * S];
    float a, b;
    finish(c, mcol[c * S], std::max(0.0, q / (double)M - (md - mf) * (md - mf)), &a, &b);
    for (int64_t s = 0; s < S; s++) acol[c * S + s] = a, bcol[c * S + s] = b;
  }
#pragma omp parallel for schedule(static) num_threads(threads_for(N * L))
  for (int64_t n = 0; n < N; n++)
    for (int64_t j = 0; j < L; j++) {
      const float v = (x[n * L + j] - mcol[j]) * acol[j] + bcol[j] + (residual ? residual[n * L + j] : 0.f);
      y[n * L + j] = relu && v <= 0.f ? 0.f : v;  // NaN stays NaN
    }
}

void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, int64_t N, int64_t C, int64_t S, float eps, bool relu,
                            const float* residual) {
  std::vector<float> a(C), b(C);
  for (int64_t c = 0; c < C; c++) {
    a[c] = (float)((gamma ? (double)gamma[c] : 1.0) / std::sqrt((double)running_var[c] + (double)eps));
    b[c] = beta ? beta[c] : 0.f;
  }
  const int64_t rows = N * C;
  if (S >= kRowMin) {
    const auto affine = convpool_isa().bn_row_affine;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * S))
    for (int64_t r = 0; r < rows; r++) {
      const int64_t c = r % C;
      affine(x + r * S, residual ? residual + r * S : nullptr, y + r * S, S, running_mean[c], a[c], b[c], relu);
    }
    return;
  }
  const int64_t L = C * S;
  std::vector<float> mcol(L), acol(L), bcol(L);
  for (int64_t j = 0; j < L; j++) mcol[j] = running_mean[j / S], acol[j] = a[j / S], bcol[j] = b[j / S];
#pragma omp parallel for schedule(static) num_threads(threads_for(N * L))
  for (int64_t n = 0; n < N; n++)
    for (int64_t j = 0; j < L; j++) {
      const float v = (x[n * L + j] - mcol[j]) * acol[j] + bcol[j] + (residual ? residual[n * L + j] : 0.f);
      y[n * L + j] = relu && v <= 0.f ? 0.f : v;  // NaN stays NaN
    }
}

void batchnorm_backward(const float* dy, const float* x, const float* gamma, const float* save_mean,
                        const float* save_invstd, float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C,
                        int64_t S, const float* relu_out, float* grad_out) {
  const int64_t M = N * S;
  if (M == 0) {
    for (int64_t c = 0; c < C; c++) {
      if (dgamma) dgamma[c] = 0.f;
      if (dbeta) dbeta[c] = 0.f;
    }
    return;
  }
  // dx = k*dy - k/M*sdy - k/M*invstd^2*sdyxc*(x - mean), k = gamma*invstd,
  // with sdy = sum dy, sdyxc = sum dy*(x - mean); dgamma = invstd*sdyxc, dbeta = sdy.
  auto coeffs = [&](int64_t c, double sdy, double sdyxc, float* a, float* b, float* cc) {
    const double invstd = save_invstd[c], k = (gamma ? (double)gamma[c] : 1.0) * invstd;
    if (dgamma) dgamma[c] = (float)(sdyxc * invstd);
    if (dbeta) dbeta[c] = (float)sdy;
    *a = (float)k;
    *b = (float)(-k * invstd * invstd * sdyxc / (double)M);
    *cc = (float)(-k * sdy / (double)M);
  };
  if (S >= kRowMin) {
    const ConvPoolIsa& k = convpool_isa();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(N * C * S))
    for (int64_t c = 0; c < C; c++) {
      double sdy = 0, sdyxc = 0;
      const float mean = save_mean[c];
      for (int64_t n = 0; n < N; n++) {
        const int64_t row = (n * C + c) * S;
        k.bn_row_dot_centered(dy + row, x + row, relu_out ? relu_out + row : nullptr, S, mean, &sdy, &sdyxc,
                              grad_out ? grad_out + row : nullptr);
      }
      float a, b, cc;
      coeffs(c, sdy, sdyxc, &a, &b, &cc);
      for (int64_t n = 0; n < N; n++) {
        // With grad_out the masked gradient is already there: read it instead of dy and relu_out.
        const int64_t row = (n * C + c) * S;
        if (grad_out) k.bn_row_backward(grad_out + row, x + row, nullptr, dx + row, S, mean, a, b, cc);
        else k.bn_row_backward(dy + row, x + row, relu_out ? relu_out + row : nullptr, dx + row, S, mean, a, b, cc);
      }
    }
    return;
  }
  const int64_t L = C * S;
  std::vector<float> mcol(L), acol(L), bcol(L), ccol(L);
  for (int64_t j = 0; j < L; j++) mcol[j] = save_mean[j / S];
  // The gradient reaching the normalised values: dy, masked by the fused ReLU's output.
  auto g = [&](int64_t i) { return relu_out && !(relu_out[i] > 0.f) ? 0.f : dy[i]; };
  std::vector<double> sdy, sdyxc;
  column_sums(N, L, sdy, [&](int64_t n, int64_t j) { return (double)g(n * L + j); });
  column_sums(N, L, sdyxc, [&](int64_t n, int64_t j) {
    return (double)g(n * L + j) * ((double)x[n * L + j] - (double)mcol[j]);
  });
  for (int64_t c = 0; c < C; c++) {
    double s0 = 0, s1 = 0;
    for (int64_t s = 0; s < S; s++) s0 += sdy[c * S + s], s1 += sdyxc[c * S + s];
    float a, b, cc;
    coeffs(c, s0, s1, &a, &b, &cc);
    for (int64_t s = 0; s < S; s++) acol[c * S + s] = a, bcol[c * S + s] = b, ccol[c * S + s] = cc;
  }
#pragma omp parallel for schedule(static) num_threads(threads_for(N * L))
  for (int64_t n = 0; n < N; n++)
    for (int64_t j = 0; j < L; j++) {
      const float gi = g(n * L + j);
      if (grad_out) grad_out[n * L + j] = gi;
      dx[n * L + j] = acol[j] * gi + bcol[j] * (x[n * L + j] - mcol[j]) + ccol[j];
    }
}
}  // namespace st
