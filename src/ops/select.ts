/** Selection over many values: kthvalue, quantile, topk, sort (pruning thresholds). Not differentiable. */
import { Tensor } from '../tensor/tensor';
import { fmt, normAxis } from '../tensor/shape';
import { backend } from '../backend';
import { SparsetrainError } from '../errors';
import { requireFloat } from './elementwise';
import { transpose } from './shape';

/** The k-th smallest (1-based) of all elements, as a number. */
/** Throws naming the op when x holds a NaN (the selection kernels need NaN-free input). */
function checkNoNaN(op: string, x: Tensor): void {
  const d = x.f32;
  for (let i = 0; i < d.length; i++) {
    if (d[i] !== d[i]) throw new SparsetrainError('ERR_ARGUMENT', `${op}: input of shape ${fmt(x.shape)} has a NaN at flat index ${i}`);
  }
}

export function kthvalue(x: Tensor, k: number): number {
  requireFloat('kthvalue', x);
  if (x.numel === 0) throw new SparsetrainError('ERR_SHAPE', `kthvalue: input of shape ${fmt(x.shape)} is empty`);
  checkNoNaN('kthvalue', x);
  if (!Number.isInteger(k) || k < 1 || k > x.numel) throw new SparsetrainError('ERR_ARGUMENT', `kthvalue: k must be an integer in 1..${x.numel}, got ${k}`);
  return backend().kthValue(x.f32, x.numel, k);
}

/** q-quantile (0..1) of all elements with linear interpolation, as torch.quantile. */
export function quantile(x: Tensor, q: number): number {
  requireFloat('quantile', x);
  if (!(q >= 0 && q <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `quantile: q must be in [0, 1], got ${q}`);
  if (x.numel === 0) throw new SparsetrainError('ERR_SHAPE', 'quantile: input is empty');
  checkNoNaN('quantile', x);
  const pos = q * (x.numel - 1);
  const lo = Math.floor(pos);
  const a = backend().kthValue(x.f32, x.numel, lo + 1);
  if (pos === lo) return a;
  const b = backend().kthValue(x.f32, x.numel, lo + 2);
  return a + (b - a) * (pos - lo);
}

/** The k largest (or smallest) along dim, sorted, with int32 indices. */
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  requireFloat('topk', x);
  const d = normAxis('topk', dim, x.ndim);
  if (d !== x.ndim - 1) {
    const r = topk(transpose(x, d, -1), k, -1, largest);
    return { values: transpose(r.values, d, -1), indices: transpose(r.indices, d, -1) };
  }
  const cols = x.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > cols) throw new SparsetrainError('ERR_ARGUMENT', `topk: k must be an integer in 0..${cols}, got ${k}`);
  const rows = cols === 0 ? 0 : x.numel / cols;
  const values = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  if (rows * k > 0) backend().topk(x.f32, rows, cols, k, largest, values, indices);
  const shape = [...x.shape.slice(0, -1), k];
  return { values: new Tensor(values, shape, 'float32'), indices: new Tensor(indices, shape, 'int32') };
}

/** Sort along dim (stable), with the permutation as int32 indices. */
export function sort(x: Tensor, dim = -1, descending = false): { values: Tensor; indices: Tensor } {
  requireFloat('sort', x);
  const d = normAxis('sort', dim, x.ndim);
  if (d !== x.ndim - 1) {
    const r = sort(transpose(x, d, -1), -1, descending);
    return { values: transpose(r.values, d, -1), indices: transpose(r.indices, d, -1) };
  }
  const cols = x.shape[d];
  const rows = cols === 0 ? 0 : x.numel / cols;
  const values = new Float32Array(x.numel);
  const indices = new Int32Array(x.numel);
  if (x.numel > 0) backend().sortRows(x.f32, rows, cols, descending, values, indices);
  return { values: new Tensor(values, x.shape, 'float32'), indices: new Tensor(indices, x.shape, 'int32') };
}
