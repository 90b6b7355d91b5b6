/**
 * lossChangeScorer (thesis section 2.1): the empirical saliency
 * S_i = L(w with w_i = 0) - L(w), each still-unpruned weight zeroed alone
 * and the loss over the N examples measured (one pass over them per weight).
 * Pruned weights score 0 (zeroing them changes nothing). Only for small
 * layers: more than maxWeights still-unpruned weights (default 5000) is an
 * error rather than hours of forward passes.
 */
import { Module } from '../../nn/module';
import { noGrad } from '../../autograd/grad-mode';
import { SparsetrainError } from '../../errors';
import { refreshEffective } from '../mask';
import type { PruneTarget, ScoreMap } from '../select';
import { currentMask, trainedTensor } from '../select';
import { ScoringData, datasetLoss, withMode } from './data';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export const DEFAULT_MAX_LOSS_CHANGE_WEIGHTS = 5000;

export function lossChangeScores(
  model: AnyModule, targets: readonly PruneTarget[], data: ScoringData, maxWeights = DEFAULT_MAX_LOSS_CHANGE_WEIGHTS,
): ScoreMap {
  const op = 'loss-change scorer';
  if (!Number.isInteger(maxWeights) || maxWeights < 0) {
    throw new SparsetrainError('ERR_ARGUMENT', `${op}: maxWeights must be a non-negative integer, got ${maxWeights}`);
  }
  const masks = targets.map((t) => currentMask(t));
  let n = 0;
  for (const m of masks) for (let i = 0; i < m.length; i++) n += m[i];
  if (n > maxWeights) {
    const sizes = targets.map((t, a) => `${t.key}: ${masks[a].reduce((s, v) => s + v, 0)}`).join(', ');
    throw new SparsetrainError('ERR_ARGUMENT',
      `${op}: ${n} weights to zero one by one (${sizes}), each a pass over ${data.total} examples, exceeds the limit of ${maxWeights}; ` +
      'score fewer or smaller layers (targets), or raise maxLossChangeWeights');
  }
  const out: ScoreMap = new Map();
  withMode(model, data.trainMode, () => noGrad(() => {
    const base = datasetLoss(model, data);
    targets.forEach((t, a) => {
      const w = trainedTensor(t).data as Float32Array;
      const m = masks[a];
      const s = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        if (m[i] === 0) continue;
        const keep = w[i];
        w[i] = 0;
        try {
          s[i] = datasetLoss(model, data) - base;
        } finally {
          w[i] = keep;
        }
      }
      out.set(t.key, s);
    });
    refreshEffective(model);
  }));
  return out;
}
