/**
 * Weight saliency scores (thesis Table 2.1 and section 2.1). Every scorer
 * returns, per target key, one score per weight (flat, row-major).
 *
 * Sign convention: a LOWER score is pruned FIRST (select.ts prunes the lowest).
 *   magnitude        |w|                           small weights first
 *   random           U[0, 1)                       a baseline
 *   taylor1          dw g                          most negative predicted loss change first
 *   taylor2          dw (g + lambda H dw)          idem, second order (lambda = 1)
 *   hessian          dw (H dw)                     the second-order term alone
 *   loss-change      L(w_i = 0) - L(w)             most negative measured change first
 *   <name>-abs       |score|                       closest to no change first (thesis 2.1.5)
 * Signed scores estimate the change of the loss when the weight is removed:
 * the lowest are those whose removal lowers the loss most. With dw = -w
 * (pruning) every pruned weight scores 0.
 *
 * Data-dependent scorers (taylor*, hessian*, loss-change*) use N examples
 * (default 1000) from `batches` or `ctx.sampleTrainBatches`; see data.ts.
 */
import { Module } from '../../nn/module';
import { Generator } from '../../tensor/random';
import { SparsetrainError } from '../../errors';
import type { PruneTarget, ScoreMap } from '../select';
import { DataOptions, scoringData } from './data';
import { magnitudeScores } from './magnitude';
import { randomScores } from './random';
import { Delta, taylorTerms } from './taylor';
import { lossChangeScores, DEFAULT_MAX_LOSS_CHANGE_WEIGHTS } from './loss-change';

export { magnitudeScores } from './magnitude';
export { randomScores } from './random';
export { taylorTerms, perturbation, checkDelta } from './taylor';
export type { Delta, TaylorOptions, TaylorTerms } from './taylor';
export { lossChangeScores, DEFAULT_MAX_LOSS_CHANGE_WEIGHTS } from './loss-change';
export { scoringData, withMode, datasetLoss, batchShare, DEFAULT_SCORE_EXAMPLES } from './data';
export type { DataOptions, ScoringData, LossFn } from './data';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export const WEIGHT_SCORERS = [
  'magnitude', 'random', 'taylor1', 'taylor2', 'hessian', 'loss-change',
  'taylor1-abs', 'taylor2-abs', 'hessian-abs', 'loss-change-abs',
] as const;
export type WeightScorerName = (typeof WEIGHT_SCORERS)[number];

/** A custom scorer: scores per target key, lower pruned first. */
export type WeightScoreFn = (model: AnyModule, targets: readonly PruneTarget[], opts: ScoreOptions) => ScoreMap;

export interface ScoreOptions extends DataOptions {
  /** random: the generator (default: ctx.generator when a ctx is given, else the global one). */
  generator?: Generator;
  /** Taylor scores: dw = -w ('prune', default) or -epsilon * sign(w) ({ epsilon }). */
  delta?: Delta;
  /** taylor2: the weight of the second-order term (default 1, as the thesis). */
  lambda?: number;
  /** H dw over all targets together ('joint', default) or each layer's own block ('layer'). */
  hessianScope?: 'joint' | 'layer';
  /** loss-change: the most still-unpruned weights it may zero one by one (default 5000). */
  maxLossChangeWeights?: number;
  /** ctx may also carry the run's generator. */
  ctx?: DataOptions['ctx'] & { generator?: Generator };
}

/** Whether a scorer needs data (and so ScoreOptions.batches or .ctx). */
export function isDataDependent(name: WeightScorerName): boolean {
  return name !== 'magnitude' && name !== 'random';
}

/**
 * Reads a scorer name: the names above, case-insensitive, also as the thesis
 * spells them ('taylor1ScorerAbs', 'magnitudeScorer', 'lossChangeScorer').
 */
export function parseScorerName(s: string): WeightScorerName {
  const norm = String(s).trim().replace(/scorer/i, '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
  if ((WEIGHT_SCORERS as readonly string[]).includes(norm)) return norm as WeightScorerName;
  throw new SparsetrainError('ERR_ARGUMENT', `unknown weight scorer ${JSON.stringify(s)}; expected one of ${WEIGHT_SCORERS.join(', ')}`);
}

function absMap(m: ScoreMap): ScoreMap {
  const out: ScoreMap = new Map();
  for (const [k, s] of m) out.set(k, s.map(Math.abs));
  return out;
}

function checkLambda(v: unknown): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SparsetrainError('ERR_ARGUMENT', `taylor2: lambda must be a finite number, got ${String(v)}`);
  return v;
}

/**
 * Scores for several scorers at once, sharing the work (one gradient and one
 * H dw for all Taylor scores, one loss-change sweep for both variants).
 */
export function scoreWeightsMany(
  model: AnyModule, targets: readonly PruneTarget[], names: readonly WeightScorerName[], opts: ScoreOptions = {},
): Map<WeightScorerName, ScoreMap> {
  for (const n of names) parseScorerName(n);
  const base = (n: WeightScorerName) => n.replace(/-abs$/, '');
  const bases = new Set(names.map(base));
  const out = new Map<WeightScorerName, ScoreMap>();
  const raw = new Map<string, ScoreMap>();
  if (bases.has('magnitude')) raw.set('magnitude', magnitudeScores(targets));
  if (bases.has('random')) raw.set('random', randomScores(targets, opts.generator ?? opts.ctx?.generator));
  const needGrad = bases.has('taylor1') || bases.has('taylor2');
  const needHvp = bases.has('taylor2') || bases.has('hessian');
  const needLoss = bases.has('loss-change');
  if (needGrad || needHvp || needLoss) {
    const first = names.find((n) => isDataDependent(n))!;
    const data = scoringData(`${first} scorer`, opts);
    if (needGrad || needHvp) {
      const lambda = checkLambda(opts.lambda);
      const { dw, g, hdw } = taylorTerms(model, targets, data, { grad: needGrad, hvp: needHvp }, { delta: opts.delta, hessianScope: opts.hessianScope });
      const build = (f: (a: number, i: number) => number): ScoreMap => {
        const m: ScoreMap = new Map();
        targets.forEach((t, a) => {
          const s = new Float32Array(t.numel);
          for (let i = 0; i < s.length; i++) s[i] = f(a, i) + 0; // + 0: pruned entries score +0, not -0
          m.set(t.key, s);
        });
        return m;
      };
      if (bases.has('taylor1')) raw.set('taylor1', build((a, i) => dw[a][i] * g![a][i]));
      if (bases.has('hessian')) raw.set('hessian', build((a, i) => dw[a][i] * hdw![a][i]));
      if (bases.has('taylor2')) raw.set('taylor2', build((a, i) => dw[a][i] * (g![a][i] + lambda * hdw![a][i])));
    }
    if (needLoss) raw.set('loss-change', lossChangeScores(model, targets, data, opts.maxLossChangeWeights ?? DEFAULT_MAX_LOSS_CHANGE_WEIGHTS));
  }
  for (const n of names) {
    const r = raw.get(base(n))!;
    out.set(n, n.endsWith('-abs') ? absMap(r) : r);
  }
  return out;
}

/** Scores of one scorer (a name or a custom function) for the targets. */
export function scoreWeights(
  model: AnyModule, targets: readonly PruneTarget[], scorer: WeightScorerName | WeightScoreFn, opts: ScoreOptions = {},
): ScoreMap {
  if (typeof scorer === 'function') return scorer(model, targets, opts);
  const name = parseScorerName(scorer);
  return scoreWeightsMany(model, targets, [name], opts).get(name)!;
}
