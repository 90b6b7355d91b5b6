/** Losses: cross-entropy (fused log-softmax + NLL), NLL, MSE. */
import { Tensor } from '../tensor/tensor';
import { fmt } from '../tensor/shape';
import { backend } from '../backend';
import { record } from '../autograd/node';
import { isGradEnabled } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import { requireFloat, mul, sub, square, div, neg } from './elementwise';
import { sum, mean } from './reduce';
import { softmax } from './activation';
import { reshape } from './shape';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Rows with this label are skipped (and not counted in the mean). */
  ignoreIndex?: number;
}

function checkReduction(op: string, r: unknown): asserts r is Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new SparsetrainError('ERR_ARGUMENT', `${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  }
}

function checkLabels(op: string, input: Tensor, labels: Tensor, ignoreIndex: number): void {
  requireFloat(op, input);
  if (input.ndim !== 2) throw new SparsetrainError('ERR_SHAPE', `${op}: input must be [N, C], got ${fmt(input.shape)}`);
  if (labels.dtype !== 'int32') throw new SparsetrainError('ERR_DTYPE', `${op}: labels must be int32, got ${labels.dtype}`);
  if (labels.ndim !== 1 || labels.shape[0] !== input.shape[0]) {
    throw new SparsetrainError('ERR_SHAPE', `${op}: labels must be [${input.shape[0]}] for input ${fmt(input.shape)}, got ${fmt(labels.shape)}`);
  }
  const C = input.shape[1];
  const l = labels.data as Int32Array;
  for (let i = 0; i < l.length; i++) {
    const v = l[i];
    if ((v < 0 || v >= C) && v !== ignoreIndex) {
      throw new SparsetrainError('ERR_ARGUMENT', `${op}: label ${v} at row ${i} is out of range for ${C} classes (expected 0..${C - 1})`);
    }
  }
}

/** One-hot float rows [N, C] of int labels (zero rows for ignored labels). */
function oneHot(labels: Int32Array, C: number, ignoreIndex: number): Tensor {
  const out = new Float32Array(labels.length * C);
  labels.forEach((v, i) => {
    if (v !== ignoreIndex) out[i * C + v] = 1;
  });
  return new Tensor(out, [labels.length, C], 'float32');
}

/** cross_entropy(logits [N, C], labels int32 [N]) as torch.nn.functional.cross_entropy. */
export function crossEntropy(logits: Tensor, labels: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const ignore = o.ignoreIndex ?? -100;
  const reduction = o.reduction ?? 'mean';
  checkReduction('crossEntropy', reduction);
  checkLabels('crossEntropy', logits, labels, ignore);
  const [N, C] = logits.shape;
  const lab = labels.data as Int32Array;
  const perRow = new Float32Array(N);
  const probs = new Float32Array(N * C);
  if (N > 0) backend().crossEntropyForward(logits.f32, lab, N, C, ignore, perRow, probs);
  let count = 0;
  for (let i = 0; i < N; i++) if (lab[i] !== ignore) count++;
  let y: Tensor;
  if (reduction === 'none') y = new Tensor(perRow, [N], 'float32');
  else {
    let s = 0;
    for (let i = 0; i < N; i++) s += perRow[i];
    y = new Tensor(Float32Array.of(reduction === 'mean' ? s / count : s), [], 'float32');
  }
  return record('crossEntropy', y, [logits], (g) => {
    // dL/dlogits[r] = dL/dloss[r] * (softmax[r] - onehot[r]); per-row upstream gradient first.
    let rowGrad: Tensor;
    if (reduction === 'none') rowGrad = g;
    else {
      const scale = reduction === 'mean' ? 1 / count : 1;
      rowGrad = isGradEnabled()
        ? mul(reshape(g, [1]), new Tensor(new Float32Array(N).fill(scale), [N], 'float32'))
        : new Tensor(new Float32Array(N).fill(g.item() * scale), [N], 'float32');
    }
    if (isGradEnabled()) {
      return [mul(sub(softmax(logits, 1), oneHot(lab, C, ignore)), reshape(rowGrad, [N, 1]))];
    }
    const dx = new Float32Array(N * C);
    if (N > 0) backend().crossEntropyBackward(probs, lab, rowGrad.f32, N, C, ignore, dx);
    return [new Tensor(dx, [N, C], 'float32')];
  });
}

/** nll_loss(logProbs [N, C], labels int32 [N]). */
export function nllLoss(logProbs: Tensor, labels: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const ignore = o.ignoreIndex ?? -100;
  const reduction = o.reduction ?? 'mean';
  checkReduction('nllLoss', reduction);
  checkLabels('nllLoss', logProbs, labels, ignore);
  const [N, C] = logProbs.shape;
  const lab = labels.data as Int32Array;
  const hot = oneHot(lab, C, ignore);
  const perRow = neg(sum(mul(logProbs, hot), 1));
  if (reduction === 'none') return perRow;
  const s = sum(perRow);
  if (reduction === 'sum') return s;
  let count = 0;
  for (let i = 0; i < N; i++) if (lab[i] !== ignore) count++;
  return div(s, count);
}

/** Mean (or summed) squared error. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  requireFloat('mseLoss', input);
  requireFloat('mseLoss', target);
  checkReduction('mseLoss', reduction);
  if (input.numel !== target.numel) throw new SparsetrainError('ERR_SHAPE', `mseLoss: input ${fmt(input.shape)} and target ${fmt(target.shape)} differ in size`);
  const d = square(sub(input, reshape(target, [...input.shape])));
  return reduction === 'none' ? d : reduction === 'sum' ? sum(d) : mean(d);
}
