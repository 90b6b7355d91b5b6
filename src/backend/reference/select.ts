/**
 * Reference (plain TypeScript) kernels: select. Naive and obviously correct; see ../backend.ts.
 * Order used by topk and sortRows: numeric, -0 equal to +0, NaN above +Infinity, ties
 * broken by the lower column index first (a stable sort gives exactly that).
 */
import type { Backend, F32, I32 } from '../backend';
import { SparsetrainError } from '../../errors';

function fail(op: string, msg: string): never {
  throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}
function checkSize(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 2147483647) fail(op, `${name} must be a non-negative integer, got ${v}`);
}
function checkArr(op: string, name: string, a: unknown, ctor: Float32ArrayConstructor | Int32ArrayConstructor, need: number): void {
  if (!(a instanceof ctor)) fail(op, `${name} must be a ${ctor.name}`);
  if ((a as ArrayLike<number>).length < need) fail(op, `${name} has ${(a as ArrayLike<number>).length} elements, needs at least ${need}`);
}

/** Ascending comparison with NaN greatest (all NaNs equal) and -0 == +0. */
function compare(a: number, b: number): number {
  const an = Number.isNaN(a), bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Column indices of row r sorted by value (stable: ties keep column order). */
function sortedColumns(x: F32, r: number, cols: number, descending: boolean): number[] {
  const idx = Array.from({ length: cols }, (_, j) => j);
  const row = x.subarray(r * cols, (r + 1) * cols);
  return idx.sort((i, j) => (descending ? compare(row[j], row[i]) : compare(row[i], row[j])));
}

export const selectKernels: Partial<Backend> = {
  kthValue(x: F32, n: number, k: number): number {
    const op = 'kthValue';
    checkSize(op, 'n', n);
    checkSize(op, 'k', k);
    checkArr(op, 'x', x, Float32Array, n);
    if (k < 1 || k > n) fail(op, `k must be in 1..${n} (1-based), got ${k}`);
    for (let i = 0; i < n; i++) if (Number.isNaN(x[i])) fail(op, `x[${i}] is NaN; kthValue needs NaN-free input`);
    // TypedArray sort is numeric, with -0 before +0.
    return Float32Array.from(x.subarray(0, n)).sort()[k - 1];
  },

  topk(x: F32, rows: number, cols: number, k: number, largest: boolean, values: F32, indices: I32): void {
    const op = 'topk';
    checkSize(op, 'rows', rows);
    checkSize(op, 'cols', cols);
    checkSize(op, 'k', k);
    if (k > cols) fail(op, `k must be in 0..${cols} (cols), got ${k}`);
    checkArr(op, 'x', x, Float32Array, rows * cols);
    checkArr(op, 'values', values, Float32Array, rows * k);
    checkArr(op, 'indices', indices, Int32Array, rows * k);
    for (let r = 0; r < rows; r++) {
      const order = sortedColumns(x, r, cols, largest);
      for (let j = 0; j < k; j++) {
        indices[r * k + j] = order[j];
        values[r * k + j] = x[r * cols + order[j]];
      }
    }
  },

  sortRows(x: F32, rows: number, cols: number, descending: boolean, values: F32, indices: I32): void {
    const op = 'sortRows';
    checkSize(op, 'rows', rows);
    checkSize(op, 'cols', cols);
    checkArr(op, 'x', x, Float32Array, rows * cols);
    checkArr(op, 'values', values, Float32Array, rows * cols);
    checkArr(op, 'indices', indices, Int32Array, rows * cols);
    for (let r = 0; r < rows; r++) {
      const order = sortedColumns(x, r, cols, descending);
      for (let j = 0; j < cols; j++) {
        indices[r * cols + j] = order[j];
        values[r * cols + j] = x[r * cols + order[j]];
      }
    }
  },
};
