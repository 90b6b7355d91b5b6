/** Reference (plain TypeScript) kernels: elementwise. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32, U8 } from '../backend';
import { BinaryOp, UnaryOp } from '../backend';
import { SparsetrainError } from '../../errors';

// ---- argument checks shared by the elementwise, reduce and softmax reference kernels ----

/** Throws unless x is a Float32Array with at least `need` elements. */
export function checkF32(kernel: string, name: string, x: unknown, need: number): asserts x is F32 {
  checkTyped(kernel, name, x, Float32Array, 'Float32Array', need);
}
export function checkI32(kernel: string, name: string, x: unknown, need: number): asserts x is I32 {
  checkTyped(kernel, name, x, Int32Array, 'Int32Array', need);
}
export function checkU8(kernel: string, name: string, x: unknown, need: number): asserts x is U8 {
  checkTyped(kernel, name, x, Uint8Array, 'Uint8Array', need);
}
function checkTyped(kernel: string, name: string, x: unknown, ctor: Function, typeName: string, need: number): void {
  if (!(x instanceof ctor)) throw new SparsetrainError('ERR_DTYPE', `${kernel}: ${name} must be a ${typeName}`);
  const len = (x as ArrayLike<number>).length;
  if (len < need) throw new SparsetrainError('ERR_SHAPE', `${kernel}: ${name} has ${len} elements, needs at least ${need}`);
}
/** Throws unless v is a non-negative integer. */
export function checkSize(kernel: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: ${name} must be a non-negative integer, got ${v}`);
}
/** Throws unless op is an integer in 0..count-1. */
export function checkOp(kernel: string, op: number, count: number): void {
  if (!Number.isInteger(op) || op < 0 || op >= count) throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: op must be 0..${count - 1}, got ${op}`);
}

const UNARY_COUNT = 24;
const BINARY_COUNT = 16;
const MAX_DIMS = 16;

// ---- scalar definitions ----

/** pow with C / IEEE semantics (as torch.pow): pow(1, y) = 1 and pow(-1, +-inf) = 1, where JS gives NaN. */
export function powC(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}

/** Round half to even (torch.round). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // half up
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

function unaryFn(op: UnaryOp, alpha: number): (x: number) => number {
  switch (op) {
    case UnaryOp.Neg: return (x) => -x;
    case UnaryOp.Exp: return (x) => Math.exp(x);
    case UnaryOp.Log: return (x) => Math.log(x);
    case UnaryOp.Sqrt: return (x) => Math.sqrt(x);
    case UnaryOp.Rsqrt: return (x) => 1 / Math.sqrt(x);
    case UnaryOp.Abs: return (x) => Math.abs(x);
    case UnaryOp.Sign: return (x) => Math.sign(x); // NaN stays NaN
    case UnaryOp.Relu: return (x) => (Number.isNaN(x) ? x : x > 0 ? x : 0);
    case UnaryOp.Sigmoid: return (x) => 1 / (1 + Math.exp(-x));
    case UnaryOp.Tanh: return (x) => Math.tanh(x);
    case UnaryOp.Square: return (x) => x * x;
    case UnaryOp.Reciprocal: return (x) => 1 / x;
    case UnaryOp.LeakyRelu: return (x) => (x > 0 ? x : alpha * x);
    case UnaryOp.PowScalar: return (x) => powC(x, alpha);
    case UnaryOp.AddScalar: return (x) => x + alpha;
    case UnaryOp.MulScalar: return (x) => x * alpha;
    case UnaryOp.Step: return (x) => (x > 0 ? 1 : 0);
    case UnaryOp.LeakyReluStep: return (x) => (x > 0 ? 1 : alpha);
    case UnaryOp.Log1p: return (x) => Math.log1p(x);
    case UnaryOp.Expm1: return (x) => Math.expm1(x);
    case UnaryOp.Floor: return (x) => Math.floor(x);
    case UnaryOp.Ceil: return (x) => Math.ceil(x);
    case UnaryOp.Round: return (x) => roundHalfEven(x);
    case UnaryOp.RSubScalar: return (x) => alpha - x;
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case BinaryOp.Add: return (a, b) => a + b;
    case BinaryOp.Sub: return (a, b) => a - b;
    case BinaryOp.Mul: return (a, b) => a * b;
    case BinaryOp.Div: return (a, b) => a / b;
    case BinaryOp.Pow: return (a, b) => powC(a, b);
    case BinaryOp.Max: return (a, b) => Math.max(a, b); // NaN propagates
    case BinaryOp.Min: return (a, b) => Math.min(a, b);
    case BinaryOp.Eq: return (a, b) => (a === b ? 1 : 0);
    case BinaryOp.Ne: return (a, b) => (a !== b ? 1 : 0);
    case BinaryOp.Lt: return (a, b) => (a < b ? 1 : 0);
    case BinaryOp.Le: return (a, b) => (a <= b ? 1 : 0);
    case BinaryOp.Gt: return (a, b) => (a > b ? 1 : 0);
    case BinaryOp.Ge: return (a, b) => (a >= b ? 1 : 0);
    case BinaryOp.ReluBackward: return (a, b) => (a > 0 ? b : 0);
    case BinaryOp.TanhBackward: return (a, b) => b * (1 - a * a);
    case BinaryOp.SigmoidBackward: return (a, b) => b * a * (1 - a);
  }
}

export function isComparison(op: BinaryOp): boolean {
  return op >= BinaryOp.Eq && op <= BinaryOp.Ge;
}

// ---- broadcasting ----

/** Checks outShape (Int32Array of non-negative sizes) and returns its element count. */
function shapeTotal(kernel: string, shape: unknown): number {
  checkI32(kernel, 'outShape', shape, 0);
  if (shape.length > MAX_DIMS) throw new SparsetrainError('ERR_SHAPE', `${kernel}: outShape has ${shape.length} dimensions, at most ${MAX_DIMS} are supported`);
  let total = 1;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] < 0) throw new SparsetrainError('ERR_SHAPE', `${kernel}: outShape[${d}] = ${shape[d]} must be >= 0`);
    total *= shape[d];
  }
  return total;
}

/** Checks strides against shape; returns how long the operand buffer must be. */
function stridedNeed(kernel: string, name: string, strides: unknown, shape: I32, total: number): number {
  checkI32(kernel, name, strides, 0);
  if (strides.length !== shape.length)
    throw new SparsetrainError('ERR_SHAPE', `${kernel}: ${name} has ${strides.length} entries but outShape has ${shape.length}`);
  let need = 1;
  for (let d = 0; d < shape.length; d++) {
    if (strides[d] < 0) throw new SparsetrainError('ERR_SHAPE', `${kernel}: ${name}[${d}] = ${strides[d]} must be >= 0`);
    need += (shape[d] - 1) * strides[d];
  }
  return total === 0 ? 0 : need;
}

/** Calls f(flatIndex, offsets) for every index of shape in row-major order; offsets[k] = index . strides[k]. */
function forEachIndex(shape: I32, strides: I32[], f: (i: number, offs: number[]) => void): void {
  const nd = shape.length;
  let total = 1;
  for (let d = 0; d < nd; d++) total *= shape[d];
  const offs = new Array<number>(strides.length);
  for (let i = 0; i < total; i++) {
    offs.fill(0);
    let rem = i;
    for (let d = nd - 1; d >= 0; d--) {
      const v = rem % shape[d];
      rem = (rem - v) / shape[d];
      for (let k = 0; k < strides.length; k++) offs[k] += v * strides[k][d];
    }
    f(i, offs);
  }
}

export const elementwiseKernels: Partial<Backend> = {
  unary(op: UnaryOp, x: F32, y: F32, n: number, alpha: number): void {
    checkOp('unary', op, UNARY_COUNT);
    checkSize('unary', 'n', n);
    checkF32('unary', 'x', x, n);
    checkF32('unary', 'y', y, n);
    const f = unaryFn(op, alpha);
    for (let i = 0; i < n; i++) y[i] = f(x[i]);
  },

  binary(op: BinaryOp, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32 | U8, outShape: I32): void {
    checkOp('binary', op, BINARY_COUNT);
    const total = shapeTotal('binary', outShape);
    checkF32('binary', 'a', a, stridedNeed('binary', 'aStrides', aStrides, outShape, total));
    checkF32('binary', 'b', b, stridedNeed('binary', 'bStrides', bStrides, outShape, total));
    if (isComparison(op)) checkU8('binary', 'out (comparison result)', out, total);
    else checkF32('binary', 'out', out, total);
    const f = binaryFn(op);
    // Read everything first so that out may alias a or b.
    const res = new Float64Array(total);
    forEachIndex(outShape, [aStrides, bStrides], (i, offs) => {
      res[i] = f(a[offs[0]], b[offs[1]]);
    });
    for (let i = 0; i < total; i++) out[i] = res[i];
  },

  where(cond: U8, condStrides: I32, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, outShape: I32): void {
    const total = shapeTotal('where', outShape);
    checkU8('where', 'cond', cond, stridedNeed('where', 'condStrides', condStrides, outShape, total));
    checkF32('where', 'a', a, stridedNeed('where', 'aStrides', aStrides, outShape, total));
    checkF32('where', 'b', b, stridedNeed('where', 'bStrides', bStrides, outShape, total));
    checkF32('where', 'out', out, total);
    const res = new Float32Array(total);
    forEachIndex(outShape, [condStrides, aStrides, bStrides], (i, offs) => {
      res[i] = cond[offs[0]] ? a[offs[1]] : b[offs[2]];
    });
    out.set(res);
  },

  clamp(x: F32, y: F32, n: number, lo: number, hi: number): void {
    checkSize('clamp', 'n', n);
    checkF32('clamp', 'x', x, n);
    checkF32('clamp', 'y', y, n);
    // NaN x stays NaN, a NaN bound is ignored, lo > hi gives hi (as torch.clamp).
    for (let i = 0; i < n; i++) {
      let v = x[i];
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      y[i] = v;
    }
  },

  axpy(n: number, a: number, x: F32, y: F32): void {
    checkSize('axpy', 'n', n);
    checkF32('axpy', 'x', x, n);
    checkF32('axpy', 'y', y, n);
    for (let i = 0; i < n; i++) y[i] = a * x[i] + y[i];
  },
};
