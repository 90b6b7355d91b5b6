/**
 * Gradual pruning over a window: n + 1 pruning events at t_j = start + j *
 * every (j = 0..n, in epochs or steps), the sparsity rising from s_i to s_f.
 *
 *   cubic (Zhu & Gupta 2017):  s_j = s_f + (s_i - s_f) (1 - j / n)^3
 *   exponential (the default of seed 002's code, without --cubic-prune-schedule):
 *                              the density shrinks by the same factor at every event,
 *                              s_j = 1 - (1 - s_i) ((1 - s_f) / (1 - s_i))^(j / n)
 * With t = t_j this is Zhu & Gupta's s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3.
 * Each event prunes to s_j per layer, per kind (separate conv and fc targets,
 * as seed 002's --prune-target-sparsity-conv / -fc) or globally.
 *
 * The window is `count` (n) events after the first, or `end` (= start + n * every).
 */
import type { TrainContext } from '../../train/plugin';
import { PruningSchedule, ScheduleOptions, KindTarget, kindValues, checkInt, scheduleError } from './base';
import type { LayerKind } from '../select';

export type GradualCurve = 'cubic' | 'exponential';

export interface GradualOptions extends ScheduleOptions {
  unit: 'epoch' | 'step';
  /** t0: the first event. */
  start: number;
  /** dt: between events (default 1). */
  every?: number;
  /** n: events after the first (the window is n * every long)... */
  count?: number;
  /** ...or the last event's time (start + n * every). */
  end?: number;
  /** s_i (default 0). */
  initialSparsity?: KindTarget;
  /** s_f. */
  finalSparsity: KindTarget;
  curve?: GradualCurve;
}

/** s_j of the schedule for j = 0..n (see the file comment). */
export function gradualSparsity(j: number, n: number, si: number, sf: number, curve: GradualCurve = 'cubic'): number {
  if (n === 0 || j >= n) return sf;
  if (j <= 0) return si;
  const r = j / n;
  if (curve === 'cubic') return sf + (si - sf) * (1 - r) ** 3;
  return 1 - (1 - si) * ((1 - sf) / (1 - si)) ** r;
}

export class GradualPruning extends PruningSchedule {
  readonly name = 'gradual-pruning';
  readonly n: number;
  readonly every: number;
  readonly start: number;
  readonly curve: GradualCurve;
  private readonly si: Partial<Record<LayerKind, number>>;
  private readonly sf: Partial<Record<LayerKind, number>>;

  constructor(o: GradualOptions) {
    const op = 'GradualPruning';
    if (!o || o.finalSparsity === undefined) throw scheduleError(op, 'finalSparsity is required');
    const perKind = typeof o.finalSparsity === 'object' || (o.initialSparsity !== undefined && typeof o.initialSparsity === 'object');
    super(op, o, perKind);
    if (o.unit !== 'epoch' && o.unit !== 'step') throw scheduleError(op, `unit must be 'epoch' or 'step', got ${JSON.stringify(o.unit)}`);
    this.start = checkInt(op, 'start', o.start, 0);
    this.every = checkInt(op, 'every', o.every ?? 1, 1);
    if ((o.count === undefined) === (o.end === undefined)) throw scheduleError(op, 'give exactly one of count (events after the first) and end (time of the last event)');
    if (o.count !== undefined) this.n = checkInt(op, 'count', o.count, 0);
    else {
      const end = checkInt(op, 'end', o.end, this.start);
      if ((end - this.start) % this.every !== 0) throw scheduleError(op, `end ${end} is not start ${this.start} plus a multiple of every ${this.every}`);
      this.n = (end - this.start) / this.every;
    }
    this.curve = o.curve ?? 'cubic';
    if (this.curve !== 'cubic' && this.curve !== 'exponential') throw scheduleError(op, `curve must be 'cubic' or 'exponential', got ${JSON.stringify(this.curve)}`);
    this.sf = kindValues(op, 'finalSparsity', o.finalSparsity);
    this.si = o.initialSparsity === undefined ? { conv: 0, fc: 0 } : kindValues(op, 'initialSparsity', o.initialSparsity);
    for (const k of ['conv', 'fc'] as const) {
      const [a, b] = [this.si[k], this.sf[k]];
      if (b === undefined) continue;
      if (a === undefined) this.si[k] = 0;
      const s0 = this.si[k]!;
      if (s0 > b) throw scheduleError(op, `initial sparsity ${s0} exceeds the final ${b}${perKind ? ` (${k})` : ''}`);
      if (this.curve === 'exponential' && s0 === 1 && b === 1) continue;
      if (this.curve === 'exponential' && s0 >= 1) throw scheduleError(op, 'the exponential curve needs an initial sparsity below 1');
    }
    const events = Array.from({ length: this.n + 1 }, (_, j) => ({
      at: this.start + j * this.every,
      describe: `event ${j}/${this.n}`,
      run: (ctx: TrainContext) => {
        const vals: Partial<Record<LayerKind, number>> = {};
        for (const k of ['conv', 'fc'] as const) if (this.sf[k] !== undefined) vals[k] = this.sparsityAt(j, k);
        this.pruneWith(ctx, this.selection(vals, (x) => ({ sparsity: x })));
      },
    }));
    this.setEvents(o.unit, events);
  }

  /** The sparsity target of event j (0..n) for a layer kind (default fc, or conv when fc has none). */
  sparsityAt(j: number, kind?: LayerKind): number {
    const k = kind ?? (this.sf.fc !== undefined ? 'fc' : 'conv');
    const sf = this.sf[k];
    if (sf === undefined) throw scheduleError(`${this.name}.sparsityAt`, `no target for ${k} layers`);
    return gradualSparsity(j, this.n, this.si[k] ?? 0, sf, this.curve);
  }
}
