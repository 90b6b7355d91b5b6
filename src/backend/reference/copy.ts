/** Reference (plain TypeScript) kernels: copy. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32, U8 } from '../backend';
import { SparsetrainError } from '../../errors';

type Ctor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

function fail(op: string, msg: string): never {
  throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}
function checkSize(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 2147483647) fail(op, `${name} must be a non-negative integer, got ${v}`);
}
function checkArr(op: string, name: string, a: unknown, ctor: Ctor, need: number): void {
  if (!(a instanceof ctor)) fail(op, `${name} must be a ${ctor.name}`);
  if ((a as ArrayLike<number>).length < need) fail(op, `${name} has ${(a as ArrayLike<number>).length} elements, needs at least ${need}`);
}

/** The largest index off + sum((shape-1)*stride) reached, or -1 when shape has a 0. */
function lastIndex(off: number, strides: I32, shape: I32): number {
  let last = off;
  for (let k = 0; k < shape.length; k++) {
    if (shape[k] === 0) return -1;
    last += (shape[k] - 1) * strides[k];
  }
  return last;
}

function stridedCopyOf(op: string, ctor: Ctor) {
  return (
    src: ArrayLike<number>, srcOffset: number, srcStrides: I32,
    dst: { [i: number]: number; length: number }, dstOffset: number, dstStrides: I32, shape: I32,
  ): void => {
    checkArr(op, 'src', src, ctor, 0);
    checkArr(op, 'dst', dst, ctor, 0);
    for (const [name, a] of [['srcStrides', srcStrides], ['dstStrides', dstStrides], ['shape', shape]] as const) {
      if (!(a instanceof Int32Array)) fail(op, `${name} must be a Int32Array`);
      for (let k = 0; k < a.length; k++) if (a[k] < 0) fail(op, `${name}[${k}] = ${a[k]} is negative`);
    }
    checkSize(op, 'srcOffset', srcOffset);
    checkSize(op, 'dstOffset', dstOffset);
    const rank = shape.length;
    if (srcStrides.length !== rank || dstStrides.length !== rank) {
      fail(op, `srcStrides, dstStrides and shape must have the same length, got ${srcStrides.length}, ${dstStrides.length}, ${rank}`);
    }
    for (let k = 0; k < rank; k++) {
      if (dstStrides[k] === 0 && shape[k] > 1) {
        fail(op, `dstStrides[${k}] is 0 for a dimension of size ${shape[k]}: dst elements must be distinct`);
      }
    }
    const sLast = lastIndex(srcOffset, srcStrides, shape), dLast = lastIndex(dstOffset, dstStrides, shape);
    if (sLast >= src.length) fail(op, `src has ${src.length} elements, but the offset and strides reach index ${sLast}`);
    if (dLast >= dst.length) fail(op, `dst has ${dst.length} elements, but the offset and strides reach index ${dLast}`);
    if (sLast < 0) return; // nothing to copy
    // Visit every index of shape in row-major order (an odometer).
    const idx = new Array<number>(rank).fill(0);
    for (;;) {
      let s = srcOffset, d = dstOffset;
      for (let k = 0; k < rank; k++) {
        s += idx[k] * srcStrides[k];
        d += idx[k] * dstStrides[k];
      }
      dst[d] = src[s];
      let k = rank - 1;
      while (k >= 0 && ++idx[k] === shape[k]) idx[k--] = 0;
      if (k < 0) return;
    }
  };
}

function checkIndex(op: string, index: I32, count: number, rows: number): void {
  for (let i = 0; i < count; i++) {
    if (index[i] < 0 || index[i] >= rows) fail(op, `index[${i}] = ${index[i]} is out of range for ${rows} rows`);
  }
}

export const copyKernels: Partial<Backend> = {
  stridedCopy: stridedCopyOf('stridedCopy', Float32Array) as Backend['stridedCopy'],
  stridedCopyI32: stridedCopyOf('stridedCopyI32', Int32Array) as Backend['stridedCopyI32'],
  stridedCopyU8: stridedCopyOf('stridedCopyU8', Uint8Array) as Backend['stridedCopyU8'],

  gatherRows(x: F32, rows: number, rowLen: number, index: I32, count: number, out: F32): void {
    const op = 'gatherRows';
    checkSize(op, 'rows', rows);
    checkSize(op, 'rowLen', rowLen);
    checkSize(op, 'count', count);
    checkArr(op, 'x', x, Float32Array, rows * rowLen);
    checkArr(op, 'index', index, Int32Array, count);
    checkArr(op, 'out', out, Float32Array, count * rowLen);
    checkIndex(op, index, count, rows);
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < rowLen; c++) out[i * rowLen + c] = x[index[i] * rowLen + c];
    }
  },

  scatterAddRows(dout: F32, index: I32, count: number, rowLen: number, dx: F32, rows: number): void {
    const op = 'scatterAddRows';
    checkSize(op, 'count', count);
    checkSize(op, 'rowLen', rowLen);
    checkSize(op, 'rows', rows);
    checkArr(op, 'dout', dout, Float32Array, count * rowLen);
    checkArr(op, 'index', index, Int32Array, count);
    checkArr(op, 'dx', dx, Float32Array, rows * rowLen);
    checkIndex(op, index, count, rows);
    for (let i = 0; i < count; i++) {
      for (let c = 0; c < rowLen; c++) dx[index[i] * rowLen + c] += dout[i * rowLen + c];
    }
  },
};
