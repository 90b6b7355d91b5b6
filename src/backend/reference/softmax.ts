/** Reference (plain TypeScript) kernels: softmax. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32 } from '../backend';
import { SparsetrainError } from '../../errors';
import { checkF32, checkI32, checkSize } from './elementwise';

function checkRows(kernel: string, rows: number, cols: number): void {
  checkSize(kernel, 'rows', rows);
  checkSize(kernel, 'cols', cols);
}

function checkBool(kernel: string, name: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: ${name} must be a boolean`);
}

function checkLabels(kernel: string, labels: I32, rows: number, cols: number, ignoreIndex: number): void {
  if (!Number.isInteger(ignoreIndex)) throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  for (let r = 0; r < rows; r++) {
    const l = labels[r];
    if (l !== ignoreIndex && (l < 0 || l >= cols))
      throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: label ${l} at row ${r} is out of range 0..${cols - 1} (ignoreIndex ${ignoreIndex})`);
  }
}

/**
 * max and log(sum(exp(x - max))) of row r, in double. The sum is 1 + (the terms other than the
 * first max, k): log1p of those keeps full precision when one class dominates (log(1 + 1e-13)
 * would not, even in double). exp(x[k] - max) - 1 is 0 for a finite max, NaN for a row holding
 * NaN or +-Infinity as max, which makes the whole row NaN (as PyTorch).
 */
function rowStats(x: F32, r: number, cols: number): { max: number; logSum: number } {
  let max = -Infinity;
  let k = 0;
  for (let c = 0; c < cols; c++) {
    const v = x[r * cols + c];
    if (Number.isNaN(v) || v > max) {
      max = v;
      k = c;
      if (Number.isNaN(v)) break;
    }
  }
  let rest = Math.exp(x[r * cols + k] - max) - 1;
  for (let c = 0; c < cols; c++) if (c !== k) rest += Math.exp(x[r * cols + c] - max);
  return { max, logSum: Math.log1p(rest) };
}

export const softmaxKernels: Partial<Backend> = {
  // y may be x.
  softmax(x: F32, y: F32, rows: number, cols: number, log: boolean): void {
    checkRows('softmax', rows, cols);
    checkF32('softmax', 'x', x, rows * cols);
    checkF32('softmax', 'y', y, rows * cols);
    checkBool('softmax', 'log', log);
    for (let r = 0; r < rows; r++) {
      const { max, logSum } = rowStats(x, r, cols);
      for (let c = 0; c < cols; c++) {
        const z = x[r * cols + c] - max;
        y[r * cols + c] = log ? z - logSum : Math.exp(z - logSum);
      }
    }
  },

  // dx may be dy.
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void {
    checkRows('softmaxBackward', rows, cols);
    checkF32('softmaxBackward', 'y', y, rows * cols);
    checkF32('softmaxBackward', 'dy', dy, rows * cols);
    checkF32('softmaxBackward', 'dx', dx, rows * cols);
    checkBool('softmaxBackward', 'log', log);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += log ? dy[r * cols + c] : dy[r * cols + c] * y[r * cols + c];
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        dx[i] = log ? dy[i] - Math.exp(y[i]) * s : y[i] * (dy[i] - s);
      }
    }
  },

  // probs is written for every row, ignored ones included.
  crossEntropyForward(logits: F32, labels: I32, rows: number, cols: number, ignoreIndex: number, lossPerRow: F32, probs: F32): void {
    const k = 'crossEntropyForward';
    checkRows(k, rows, cols);
    checkF32(k, 'logits', logits, rows * cols);
    checkI32(k, 'labels', labels, rows);
    checkF32(k, 'lossPerRow', lossPerRow, rows);
    checkF32(k, 'probs', probs, rows * cols);
    checkLabels(k, labels, rows, cols, ignoreIndex);
    for (let r = 0; r < rows; r++) {
      const { max, logSum } = rowStats(logits, r, cols);
      for (let c = 0; c < cols; c++) probs[r * cols + c] = Math.exp(logits[r * cols + c] - max - logSum);
      const l = labels[r];
      lossPerRow[r] = l === ignoreIndex ? 0 : -(logits[r * cols + l] - max - logSum);
    }
  },

  // dlogits may be probs.
  crossEntropyBackward(probs: F32, labels: I32, dlossPerRow: F32, rows: number, cols: number, ignoreIndex: number, dlogits: F32): void {
    const k = 'crossEntropyBackward';
    checkRows(k, rows, cols);
    checkF32(k, 'probs', probs, rows * cols);
    checkI32(k, 'labels', labels, rows);
    checkF32(k, 'dlossPerRow', dlossPerRow, rows);
    checkF32(k, 'dlogits', dlogits, rows * cols);
    checkLabels(k, labels, rows, cols, ignoreIndex);
    for (let r = 0; r < rows; r++) {
      const l = labels[r];
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        dlogits[i] = l === ignoreIndex ? 0 : dlossPerRow[r] * (probs[i] - (c === l ? 1 : 0));
      }
    }
  },
};
