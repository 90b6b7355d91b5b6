/**
 * Han et al.'s iterative prune-and-retrain (seed 004; "Learning both Weights
 * and Connections"): at each iteration every layer loses its still-unpruned
 * weights with |w| < quality x (the standard deviation of that layer's
 * weights), then the network retrains for retrainEpochs epochs before the
 * next iteration; retraining runs at a lower learning rate (Han: lr / 10 for
 * LeNet).
 *
 * - quality: one value for every iteration, one per iteration (an array), or
 *   per layer kind ({ conv, fc }, each a number or an array; Han prunes conv
 *   and fc layers with separate sensitivities). A kind without a value is not
 *   pruned.
 * - std: of the layer's still-unpruned weights ('remaining', default; the
 *   threshold then grows as small weights go, so a constant quality keeps
 *   pruning at each iteration) or of all its weights, zeros included ('all').
 * - Learning rate: when the first iteration fires (or at every iteration with
 *   lrChange 'each') onLrChange(ctx, lrFactor, iteration) runs; the default
 *   multiplies the lr of every optimizer parameter group by lrFactor (default
 *   0.1). An lr scheduler of the trainer that sets absolute values would
 *   overwrite that: pass onLrChange to act on the scheduler instead. Whether
 *   the change was made is part of the state (a resume does not repeat it; the
 *   optimizer's own state dict carries the lr).
 *
 * Scores are magnitudes (the threshold is on |w|).
 */
import type { TrainContext } from '../../train/plugin';
import type { Amount, LayerKind, PruneTarget } from '../select';
import { findTargets, currentMask, weightValues } from '../select';
import { PruningSchedule, ScheduleOptions, checkInt, scheduleError } from './base';

type Quality = number | readonly number[];

export interface HanOptions extends Omit<ScheduleOptions, 'scorer' | 'scope' | 'within'> {
  quality: Quality | { conv?: Quality; fc?: Quality };
  /** Epoch of the first pruning (after that many epochs of training). */
  startEpoch: number;
  /** Epochs of retraining between prunings (default 1). */
  retrainEpochs?: number;
  /** Default: the length of the longest quality array, else 1. */
  iterations?: number;
  std?: 'remaining' | 'all';
  /** Learning-rate factor for retraining (default 0.1; 1 leaves the lr alone). */
  lrFactor?: number;
  /** 'once' (default): at the first iteration; 'each': at every iteration. */
  lrChange?: 'once' | 'each';
  onLrChange?: (ctx: TrainContext, factor: number, iteration: number) => void;
}

/** The standard deviation (population) of a target's weights: still-unpruned ones, or all. */
export function layerStd(t: PruneTarget, of: 'remaining' | 'all' = 'remaining'): number {
  const w = weightValues(t);
  const m = of === 'remaining' ? currentMask(t) : null;
  let n = 0;
  let s = 0;
  for (let i = 0; i < w.length; i++) if (!m || m[i] === 1) { n++; s += w[i]; }
  if (n === 0) return 0;
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < w.length; i++) if (!m || m[i] === 1) v += (w[i] - mean) ** 2;
  return Math.sqrt(v / n);
}

function checkQuality(op: string, what: string, q: Quality): number[] {
  const arr = typeof q === 'number' ? [q] : Array.isArray(q) ? [...q] : null;
  if (!arr || !arr.length) throw scheduleError(op, `${what} must be a number or a non-empty array of numbers, got ${JSON.stringify(q)}`);
  arr.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw scheduleError(op, `${what}[${i}] must be a number >= 0, got ${String(v)}`);
  });
  return arr;
}

export class HanIterativePruning extends PruningSchedule {
  readonly name = 'han-iterative-pruning';
  private lrChanged = false;
  private readonly quality: Partial<Record<LayerKind, number[]>>;
  readonly iterations: number;

  constructor(o: HanOptions) {
    const op = 'HanIterativePruning';
    if (!o || o.quality === undefined) throw scheduleError(op, 'quality is required (threshold = quality x the layer\'s weight std)');
    super(op, { ...o, scorer: 'magnitude', scope: 'layer' }, false);
    const q = o.quality;
    this.quality = typeof q === 'number' || Array.isArray(q)
      ? { conv: checkQuality(op, 'quality', q as Quality), fc: checkQuality(op, 'quality', q as Quality) }
      : (() => {
        const pk = q as { conv?: Quality; fc?: Quality };
        if (!pk || typeof pk !== 'object' || (pk.conv === undefined && pk.fc === undefined)) throw scheduleError(op, `quality must be a number, an array, or { conv, fc }, got ${JSON.stringify(q)}`);
        for (const k of Object.keys(pk)) if (k !== 'conv' && k !== 'fc') throw scheduleError(op, `quality: unknown layer kind "${k}"`);
        const out: Partial<Record<LayerKind, number[]>> = {};
        if (pk.conv !== undefined) out.conv = checkQuality(op, 'quality.conv', pk.conv);
        if (pk.fc !== undefined) out.fc = checkQuality(op, 'quality.fc', pk.fc);
        return out;
      })();
    const start = checkInt(op, 'startEpoch', o.startEpoch, 0);
    const every = checkInt(op, 'retrainEpochs', o.retrainEpochs ?? 1, 1);
    const longest = Math.max(...Object.values(this.quality).map((a) => a!.length));
    this.iterations = checkInt(op, 'iterations', o.iterations ?? longest, 1);
    for (const [k, a] of Object.entries(this.quality)) {
      if (a!.length > 1 && a!.length !== this.iterations) throw scheduleError(op, `quality${k === 'conv' || k === 'fc' ? `.${k}` : ''} has ${a!.length} values for ${this.iterations} iterations`);
    }
    const std = o.std ?? 'remaining';
    if (std !== 'remaining' && std !== 'all') throw scheduleError(op, `std must be 'remaining' or 'all', got ${JSON.stringify(std)}`);
    const lrFactor = o.lrFactor ?? 0.1;
    if (typeof lrFactor !== 'number' || !Number.isFinite(lrFactor) || lrFactor <= 0) throw scheduleError(op, `lrFactor must be a number > 0, got ${String(lrFactor)}`);
    const lrChange = o.lrChange ?? 'once';
    if (lrChange !== 'once' && lrChange !== 'each') throw scheduleError(op, `lrChange must be 'once' or 'each', got ${JSON.stringify(lrChange)}`);
    const onLr = o.onLrChange ?? ((ctx: TrainContext, f: number) => {
      for (const g of ctx.optimizer.paramGroups) g.lr *= f;
    });
    const events = Array.from({ length: this.iterations }, (_, i) => ({
      at: start + i * every,
      describe: `iteration ${i + 1}/${this.iterations}`,
      run: (ctx: TrainContext) => {
        const amounts: Record<string, Amount> = {};
        for (const t of findTargets(ctx.model, this.opts.targets ?? {})) {
          const qs = this.quality[t.kind];
          if (!qs) continue;
          const qv = qs.length === 1 ? qs[0] : qs[i];
          amounts[t.key] = { threshold: qv * layerStd(t, std) };
        }
        this.pruneWith(ctx, { scope: 'layer', amount: amounts });
        if (lrFactor !== 1 && (lrChange === 'each' || !this.lrChanged)) {
          onLr(ctx, lrFactor, i);
          this.lrChanged = true;
          ctx.log(`${this.name}: learning rate x ${lrFactor} for retraining`);
        }
      },
    }));
    this.setEvents('epoch', events);
  }

  protected override extraState(): Record<string, unknown> {
    return { lrChanged: this.lrChanged };
  }

  protected override loadExtraState(s: Record<string, unknown>): void {
    if (typeof s.lrChanged !== 'boolean') throw scheduleError(`${this.name}.loadStateDict`, 'lrChanged must be a boolean');
    this.lrChanged = s.lrChanged;
  }
}
