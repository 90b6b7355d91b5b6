/** Activations, softmax and dropout. Backwards use fused kernels that are themselves differentiable ops. */
import { uninitF32 } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { normAxis } from '../tensor/shape';
import { backend, UnaryOp } from '../backend';
import { record } from '../autograd/node';
import { isGradEnabled } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import { requireFloat, reluBackward, tanhBackward, sigmoidBackward, mul, sub, exp } from './elementwise';
import { sum } from './reduce';
import { reshape, transpose } from './shape';
import { Generator, defaultGenerator } from '../tensor/random';

function unaryKernel(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const out = uninitF32(x.numel);
  backend().unary(op, x.f32, out, x.numel, alpha);
  return new Tensor(out, x.shape, 'float32');
}

export function relu(x: Tensor): Tensor {
  requireFloat('relu', x);
  const y = unaryKernel(UnaryOp.Relu, x);
  return record('relu', y, [x], (g) => [reluBackward(x, g)]);
}

export function sigmoid(x: Tensor): Tensor {
  requireFloat('sigmoid', x);
  const y = unaryKernel(UnaryOp.Sigmoid, x);
  return record('sigmoid', y, [x], (g) => [sigmoidBackward(y, g)]);
}

export function tanh(x: Tensor): Tensor {
  requireFloat('tanh', x);
  const y = unaryKernel(UnaryOp.Tanh, x);
  return record('tanh', y, [x], (g) => [tanhBackward(y, g)]);
}

export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  requireFloat('leakyRelu', x);
  const y = unaryKernel(UnaryOp.LeakyRelu, x, slope);
  return record('leakyRelu', y, [x], (g) => [mul(g, unaryKernel(UnaryOp.LeakyReluStep, x, slope))]);
}

/** Softmax or log-softmax along dim (moved to the last axis for the kernel). */
function softmaxAlong(name: string, x: Tensor, dim: number, log: boolean): Tensor {
  requireFloat(name, x);
  if (x.ndim === 0) {
    // As torch: a scalar is treated as one row of one element (dim 0 or -1).
    if (dim !== 0 && dim !== -1) normAxis(name, dim, 0);
    return reshape(softmaxAlong(name, reshape(x, [1]), 0, log), []);
  }
  const d = normAxis(name, dim, x.ndim);
  if (d !== x.ndim - 1) return transpose(softmaxAlong(name, transpose(x, d, x.ndim - 1), -1, log), d, x.ndim - 1);
  const cols = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  const rows = cols === 0 ? 0 : x.numel / cols;
  const out = uninitF32(x.numel);
  if (x.numel > 0) backend().softmax(x.f32, out, rows, cols, log);
  const y = new Tensor(out, x.shape, 'float32');
  return record(name, y, [x], (g) => [softmaxGrad(y, g, rows, cols, log)]);
}

/** dx of (log-)softmax from its output y; composite (differentiable) when recording, fused otherwise. */
function softmaxGrad(y: Tensor, g: Tensor, rows: number, cols: number, log: boolean): Tensor {
  if (isGradEnabled()) {
    if (log) return sub(g, mul(exp(y), sum(g, -1, true)));
    return mul(y, sub(g, sum(mul(g, y), -1, true)));
  }
  const dx = uninitF32(y.numel);
  if (y.numel > 0) backend().softmaxBackward(y.f32, g.f32, dx, rows, cols, log);
  return new Tensor(dx, y.shape, 'float32');
}

export const softmax = (x: Tensor, dim: number): Tensor => softmaxAlong('softmax', x, dim, false);
export const logSoftmax = (x: Tensor, dim: number): Tensor => softmaxAlong('logSoftmax', x, dim, true);

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator()): Tensor {
  requireFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const keep = new Float32Array(x.numel);
  if (p < 1) {
    backend().rngBernoulli(generator.state, keep, x.numel, 1 - p);
    backend().unary(UnaryOp.MulScalar, keep, keep, keep.length, 1 / (1 - p));
  }
  const m = new Tensor(keep, x.shape, 'float32');
  return mul(x, m);
}

