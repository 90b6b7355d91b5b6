/** Reference (plain TypeScript) kernels: reduce. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32 } from '../backend';
import { ReduceOp } from '../backend';
import { SparsetrainError } from '../../errors';
import { checkF32, checkI32, checkOp, checkSize } from './elementwise';

const REDUCE_COUNT = 8;

export const reduceKernels: Partial<Backend> = {
  // Accumulates in double. Max/Min propagate NaN (as torch.max); CountNonzero counts NaN.
  reduce(op: ReduceOp, x: F32, outer: number, n: number, inner: number, out: F32): void {
    checkOp('reduce', op, REDUCE_COUNT);
    checkSize('reduce', 'outer', outer);
    checkSize('reduce', 'n', n);
    checkSize('reduce', 'inner', inner);
    if (n === 0 && (op === ReduceOp.Max || op === ReduceOp.Min))
      throw new SparsetrainError('ERR_ARGUMENT', `reduce: ${op === ReduceOp.Max ? 'Max' : 'Min'} over an empty axis (n = 0) is undefined`);
    checkF32('reduce', 'x', x, outer * n * inner);
    checkF32('reduce', 'out', out, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let acc: number;
        switch (op) {
          case ReduceOp.Max: acc = -Infinity; break;
          case ReduceOp.Min: acc = Infinity; break;
          case ReduceOp.Prod: acc = 1; break;
          default: acc = 0;
        }
        for (let i = 0; i < n; i++) {
          const v = x[(o * n + i) * inner + j];
          switch (op) {
            case ReduceOp.Sum: case ReduceOp.Mean: acc += v; break;
            case ReduceOp.Max: acc = Math.max(acc, v); break;
            case ReduceOp.Min: acc = Math.min(acc, v); break;
            case ReduceOp.Prod: acc *= v; break;
            case ReduceOp.SumSquares: acc += v * v; break;
            case ReduceOp.SumAbs: acc += Math.abs(v); break;
            case ReduceOp.CountNonzero: acc += v !== 0 ? 1 : 0; break;
          }
        }
        out[o * inner + j] = op === ReduceOp.Mean ? acc / n : acc;
      }
    }
  },

  // First index of the extreme; a NaN counts as the extreme (the first NaN wins), as torch.argmax.
  argReduce(isMax: boolean, x: F32, outer: number, n: number, inner: number, out: I32): void {
    checkSize('argReduce', 'outer', outer);
    checkSize('argReduce', 'n', n);
    checkSize('argReduce', 'inner', inner);
    if (typeof isMax !== 'boolean') throw new SparsetrainError('ERR_ARGUMENT', 'argReduce: isMax must be a boolean');
    if (n === 0) throw new SparsetrainError('ERR_ARGUMENT', 'argReduce: argmax/argmin over an empty axis (n = 0) is undefined');
    checkF32('argReduce', 'x', x, outer * n * inner);
    checkI32('argReduce', 'out', out, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let bi = 0;
        let best = x[o * n * inner + j];
        for (let i = 1; i < n && !Number.isNaN(best); i++) {
          const v = x[(o * n + i) * inner + j];
          if (Number.isNaN(v) || (isMax ? v > best : v < best)) {
            best = v;
            bi = i;
          }
        }
        out[o * inner + j] = bi;
      }
    }
  },

  sumAll(x: F32, n: number): number {
    checkSize('sumAll', 'n', n);
    checkF32('sumAll', 'x', x, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i];
    return s;
  },
};
