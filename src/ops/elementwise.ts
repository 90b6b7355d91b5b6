/**
 * Elementwise ops with NumPy broadcasting. Inputs are validated here (dtype,
 * broadcastable shapes), then one backend kernel runs. Gradients are written
 * with these same ops, so they are differentiable again.
 */
import { Tensor, TensorLike } from '../tensor/tensor';
import type { DType } from '../tensor/dtype';
import { allocate, allocateUninit, uninitF32 } from '../tensor/dtype';
import { broadcastShapes, broadcastStrides, fmt, sameShape, numel } from '../tensor/shape';
import { backend, BinaryOp, UnaryOp } from '../backend';
import { record, needsGrad } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { sumToShape } from './reduce';

// ---- helpers -------------------------------------------------------------------

export function scalar(v: number): Tensor {
  return new Tensor(Float32Array.of(v), [], 'float32');
}

function asTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? scalar(x) : x;
}

/** Float32 data of t for arithmetic: int/bool tensors are converted, others rejected with the op's name. */
function floatInput(op: string, t: Tensor): Tensor {
  if (t.dtype === 'float32') return t;
  return cast(t, 'float32');
}

export function requireFloat(op: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `${op}: expected a float32 tensor, got ${t.dtype} of shape ${fmt(t.shape)}`);
}

export function onesLikeTensor(t: Tensor): Tensor {
  return new Tensor(new Float32Array(t.numel).fill(1), t.shape, 'float32');
}

export function zerosLikeTensor(t: Tensor): Tensor {
  return new Tensor(new Float32Array(t.numel), t.shape, 'float32');
}

// ---- unary ---------------------------------------------------------------------

function unaryRaw(op: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const out = uninitF32(x.numel);
  backend().unary(op, x.f32, out, x.numel, alpha);
  return new Tensor(out, x.shape, 'float32');
}

/** A differentiable unary op: `grad(x, y, g)` returns dL/dx given y = f(x). */
function unaryOp(name: string, op: UnaryOp, x: Tensor, grad: ((x: Tensor, y: Tensor, g: Tensor) => Tensor) | null, alpha = 0): Tensor {
  requireFloat(name, x);
  const y = unaryRaw(op, x, alpha);
  if (!grad) return y;
  return record(name, y, [x], (g) => [grad(x, y, g)]);
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', UnaryOp.Neg, x, (_x, _y, g) => neg(g));
export const exp = (x: Tensor): Tensor => unaryOp('exp', UnaryOp.Exp, x, (_x, y, g) => mul(g, y));
export const log = (x: Tensor): Tensor => unaryOp('log', UnaryOp.Log, x, (x, _y, g) => div(g, x));
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', UnaryOp.Sqrt, x, (_x, y, g) => div(mul(g, 0.5), y));
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', UnaryOp.Rsqrt, x, (_x, y, g) => mul(g, mul(pow(y, 3), -0.5)));
export const abs = (x: Tensor): Tensor => unaryOp('abs', UnaryOp.Abs, x, (x, _y, g) => mul(g, sign(x)));
export const sign = (x: Tensor): Tensor => unaryOp('sign', UnaryOp.Sign, x, null);
export const square = (x: Tensor): Tensor => unaryOp('square', UnaryOp.Square, x, (x, _y, g) => mul(g, mul(x, 2)));
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', UnaryOp.Reciprocal, x, (_x, y, g) => neg(mul(g, square(y))));
export const log1p = (x: Tensor): Tensor => unaryOp('log1p', UnaryOp.Log1p, x, (x, _y, g) => div(g, add(x, 1)));
export const expm1 = (x: Tensor): Tensor => unaryOp('expm1', UnaryOp.Expm1, x, (_x, y, g) => mul(g, add(y, 1)));
export const floor = (x: Tensor): Tensor => unaryOp('floor', UnaryOp.Floor, x, null);
export const ceil = (x: Tensor): Tensor => unaryOp('ceil', UnaryOp.Ceil, x, null);
export const round = (x: Tensor): Tensor => unaryOp('round', UnaryOp.Round, x, null);
/** 1 where x > 0, else 0 (float32); not differentiable. */
export const step = (x: Tensor): Tensor => unaryOp('step', UnaryOp.Step, x, null);

/** x ** exponent for a number or a tensor exponent (a number base with a tensor exponent too). */
export function pow(x: TensorLike, e: TensorLike): Tensor {
  if (typeof e === 'number' && typeof x !== 'number') {
    return unaryOp('pow', UnaryOp.PowScalar, x, (x, _y, g) => (e === 2 ? mul(g, mul(x, 2)) : mul(g, mul(pow(x, e - 1), e))), e);
  }
  return binaryOp('pow', BinaryOp.Pow, x, e, (a, b, y, g) => [mul(g, mul(b, pow(a, sub(b, 1)))), mul(g, mul(y, log(a)))]);
}

/** min(max(x, lo), hi); a null bound is open. */
export function clamp(x: Tensor, lo?: number | null, hi?: number | null): Tensor {
  requireFloat('clamp', x);
  const l = lo ?? -Infinity;
  const h = hi ?? Infinity;
  if (l > h) throw new SparsetrainError('ERR_ARGUMENT', `clamp: min ${l} is greater than max ${h}`);
  const out = uninitF32(x.numel);
  backend().clamp(x.f32, out, x.numel, l, h);
  const y = new Tensor(out, x.shape, 'float32');
  return record('clamp', y, [x], (g) => [mul(g, logicalAnd(ge(x, l), le(x, h)).to('float32'))]);
}

// ---- binary --------------------------------------------------------------------

type BinaryGrad = (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

function binaryRaw(name: string, op: BinaryOp, a: Tensor, b: Tensor, outDtype: DType): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = allocateUninit(outDtype, numel(shape));
  if (out.length > 0) {
    backend().binary(op, a.f32, broadcastStrides(a.shape, shape), b.f32, broadcastStrides(b.shape, shape), out as Float32Array, Int32Array.from(shape));
  }
  return new Tensor(out, shape, outDtype);
}

function binaryOp(name: string, op: BinaryOp, x: TensorLike, z: TensorLike, grad: BinaryGrad): Tensor {
  const a = asTensor(x);
  const b = asTensor(z);
  requireFloat(name, a);
  requireFloat(name, b);
  const y = binaryRaw(name, op, a, b, 'float32');
  if (!needsGrad(a, b)) return y;
  return record(name, y, [a, b], (g) => {
    const [ga, gb] = grad(a, b, y, g);
    return [ga && a.requiresGrad ? sumToShape(ga, a.shape) : null, gb && b.requiresGrad ? sumToShape(gb, b.shape) : null];
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', BinaryOp.Add, a, b, (_a, _b, _y, g) => [g, g]);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', BinaryOp.Sub, a, b, (_a, b, _y, g) => [g, b.requiresGrad ? neg(g) : null]);
export const mul = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('mul', BinaryOp.Mul, a, b, (a, b, _y, g) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
export const div = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('div', BinaryOp.Div, a, b, (a, b, y, g) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, y), b)) : null]);
// Ties split the gradient evenly between a and b, as torch.maximum/minimum.
export const maximum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('maximum', BinaryOp.Max, a, b, (a, b, _y, g) => {
    const m = sub(ge(a, b).to('float32'), mul(eq(a, b).to('float32'), 0.5));
    return [mul(g, m), mul(g, sub(1, m))];
  });
export const minimum = (a: TensorLike, b: TensorLike): Tensor =>
  binaryOp('minimum', BinaryOp.Min, a, b, (a, b, _y, g) => {
    const m = sub(le(a, b).to('float32'), mul(eq(a, b).to('float32'), 0.5));
    return [mul(g, m), mul(g, sub(1, m))];
  });

/** Fused gradient helpers (a = forward input/output, b = upstream gradient). Differentiable in b. */
export function reluBackward(x: Tensor, g: Tensor): Tensor {
  const y = binaryRaw('reluBackward', BinaryOp.ReluBackward, x, g, 'float32');
  return record('reluBackward', y, [x, g], (gg) => [null, reluBackward(x, gg)]);
}
export function tanhBackward(y: Tensor, g: Tensor): Tensor {
  const r = binaryRaw('tanhBackward', BinaryOp.TanhBackward, y, g, 'float32');
  return record('tanhBackward', r, [y, g], (gg) => [mul(mul(mul(y, g), gg), -2), tanhBackward(y, gg)]);
}
export function sigmoidBackward(y: Tensor, g: Tensor): Tensor {
  const r = binaryRaw('sigmoidBackward', BinaryOp.SigmoidBackward, y, g, 'float32');
  return record('sigmoidBackward', r, [y, g], (gg) => [mul(mul(g, gg), sub(1, mul(y, 2))), sigmoidBackward(y, gg)]);
}

// ---- comparisons and logic (bool results, not differentiable) -------------------------

function compare(name: string, op: BinaryOp, x: TensorLike, z: TensorLike): Tensor {
  const a = floatInput(name, asTensor(x));
  const b = floatInput(name, asTensor(z));
  return binaryRaw(name, op, a, b, 'bool');
}
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', BinaryOp.Eq, a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', BinaryOp.Ne, a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', BinaryOp.Lt, a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', BinaryOp.Le, a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', BinaryOp.Gt, a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', BinaryOp.Ge, a, b);

export const logicalAnd = (a: Tensor, b: Tensor): Tensor => compare('logicalAnd', BinaryOp.Gt, mul(ne(a, 0).to('float32'), ne(b, 0).to('float32')), 0);
export const logicalOr = (a: Tensor, b: Tensor): Tensor => compare('logicalOr', BinaryOp.Gt, add(ne(a, 0).to('float32'), ne(b, 0).to('float32')), 0);
export const logicalNot = (a: Tensor): Tensor => compare('logicalNot', BinaryOp.Eq, a, 0);

/** cond ? a : b with broadcasting; cond is bool/uint8 (non-zero = true). */
export function where(cond: Tensor, x: TensorLike, z: TensorLike): Tensor {
  const a = asTensor(x);
  const b = asTensor(z);
  requireFloat('where', a);
  requireFloat('where', b);
  const c = cond.dtype === 'bool' || cond.dtype === 'uint8' ? cond : ne(cond, 0);
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
  const out = new Float32Array(numel(shape));
  if (out.length > 0) {
    backend().where(c.data as Uint8Array, broadcastStrides(c.shape, shape), a.f32, broadcastStrides(a.shape, shape), b.f32, broadcastStrides(b.shape, shape), out, Int32Array.from(shape));
  }
  const y = new Tensor(out, shape, 'float32');
  return record('where', y, [a, b], (g) => [
    a.requiresGrad ? sumToShape(where(c, g, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(c, 0, g), b.shape) : null,
  ]);
}

// ---- copies and casts ---------------------------------------------------------------

export function clone(x: Tensor): Tensor {
  const y = new Tensor(x.data.slice(), x.shape, x.dtype);
  return record('clone', y, [x], (g) => [g]);
}

/** Converts dtype; float -> int truncates toward zero; to bool/uint8: non-zero -> 1 for bool. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = allocate(dtype, x.numel);
  if (dtype === 'bool') {
    const d = x.data;
    for (let i = 0; i < d.length; i++) out[i] = d[i] !== 0 ? 1 : 0;
  } else {
    (out as Float32Array).set(x.data as ArrayLike<number>);
  }
  return new Tensor(out, x.shape, dtype);
}

/** True when both have the same shape and all elements are within atol + rtol*|b|. */
export function allclose(a: Tensor, b: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
  if (!sameShape(a.shape, b.shape)) return false;
  for (let i = 0; i < a.numel; i++) {
    if (!(Math.abs(a.data[i] - b.data[i]) <= atol + rtol * Math.abs(b.data[i]))) return false;
  }
  return true;
}

