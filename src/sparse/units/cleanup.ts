/**
 * The thesis' simpler clean-up after weight pruning (seed 001, section 2.2):
 * remove the units whose fraction of non-zero incoming or outgoing weights is
 * at most f_nz (f_nz = 0: units with all incoming or all outgoing weights
 * zero), with the bias propagation the thesis left out.
 *
 * Weights are read as the layer applies them: zeros in weight, or
 * weight_orig * weight_mask for a layer reparametrised by a weight mask.
 * Incoming weights: the unit's row (Linear) or filter (Conv2d) of the
 * producer, bias not counted; outgoing: its columns (a block of H*W per
 * channel after a flatten) or input channel of every consumer.
 *
 *   - no outgoing weight left (fraction 0): the unit has no effect; removed.
 *   - no incoming weight left: the unit outputs its bias, a constant; the
 *     constant is carried to the consumers (through BatchNorm's eval-mode
 *     transform, pooling and the activation: act(bias)) and folded into
 *     their biases — removal is exact (eval mode).
 *   - a few incoming weights left (0 < fraction <= f_nz): not a constant.
 *     With examples (batches) the unit is mean-replaced (site 'pre');
 *     without, it is replaced by the constant its bias alone would give — an
 *     approximation, reported as such.
 * A unit whose constant cannot be folded exactly (padded or bias-free
 * consumer, see replace.ts) is kept and reported.
 */
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import type { Batch } from '../../train/plugin';
import { UnitGraph, prunableGroups } from './graph';
import { aliveUnits, effectiveWeight, localTensor, maskUnits } from './mask';
import { feedConstants, foldIntoConsumer, foldProblem } from './replace';
import { forEachOutgoing } from './scores';
import { shrinkModel, ShrinkResult } from './shrink';
import { PerExampleLoss, collectUnitStats } from './stats';

type AnyModule = Module<any[], any>;

export interface CleanupOptions {
  /** Remove units with at most this fraction of non-zero incoming or outgoing weights (default 0). */
  fnz?: number;
  /** Groups to clean (default every prunable group). */
  groups?: readonly string[];
  /** Examples for mean-replacing units that still have a few incoming weights (f_nz > 0). */
  batches?: readonly Batch[];
  examples?: number;
  loss?: PerExampleLoss;
  /** Shrink the model afterwards (default true); false leaves the units masked. */
  shrink?: boolean;
}

export interface CleanupUnit {
  group: string;
  unit: number;
  /** Non-zero fraction of incoming and outgoing weights. */
  inFraction: number;
  outFraction: number;
  /** How the unit was removed: 'no-outgoing', 'constant' (exact), 'mean' or 'bias-only' (approximations), or kept. */
  how: 'no-outgoing' | 'constant' | 'mean' | 'bias-only' | 'kept';
  reason?: string;
}

export interface CleanupResult {
  units: CleanupUnit[];
  /** Per group: units removed. */
  removed: Record<string, number[]>;
  shrink: ShrinkResult | null;
}

/** Non-zero fractions of each unit's incoming and outgoing effective weights. */
export function nonZeroFractions(model: AnyModule, graph: UnitGraph, groups?: readonly string[]): Map<string, { inFraction: Float64Array; outFraction: Float64Array }> {
  const out = new Map<string, { inFraction: Float64Array; outFraction: Float64Array }>();
  for (const g of prunableGroups(graph, groups)) {
    const w = effectiveWeight(model.getSubmodule(g.producer));
    const row = w.data.length / g.size;
    const inFraction = new Float64Array(g.size);
    for (let u = 0; u < g.size; u++) {
      let nz = 0;
      for (let j = u * row; j < (u + 1) * row; j++) if (w.data[j] !== 0) nz++;
      inFraction[u] = nz / row;
    }
    const nzOut = new Float64Array(g.size);
    const total = new Float64Array(g.size);
    forEachOutgoing(model, g, (u, v) => {
      total[u]++;
      if (v !== 0) nzOut[u]++;
    });
    out.set(g.name, { inFraction, outFraction: nzOut.map((v, i) => (total[i] ? v / total[i] : 0)) });
  }
  return out;
}

/** Removes units with at most f_nz non-zero incoming or outgoing weights, with bias propagation (section 2.2). */
export function removeSparseUnits(model: AnyModule, graph: UnitGraph, opts: CleanupOptions = {}): CleanupResult {
  const fnz = opts.fnz ?? 0;
  if (!(fnz >= 0 && fnz <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `removeSparseUnits: fnz must be in [0, 1], got ${fnz}`);
  const fr = nonZeroFractions(model, graph, opts.groups);
  const units: CleanupUnit[] = [];
  const removed: Record<string, number[]> = {};
  // Means for the f_nz > 0 case, measured before anything changes.
  const groups = prunableGroups(graph, opts.groups);
  const needMeans = opts.batches && groups.some((g) => fr.get(g.name)!.inFraction.some((f) => f > 0 && f <= fnz));
  const stats = needMeans ? collectUnitStats(model, graph, { batches: opts.batches!, examples: opts.examples, loss: opts.loss, groups: groups.map((g) => g.name), gradients: false }) : null;
  for (const g of groups) {
    const { inFraction, outFraction } = fr.get(g.name)!;
    const alive = aliveUnits(model.getSubmodule(g.maskAt), g.size);
    const chosen = [...Array(g.size).keys()].filter((u) => alive[u] && (inFraction[u] <= fnz || outFraction[u] <= fnz));
    if (!chosen.length) continue;
    // Keep at least one unit.
    if (chosen.length === alive.filter(Boolean).length) {
      const keep = chosen.reduce((a, b) => (outFraction[b] + inFraction[b] > outFraction[a] + inFraction[a] ? b : a));
      chosen.splice(chosen.indexOf(keep), 1);
      units.push({ group: g.name, unit: keep, inFraction: inFraction[keep], outFraction: outFraction[keep], how: 'kept', reason: 'the last unit of a layer is kept' });
    }
    const feed0 = feedConstants(model, graph, g, 'mask', new Float64Array(g.size));
    const pm = model.getSubmodule(g.producer);
    const biasValues = localTensor(pm, 'bias') || localTensor(pm, 'bias_orig') ? Float64Array.from(effectiveWeight(pm, 'bias').data) : new Float64Array(g.size);
    const feedBias = feedConstants(model, graph, g, 'producer', biasValues);
    const feedMean = stats ? feedConstants(model, graph, g, 'mask', stats.get(g.name)!.mean) : null;
    const ok: number[] = [];
    for (const u of chosen) {
      const rec: CleanupUnit = { group: g.name, unit: u, inFraction: inFraction[u], outFraction: outFraction[u], how: 'kept' };
      units.push(rec);
      if (outFraction[u] === 0) {
        rec.how = 'no-outgoing';
        ok.push(u);
        continue;
      }
      const how = inFraction[u] === 0 ? 'constant' : feedMean ? 'mean' : 'bias-only';
      const feed = how === 'mean' ? feedMean! : feedBias;
      const ds = g.consumers.map((_, l) => feed[l][u] - feed0[l][u]);
      const problem = g.consumers.map((c, l) => foldProblem(model, c, ds[l])).find((p) => p !== null);
      if (problem) {
        rec.reason = problem;
        continue;
      }
      g.consumers.forEach((c, l) => foldIntoConsumer(model, c, u, ds[l]));
      rec.how = how;
      ok.push(u);
    }
    if (ok.length) {
      maskUnits(model.getSubmodule(g.maskAt), g.size, ok);
      removed[g.name] = ok;
    }
  }
  const shrink = opts.shrink === false ? null : shrinkModel(model, graph);
  return { units, removed, shrink };
}
