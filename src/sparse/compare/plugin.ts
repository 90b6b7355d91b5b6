/**
 * The scorer comparison as a training-loop plug-in (thesis, seed 001,
 * sections 2.1 and 4.1; issue 4, item 6): every `every` optimizer steps it
 * measures, for each scorer and fraction, the change in the training loss
 * when that fraction of one layer is pruned with that scorer, then undoes
 * the pruning (measure.ts). Training itself is unchanged, bit for bit: the
 * trials are undone exactly (checked), no optimizer state is touched, and
 * random scorers draw from a generator of their own, seeded from (seed, step).
 *
 * When: in afterStep, after the optimizer step whose number (ctx.step, 1-based)
 * is a multiple of `every`.
 *
 * Data: the first scoreExamples + examples training examples in a fixed order
 * (ctx.sampleTrainBatches: no augmentation), taken once; the first
 * scoreExamples are for the scores, the next `examples` for the loss
 * (scoreOn 'disjoint', default). With scoreOn 'same' both use the first
 * `examples`.
 *
 * Output: this.rows, and `file` (default scorers.csv, see rows.ts) in `dir`
 * or else the run's directory (ctx.runDir), rewritten atomically after every
 * measurement; with neither, the rows stay in memory only. Resume: the rows
 * are the plug-in's checkpoint state, so a resumed run writes the same table
 * as an uninterrupted one.
 *
 * The time spent measuring is counted in the trainer's step time (it runs in
 * a step hook); the plug-in reports it per epoch as scorer_comparison_seconds.
 */
import * as path from 'node:path';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { slice } from '../../ops/shape';
import { noGrad } from '../../autograd/grad-mode';
import { derivedGenerator } from '../../data/seed';
import { writeTextAtomic } from '../../io/checkpoint';
import type { Batch, TrainContext, TrainPlugin } from '../../train/plugin';
import { findTargets, type PruneTarget } from '../select';
import { parseScorerName, type WeightScorerName } from '../scores';
import { buildUnitGraph, prunableGroups, type UnitGraph } from '../units/graph';
import { UNIT_SCORERS, type UnitScorer } from '../units/scores';
import type { UnitSite } from '../units/stats';
import { measureScorers } from './measure';
import { ROW_COLUMNS, rowsToCsv, type ComparisonRow } from './rows';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** Table 2.1 of the thesis with its absolute-valued variants (loss-change is left out by default: one forward per weight). */
export const DEFAULT_WEIGHT_SCORERS: readonly WeightScorerName[] = [
  'magnitude', 'random', 'taylor1', 'taylor2', 'hessian', 'taylor1-abs', 'taylor2-abs', 'hessian-abs',
];
export const DEFAULT_FRACTIONS: readonly number[] = [0.1, 0.2, 0.4, 0.5, 0.8];

export interface ScorerComparisonOptions {
  /** Measure after every `every` optimizer steps (a positive integer). */
  every: number;
  /** Fractions of a layer pruned in each trial, each in (0, 1] (default 0.1, 0.2, 0.4, 0.5, 0.8). */
  fractions?: readonly number[];
  /** Weight scorers (default DEFAULT_WEIGHT_SCORERS; [] for none). */
  weightScorers?: readonly string[];
  /** Weight keys, each pruned alone (default: every Linear and Conv2d weight). */
  weightLayers?: readonly string[];
  /** Unit scorers (default mrs, mrp, l1, l2, random; [] for none). */
  unitScorers?: readonly string[];
  /** Unit groups (producer module paths), each pruned alone (default: every prunable group). */
  unitLayers?: readonly string[];
  /** Examples the loss is measured on (default 1000). */
  examples?: number;
  /** Examples the scores and unit means are computed on (default 1000). */
  scoreExamples?: number;
  /** 'disjoint' (default): scores on other examples than the loss; 'same': both on the first `examples`. */
  scoreOn?: 'disjoint' | 'same';
  /** Batch size of those examples (default 250). */
  batchSize?: number;
  /** Seed of the random scorers (default 0); step s uses derivedGenerator(seed, 'scorer-comparison', s). */
  seed?: number;
  /** CSV file name (default scorers.csv). */
  file?: string;
  /** Directory of the CSV (default: the run's directory, ctx.runDir). */
  dir?: string;
  /** Units: 'mean' replacement with bias propagation (default) or 'zero'. */
  replacement?: 'mean' | 'zero';
  /** Units: where outputs and means are read (default 'pre'). */
  site?: UnitSite;
  /** Units, l1 / l2: incoming (default), outgoing or both weights. */
  direction?: 'in' | 'out' | 'both';
  /** Check that every measurement leaves the model bit-identical (default true). */
  verify?: boolean;
  /** Plug-in name (checkpoint state key; default 'scorer-comparison'). */
  name?: string;
}

function err(msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `scorer comparison: ${msg}`);
}

function positiveInt(what: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw err(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Examples [from, to) of a batch list, as batches (cut where needed). */
function examplesRange(batches: readonly Batch[], from: number, to: number): Batch[] {
  const out: Batch[] = [];
  let at = 0;
  for (const b of batches) {
    const n = b.x.shape[0];
    const s = Math.max(from, at);
    const e = Math.min(to, at + n);
    if (e > s) out.push(s === at && e === at + n ? b : noGrad(() => ({ x: slice(b.x, 0, s - at, e - at), y: slice(b.y, 0, s - at, e - at) })));
    at += n;
  }
  return out;
}

type SavedRow = (string | number)[];

export class ScorerComparisonPlugin implements TrainPlugin {
  readonly name: string;
  readonly every: number;
  readonly fractions: readonly number[];
  readonly weightScorers: readonly WeightScorerName[];
  readonly unitScorers: readonly UnitScorer[];
  readonly opts: Readonly<ScorerComparisonOptions>;
  /** Every row measured so far (also those of a resumed run's earlier part). */
  readonly rows: ComparisonRow[] = [];
  /** Seconds spent measuring in this process. */
  seconds = 0;
  private targets: PruneTarget[] = [];
  private unitLayers: string[] = [];
  private graph: UnitGraph | null = null;
  private sample: { score: Batch[]; loss: Batch[] } | null = null;
  private epochSeconds = 0;
  private epochMeasurements = 0;

  constructor(opts: ScorerComparisonOptions) {
    if (!opts || typeof opts !== 'object') throw err('expected options { every, ... }');
    if (opts.every === undefined) throw err('every (measure after every k optimizer steps) is required');
    this.every = positiveInt('every', opts.every, 1);
    const fr = opts.fractions ?? DEFAULT_FRACTIONS;
    if (!Array.isArray(fr) || !fr.length) throw err(`fractions must be a non-empty list, got ${JSON.stringify(fr)}`);
    for (const f of fr) if (!(typeof f === 'number' && f > 0 && f <= 1)) throw err(`every fraction must be a number in (0, 1], got ${String(f)}`);
    this.fractions = [...fr];
    this.weightScorers = (opts.weightScorers ?? DEFAULT_WEIGHT_SCORERS).map((s) => {
      try {
        return parseScorerName(s);
      } catch (e) {
        throw err(`weightScorers: ${(e as Error).message}`);
      }
    });
    this.unitScorers = (opts.unitScorers ?? UNIT_SCORERS).map((s) => {
      if (!(UNIT_SCORERS as readonly string[]).includes(s)) throw err(`unitScorers: unknown unit scorer ${JSON.stringify(s)}; expected one of ${UNIT_SCORERS.join(', ')}`);
      return s as UnitScorer;
    });
    if (!this.weightScorers.length && !this.unitScorers.length) throw err('no weight and no unit scorers: nothing to compare');
    positiveInt('examples', opts.examples, 1000);
    positiveInt('scoreExamples', opts.scoreExamples, 1000);
    positiveInt('batchSize', opts.batchSize, 250);
    if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw err(`seed must be an integer, got ${String(opts.seed)}`);
    if (opts.scoreOn !== undefined && opts.scoreOn !== 'disjoint' && opts.scoreOn !== 'same') throw err(`scoreOn must be 'disjoint' or 'same', got ${JSON.stringify(opts.scoreOn)}`);
    if (opts.replacement !== undefined && opts.replacement !== 'mean' && opts.replacement !== 'zero') throw err(`replacement must be 'mean' or 'zero', got ${JSON.stringify(opts.replacement)}`);
    if (opts.file !== undefined && (typeof opts.file !== 'string' || !opts.file || path.basename(opts.file) !== opts.file)) throw err(`file must be a plain file name, got ${JSON.stringify(opts.file)}`);
    this.name = opts.name ?? 'scorer-comparison';
    this.opts = { ...opts };
  }

  /** Resolves the layers against the model (called by onTrainStart; usable without a trainer). */
  setup(model: AnyModule, inputShape: readonly number[]): void {
    if (this.weightScorers.length) {
      try {
        this.targets = this.opts.weightLayers ? findTargets(model, { keys: this.opts.weightLayers }) : findTargets(model);
      } catch (e) {
        throw err(`weightLayers: ${(e as Error).message.replace(/^findTargets: /, '')}`);
      }
      if (this.opts.weightLayers) this.targets = this.opts.weightLayers.map((k) => this.targets.find((t) => t.key === k)!);
    }
    if (this.unitScorers.length) {
      this.graph = buildUnitGraph(model, inputShape);
      try {
        this.unitLayers = prunableGroups(this.graph, this.opts.unitLayers).map((g) => g.name);
      } catch (e) {
        throw err(`unitLayers: ${(e as Error).message}`);
      }
    }
  }

  /** The examples of the scores and of the loss, taken once from the context. */
  private samples(ctx: TrainContext): { score: Batch[]; loss: Batch[] } {
    if (this.sample) return this.sample;
    const n = this.opts.examples ?? 1000;
    const s = this.opts.scoreExamples ?? 1000;
    const bs = this.opts.batchSize ?? 250;
    if (this.opts.scoreOn === 'same') {
      const b = ctx.sampleTrainBatches(n, bs);
      this.sample = { score: b, loss: b };
    } else {
      const b = ctx.sampleTrainBatches(s + n, bs);
      const have = b.reduce((a, x) => a + x.x.shape[0], 0);
      if (have < s + n) throw err(`scoreExamples + examples = ${s + n} exceed the ${have} training examples; lower them or use scoreOn 'same'`);
      this.sample = { score: examplesRange(b, 0, s), loss: examplesRange(b, s, s + n) };
    }
    return this.sample;
  }

  /** Measures now and appends the rows (usable without a trainer; the trainer calls it every `every` steps). */
  measure(model: AnyModule, samples: { score: Batch[]; loss: Batch[] }, at: { step: number; epoch: number }): ComparisonRow[] {
    const t0 = Date.now();
    const rows = measureScorers(model, {
      fractions: this.fractions,
      weightScorers: this.weightScorers,
      weightLayers: this.targets,
      unitScorers: this.unitScorers,
      unitLayers: this.unitLayers,
      graph: this.graph,
      scoreBatches: samples.score,
      lossBatches: samples.loss,
      generator: derivedGenerator(this.opts.seed ?? 0, 'scorer-comparison', at.step),
      replacement: this.opts.replacement,
      site: this.opts.site,
      direction: this.opts.direction,
      verify: this.opts.verify,
    }, at);
    this.rows.push(...rows);
    const dt = (Date.now() - t0) / 1000;
    this.seconds += dt;
    this.epochSeconds += dt;
    this.epochMeasurements += 1;
    return rows;
  }

  /** The CSV text of all rows so far. */
  csv(): string {
    return rowsToCsv(this.rows);
  }

  private write(ctx: TrainContext): void {
    const dir = this.opts.dir ?? ctx.runDir;
    if (dir) writeTextAtomic(path.join(dir, this.opts.file ?? 'scorers.csv'), this.csv());
  }

  onTrainStart(ctx: TrainContext): void {
    const first = ctx.sampleTrainBatches(1, 1);
    if (!first.length) throw err('no training examples');
    this.setup(ctx.model, first[0].x.shape.slice(1));
  }

  onEpochStart(): void {
    this.epochSeconds = 0;
    this.epochMeasurements = 0;
  }

  afterStep(ctx: TrainContext): void {
    if (ctx.step % this.every !== 0) return;
    this.measure(ctx.model, this.samples(ctx), { step: ctx.step, epoch: ctx.epoch });
    this.write(ctx);
  }

  onEpochEnd(ctx: TrainContext): void {
    ctx.epochMetrics.scorer_comparison_seconds = Math.round(this.epochSeconds * 10) / 10;
    if (this.epochMeasurements) ctx.log(`scorer comparison: ${this.epochMeasurements} measurements this epoch (${this.epochSeconds.toFixed(1)} s), ${this.rows.length} rows so far`);
  }

  onTrainEnd(ctx: TrainContext): void {
    this.write(ctx);
  }

  stateDict(): { columns: readonly string[]; rows: SavedRow[] } {
    return { columns: ROW_COLUMNS, rows: this.rows.map((r) => ROW_COLUMNS.map((c) => r[c])) };
  }

  loadStateDict(state: unknown): void {
    const s = state as { columns?: unknown; rows?: unknown };
    if (!s || !Array.isArray(s.rows) || JSON.stringify(s.columns) !== JSON.stringify(ROW_COLUMNS)) throw err('bad saved state (expected the rows of this version\'s columns)');
    this.rows.splice(0, this.rows.length, ...(s.rows as SavedRow[]).map((r) => Object.fromEntries(ROW_COLUMNS.map((c, i) => [c, r[i]])) as unknown as ComparisonRow));
  }
}

/** Shorthand: new ScorerComparisonPlugin(opts). */
export function scorerComparisonPlugin(opts: ScorerComparisonOptions): ScorerComparisonPlugin {
  return new ScorerComparisonPlugin(opts);
}
