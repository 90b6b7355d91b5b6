/**
 * The learning-rate attack of the thesis (seed 001, section 3.3): the weight
 * learning rate of one unit is multiplied by M for one optimizer step, N
 * times, every I steps, from step S, "without changing the learning rate for
 * the rest of the network and the bias of the unit". The thesis argues a too
 * large step can push a unit's outputs into the flat region of its
 * non-linearity, where it dies (low MRP) and freezes (no output gradient).
 *
 * Steps are counted as the run counts them (summary.json `steps`,
 * --max-steps): the first optimizer update is step 1. The attacked updates
 * are steps S, S + I, ..., S + (N - 1) I.
 *
 * How: in afterBackward of an attacked step the plug-in sets an lr multiplier
 * (src/optim setLrMultiplier: the update of element i is scaled by m[i],
 * exact for SGD, Adam and AdamW since their update is linear in the lr and
 * their state does not depend on it) on the unit's incoming weights (its row
 * of a Linear weight, its filter of a Conv2d weight; `weight_orig` when the
 * layer is pruned) and removes it in afterStep, so only that one update is
 * scaled and checkpoints never hold it. A multiplier already set by someone
 * else is composed with and restored.
 *
 * What it logs, at step 0 (before training), after every attacked step and
 * every logEvery steps (default 50), on a fixed sample of N training examples
 * (default 1000; ctx.sampleTrainBatches) in eval mode, for the attacked unit:
 *   mrp          exact mean replacement penalty (mean over examples of |loss change|)
 *   mrs          its first-order approximation (thesis eq. 3.3)
 *   mrs_rank     units of the layer with a lower MRS (0: the lowest)
 *   grad_abs_mean mean |dl_k/dh| of its output (the thesis' "output gradient")
 *   weight_l1, weight_l2   norms of its incoming (effective) weights
 *   bias         its bias
 *   out_weight_l1 L1 norm of its outgoing weights (consumers' columns)
 *   out_mean, out_std      of its output before the non-linearity
 *   active_fraction        of outputs > 0
 *   sample_loss  mean loss of the sample; batch_loss the step's training loss
 * into attack.csv in the run directory (ctx.runDir, or options.file),
 * rewritten atomically at every epoch end and at the end. The rows are the
 * plug-in's checkpoint state, so a resumed run continues the same file.
 */
import * as path from 'node:path';
import { Tensor } from '../tensor/tensor';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import { SparsetrainError } from '../errors';
import { writeTextAtomic } from '../io/checkpoint';
import { getOrig } from '../sparse/mask';
import type { Batch, TrainContext, TrainPlugin } from '../train/plugin';
import {
  buildUnitGraph, effectiveWeight, biasTarget, forEachOutgoing, perExampleLosses, takeExamples, type UnitGraph,
} from '../sparse/units';
import { collectUnitMeasures, findGroup, measurementGraph, unitMrp } from './unit-measures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export interface LrAttackOptions {
  /** Module path of the attacked Linear / Conv2d layer, e.g. 'conv1'. */
  layer: string;
  /** Output unit (row / filter) index. */
  unit: number;
  /** Learning-rate multiplier M (thesis: 100, 1000). 1 attacks nothing: a control run that logs the same values. */
  factor: number;
  /** Attacks N (>= 1). */
  times: number;
  /** Steps between attacks I (>= 1). */
  every: number;
  /** Step of the first attack S (>= 1; the first update is step 1). */
  start: number;
  /** Log every k steps (default 50; a measurement costs about a forward and backward pass plus two forward passes over the sample). */
  logEvery?: number;
  /** Examples of the sample (default 1000). */
  examples?: number;
  /** The CSV file (default: attack.csv in ctx.runDir). */
  file?: string;
}

export const ATTACK_CSV_COLUMNS = [
  'step', 'epoch', 'attacked', 'mrp', 'mrs', 'mrs_rank', 'grad_abs_mean', 'weight_l1', 'weight_l2', 'bias', 'out_weight_l1',
  'out_mean', 'out_std', 'active_fraction', 'sample_loss', 'batch_loss',
] as const;

export type AttackRow = Record<(typeof ATTACK_CSV_COLUMNS)[number], number>;

function check(o: LrAttackOptions): void {
  const bad = (what: string, v: unknown) => new SparsetrainError('ERR_ARGUMENT', `lr attack: ${what}, got ${JSON.stringify(v)}`);
  if (typeof o.layer !== 'string' || !o.layer) throw bad('layer must be a module path such as "conv1"', o.layer);
  if (!Number.isInteger(o.unit) || o.unit < 0) throw bad('unit must be an integer >= 0', o.unit);
  if (typeof o.factor !== 'number' || !Number.isFinite(o.factor) || o.factor < 0) throw bad('factor must be a number >= 0', o.factor);
  for (const [k, min] of [['times', 1], ['every', 1], ['start', 1], ['logEvery', 1], ['examples', 1]] as const) {
    const v = (o as unknown as Record<string, unknown>)[k];
    if (v === undefined && (k === 'logEvery' || k === 'examples')) continue;
    if (!Number.isInteger(v) || (v as number) < min) throw bad(`${k} must be an integer >= ${min}`, v);
  }
}

/** The attacked steps S, S + I, ..., S + (N - 1) I. */
export function attackSteps(o: Pick<LrAttackOptions, 'start' | 'every' | 'times'>): number[] {
  return Array.from({ length: o.times }, (_, j) => o.start + j * o.every);
}

/** Measures the attacked unit (see the file comment) on a sample. */
export function measureUnit(model: AnyModule, graph: UnitGraph, layer: string, unit: number, batches: readonly Batch[], examples = 1000): Omit<AttackRow, 'step' | 'epoch' | 'attacked' | 'batch_loss'> {
  const data = takeExamples(batches, examples);
  const mg = measurementGraph(graph);
  const g = findGroup(mg, layer);
  const s = collectUnitMeasures(model, mg, { batches: data, groups: [layer] }).get(layer)!;
  const base = perExampleLosses(model, data);
  const mrp = unitMrp(model, mg, layer, [unit], s.mean, data, { base })[0];
  const m = model.getSubmodule(layer);
  const w = effectiveWeight(m);
  const row = w.data.length / g.size;
  let l1 = 0, l2 = 0;
  for (let j = unit * row; j < (unit + 1) * row; j++) {
    l1 += Math.abs(w.data[j]);
    l2 += w.data[j] * w.data[j];
  }
  let out = 0;
  forEachOutgoing(model, g, (u, v) => { if (u === unit) out += Math.abs(v); });
  const b = biasTarget(m);
  let rank = 0;
  for (let i = 0; i < g.size; i++) if (s.mrs[i] < s.mrs[unit]) rank++;
  return {
    mrp, mrs: s.mrs[unit], mrs_rank: rank, grad_abs_mean: s.gradAbsMean[unit], weight_l1: l1, weight_l2: Math.sqrt(l2),
    bias: b ? b.f32[unit] : 0, out_weight_l1: out, out_mean: s.mean[unit], out_std: Math.sqrt(s.variance[unit]),
    active_fraction: s.activeFraction[unit], sample_loss: base.reduce((a, v) => a + v, 0) / base.length,
  };
}

export function attackCsv(rows: readonly AttackRow[]): string {
  const fmt = (v: number) => (Number.isNaN(v) ? 'nan' : String(v));
  return `${[ATTACK_CSV_COLUMNS.join(','), ...rows.map((r) => ATTACK_CSV_COLUMNS.map((c) => fmt(r[c])).join(','))].join('\n')}\n`;
}

export class LrAttackPlugin implements TrainPlugin {
  readonly name = 'lr-attack';
  readonly options: Required<Omit<LrAttackOptions, 'file'>> & { file?: string };
  readonly steps: ReadonlySet<number>;
  rows: AttackRow[] = [];
  private module: Conv2d | Linear | null = null;
  private graph: UnitGraph | null = null;
  private batches: Batch[] | null = null;
  private file: string | null = null;
  /** The parameter whose multiplier is set during the current step, and the one it had before. */
  private active: { p: Tensor; prev: Float32Array | null } | null = null;

  constructor(options: LrAttackOptions) {
    check(options);
    this.options = { logEvery: 50, examples: 1000, ...options };
    this.steps = new Set(attackSteps(options));
  }

  onTrainStart(ctx: TrainContext): void {
    const o = this.options;
    let m: AnyModule;
    try {
      m = ctx.model.getSubmodule(o.layer);
    } catch {
      m = null as unknown as AnyModule;
    }
    const layers = ctx.model.namedModules().filter(([, x]) => x instanceof Linear || x instanceof Conv2d).map(([p]) => p);
    if (!(m instanceof Linear || m instanceof Conv2d)) {
      throw new SparsetrainError('ERR_ARGUMENT', `--attack-unit ${o.layer}:${o.unit}: ${o.layer} is not a Linear or Conv2d layer of the model; layers: ${layers.join(', ')}`);
    }
    const size = m instanceof Linear ? m.outFeatures : m.outChannels;
    if (o.unit >= size) throw new SparsetrainError('ERR_ARGUMENT', `--attack-unit ${o.layer}:${o.unit}: ${o.layer} has ${size} units (0..${size - 1})`);
    this.module = m;
    const dir = ctx.runDir;
    if (!o.file && !dir) throw new SparsetrainError('ERR_ARGUMENT', 'lr attack: no run directory (ctx.runDir) and no `file` option to write attack.csv to');
    this.file = o.file ?? path.join(dir!, 'attack.csv');
    this.batches = ctx.sampleTrainBatches(o.examples);
    this.graph = buildUnitGraph(ctx.model, this.batches[0].x.shape.slice(1));
    if (!ctx.resumed && ctx.step === 0 && this.rows.length === 0) {
      this.record(ctx, false);
      ctx.log(`lr attack: ${o.layer} unit ${o.unit}, weight lr x${o.factor} at steps ${[...this.steps].join(', ')}; unit values every ${o.logEvery} steps in ${this.file}`);
    }
  }

  afterBackward(ctx: TrainContext): void {
    const step = ctx.step + 1;
    if (!this.steps.has(step) || this.options.factor === 1) return;
    const p = getOrig(this.module!, 'weight');
    const prev = ctx.optimizer.getLrMultiplier(p);
    const mult = prev ? Float32Array.from(prev) : new Float32Array(p.numel).fill(1);
    const row = p.numel / p.shape[0];
    const u = this.options.unit;
    for (let j = u * row; j < (u + 1) * row; j++) mult[j] *= this.options.factor;
    ctx.optimizer.setLrMultiplier(p, new Tensor(mult, p.shape, 'float32'));
    this.active = { p, prev };
  }

  afterStep(ctx: TrainContext): void {
    const attacked = this.steps.has(ctx.step);
    if (this.active) {
      const { p, prev } = this.active;
      ctx.optimizer.setLrMultiplier(p, prev ? new Tensor(Float32Array.from(prev), p.shape, 'float32') : null);
      this.active = null;
    }
    if (attacked) {
      const k = attackSteps(this.options).indexOf(ctx.step) + 1;
      ctx.log(`lr attack ${k}/${this.options.times}: ${this.options.layer} unit ${this.options.unit} weight lr x${this.options.factor} at step ${ctx.step}`);
    }
    if (attacked || ctx.step % this.options.logEvery === 0) this.record(ctx, attacked);
  }

  onEpochEnd(ctx: TrainContext): void {
    this.write();
    const last = this.rows[this.rows.length - 1];
    if (last) ctx.epochMetrics.attack = { layer: this.options.layer, unit: this.options.unit, step: last.step, mrp: last.mrp, mrs: last.mrs, gradAbsMean: last.grad_abs_mean, weightL1: last.weight_l1 };
  }

  onTrainEnd(ctx: TrainContext): void {
    this.write();
    const before = [...this.rows].reverse().find((r) => r.step < this.options.start);
    const last = this.rows[this.rows.length - 1];
    if (before && last) {
      const f = (v: number) => v.toPrecision(3);
      ctx.log(`lr attack: ${this.options.layer} unit ${this.options.unit} MRP ${f(before.mrp)} at step ${before.step} -> ${f(last.mrp)} at step ${last.step}; output gradient ${f(before.grad_abs_mean)} -> ${f(last.grad_abs_mean)}; weight L1 ${f(before.weight_l1)} -> ${f(last.weight_l1)} (${this.file})`);
    }
  }

  stateDict(): unknown {
    return { rows: this.rows.map((r) => ({ ...r })) };
  }

  loadStateDict(state: unknown): void {
    const rows = (state as { rows?: unknown })?.rows;
    if (!Array.isArray(rows)) throw new SparsetrainError('ERR_ARGUMENT', 'lr attack: checkpoint state has no rows');
    this.rows = rows.map((r) => ({ ...(r as AttackRow) }));
  }

  private record(ctx: TrainContext, attacked: boolean): void {
    const o = this.options;
    const v = measureUnit(ctx.model, this.graph!, o.layer, o.unit, this.batches!, o.examples);
    const batchLoss = ctx.loss ? ctx.loss.item() : NaN;
    this.rows.push({ step: ctx.step, epoch: ctx.epoch, attacked: attacked ? 1 : 0, ...v, batch_loss: batchLoss });
  }

  private write(): void {
    if (this.file) writeTextAtomic(this.file, attackCsv(this.rows));
  }
}

export function lrAttackPlugin(options: LrAttackOptions): LrAttackPlugin {
  return new LrAttackPlugin(options);
}
