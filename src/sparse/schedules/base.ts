/**
 * The common part of the pruning schedules (training plug-ins): pruning
 * events at given epochs or steps, each scoring, selecting and pruning
 * through pruner.ts, syncing the optimizer's masks, logging; per-layer
 * sparsity in every epoch's metrics; state for resume.
 *
 * When an event fires (times are counts of completed training):
 *   epoch e: at the start of epoch e (0-based), i.e. after e epochs of training
 *            (onEpochStart); e = totalEpochs fires at onTrainEnd, after training;
 *   step s:  before the forward of the step that follows s completed optimizer
 *            steps (beforeForward, when ctx.step >= s); a step not reached by the
 *            last batch fires at onTrainEnd if ctx.step >= s.
 * Events that are due fire in order, each once; the count of fired events is
 * the plug-in's state, so a resumed run neither repeats nor skips one.
 *
 * Metrics: onEpochEnd adds sparsityMetrics() of the targets to
 * ctx.epochMetrics (sparsity, nonzero, prunableParams, layerSparsity).
 */
import type { TrainContext, TrainPlugin } from '../../train/plugin';
import { SparsetrainError } from '../../errors';
import type { Amount, LayerKind, Selection, TargetOptions } from '../select';
import { findTargets, LAYER_KINDS } from '../select';
import type { ScoreOptions, WeightScoreFn, WeightScorerName } from '../scores';
import { isDataDependent, parseScorerName } from '../scores';
import { pruneModel } from '../pruner';
import { applyMasksToOptimizer } from '../mask';
import { sparsityReport, sparsityMetrics } from '../report';

/** A sparsity or fraction for all targets, or one per layer kind (then the scope is per kind). */
export type KindTarget = number | { conv?: number; fc?: number };

export type ScheduleScope = 'layer' | 'kind' | 'global';

export interface ScheduleOptions {
  /** Default 'magnitude'. */
  scorer?: WeightScorerName | WeightScoreFn;
  /** Which weights (default: every Linear and Conv2d weight). */
  targets?: TargetOptions;
  /**
   * 'layer': each layer reaches the amount on its own; 'global': one threshold
   * across layers; 'kind': conv and fc layers separately (implied by a
   * { conv, fc } target). Default: 'layer'.
   */
  scope?: ScheduleScope;
  /** With scope 'kind': each layer of the kind ('layer', default) or the kind's layers pooled ('global'). */
  within?: 'layer' | 'global';
  /** N examples for data-dependent scorers (default 1000), from ctx.sampleTrainBatches. */
  scoreExamples?: number;
  scoreBatchSize?: number;
  /** Other scorer settings (delta, lambda, hessianScope, lossFn, ...). */
  score?: Omit<ScoreOptions, 'batches' | 'ctx' | 'numExamples' | 'batchSize'>;
  /** Sync the optimizer's masks after each event and at the start (default true). */
  syncOptimizer?: boolean;
}

export interface ScheduledEvent {
  /** Epoch or step (see the file comment). */
  at: number;
  /** Runs the event. */
  run(ctx: TrainContext): void;
  /** For the log. */
  describe: string;
}

export interface ScheduleState {
  name: string;
  fired: number;
  [extra: string]: unknown;
}

export function scheduleError(op: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}

/** Throws unless v is a number in [0, 1]. */
export function checkUnit(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw scheduleError(op, `${what} must be a number in [0, 1], got ${String(v)}`);
  return v;
}

/** Throws unless v is an integer >= min. */
export function checkInt(op: string, what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw scheduleError(op, `${what} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** Validates a KindTarget (numbers in [0, 1]) and returns it as a per-kind record. */
export function kindValues(op: string, what: string, t: KindTarget): Partial<Record<LayerKind, number>> {
  if (typeof t === 'number') return { conv: checkUnit(op, what, t), fc: checkUnit(op, what, t) };
  if (!t || typeof t !== 'object') throw scheduleError(op, `${what} must be a number or { conv, fc }, got ${JSON.stringify(t)}`);
  const out: Partial<Record<LayerKind, number>> = {};
  for (const k of Object.keys(t)) if (!LAYER_KINDS.includes(k as LayerKind)) throw scheduleError(op, `${what}: unknown layer kind "${k}"; expected conv or fc`);
  if (t.conv === undefined && t.fc === undefined) throw scheduleError(op, `${what} needs a conv or an fc value`);
  if (t.conv !== undefined) out.conv = checkUnit(op, `${what}.conv`, t.conv);
  if (t.fc !== undefined) out.fc = checkUnit(op, `${what}.fc`, t.fc);
  return out;
}

export abstract class PruningSchedule implements TrainPlugin {
  abstract readonly name: string;
  protected readonly opts: ScheduleOptions;
  protected readonly scope: ScheduleScope;
  /** Ascending times of the events; built by the subclass constructor (setEvents). */
  private events: ScheduledEvent[] = [];
  protected unit: 'epoch' | 'step' = 'epoch';
  /** Events fired so far. */
  protected fired = 0;

  constructor(op: string, opts: ScheduleOptions, perKind: boolean) {
    this.opts = { ...opts };
    if (opts.scorer !== undefined && typeof opts.scorer !== 'function') parseScorerName(opts.scorer);
    const scope = opts.scope ?? (perKind ? 'kind' : 'layer');
    if (!['layer', 'kind', 'global'].includes(scope)) throw scheduleError(op, `scope must be 'layer', 'kind' or 'global', got ${JSON.stringify(scope)}`);
    if (perKind && scope !== 'kind') throw scheduleError(op, `a { conv, fc } target needs scope 'kind', got '${scope}'`);
    this.scope = scope;
    if (opts.scoreExamples !== undefined) checkInt(op, 'scoreExamples', opts.scoreExamples, 1);
    if (opts.scoreBatchSize !== undefined) checkInt(op, 'scoreBatchSize', opts.scoreBatchSize, 1);
  }

  protected setEvents(unit: 'epoch' | 'step', events: ScheduledEvent[]): void {
    this.unit = unit;
    this.events = [...events].sort((a, b) => a.at - b.at);
  }

  /** The event times (epochs or steps), ascending. */
  get times(): number[] {
    return this.events.map((e) => e.at);
  }

  /** The selection of an amount built per kind ('kind' scope) or for all targets. */
  protected selection(values: Partial<Record<LayerKind, number>>, make: (v: number) => Amount): Selection {
    if (this.scope === 'kind') {
      return {
        scope: 'kind', within: this.opts.within ?? 'layer',
        conv: values.conv === undefined ? undefined : make(values.conv),
        fc: values.fc === undefined ? undefined : make(values.fc),
      };
    }
    const v = (values.fc ?? values.conv)!;
    return this.scope === 'global' ? { scope: 'global', amount: make(v) } : { scope: 'layer', amount: make(v) };
  }

  /** One pruning event through pruneModel, with the context's data, generator and optimizer. */
  protected pruneWith(ctx: TrainContext, selection: Selection, scorer: WeightScorerName | WeightScoreFn = this.opts.scorer ?? 'magnitude'): Map<string, number> {
    const needsData = typeof scorer === 'function' || isDataDependent(parseScorerName(scorer));
    const score: ScoreOptions = {
      ...(this.opts.score ?? {}),
      generator: this.opts.score?.generator ?? ctx.generator,
      numExamples: this.opts.scoreExamples,
      batchSize: this.opts.scoreBatchSize,
    };
    if (needsData) score.ctx = ctx;
    const r = pruneModel(ctx.model, {
      selection, scorer, score,
      targets: findTargets(ctx.model, this.opts.targets ?? {}),
      optimizer: (this.opts.syncOptimizer ?? true) ? ctx.optimizer : undefined,
    });
    return r.pruned;
  }

  private fireDue(ctx: TrainContext, now: number): void {
    while (this.fired < this.events.length && this.events[this.fired].at <= now) {
      const e = this.events[this.fired];
      e.run(ctx);
      this.fired++;
      const rep = sparsityReport(ctx.model, this.opts.targets ?? {});
      const layers = rep.layers.map((l) => `${l.key} ${(100 * l.sparsity).toFixed(1)}%`).join(', ');
      ctx.log(`${this.name}: ${e.describe} at ${this.unit} ${e.at} (epoch ${ctx.epoch}, step ${ctx.step}): ` +
        `sparsity ${(100 * rep.total.sparsity).toFixed(2)}% (${rep.total.nonzero} of ${rep.total.params} non-zero; ${layers})`);
    }
  }

  onTrainStart(ctx: TrainContext): void {
    if (this.opts.syncOptimizer ?? true) applyMasksToOptimizer(ctx.model, ctx.optimizer);
    const last = this.unit === 'epoch' ? ctx.totalEpochs : ctx.totalEpochs * ctx.batchesPerEpoch;
    const late = this.events.slice(this.fired).filter((e) => e.at > last).map((e) => e.at);
    if (late.length) ctx.log(`${this.name}: warning: ${late.length} pruning event(s) at ${this.unit} ${late.join(', ')} come after the run's last ${this.unit} (${last}) and will not fire`);
  }

  onEpochStart(ctx: TrainContext): void {
    this.fireDue(ctx, this.unit === 'epoch' ? ctx.epoch : ctx.step);
  }

  beforeForward(ctx: TrainContext): void {
    if (this.unit === 'step') this.fireDue(ctx, ctx.step);
  }

  onEpochEnd(ctx: TrainContext): void {
    Object.assign(ctx.epochMetrics, sparsityMetrics(sparsityReport(ctx.model, this.opts.targets ?? {})));
  }

  onTrainEnd(ctx: TrainContext): void {
    this.fireDue(ctx, this.unit === 'epoch' ? ctx.totalEpochs : ctx.step);
  }

  /** Extra state of a subclass. */
  protected extraState(): Record<string, unknown> {
    return {};
  }
  protected loadExtraState(_state: Record<string, unknown>): void {
    // nothing by default
  }

  stateDict(): ScheduleState {
    return { name: this.name, fired: this.fired, ...this.extraState() };
  }

  loadStateDict(state: unknown): void {
    const op = `${this.name}.loadStateDict`;
    const s = state as ScheduleState;
    if (!s || typeof s !== 'object') throw scheduleError(op, 'expected an object');
    if (s.name !== this.name) throw scheduleError(op, `the state is of "${String(s.name)}", not of "${this.name}"`);
    if (!Number.isInteger(s.fired) || s.fired < 0 || s.fired > this.events.length) {
      throw scheduleError(op, `fired must be an integer in 0..${this.events.length}, got ${String(s.fired)}`);
    }
    this.loadExtraState(s);
    this.fired = s.fired;
  }
}
