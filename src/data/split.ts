/**
 * Validation hold-out (--validate-set K): K of the n training examples become the
 * validation set, the rest stay for training. Either the last K (mode 'last', the
 * default; no randomness) or K chosen by a seeded permutation (mode 'random').
 * Both index lists are sorted ascending; together they are exactly 0..n-1.
 */
import { backend } from '../backend';
import { SparsetrainError } from '../errors';
import { derivedGenerator } from './seed';

export interface ValidationSplit {
  train: Int32Array;
  val: Int32Array;
}

export interface SplitOptions {
  mode?: 'last' | 'random';
  /** Seed for mode 'random' (default 0). */
  seed?: number;
}

export function validationSplit(n: number, k: number, opts: SplitOptions = {}): ValidationSplit {
  const mode = opts.mode ?? 'last';
  if (!Number.isInteger(n) || n < 0) throw new SparsetrainError('ERR_ARGUMENT', `validationSplit: dataset size must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k >= n) {
    throw new SparsetrainError('ERR_ARGUMENT', `validation set size must be an integer in 0..${Math.max(0, n - 1)} (the training set has ${n} examples and must keep at least one), got ${k}`);
  }
  if (mode !== 'last' && mode !== 'random') throw new SparsetrainError('ERR_ARGUMENT', `validationSplit: mode must be 'last' or 'random', got '${mode}'`);
  const train = new Int32Array(n - k);
  const val = new Int32Array(k);
  if (mode === 'last') {
    for (let i = 0; i < n - k; i++) train[i] = i;
    for (let i = 0; i < k; i++) val[i] = n - k + i;
    return { train, val };
  }
  const perm = new Int32Array(n);
  if (n > 0) backend().rngPermutation(derivedGenerator(opts.seed ?? 0, 'validation-split').state, perm, n);
  const isVal = new Uint8Array(n);
  for (let i = 0; i < k; i++) isVal[perm[i]] = 1;
  let t = 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    if (isVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, val };
}
