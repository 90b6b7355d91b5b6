/**
 * One-shot pruning: one event at epoch e or step s (see base.ts for when that
 * fires) to a sparsity target (default semantics) or by a fraction of the
 * still-unpruned weights, or with a full Selection.
 *
 *   new OneShotPruning({ at: { epoch: 10 }, sparsity: 0.9 })            // after 10 epochs
 *   new OneShotPruning({ at: { step: 500 }, sparsity: { conv: 0.5, fc: 0.9 } })
 *   new OneShotPruning({ at: { epoch: 0 }, selection: { scope: 'global', amount: { fraction: 0.5 } } })
 */
import type { TrainContext } from '../../train/plugin';
import type { Selection } from '../select';
import { checkSelection, findTargets } from '../select';
import { PruningSchedule, ScheduleOptions, KindTarget, kindValues, checkInt, scheduleError } from './base';

export interface OneShotOptions extends ScheduleOptions {
  at: { epoch: number } | { step: number };
  /** Overall sparsity to reach (per layer, per kind or global, by scope). */
  sparsity?: KindTarget;
  /** Or: the fraction of the still-unpruned weights to prune. */
  fraction?: KindTarget;
  /** Or: the selection itself (scope and amounts). */
  selection?: Selection;
}

export class OneShotPruning extends PruningSchedule {
  readonly name = 'one-shot-pruning';

  constructor(o: OneShotOptions) {
    const op = 'OneShotPruning';
    const given = (['sparsity', 'fraction', 'selection'] as const).filter((k) => o?.[k] !== undefined);
    if (given.length !== 1) throw scheduleError(op, `give exactly one of sparsity, fraction, selection (got ${given.join(', ') || 'none'})`);
    const amountKey = given[0];
    const v = amountKey === 'selection' ? null : o[amountKey]!;
    super(op, o, v !== null && typeof v === 'object');
    const at = o.at as { epoch?: number; step?: number };
    if (!at || typeof at !== 'object' || (at.epoch === undefined) === (at.step === undefined)) {
      throw scheduleError(op, `at must be { epoch } or { step }, got ${JSON.stringify(o.at)}`);
    }
    const unit = at.epoch !== undefined ? 'epoch' : 'step';
    const time = checkInt(op, `at.${unit}`, at.epoch ?? at.step, 0);
    let selection: Selection;
    if (amountKey === 'selection') {
      selection = o.selection!;
      checkSelection(op, selection, null); // scope and amounts now; per-layer keys at the event
    } else {
      const vals = kindValues(op, amountKey, v as KindTarget);
      selection = this.selection(vals, (x) => (amountKey === 'sparsity' ? { sparsity: x } : { fraction: x }));
    }
    this.setEvents(unit, [{
      at: time,
      describe: amountKey === 'selection' ? 'pruned' : `pruned (${amountKey} ${JSON.stringify(v)})`,
      run: (ctx: TrainContext) => {
        checkSelection(op, selection, findTargets(ctx.model, this.opts.targets ?? {}));
        this.pruneWith(ctx, selection);
      },
    }]);
  }
}
