/** Shape arithmetic shared by the ops: sizes, strides, broadcasting, axis normalisation. */
import { SparsetrainError } from '../errors';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** Contiguous row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Broadcast result shape of a and b (NumPy rules) or an error naming the op. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new SparsetrainError('ERR_SHAPE', `${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides (in elements) to read a tensor of `shape` as if it had `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): Int32Array {
  const st = stridesOf(shape);
  const off = outShape.length - shape.length;
  const r = new Int32Array(outShape.length);
  for (let i = 0; i < outShape.length; i++) {
    const j = i - off;
    r[i] = j < 0 || shape[j] === 1 ? 0 : st[j];
  }
  return r;
}

/** Normalises a possibly negative axis; error names the op and the rank. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `${op}: dimension ${axis} is out of range for a tensor of ${ndim} dimensions (expected ${-ndim}..${ndim - 1})`);
  }
  return axis < 0 ? axis + ndim : axis;
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new SparsetrainError('ERR_SHAPE', `${op}: invalid shape ${fmt(shape)}: sizes must be non-negative integers`);
  }
}
