/**
 * Tensor: a contiguous row-major buffer with a shape, a dtype and autograd
 * state. Every op returns a new tensor (no views), so a tensor's data is
 * never shared unless detach() was used. Methods are thin wrappers over the
 * functions in src/ops, which validate their inputs and record the graph.
 */
import type { DType, Storage } from './dtype';
import { allocate } from './dtype';
import { fmt, numel, Shape } from './shape';
import type { Node } from '../autograd/node';
import { SparsetrainError } from '../errors';
import * as E from '../ops/elementwise';
import * as R from '../ops/reduce';
import * as S from '../ops/shape';
import * as L from '../ops/linalg';
import * as A from '../ops/activation';
import * as engine from '../autograd/engine';

export type GradHook = (grad: Tensor) => Tensor | void;
export interface HookHandle {
  remove(): void;
}
export type Scalar = number;
export type TensorLike = Tensor | number;

export class Tensor {
  /** Contiguous data, length = numel. */
  data: Storage;
  readonly shape: readonly number[];
  readonly dtype: DType;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  retainsGrad = false;
  hooks: GradHook[] = [];
  /** Optional name (parameters carry their state-dict key). */
  name?: string;

  constructor(data: Storage, shape: Shape, dtype: DType, requiresGrad = false) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new SparsetrainError('ERR_SHAPE', `Tensor: data has ${data.length} elements but shape ${fmt(shape)} needs ${n}`);
    }
    if (requiresGrad && dtype !== 'float32') {
      throw new SparsetrainError('ERR_DTYPE', `Tensor: only float32 tensors can require grad, got ${dtype}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.requiresGrad = requiresGrad;
  }

  /** A new uninitialised-to-zero tensor. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocate(dtype, numel(shape)), shape, dtype);
  }

  get numel(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) throw new SparsetrainError('ERR_ARGUMENT', `size: dimension ${dim} out of range for ${this.ndim}-d tensor`);
    return this.shape[d];
  }
  /** Float32 data (throws for other dtypes). */
  get f32(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new SparsetrainError('ERR_DTYPE', `expected a float32 tensor, got ${this.dtype}`);
    return this.data;
  }

  // ---- autograd ------------------------------------------------------------
  requiresGrad_(on = true): this {
    if (on && this.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `requiresGrad_: only float32 tensors can require grad, got ${this.dtype}`);
    if (!on && this.gradFn) throw new SparsetrainError('ERR_AUTOGRAD', 'requiresGrad_(false): only leaf tensors can stop requiring grad; use detach()');
    this.requiresGrad = on;
    return this;
  }
  backward(grad?: Tensor, opts?: engine.BackwardOptions): void {
    engine.backward(this, grad, opts);
  }
  /** A tensor sharing this data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.dtype, false);
  }
  /** Keep .grad for this non-leaf tensor after backward(). */
  retainGrad(): this {
    if (!this.requiresGrad) throw new SparsetrainError('ERR_AUTOGRAD', 'retainGrad: tensor does not require grad');
    this.retainsGrad = true;
    return this;
  }
  /** Called with the gradient of this tensor during backward; may return a replacement. */
  registerHook(hook: GradHook): HookHandle {
    if (!this.requiresGrad) throw new SparsetrainError('ERR_AUTOGRAD', 'registerHook: cannot register a hook on a tensor that does not require grad');
    this.hooks.push(hook);
    return { remove: () => { this.hooks = this.hooks.filter((h) => h !== hook); } };
  }

  // ---- conversion ------------------------------------------------------------
  item(): number {
    if (this.numel !== 1) throw new SparsetrainError('ERR_SHAPE', `item: tensor has ${this.numel} elements (shape ${fmt(this.shape)}), expected exactly 1`);
    return this.data[0];
  }
  toArray(): number[] {
    return Array.from(this.data as ArrayLike<number>);
  }
  /** Nested arrays, as torch's tolist(). */
  tolist(): unknown {
    const rec = (dim: number, off: number): unknown => {
      if (dim === this.ndim) return this.data[off];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => rec(dim + 1, off + i * stride));
    };
    return rec(0, 0);
  }
  clone(): Tensor {
    return E.clone(this);
  }
  to(dtype: DType): Tensor {
    return E.cast(this, dtype);
  }
  float(): Tensor {
    return E.cast(this, 'float32');
  }
  toString(): string {
    const head = Array.from(this.data.subarray(0, 8) as ArrayLike<number>).map((v) => +v.toPrecision(5));
    return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''}, data=[${head.join(', ')}${this.numel > 8 ? ', ...' : ''}])`;
  }

  // ---- arithmetic ------------------------------------------------------------
  add(o: TensorLike): Tensor { return E.add(this, o); }
  sub(o: TensorLike): Tensor { return E.sub(this, o); }
  mul(o: TensorLike): Tensor { return E.mul(this, o); }
  div(o: TensorLike): Tensor { return E.div(this, o); }
  pow(o: TensorLike): Tensor { return E.pow(this, o); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  rsqrt(): Tensor { return E.rsqrt(this); }
  abs(): Tensor { return E.abs(this); }
  sign(): Tensor { return E.sign(this); }
  square(): Tensor { return E.square(this); }
  reciprocal(): Tensor { return E.reciprocal(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return E.clamp(this, min, max); }
  maximum(o: TensorLike): Tensor { return E.maximum(this, o); }
  minimum(o: TensorLike): Tensor { return E.minimum(this, o); }
  eq(o: TensorLike): Tensor { return E.eq(this, o); }
  ne(o: TensorLike): Tensor { return E.ne(this, o); }
  lt(o: TensorLike): Tensor { return E.lt(this, o); }
  le(o: TensorLike): Tensor { return E.le(this, o); }
  gt(o: TensorLike): Tensor { return E.gt(this, o); }
  ge(o: TensorLike): Tensor { return E.ge(this, o); }

  // ---- activations -------------------------------------------------------------
  relu(): Tensor { return A.relu(this); }
  sigmoid(): Tensor { return A.sigmoid(this); }
  tanh(): Tensor { return A.tanh(this); }
  softmax(dim: number): Tensor { return A.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return A.logSoftmax(this, dim); }

  // ---- reductions --------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  max(dim?: number, keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  min(dim?: number, keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor { return R.variance(this, dim, unbiased, keepdim); }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor { return R.std(this, dim, unbiased, keepdim); }
  norm(p: 1 | 2 = 2): Tensor { return R.norm(this, p); }
  countNonzero(): number { return R.countNonzero(this); }

  // ---- shape -------------------------------------------------------------------
  reshape(...shape: (number | number[])[]): Tensor { return S.reshape(this, shape.flat()); }
  view(...shape: (number | number[])[]): Tensor { return S.reshape(this, shape.flat()); }
  flatten(startDim = 0, endDim = -1): Tensor { return S.flatten(this, startDim, endDim); }
  squeeze(dim?: number): Tensor { return S.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return S.unsqueeze(this, dim); }
  transpose(d0: number, d1: number): Tensor { return S.transpose(this, d0, d1); }
  get T(): Tensor { return S.transpose(this, 0, 1); }
  permute(...dims: (number | number[])[]): Tensor { return S.permute(this, dims.flat()); }
  expand(...shape: (number | number[])[]): Tensor { return S.expand(this, shape.flat()); }
  /** Slice along one dimension: start (inclusive), end (exclusive), step > 0; negatives count from the end. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return S.slice(this, dim, start, end, step); }
  /** Select index i along dim, removing that dimension. */
  select(dim: number, index: number): Tensor { return S.select(this, dim, index); }
  narrow(dim: number, start: number, length: number): Tensor { return S.slice(this, dim, start, start + length); }
  contiguous(): Tensor { return this; }

  // ---- linear algebra ------------------------------------------------------------
  matmul(o: Tensor): Tensor { return L.matmul(this, o); }
}
