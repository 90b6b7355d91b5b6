/**
 * In-place initialisers, as torch.nn.init. Each fills a float32 tensor's data
 * directly (no autograd) from a Generator (default: the global one) and
 * returns the tensor. Fan and gain computations follow PyTorch exactly; the
 * random streams are sparsetrain's own (xoshiro128**), so values differ from
 * PyTorch's while the distributions are the same.
 */
import { Tensor } from '../tensor/tensor';
import { fmt } from '../tensor/shape';
import { backend } from '../backend';
import { Generator, defaultGenerator } from '../tensor/random';
import { SparsetrainError } from '../errors';

export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

function target(op: string, t: Tensor): Float32Array {
  if (!(t instanceof Tensor)) throw new SparsetrainError('ERR_ARGUMENT', `init.${op}: expected a Tensor`);
  if (t.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `init.${op}: expected a float32 tensor, got ${t.dtype}`);
  return t.f32;
}

/** The recommended gain for a non-linearity (torch.nn.init.calculate_gain). param: leaky_relu's slope (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new SparsetrainError('ERR_ARGUMENT', `calculateGain: negative slope ${param} is not a number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new SparsetrainError('ERR_ARGUMENT', `calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/** [fan_in, fan_out]: size(1) and size(0) times the receptive field (product of dims 2..). */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) {
    throw new SparsetrainError('ERR_SHAPE', `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got ${fmt(shape)}`);
  }
  let rf = 1;
  for (let i = 2; i < shape.length; i++) rf *= shape[i];
  return [shape[1] * rf, shape[0] * rf];
}
export const fanIn = (t: Tensor | readonly number[]): number => fans(t instanceof Tensor ? t.shape : t)[0];
export const fanOut = (t: Tensor | readonly number[]): number => fans(t instanceof Tensor ? t.shape : t)[1];

/** Fills with U(a, b). */
export function uniform(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator()): Tensor {
  const d = target('uniform', t);
  if (!(a <= b)) throw new SparsetrainError('ERR_ARGUMENT', `init.uniform: expected a <= b, got ${a}, ${b}`);
  if (d.length) backend().rngUniform(generator.state, d, d.length, a, b);
  return t;
}

/** Fills with N(mean, std^2). */
export function normal(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator()): Tensor {
  const d = target('normal', t);
  if (!(std >= 0)) throw new SparsetrainError('ERR_ARGUMENT', `init.normal: std must be >= 0, got ${std}`);
  if (d.length) backend().rngNormal(generator.state, d, d.length, mean, std);
  return t;
}

export function constant(t: Tensor, value: number): Tensor {
  target('constant', t).fill(value);
  return t;
}
export const zeros = (t: Tensor): Tensor => constant(t, 0);
export const ones = (t: Tensor): Tensor => constant(t, 1);

export interface KaimingOptions {
  /** Negative slope of the leaky_relu that follows (default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(op: string, t: Tensor, o: KaimingOptions): number {
  const mode = o.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new SparsetrainError('ERR_ARGUMENT', `init.${op}: mode must be 'fan_in' or 'fan_out', got ${JSON.stringify(mode)}`);
  const [fi, fo] = fans(t.shape);
  const fan = mode === 'fan_in' ? fi : fo;
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: U(-b, b) with b = gain * sqrt(3 / fan). Zero-element tensors are left as they are. */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  target('kaimingUniform', t);
  if (t.numel === 0) return t;
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', t, o);
  return uniform(t, -bound, bound, o.generator);
}

/** He normal: N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  target('kaimingNormal', t);
  if (t.numel === 0) return t;
  return normal(t, 0, kaimingStd('kaimingNormal', t, o), o.generator);
}

/** Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, gain = 1, generator: Generator = defaultGenerator()): Tensor {
  target('xavierUniform', t);
  const [fi, fo] = fans(t.shape);
  if (t.numel === 0) return t;
  const bound = gain * Math.sqrt(6 / (fi + fo));
  return uniform(t, -bound, bound, generator);
}

/** Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, gain = 1, generator: Generator = defaultGenerator()): Tensor {
  target('xavierNormal', t);
  const [fi, fo] = fans(t.shape);
  if (t.numel === 0) return t;
  return normal(t, 0, gain * Math.sqrt(2 / (fi + fo)), generator);
}
