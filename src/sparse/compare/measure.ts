/**
 * One measurement of the thesis' scorer comparison (seed 001, sections 2.1
 * and 4.1): at the model's current weights, for every layer, scorer and
 * fraction f, prune f of that layer alone with that scorer, measure the loss
 * on a fixed sample of training examples, and undo the pruning exactly.
 *
 * Decisions:
 *   - Two samples. Scores (and the unit means of mean replacement) are
 *     computed on `scoreBatches`, the loss change is measured on
 *     `lossBatches`; the plug-in takes them disjoint by default, as the thesis
 *     scored on a held-out set of 1000 (section 2.1) and measured the training
 *     loss: data-dependent scorers are then not judged on the examples they
 *     were fitted to. Every scorer of one measurement sees the same examples.
 *   - Eval mode throughout (scores, means, losses): no dropout, BatchNorm on
 *     its running statistics, which are not updated; a loss change is then a
 *     function of the weights only. Modes are restored.
 *   - One layer at a time, as the thesis (conv1's 200 weights, fc1's units).
 *     Weight scores are computed once for all layers with hessianScope
 *     'layer': H dw of a layer is then its own diagonal block, which is what
 *     taylor2 / hessian mean when only that layer is pruned.
 *   - Weights: { fraction: f } of the layer's still-unpruned weights
 *     (select.ts; round-half-even, exactly that many). Units: floor(f * size)
 *     units in total (selectUnits, scope 'layer', at least one left), removed
 *     by mean replacement with bias propagation (the thesis' chapter 4) or
 *     zeroed (replacement 'zero').
 *   - Random scorers draw from the generator passed in (the plug-in seeds one
 *     per step), never from a run's or the global generator, so measuring does
 *     not change what training draws.
 *   - Undo: withTrialUndone() (undo.ts); with verify, the whole state dict
 *     and every unit mask are compared bit for bit before and after.
 */
import { Module } from '../../nn/module';
import { Generator } from '../../tensor/random';
import { noGrad } from '../../autograd/grad-mode';
import type { Batch } from '../../train/plugin';
import { type PruneTarget, selectMasks, applyMasks } from '../select';
import { refreshEffective } from '../mask';
import { type WeightScorerName, scoreWeightsMany, scoringData, datasetLoss, withMode } from '../scores';
import { type UnitGraph } from '../units/graph';
import { type UnitScorer, scoreUnits, selectUnits } from '../units/scores';
import { type UnitSite, collectUnitStats } from '../units/stats';
import { pruneUnits } from '../units/replace';
import type { ComparisonRow } from './rows';
import { withTrialUndone, modelFingerprint, assertUnchanged } from './undo';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export interface MeasureOptions {
  fractions: readonly number[];
  weightScorers: readonly WeightScorerName[];
  /** The weight layers, each pruned alone. */
  weightLayers: readonly PruneTarget[];
  unitScorers: readonly UnitScorer[];
  /** Unit groups (producer names of `graph`), each pruned alone. */
  unitLayers: readonly string[];
  /** The model's unit graph (needed when unitScorers and unitLayers are not empty). */
  graph: UnitGraph | null;
  /** Examples the scores and unit means are computed on. */
  scoreBatches: readonly Batch[];
  /** Examples the loss is measured on. */
  lossBatches: readonly Batch[];
  /** Random scorers' draws. */
  generator: Generator;
  /** Units: 'mean' (default, with bias propagation) or 'zero'. */
  replacement?: 'mean' | 'zero';
  /** Units: where means are taken (default 'pre', before the non-linearity, as the thesis). */
  site?: UnitSite;
  /** Units, l1 / l2: incoming (default), outgoing or both weights. */
  direction?: 'in' | 'out' | 'both';
  /** Compare the model bit for bit before and after (default true). */
  verify?: boolean;
}

function countExamples(batches: readonly Batch[]): number {
  return batches.reduce((n, b) => n + b.x.shape[0], 0);
}

/** Rows of one measurement, in the order layer, scorer, fraction (weights first, then units). */
export function measureScorers(model: AnyModule, o: MeasureOptions, at: { step: number; epoch: number }): ComparisonRow[] {
  const before = o.verify === false ? null : modelFingerprint(model);
  const lossData = scoringData('scorer comparison', { batches: o.lossBatches, numExamples: countExamples(o.lossBatches) });
  const loss = (): number => withMode(model, false, () => datasetLoss(model, lossData));
  const lossBefore = loss();
  const rows: ComparisonRow[] = [];
  const row = (kind: 'weight' | 'unit', layer: string, scorer: string, fraction: number, pruned: number, after: number): void => {
    rows.push({ step: at.step, epoch: at.epoch, kind, layer, scorer, fraction, pruned, loss_before: lossBefore, loss_after: after, delta: after - lossBefore });
  };
  const nScore = countExamples(o.scoreBatches);

  if (o.weightScorers.length && o.weightLayers.length) {
    const scores = scoreWeightsMany(model, o.weightLayers, o.weightScorers, {
      batches: o.scoreBatches, numExamples: nScore, generator: o.generator, hessianScope: 'layer',
    });
    for (const t of o.weightLayers) {
      for (const name of o.weightScorers) {
        const s = scores.get(name)!;
        for (const f of o.fractions) {
          withTrialUndone(model, () => {
            const masks = selectMasks([t], s, { scope: 'layer', amount: { fraction: f } });
            const added = applyMasks(model, masks);
            noGrad(() => refreshEffective(model));
            row('weight', t.key, name, f, added.get(t.key) ?? 0, loss());
          });
        }
      }
    }
  }

  if (o.unitScorers.length && o.unitLayers.length && o.graph) {
    const graph = o.graph;
    const site = o.site ?? 'pre';
    const replacement = o.replacement ?? 'mean';
    const data = { batches: o.scoreBatches, examples: nScore, site, groups: o.unitLayers };
    const stats = collectUnitStats(model, graph, { ...data, gradients: o.unitScorers.includes('mrs') });
    const unitScores = new Map(o.unitScorers.map((scorer) => [scorer, scorer === 'mrs'
      ? new Map([...stats].map(([k, st]) => [k, st.mrs]))
      : scoreUnits(model, graph, scorer, { ...data, stats, direction: o.direction, generator: o.generator })]));
    for (const g of o.unitLayers) {
      for (const [scorer, scores] of unitScores) {
        for (const f of o.fractions) {
          const chosen = selectUnits(model, graph, new Map([[g, scores.get(g)!]]), { fraction: f }).get(g)!;
          withTrialUndone(model, () => {
            const r = pruneUnits(model, graph, g, chosen, { replacement, site, means: stats.get(g)!.mean });
            row('unit', g, scorer, f, r.pruned.length, loss());
          });
        }
      }
    }
  }
  if (before) assertUnchanged('scorer comparison', model, before);
  return rows;
}
