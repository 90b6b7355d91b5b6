/**
 * Sensitivity analysis (Han et al., seed 004; the thesis' section 2.1 does the
 * same per layer): prune each prunable layer alone at several fractions,
 * evaluate, restore, go on. The curve of accuracy against the fraction shows
 * how much each layer tolerates, which is how Han et al. choose per-layer
 * pruning thresholds.
 *
 * Decisions:
 *   - A fraction f prunes round(f * R) of the layer's R still-unpruned
 *     weights (select.ts { fraction }): on a dense layer this is its sparsity
 *     afterwards; on a layer that is already pruned, it is a fraction of what
 *     is left, as torch.nn.utils.prune counts. Fraction 0 prunes nothing and
 *     gives the unpruned result.
 *   - Scores are computed once per layer, on that layer alone (for Taylor /
 *     Hessian scores the perturbation dw is the layer's own, not every
 *     layer's), then reused for every fraction: the k lowest scores are
 *     pruned, ties by position (select.ts).
 *   - Every trial runs inside withPruningUndone (sparse/trial.ts): masks and
 *     every parameter value are restored afterwards, bit for bit, so the
 *     model ends as it started (layers that were not pruned are plain
 *     parameters again, the same tensor objects).
 *   - Evaluation is the caller's (a test or validation split): the function
 *     returns loss and accuracy; top-5 when it gives one.
 */
import { Module } from '../nn/module';
import { noGrad } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import {
  findTargets, selectMasks, applyMasks, weightValues, currentMask, scoreWeights, parseScorerName, refreshEffective, withPruningUndone,
  type PruneTarget, type ScoreOptions, type WeightScoreFn, type WeightScorerName,
} from '../sparse';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export const DEFAULT_FRACTIONS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface EvalNumbers {
  loss: number;
  /** Top-1 accuracy in percent. */
  accuracy: number;
  top5?: number;
}

export interface SensitivityOptions {
  /** The model's evaluation (e.g. on the test split). */
  evaluate: () => EvalNumbers;
  /** Fractions of each layer's unpruned weights to prune (default 0.1 .. 0.9). */
  fractions?: readonly number[];
  /** Weight scorer (default 'magnitude'). */
  scorer?: WeightScorerName | WeightScoreFn;
  /** Data, generator and settings of the scorer (e.g. delta: { epsilon } for the thesis' sensitivity mode). */
  score?: ScoreOptions;
  /** Layers to analyse: weight keys ('fc1.weight') or module paths ('fc1'); default every Linear and Conv2d. */
  layers?: readonly string[];
  /** Called after every trial (progress). */
  onRow?: (row: SensitivityRow) => void;
}

export interface SensitivityRow {
  /** Weight key, e.g. "fc1.weight". */
  layer: string;
  fraction: number;
  /** Weights newly pruned by this trial. */
  pruned: number;
  /** Non-zero weights of the layer during the trial. */
  nonzero: number;
  params: number;
  loss: number;
  accuracy: number;
  top5: number | null;
}

export interface SensitivityLayer {
  layer: string;
  kind: 'conv' | 'fc';
  shape: number[];
  params: number;
  /** Non-zero weights before the analysis. */
  nonzero: number;
  /** Seconds spent scoring the layer. */
  scoreSeconds: number;
}

export interface SensitivityResult {
  scorer: string;
  fractions: number[];
  /** The unpruned model's evaluation. */
  baseline: EvalNumbers;
  layers: SensitivityLayer[];
  /** layers x fractions, in that order. */
  rows: SensitivityRow[];
  seconds: number;
}

/** Checks fractions: a non-empty list of numbers in [0, 1]. */
export function checkFractions(fr: readonly number[], op = 'sensitivity'): number[] {
  if (!Array.isArray(fr) || fr.length === 0) throw new SparsetrainError('ERR_ARGUMENT', `${op}: fractions must be a non-empty list of numbers in [0, 1]`);
  for (const f of fr) {
    if (typeof f !== 'number' || !Number.isFinite(f) || f < 0 || f > 1) throw new SparsetrainError('ERR_ARGUMENT', `${op}: fractions must be numbers in [0, 1], got ${String(f)}`);
  }
  return [...fr];
}

/** Resolves layer names (weight keys or module paths) to targets. */
export function sensitivityTargets(model: AnyModule, layers?: readonly string[], op = 'sensitivity'): PruneTarget[] {
  const all = findTargets(model);
  if (!layers) return all;
  return layers.map((l) => {
    const t = all.find((x) => x.key === l || x.key === `${l}.weight`);
    if (!t) throw new SparsetrainError('ERR_ARGUMENT', `${op}: no prunable layer "${l}"; layers: ${all.map((x) => x.key.replace(/\.weight$/, '')).join(', ')}`);
    return t;
  });
}

function nonzeros(d: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/** Prunes each layer alone at each fraction, evaluates, restores (see the file comment). */
export function sensitivityAnalysis(model: AnyModule, opts: SensitivityOptions): SensitivityResult {
  const t0 = Date.now();
  if (typeof opts.evaluate !== 'function') throw new SparsetrainError('ERR_ARGUMENT', 'sensitivity: evaluate must be a function returning { loss, accuracy }');
  const fractions = checkFractions(opts.fractions ?? DEFAULT_FRACTIONS);
  const scorer = typeof opts.scorer === 'function' ? opts.scorer : parseScorerName(opts.scorer ?? 'magnitude');
  const targets = sensitivityTargets(model, opts.layers);
  const baseline = opts.evaluate();
  const layers: SensitivityLayer[] = [];
  const rows: SensitivityRow[] = [];
  for (const t of targets) {
    const ts = Date.now();
    const scores = scoreWeights(model, [t], scorer, opts.score ?? {});
    const before = nonzeros(weightValues(t));
    layers.push({ layer: t.key, kind: t.kind, shape: [...t.shape], params: t.numel, nonzero: before, scoreSeconds: (Date.now() - ts) / 1000 });
    for (const f of fractions) {
      const row = withPruningUndone(model, () => {
        const masks = selectMasks([t], scores, { scope: 'layer', amount: { fraction: f } });
        const m = masks.get(t.key)!;
        const old = currentMask(t);
        let added = 0;
        for (let i = 0; i < m.length; i++) if (m[i] === 0 && old[i] === 1) added++;
        if (added > 0) {
          applyMasks(model, masks);
          noGrad(() => refreshEffective(model));
        }
        const ev = opts.evaluate();
        const r: SensitivityRow = {
          layer: t.key, fraction: f, pruned: added, nonzero: nonzeros(weightValues(t)), params: t.numel,
          loss: ev.loss, accuracy: ev.accuracy, top5: ev.top5 ?? null,
        };
        return r;
      });
      rows.push(row);
      opts.onRow?.(row);
    }
  }
  return { scorer: typeof scorer === 'function' ? (scorer.name || 'custom') : scorer, fractions, baseline, layers, rows, seconds: (Date.now() - t0) / 1000 };
}
