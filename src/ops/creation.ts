/** Tensor creation: from data, constants, ranges and random distributions. */
import { Tensor } from '../tensor/tensor';
import { DType, allocate } from '../tensor/dtype';
import { checkShape, numel } from '../tensor/shape';
import { backend } from '../backend';
import { SparsetrainError } from '../errors';
import { Generator, defaultGenerator } from '../tensor/random';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

type Nested = number | boolean | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0] as Nested;
    if (d === undefined) break;
  }
  return shape;
}

/** A tensor from (nested) arrays or a typed array, with an optional explicit shape. */
export function tensor(data: Nested | ArrayLike<number>, opts: CreateOptions & { shape?: number[] } = {}): Tensor {
  const isTyped = ArrayBuffer.isView(data);
  const dtype: DType = opts.dtype ?? (data instanceof Int32Array ? 'int32' : data instanceof Uint8Array ? 'uint8' : 'float32');
  let flat: ArrayLike<number>;
  let shape: number[];
  if (isTyped) {
    flat = data as ArrayLike<number>;
    shape = opts.shape ?? [flat.length];
  } else if (Array.isArray(data)) {
    shape = opts.shape ?? inferShape(data as Nested);
    const f = (data as unknown[]).flat(Infinity as 1) as (number | boolean)[];
    flat = f.map(Number);
    if (!opts.shape && f.length !== numel(shape)) throw new SparsetrainError('ERR_SHAPE', 'tensor: nested arrays are ragged (rows of different lengths)');
  } else {
    flat = [Number(data)];
    shape = opts.shape ?? [];
  }
  checkShape('tensor', shape);
  if (flat.length !== numel(shape)) throw new SparsetrainError('ERR_SHAPE', `tensor: ${flat.length} values do not fill shape [${shape}]`);
  const out = allocate(dtype, flat.length);
  (out as Float32Array).set(flat);
  return new Tensor(out, shape, dtype, opts.requiresGrad ?? false);
}

export function full(shape: number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = opts.dtype ?? 'float32';
  const out = allocate(dtype, numel(shape));
  if (value !== 0) out.fill(value);
  return new Tensor(out, shape, dtype, opts.requiresGrad ?? false);
}

export const zeros = (shape: number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);
export const zerosLike = (t: Tensor, opts: CreateOptions = {}): Tensor => full([...t.shape], 0, { dtype: t.dtype, ...opts });
export const onesLike = (t: Tensor, opts: CreateOptions = {}): Tensor => full([...t.shape], 1, { dtype: t.dtype, ...opts });
export const fullLike = (t: Tensor, v: number, opts: CreateOptions = {}): Tensor => full([...t.shape], v, { dtype: t.dtype, ...opts });

/** Values start, start+step, ... below end (float32 unless dtype given). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new SparsetrainError('ERR_ARGUMENT', `arange: start and end must be finite numbers, got ${start} and ${end}`);
  if (step === 0 || !Number.isFinite(step)) throw new SparsetrainError('ERR_ARGUMENT', `arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? 'float32';
  const out = allocate(dtype, n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return new Tensor(out, [n], dtype, opts.requiresGrad ?? false);
}

export function eye(n: number, opts: CreateOptions = {}): Tensor {
  const t = zeros([n, n], opts);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** Standard normal samples (mean 0, std 1). */
export function randn(shape: number[], opts: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const out = new Float32Array(numel(shape));
  backend().rngNormal((opts.generator ?? defaultGenerator()).state, out, out.length, 0, 1);
  return new Tensor(out, shape, 'float32', opts.requiresGrad ?? false);
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function rand(shape: number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const out = new Float32Array(numel(shape));
  backend().rngUniform((opts.generator ?? defaultGenerator()).state, out, out.length, opts.low ?? 0, opts.high ?? 1);
  return new Tensor(out, shape, 'float32', opts.requiresGrad ?? false);
}

/** Uniform integers in [low, high) as int32. */
export function randint(low: number, high: number, shape: number[], opts: RandomOptions = {}): Tensor {
  checkShape('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new SparsetrainError('ERR_ARGUMENT', `randint: expected integers low < high, got ${low}, ${high}`);
  }
  const out = new Int32Array(numel(shape));
  backend().rngInt((opts.generator ?? defaultGenerator()).state, out, out.length, low, high);
  return new Tensor(out, shape, 'int32');
}

/** A random permutation of 0..n-1 as int32. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new SparsetrainError('ERR_ARGUMENT', `randperm: n must be a non-negative integer, got ${n}`);
  const out = new Int32Array(n);
  backend().rngPermutation((opts.generator ?? defaultGenerator()).state, out, n);
  return new Tensor(out, [n], 'int32');
}
