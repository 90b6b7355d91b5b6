/**
 * The data of data-dependent scores: N examples (default 1000) taken from a
 * given batch list or from a training context's sampleTrainBatches, and the
 * loss over them, L = (1/N) sum over the N examples = sum_b (n_b / N) L_b for
 * mean-reduced batch losses L_b.
 *
 * Scoring runs the model in eval mode by default (no dropout, BatchNorm on
 * its running statistics, which are not updated), so that a score is a
 * deterministic function of the weights; trainMode: true scores in training
 * mode instead. Every module's mode is restored afterwards.
 */
import { Tensor } from '../../tensor/tensor';
import { Module } from '../../nn/module';
import { noGrad } from '../../autograd/grad-mode';
import { crossEntropy } from '../../ops/loss';
import { slice } from '../../ops/shape';
import { mul } from '../../ops/elementwise';
import { SparsetrainError } from '../../errors';
import type { Batch } from '../../train/plugin';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** A mean-reduced loss of a model output against a batch's targets. */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;

export const DEFAULT_SCORE_EXAMPLES = 1000;

export interface DataOptions {
  /** The examples to score on (the first numExamples of them are used). */
  batches?: readonly Batch[];
  /** Or a training context: ctx.sampleTrainBatches(numExamples, batchSize). */
  ctx?: { sampleTrainBatches(n: number, batchSize?: number): Batch[] };
  /** N (default 1000). */
  numExamples?: number;
  /** Batch size asked of ctx.sampleTrainBatches (default: the context's). */
  batchSize?: number;
  /** Default: cross entropy (mean). */
  lossFn?: LossFn;
  /** Score in training mode (default false: eval mode). */
  trainMode?: boolean;
}

export interface ScoringData {
  batches: Batch[];
  /** Examples in all batches. */
  total: number;
  lossFn: LossFn;
  trainMode: boolean;
}

function err(op: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}

/** Resolves the examples of a data-dependent score (op names the scorer in errors). */
export function scoringData(op: string, opts: DataOptions): ScoringData {
  const n = opts.numExamples ?? DEFAULT_SCORE_EXAMPLES;
  if (!Number.isInteger(n) || n < 1) throw err(op, `numExamples must be a positive integer, got ${String(n)}`);
  let src: readonly Batch[];
  if (opts.batches) src = opts.batches;
  else if (opts.ctx) src = opts.ctx.sampleTrainBatches(n, opts.batchSize);
  else throw err(op, 'this score needs data: pass `batches` or a training context `ctx`');
  const batches: Batch[] = [];
  let total = 0;
  for (const [i, b] of src.entries()) {
    if (total >= n) break;
    if (!b || !(b.x instanceof Tensor) || !(b.y instanceof Tensor)) throw err(op, `batch ${i} is not { x: Tensor, y: Tensor }`);
    const m = b.x.shape[0];
    if (b.x.ndim === 0 || b.y.ndim === 0 || b.y.shape[0] !== m) {
      throw new SparsetrainError('ERR_SHAPE', `${op}: batch ${i} has ${b.x.ndim ? m : 'no'} inputs and ${b.y.ndim ? b.y.shape[0] : 'no'} targets`);
    }
    if (m === 0) continue;
    const take = Math.min(m, n - total);
    batches.push(take === m ? b : { x: slice(b.x, 0, 0, take), y: slice(b.y, 0, 0, take) });
    total += take;
  }
  if (total === 0) throw err(op, 'no examples to score on (empty batches)');
  return { batches, total, lossFn: opts.lossFn ?? ((o, y) => crossEntropy(o, y)), trainMode: opts.trainMode ?? false };
}

/** Runs fn with every module of model in the given mode, then restores each module's own mode. */
export function withMode<T>(model: AnyModule, train: boolean, fn: () => T): T {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.train(train);
  try {
    return fn();
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

/** (n_b / N) * L_b: batch b's share of the loss over all N examples (a graph when grad mode is on). */
export function batchShare(model: AnyModule, data: ScoringData, b: Batch): Tensor {
  const l = data.lossFn(model.call(b.x), b.y);
  if (l.numel !== 1) throw new SparsetrainError('ERR_SHAPE', `lossFn must return a scalar, got ${l.numel} values`);
  return mul(l, b.x.shape[0] / data.total);
}

/** The loss over all N examples, without gradients, accumulated in double precision. */
export function datasetLoss(model: AnyModule, data: ScoringData): number {
  return noGrad(() => {
    let s = 0;
    for (const b of data.batches) s += (b.x.shape[0] / data.total) * data.lossFn(model.call(b.x), b.y).item();
    return s;
  });
}
