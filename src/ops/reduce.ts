/**
 * Reductions along axes. Each reduced axis runs one backend.reduce over the
 * tensor viewed as [outer, n, inner]; several axes are reduced one at a time,
 * adjacent ones merged first. sumToShape is the one place where broadcast
 * gradients are summed back to an input's shape.
 */
import { Tensor } from '../tensor/tensor';
import { fmt, normAxis, numel, sameShape, Shape } from '../tensor/shape';
import { backend, ReduceOp } from '../backend';
import { record } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { requireFloat, mul, div, sub, sqrt, abs, square, eq } from './elementwise';
import { expand, reshape } from './shape';

/** Normalised, sorted, de-duplicated axes (all axes when dims is undefined). */
function axesOf(op: string, x: Tensor, dims?: number | number[]): number[] {
  if (dims === undefined) return x.shape.map((_, i) => i);
  const list = Array.isArray(dims) ? dims : [dims];
  const axes = [...new Set(list.map((d) => normAxis(op, d, x.ndim)))].sort((a, b) => a - b);
  return axes;
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function droppedShape(shape: Shape, axes: number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Raw reduction over the given sorted axes with keepdim semantics (no autograd). */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  let data = x.f32;
  let shape = [...x.shape];
  // Merge runs of adjacent axes so that e.g. a full reduction is one kernel call.
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  // Reduce later runs first so earlier axis numbers stay valid.
  const mean = op === ReduceOp.Mean;
  const kernelOp = mean ? ReduceOp.Sum : op;
  let count = 1;
  for (let r = runs.length - 1; r >= 0; r--) {
    const [s, e] = runs[r];
    const outer = numel(shape.slice(0, s));
    const n = numel(shape.slice(s, e));
    const inner = numel(shape.slice(e));
    count *= n;
    if (n === 0 && (op === ReduceOp.Max || op === ReduceOp.Min)) {
      throw new SparsetrainError('ERR_SHAPE', `${ReduceOp[op].toLowerCase()}: cannot reduce over an empty dimension of shape ${fmt(x.shape)}`);
    }
    const out = new Float32Array(outer * inner);
    // After the first run, counting non-zeros must sum the partial counts.
    const thisOp = kernelOp === ReduceOp.CountNonzero && r !== runs.length - 1 ? ReduceOp.Sum : kernelOp;
    if (out.length > 0) backend().reduce(thisOp, data, outer, n, inner, out);
    data = out;
    shape = [...shape.slice(0, s), ...new Array(e - s).fill(1), ...shape.slice(e)];
  }
  if (mean) {
    const inv = 1 / count;
    backend().unary(15 /* MulScalar */, data, data, data.length, inv);
  }
  return new Tensor(data, shape, 'float32');
}

/** Sum over dims (all when undefined). */
export function sum(x: Tensor, dims?: number | number[], keepdim = false): Tensor {
  requireFloat('sum', x);
  const axes = axesOf('sum', x, dims);
  const k = reduceRaw(ReduceOp.Sum, x, axes);
  const y = keepdim ? k : new Tensor(k.data, droppedShape(x.shape, axes), 'float32');
  return record('sum', y, [x], (g) => [expand(reshape(g, keptShape(x.shape, axes)), x.shape)]);
}

export function mean(x: Tensor, dims?: number | number[], keepdim = false): Tensor {
  requireFloat('mean', x);
  const axes = axesOf('mean', x, dims);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const k = reduceRaw(ReduceOp.Mean, x, axes);
  const y = keepdim ? k : new Tensor(k.data, droppedShape(x.shape, axes), 'float32');
  return record('mean', y, [x], (g) => [div(expand(reshape(g, keptShape(x.shape, axes)), x.shape), n)]);
}

/** Sum of g over the axes where it was broadcast to, so that the result has `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes, true), shape);
}

function extremum(op: 'max' | 'min', x: Tensor, dim?: number, keepdim = false): Tensor {
  requireFloat(op, x);
  const axes = axesOf(op, x, dim);
  // As torch: an empty tensor can be reduced along a non-empty dimension (empty result), never over an empty one.
  if (x.numel === 0 && (dim === undefined || x.shape[axes[0]] === 0)) {
    throw new SparsetrainError('ERR_SHAPE', `${op}: cannot reduce an empty tensor of shape ${fmt(x.shape)}${dim === undefined ? '' : ` along dimension ${dim}`}`);
  }
  const k = reduceRaw(op === 'max' ? ReduceOp.Max : ReduceOp.Min, x, axes);
  const y = keepdim ? k : new Tensor(k.data, droppedShape(x.shape, axes), 'float32');
  return record(op, y, [x], (g) => {
    // Gradient shared evenly between tied extrema, as torch.amax/amin.
    const kept = keptShape(x.shape, axes);
    const hit = eq(x, expand(k, x.shape)).to('float32');
    const ties = reduceRaw(ReduceOp.Sum, hit, axes);
    return [mul(hit, expand(div(reshape(g, kept), ties), x.shape))];
  });
}

/** Maximum over one dim, or over all elements when dim is undefined. */
export const max = (x: Tensor, dim?: number, keepdim = false): Tensor => extremum('max', x, dim, keepdim);
export const min = (x: Tensor, dim?: number, keepdim = false): Tensor => extremum('min', x, dim, keepdim);

function argExtremum(isMax: boolean, x: Tensor, dim?: number, keepdim = false): Tensor {
  const op = isMax ? 'argmax' : 'argmin';
  const f = x.dtype === 'float32' ? x : x.to('float32');
  if (x.numel === 0 && (dim === undefined || x.shape[normAxis(op, dim, x.ndim)] === 0)) {
    throw new SparsetrainError('ERR_SHAPE', `${op}: cannot reduce an empty tensor of shape ${fmt(x.shape)}${dim === undefined ? '' : ` along dimension ${dim}`}`);
  }
  if (dim === undefined) {
    const out = new Int32Array(1);
    backend().argReduce(isMax, f.f32, 1, x.numel, 1, out);
    return new Tensor(out, keepdim ? x.shape.map(() => 1) : [], 'int32');
  }
  const d = normAxis(op, dim, x.ndim);
  const outer = numel(x.shape.slice(0, d));
  const inner = numel(x.shape.slice(d + 1));
  const out = new Int32Array(outer * inner);
  if (out.length > 0) backend().argReduce(isMax, f.f32, outer, x.shape[d], inner, out);
  const shape = keepdim ? keptShape(x.shape, [d]) : droppedShape(x.shape, [d]);
  return new Tensor(out, shape, 'int32');
}

export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtremum(true, x, dim, keepdim);
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtremum(false, x, dim, keepdim);

/** Variance (unbiased by default, as torch.var). */
export function variance(x: Tensor, dims?: number | number[], unbiased = true, keepdim = false): Tensor {
  requireFloat('var', x);
  const axes = axesOf('var', x, dims);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const centered = sub(x, mean(x, axes, true));
  const s = sum(square(centered), axes, keepdim);
  // max(., 0): the variance of nothing is NaN (0/0), as torch.
  return div(s, Math.max(unbiased ? n - 1 : n, 0));
}

export function std(x: Tensor, dims?: number | number[], unbiased = true, keepdim = false): Tensor {
  return sqrt(variance(x, dims, unbiased, keepdim));
}

/** p-norm of all elements (p = 1 or 2). */
export function norm(x: Tensor, p: 1 | 2 = 2): Tensor {
  requireFloat('norm', x);
  if (p === 1) return sum(abs(x));
  if (p !== 2) throw new SparsetrainError('ERR_ARGUMENT', `norm: p must be 1 or 2, got ${p}`);
  const s = reduceRaw(ReduceOp.SumSquares, x, axesOf('norm', x));
  const y = new Tensor(Float32Array.of(Math.sqrt(s.f32[0])), [], 'float32');
  return record('norm', y, [x], (g) => [mul(x, div(g, y))]);
}

/** Number of non-zero elements. */
export function countNonzero(x: Tensor): number {
  if (x.numel === 0) return 0;
  const f = (x.dtype === 'float32' ? x : x.to('float32')).f32;
  // Chunks below 2^24 so that each float32 partial count is exact.
  const CHUNK = 1 << 23;
  const out = new Float32Array(1);
  let total = 0;
  for (let s = 0; s < f.length; s += CHUNK) {
    const part = f.subarray(s, Math.min(f.length, s + CHUNK));
    backend().reduce(ReduceOp.CountNonzero, part, 1, part.length, 1, out);
    total += out[0];
  }
  return total;
}

/** Sum of all elements as a JS number, accumulated in double precision (no autograd). */
export function sumAll(x: Tensor): number {
  requireFloat('sumAll', x);
  return backend().sumAll(x.f32, x.numel);
}

