// Batch normalisation kernels on raw pointers; x viewed as [N, C, S] (S = H*W, or 1).
// Per channel c the statistics run over the M = N*S values x[n, c, s]. Sums are
// accumulated in double (float vector partials per block), variance by two passes.
// Sizes are trusted here: the binding layer has checked them.
#pragma once
#include <cstdint>

namespace st {
// Training mode. gamma/beta [C] or null (1 / 0). y [N,C,S]. save_mean[C], save_invstd[C] = 1/sqrt(var+eps)
// with the biased variance. running_mean/var [C] or null: r = (1-momentum)*r + momentum*stat, the
// variance unbiased (M/(M-1)). M == 0: save_mean = 0, save_invstd = 1/sqrt(eps), running stats untouched.
// M == 1 throws std::invalid_argument (no variance to estimate, as PyTorch).
// residual [N,C,S] or null: y += residual (a ResNet block's shortcut), then
// relu: y = max(y, 0) in the same pass (BatchNorm followed by ReLU, fused; NaN stays NaN).
void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y, int64_t N, int64_t C,
                             int64_t S, float eps, float* save_mean, float* save_invstd, float* running_mean,
                             float* running_var, float momentum, bool relu, const float* residual);
// Eval mode: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta (+ residual unless null),
// then max(y, 0) if relu.
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                            const float* running_var, float* y, int64_t N, int64_t C, int64_t S, float eps, bool relu,
                            const float* residual);
// Gradients of the training forward: dx [N,C,S] overwritten; dgamma, dbeta [C] overwritten when not null.
// relu_out [N,C,S] or null: the forward was fused with a ReLU and this is its output; dy is the
// gradient of that output and counts only where relu_out > 0. grad_out [N,C,S] or null: receives that
// masked gradient (the gradient of a residual added before the ReLU).
void batchnorm_backward(const float* dy, const float* x, const float* gamma, const float* save_mean,
                        const float* save_invstd, float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C,
                        int64_t S, const float* relu_out, float* grad_out);
}  // namespace st
