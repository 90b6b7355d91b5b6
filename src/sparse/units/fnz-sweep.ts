/**
 * The thesis' Figure 2.11 (seed 001, section 2.2) as numbers: for each f_nz
 * of a list, remove the units whose fraction of non-zero incoming or
 * outgoing weights is at most f_nz (cleanup.ts removeSparseUnits, with bias
 * propagation and mean replacement), count the parameters the shrunk model
 * would have and evaluate it; then put the model back as it was. So one
 * trained, weight-pruned model gives the whole curve "parameters and
 * accuracy after unit removal versus f_nz" without training again.
 *
 * Decisions:
 *   - Units are only masked (removeSparseUnits with shrink: false) and the
 *     shrunk size is counted (shrunkParameterCount); masking is what the
 *     shrunk model computes (shrink.ts keeps the output), and undoing a mask
 *     is simpler than un-shrinking. Each f_nz is a trial undone exactly
 *     (withTrialUndone, compare/undo.ts: parameter values, as bias
 *     propagation changes consumer biases, weight masks and unit masks).
 *   - As a training plug-in it acts in onTrainEnd and must come before a
 *     UnitCleanupPlugin (which shrinks the model for good); the evaluation
 *     is the trainer's (ctx.evaluate: the test split without a validation
 *     set), the mean-replacement examples are ctx.sampleTrainBatches.
 *   - It also records what the model looked like before any removal: each
 *     weight layer's sparsity (the thesis' per-layer numbers of section 2.2).
 */
import type { TrainContext, TrainPlugin } from '../../train/plugin';
import type { Batch } from '../../train/plugin';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { sparsityReport } from '../report';
import { buildUnitGraph, prunableGroups, type UnitGraph } from './graph';
import { withTrialUndone } from '../compare/undo';
import { removeSparseUnits } from './cleanup';
import { shrunkParameterCount } from './shrink';

type AnyModule = Module<any[], any>;

export interface FnzSweepPoint {
  fnz: number;
  /** Parameters of the model once the units are removed. */
  parameters: number;
  /** Units removed per group. */
  removed: Record<string, number>;
  /** Evaluation after the removal (percent, mean loss). */
  accuracy: number;
  loss: number;
}

/**
 * For each f_nz: remove units (masked), count, evaluate, restore. The model
 * is left exactly as it was (values and unit masks).
 */
export function fnzSweep(
  model: AnyModule, graph: UnitGraph, fnzs: readonly number[], evaluate: () => { loss: number; accuracy: number }, batches?: readonly Batch[],
): FnzSweepPoint[] {
  checkFnzs(fnzs);
  const groups = prunableGroups(graph);
  // Each removal is a trial: parameter values (consumer biases), weight masks and unit masks come back after it.
  return fnzs.map((fnz) => withTrialUndone(model, () => {
    const r = removeSparseUnits(model, graph, { fnz, batches, shrink: false });
    const parameters = shrunkParameterCount(model, graph);
    const ev = evaluate();
    return { fnz, parameters, removed: Object.fromEntries(groups.map((g) => [g.name, r.removed[g.name]?.length ?? 0])), accuracy: ev.accuracy, loss: ev.loss };
  }));
}

function checkFnzs(fnzs: readonly number[]): void {
  for (const f of fnzs) if (!(typeof f === 'number' && f >= 0 && f <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `f_nz sweep: each f_nz must be a number in [0, 1], got ${String(f)}`);
}

export interface FnzSweepOptions {
  /** The f_nz values (default 0, 0.05, 0.1, 0.15, 0.2, 0.3). */
  fnzs?: readonly number[];
  /** Training examples for mean replacement (default 1000). */
  examples?: number;
}

/** Per-layer sparsity of the weights before any unit removal. */
export interface LayerSparsity { key: string; params: number; nonzero: number; sparsity: number }

/** fnzSweep at the end of training, before the clean-up (see the file comment). */
export class FnzSweepPlugin implements TrainPlugin {
  readonly name = 'fnz-sweep';
  readonly fnzs: readonly number[];
  readonly examples: number;
  /** After onTrainEnd: the curve, the evaluation before removal and the layers' sparsity. */
  points: FnzSweepPoint[] = [];
  before: { parameters: number; nonzero: number; accuracy: number; loss: number } | null = null;
  layers: LayerSparsity[] = [];

  constructor(o: FnzSweepOptions = {}) {
    this.fnzs = o.fnzs ?? [0, 0.05, 0.1, 0.15, 0.2, 0.3];
    checkFnzs(this.fnzs);
    this.examples = o.examples ?? 1000;
    if (!Number.isInteger(this.examples) || this.examples < 1) throw new SparsetrainError('ERR_ARGUMENT', `f_nz sweep: examples must be a positive integer, got ${String(o.examples)}`);
  }

  onTrainEnd(ctx: TrainContext): void {
    const rep = sparsityReport(ctx.model);
    this.layers = rep.layers.map((l) => ({ key: l.key, params: l.params, nonzero: l.nonzero, sparsity: l.sparsity }));
    const batches = ctx.sampleTrainBatches(this.examples, 100);
    const graph = buildUnitGraph(ctx.model, batches[0].x.shape.slice(1));
    const ev = ctx.evaluate();
    this.before = { parameters: rep.model.params, nonzero: rep.model.nonzero, accuracy: ev.accuracy, loss: ev.loss };
    this.points = fnzSweep(ctx.model, graph, this.fnzs, () => ctx.evaluate(), batches);
    ctx.log(`f_nz sweep: ${this.points.map((p) => `f_nz ${p.fnz}: ${p.parameters} parameters, ${p.accuracy.toFixed(2)}%`).join('; ')}`);
  }
}
