/**
 * Unit pruning on a schedule, as a training-loop plug-in (thesis, seed 001,
 * section 4.2 and Table 4.2: "2:0.1,3:0.2,4:0.4,5:0.6").
 *
 * Schedule: epoch -> fraction of units pruned in total (cumulative). The
 * thesis prunes "after each scheduled epoch is done" with 1-based epochs, so
 * key k means: after k epochs of training, i.e. at the start of the 0-based
 * epoch k (onEpochStart with ctx.epoch === k). Key 0 prunes before training.
 * A fraction is of each group's units (scope 'layer', floor(f * size) units,
 * the thesis' count: smallcnn at 0.6 keeps 4, 7 and 26 units = 4,019
 * parameters) or of all groups' units together (scope 'global').
 *
 * Each round: score the alive units on `examples` training examples
 * (ctx.sampleTrainBatches), select the lowest, replace them by their means
 * with bias propagation (or remove them, replacement 'zero'), and mask them.
 *
 * Optimizer consistency: during training units are only masked (their output
 * is multiplied by 0 after the mask point), so parameter tensors never change
 * identity and the optimizer stays valid; momentum or weight decay on a
 * masked unit's weights changes nothing the model computes. The model is
 * shrunk physically in onTrainEnd (shrinkAtEnd, default true), when the
 * optimizer is no longer used; a trainer must save the model after the
 * plug-ins' onTrainEnd to write the smaller tensors. Shrinking mid-run would
 * replace the parameter tensors: call shrink() and rebuild the optimizer over
 * model.parameters().
 *
 * Resume: stateDict() holds the rounds done and every group's mask; the
 * folded biases live in the model's own state dict.
 */
import { Generator } from '../../tensor/random';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import type { Batch, TrainContext, TrainPlugin } from '../../train/plugin';
import { UnitGraph, buildUnitGraph, getGroup, prunableGroups } from './graph';
import { aliveUnits, getUnitMask, setUnitMask } from './mask';
import { pruneUnits } from './replace';
import { UnitScorer, UNIT_SCORERS, scoreUnits, selectUnits } from './scores';
import { shrinkModel, shrunkParameterCount, ShrinkResult } from './shrink';
import { PerExampleLoss, UnitSite, collectUnitStats, takeExamples } from './stats';

type AnyModule = Module<any[], any>;

export type FractionSchedule = string | Record<number, number> | readonly (readonly [number, number])[];

/** Parses "2:0.1,3:0.2" (or a record / pairs) into sorted [epoch, fraction] pairs; epochs distinct integers >= 0, fractions in [0, 1] and non-decreasing. */
export function parseFractionSchedule(spec: FractionSchedule): [number, number][] {
  let pairs: [number, number][];
  if (typeof spec === 'string') {
    pairs = spec.split(',').map((s) => s.trim()).filter((s) => s.length).map((item) => {
      const m = /^(\d+)\s*:\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)$/i.exec(item);
      if (!m) throw new SparsetrainError('ERR_ARGUMENT', `schedule: expected EPOCH:FRACTION items like "2:0.1,3:0.2", got ${JSON.stringify(item)}`);
      return [Number(m[1]), Number(m[2])];
    });
  } else if (Array.isArray(spec)) {
    pairs = spec.map(([e, f]) => [e, f]);
  } else {
    pairs = Object.entries(spec).map(([e, f]) => [Number(e), f as number]);
  }
  if (!pairs.length) throw new SparsetrainError('ERR_ARGUMENT', 'schedule: no EPOCH:FRACTION entries');
  pairs.sort((a, b) => a[0] - b[0]);
  pairs.forEach(([e, f], i) => {
    if (!(Number.isInteger(e) && e >= 0)) throw new SparsetrainError('ERR_ARGUMENT', `schedule: epoch must be an integer >= 0, got ${e}`);
    if (!(f >= 0 && f <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `schedule: fraction must be in [0, 1], got ${f} at epoch ${e}`);
    if (i > 0 && e === pairs[i - 1][0]) throw new SparsetrainError('ERR_ARGUMENT', `schedule: epoch ${e} appears twice`);
    if (i > 0 && f < pairs[i - 1][1]) throw new SparsetrainError('ERR_ARGUMENT', `schedule: fractions are cumulative and must not decrease (${pairs[i - 1][1]} at epoch ${pairs[i - 1][0]}, ${f} at epoch ${e})`);
  });
  return pairs;
}

export interface UnitPruningOptions {
  /** Epoch -> cumulative fraction, e.g. "2:0.1,3:0.2,4:0.4,5:0.6". */
  schedule: FractionSchedule;
  /** mrs (default), mrp, l1, l2 or random. */
  scorer?: UnitScorer;
  /** Fraction of each group ('layer', default) or of all groups together ('global'). */
  scope?: 'layer' | 'global';
  /** Groups (producer module paths) to prune; default every prunable group. */
  layers?: readonly string[];
  /** Training examples for data-dependent scores and means (default 1000). */
  examples?: number;
  /** Batch size for those examples (default 100). */
  batchSize?: number;
  /** Where unit outputs and means are taken (default 'pre', the thesis'). */
  site?: UnitSite;
  /** 'mean' (default): mean replacement with bias propagation; 'zero': plain removal. */
  replacement?: 'mean' | 'zero';
  /** l1 / l2 scorers: incoming (default), outgoing or both weights. */
  direction?: 'in' | 'out' | 'both';
  /** Shrink the model physically in onTrainEnd (default true). */
  shrinkAtEnd?: boolean;
  /** Shape of one example; default: read from the first training example. */
  inputShape?: readonly number[];
  loss?: PerExampleLoss;
}

export interface UnitPruningRound {
  /** The schedule key (0-based epoch at whose start the round ran), or -1 for a round run by hand. */
  epoch: number;
  fraction: number;
  scorer: UnitScorer;
  /** Units pruned in this round, per group. */
  pruned: Record<string, number[]>;
  /** Units selected but kept (their constant could not be folded exactly). */
  skipped: { group: string; unit: number; reason: string }[];
  /** Alive units per group after the round. */
  alive: Record<string, number>;
  /** Parameters of the model once shrunk. */
  parameters: number;
}

interface SavedState {
  done: number[];
  masks: Record<string, number[]>;
  rounds: UnitPruningRound[];
}

/** The unit-pruning schedule plug-in. */
export class UnitPruningPlugin implements TrainPlugin {
  readonly name = 'unit-pruning';
  readonly schedule: [number, number][];
  readonly opts: Readonly<UnitPruningOptions>;
  graph: UnitGraph | null = null;
  readonly rounds: UnitPruningRound[] = [];
  shrinkResult: ShrinkResult | null = null;
  private done = new Set<number>();
  private pendingMasks: Record<string, number[]> | null = null;
  /** The model the plug-in works on (set with the graph), for stateDict. */
  private modelRef: AnyModule | null = null;

  constructor(opts: UnitPruningOptions) {
    this.schedule = parseFractionSchedule(opts.schedule);
    const scorer = opts.scorer ?? 'mrs';
    if (!UNIT_SCORERS.includes(scorer)) throw new SparsetrainError('ERR_ARGUMENT', `unit pruning: unknown scorer ${JSON.stringify(scorer)}; expected one of ${UNIT_SCORERS.join(', ')}`);
    if (opts.replacement !== undefined && opts.replacement !== 'mean' && opts.replacement !== 'zero') {
      throw new SparsetrainError('ERR_ARGUMENT', `unit pruning: replacement must be 'mean' or 'zero', got ${JSON.stringify(opts.replacement)}`);
    }
    if (opts.scope !== undefined && opts.scope !== 'layer' && opts.scope !== 'global') {
      throw new SparsetrainError('ERR_ARGUMENT', `unit pruning: scope must be 'layer' or 'global', got ${JSON.stringify(opts.scope)}`);
    }
    for (const [k, v] of [['examples', opts.examples], ['batchSize', opts.batchSize]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new SparsetrainError('ERR_ARGUMENT', `unit pruning: ${k} must be a positive integer, got ${v}`);
    }
    this.opts = { ...opts, scorer };
  }

  /** Builds (once) the model's unit graph; checks that the chosen layers are prunable. */
  ensureGraph(model: AnyModule, inputShape: readonly number[]): UnitGraph {
    if (!this.graph) {
      this.graph = buildUnitGraph(model, this.opts.inputShape ?? inputShape);
      prunableGroups(this.graph, this.opts.layers);
      this.modelRef = model;
    }
    this.applyPendingMasks();
    return this.graph;
  }

  private applyPendingMasks(): void {
    if (!this.pendingMasks || !this.graph || !this.modelRef) return;
    for (const [name, mask] of Object.entries(this.pendingMasks)) {
      const g = getGroup(this.graph, name);
      if (mask.length !== g.size) throw new SparsetrainError('ERR_ARGUMENT', `unit pruning: saved mask of ${name} has ${mask.length} units, the model ${g.size}`);
      setUnitMask(this.modelRef.getSubmodule(g.maskAt), mask);
    }
    this.pendingMasks = null;
  }

  /**
   * One pruning round by hand: prune units until `fraction` of them are
   * pruned (cumulative), scoring on `batches`. Usable without a trainer.
   */
  prune(model: AnyModule, batches: readonly Batch[], fraction: number, generator?: Generator, epoch = -1): UnitPruningRound {
    if (!batches.length) throw new SparsetrainError('ERR_ARGUMENT', 'unit pruning: no examples given');
    const graph = this.ensureGraph(model, batches[0].x.shape.slice(1));
    const o = this.opts;
    const scorer = o.scorer!;
    const site = o.site ?? 'pre';
    const replacement = o.replacement ?? 'mean';
    const data = takeExamples(batches, o.examples ?? 1000);
    const groups = prunableGroups(graph, o.layers).map((g) => g.name);
    const needData = scorer === 'mrs' || scorer === 'mrp' || replacement === 'mean';
    const stats = needData ? collectUnitStats(model, graph, { batches: data, site, groups, loss: o.loss, gradients: scorer === 'mrs' }) : null;
    const scores = scorer === 'mrs'
      ? new Map([...stats!].map(([k, s]) => [k, s.mrs]))
      : scoreUnits(model, graph, scorer, { batches: data, site, groups, loss: o.loss, stats: stats ?? undefined, direction: o.direction, generator });
    const chosen = selectUnits(model, graph, scores, { fraction, scope: o.scope ?? 'layer' });
    const round: UnitPruningRound = { epoch, fraction, scorer, pruned: {}, skipped: [], alive: {}, parameters: 0 };
    for (const [name, units] of chosen) {
      const r = pruneUnits(model, graph, name, units, { replacement, site, means: stats?.get(name)?.mean });
      round.pruned[name] = r.pruned;
      for (const s of r.skipped) round.skipped.push({ group: name, ...s });
    }
    for (const name of groups) {
      const g = getGroup(graph, name);
      round.alive[name] = aliveUnits(model.getSubmodule(g.maskAt), g.size).filter(Boolean).length;
    }
    round.parameters = shrunkParameterCount(model, graph);
    this.rounds.push(round);
    return round;
  }

  /** Physically removes the masked units (see shrink.ts); parameters are new tensors afterwards. */
  shrink(model: AnyModule): ShrinkResult {
    if (!this.graph) throw new SparsetrainError('ERR_ARGUMENT', 'unit pruning: nothing to shrink before the first round');
    this.shrinkResult = shrinkModel(model, this.graph);
    return this.shrinkResult;
  }

  onTrainStart(ctx: TrainContext): void {
    const sample = this.opts.inputShape ? null : ctx.sampleTrainBatches(1, 1);
    this.ensureGraph(ctx.model, this.opts.inputShape ?? sample![0].x.shape.slice(1));
  }

  onEpochStart(ctx: TrainContext): void {
    const entry = this.schedule.find(([e]) => e === ctx.epoch);
    if (!entry || this.done.has(entry[0])) return;
    const batches = ctx.sampleTrainBatches(this.opts.examples ?? 1000, this.opts.batchSize ?? 100);
    const r = this.prune(ctx.model, batches, entry[1], ctx.generator, entry[0]);
    this.done.add(entry[0]);
    const n = Object.values(r.pruned).reduce((a, u) => a + u.length, 0);
    ctx.log(`unit pruning (${r.scorer}, ${this.opts.replacement ?? 'mean'} replacement): ${n} units pruned to reach ${r.fraction}; alive ${Object.entries(r.alive).map(([k, v]) => `${k} ${v}`).join(', ')}; ${r.parameters} parameters once shrunk${r.skipped.length ? `; ${r.skipped.length} kept: ${r.skipped[0].reason}` : ''}`);
  }

  onEpochEnd(ctx: TrainContext): void {
    if (!this.graph) return;
    const alive: Record<string, number> = {};
    for (const g of prunableGroups(this.graph, this.opts.layers)) alive[g.name] = aliveUnits(ctx.model.getSubmodule(g.maskAt), g.size).filter(Boolean).length;
    ctx.epochMetrics.units_alive = alive;
    ctx.epochMetrics.unit_pruned_parameters = shrunkParameterCount(ctx.model, this.graph);
  }

  onTrainEnd(ctx: TrainContext): void {
    if (this.opts.shrinkAtEnd === false || !this.graph) return;
    const r = this.shrink(ctx.model);
    ctx.log(`unit pruning: model shrunk from ${r.parametersBefore} to ${r.parametersAfter} parameters (${r.groups.map((g) => `${g.name} ${g.before}->${g.after}`).join(', ') || 'no unit removed'})`);
  }

  stateDict(): SavedState {
    const masks: Record<string, number[]> = {};
    if (this.graph) {
      for (const g of prunableGroups(this.graph)) {
        const m = this.modelRef ? getUnitMask(this.modelRef.getSubmodule(g.maskAt)) : null;
        if (m) masks[g.name] = Array.from(m);
      }
    } else if (this.pendingMasks) Object.assign(masks, this.pendingMasks);
    return { done: [...this.done], masks, rounds: this.rounds.map((r) => ({ ...r })) };
  }

  loadStateDict(state: unknown): void {
    const s = state as SavedState;
    if (!s || !Array.isArray(s.done) || typeof s.masks !== 'object') throw new SparsetrainError('ERR_ARGUMENT', 'unit pruning: bad saved state');
    this.done = new Set(s.done);
    this.pendingMasks = s.masks;
    this.rounds.splice(0, this.rounds.length, ...(s.rounds ?? []));
    this.applyPendingMasks();
  }
}

/** Shorthand: new UnitPruningPlugin(opts). */
export function unitPruningPlugin(opts: UnitPruningOptions): UnitPruningPlugin {
  return new UnitPruningPlugin(opts);
}
