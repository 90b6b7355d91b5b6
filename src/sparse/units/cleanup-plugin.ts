/**
 * The thesis' f_nz clean-up (section 2.2) as a training plug-in: at the end
 * of training, units whose fraction of non-zero incoming or outgoing weights
 * is at most f_nz are removed with bias propagation (cleanup.ts
 * removeSparseUnits), then the model is shrunk physically, so the trainer,
 * which saves the model after the plug-ins' onTrainEnd, writes the smaller
 * tensors to model.safetensors.
 *
 * Decisions:
 *   - It acts in onTrainEnd only, after the plug-ins before it (a weight
 *     schedule's last event, a unit-pruning plug-in's shrink): put it last.
 *   - The unit graph is built at that moment, from the model as it is then
 *     (possibly already shrunk by unit pruning), on the shape of one training
 *     example.
 *   - Units with a few incoming weights left (0 < fraction <= f_nz) are
 *     mean-replaced, on `examples` training examples in a fixed order.
 *   - No state: nothing happens before the end, so a resume needs none.
 */
import type { TrainContext, TrainPlugin } from '../../train/plugin';
import { SparsetrainError } from '../../errors';
import { buildUnitGraph } from './graph';
import { removeSparseUnits, type CleanupResult } from './cleanup';

export interface UnitCleanupOptions {
  /** Remove units with at most this fraction of non-zero incoming or outgoing weights (default 0). */
  fnz?: number;
  /** Training examples for mean replacement when f_nz > 0 (default 1000). */
  examples?: number;
}

export class UnitCleanupPlugin implements TrainPlugin {
  readonly name = 'unit-cleanup';
  readonly fnz: number;
  readonly examples: number;
  /** What the clean-up did (after onTrainEnd). */
  result: CleanupResult | null = null;

  constructor(o: UnitCleanupOptions = {}) {
    this.fnz = o.fnz ?? 0;
    if (typeof this.fnz !== 'number' || !(this.fnz >= 0 && this.fnz <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `unit clean-up: fnz must be a number in [0, 1], got ${String(o.fnz)}`);
    this.examples = o.examples ?? 1000;
    if (!Number.isInteger(this.examples) || this.examples < 1) throw new SparsetrainError('ERR_ARGUMENT', `unit clean-up: examples must be a positive integer, got ${String(o.examples)}`);
  }

  onTrainEnd(ctx: TrainContext): void {
    const batches = ctx.sampleTrainBatches(this.examples, 100);
    const graph = buildUnitGraph(ctx.model, batches[0].x.shape.slice(1));
    const r = removeSparseUnits(ctx.model, graph, { fnz: this.fnz, batches });
    this.result = r;
    const removed = Object.entries(r.removed).map(([g, u]) => `${g} ${u.length}`).join(', ');
    const kept = r.units.filter((u) => u.how === 'kept');
    const s = r.shrink!;
    ctx.log(`unit clean-up (f_nz ${this.fnz}): ${removed ? `removed units: ${removed}` : 'no unit removed'}; ` +
      `model ${s.parametersBefore} -> ${s.parametersAfter} parameters (${s.groups.map((g) => `${g.name} ${g.before}->${g.after}`).join(', ') || 'unchanged'})` +
      `${kept.length ? `; ${kept.length} unit(s) kept: ${kept[0].reason}` : ''}`);
  }
}
