/**
 * Unit health (thesis, seed 001, section 3.2): per layer, how many units are
 * frozen (they get almost no gradient) and how many are dead (replacing their
 * output by its mean barely changes the loss), with the layer's weight
 * sparsity; a report function and a training plug-in that runs it at the end
 * of every epoch and writes it into metrics.jsonl.
 *
 * Data: the first N training examples (default 1000, ctx.sampleTrainBatches:
 * a fixed sample, no augmentation), in eval mode, per-example cross-entropy
 * l_k. A unit's output h is read before its non-linearity (after its
 * BatchNorm if any), as the thesis does.
 *
 * Definitions and tolerances (the thesis sets no thresholds, since they
 * "depend on the number of units in a layer or the loss function"; ours are
 * relative for that reason):
 *   frozen    G_u <= frozenTolerance * mean of G over the layer's alive units,
 *             G_u = mean over examples and positions of |dl_k/dh_u| (default
 *             frozenTolerance 0.01: a unit getting under 1% of its layer's
 *             average gradient signal). A layer whose gradients are all zero
 *             has all its units frozen.
 *   dead      MRP_u <= deadTolerance * L, MRP_u = 1/N sum_k |l_k(h_u -> mean
 *             h_u) - l_k| the exact mean replacement penalty, L = 1/N sum_k
 *             l_k the sample's mean loss (default deadTolerance 0.001:
 *             replacing the unit by a constant changes the loss by less than
 *             0.1% of the loss). A loss change is measured in units of the
 *             loss, hence relative to the loss rather than to the layer.
 *   inactive  (ReLU layers only, see reluFollows) max over examples and
 *             positions of h_u <= 0: the unit's activation is always 0.
 *             Such a unit is dead (MRP exactly 0: its mean is <= 0 too) and
 *             frozen (ReLU passes no gradient).
 * Pruned units (unit masks) are counted as pruned, not as frozen or dead.
 *
 * Cost. Frozen needs one forward and backward pass over the N examples (with
 * MRS, which comes with it). The exact MRP needs one forward pass per unit,
 * too many for every unit every epoch (lenet300 has 400), so by default
 * (mrp 'candidates') it is computed only where it can be small:
 *   - units whose MRP is 0 by construction are dead without a pass: constant
 *     output (min = max), or inactive under a ReLU;
 *   - the other units with MRS_u <= candidateFactor * deadTolerance * L (MRS,
 *     the first-order approximation of MRP, thesis eq. 3.3; default factor 10)
 *     get the exact MRP, lowest MRS first, at most maxMrpUnits (default 16)
 *     per report; candidates beyond that are counted as `unchecked`.
 * mrp: 'all' computes the exact MRP of every alive unit (small models, tests).
 */
import { Module } from '../nn/module';
import { SparsetrainError } from '../errors';
import type { Batch, TrainContext, TrainPlugin } from '../train/plugin';
import { buildUnitGraph, aliveUnits, perExampleLosses, takeExamples, type UnitGraph } from '../sparse/units';
import { sparsityReport } from '../sparse/report';
import { collectUnitMeasures, measurementGraph, reluFollows, unitMrp } from './unit-measures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export interface UnitHealthOptions {
  /** Examples (default 1000). */
  examples?: number;
  /** Frozen: mean |dl/dh| at most this fraction of the layer's mean (default 0.01). */
  frozenTolerance?: number;
  /** Dead: MRP at most this fraction of the sample's mean loss (default 0.001). */
  deadTolerance?: number;
  /** 'candidates' (default) or 'all' (exact MRP of every unit). */
  mrp?: 'candidates' | 'all';
  /** candidates: exact MRPs per report at most (default 16). */
  maxMrpUnits?: number;
  /** candidates: MRS below this many dead thresholds makes a unit a candidate (default 10). */
  candidateFactor?: number;
}

export interface UnitHealthLayer {
  /** The producing layer's module path. */
  layer: string;
  kind: 'conv' | 'linear';
  units: number;
  /** Units masked by unit pruning. */
  pruned: number;
  /** Zero fraction of the layer's effective weight (pruned or exactly 0). */
  sparsity: number;
  frozen: number[];
  dead: number[];
  /** Never active after the ReLU; null when no ReLU follows directly. */
  inactive: number[] | null;
  /** Candidates whose MRP was not computed (over maxMrpUnits). */
  unchecked: number;
  /** Thresholds used in this layer. */
  frozenThreshold: number;
  /** Per unit: mean |dl/dh|, MRS, exact MRP (NaN where not computed), max output, fraction of outputs > 0. */
  gradAbsMean: Float64Array;
  mrs: Float64Array;
  mrp: Float64Array;
  max: Float64Array;
  activeFraction: Float64Array;
}

export interface UnitHealthReport {
  examples: number;
  /** Mean per-example loss of the sample. */
  loss: number;
  deadThreshold: number;
  /** Exact MRPs computed (forward passes over the sample). */
  mrpEvaluated: number;
  /** Layers whose units were measured (every Linear / Conv2d whose output feeds another layer). */
  layers: UnitHealthLayer[];
  /** Weight sparsity of every Linear / Conv2d layer (by module path), the output layer included. */
  sparsity: Record<string, number>;
  seconds: number;
}

function checkOptions(o: UnitHealthOptions): Required<UnitHealthOptions> {
  const pos = (name: string, v: number, int = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) {
      throw new SparsetrainError('ERR_ARGUMENT', `unit health: ${name} must be a ${int ? 'non-negative integer' : 'number >= 0'}, got ${String(v)}`);
    }
    return v;
  };
  const r = {
    examples: o.examples ?? 1000,
    frozenTolerance: pos('frozenTolerance', o.frozenTolerance ?? 0.01),
    deadTolerance: pos('deadTolerance', o.deadTolerance ?? 0.001),
    mrp: o.mrp ?? 'candidates',
    maxMrpUnits: pos('maxMrpUnits', o.maxMrpUnits ?? 16, true),
    candidateFactor: pos('candidateFactor', o.candidateFactor ?? 10),
  };
  if (!Number.isInteger(r.examples) || r.examples < 1) throw new SparsetrainError('ERR_ARGUMENT', `unit health: examples must be a positive integer, got ${String(o.examples)}`);
  if (r.mrp !== 'candidates' && r.mrp !== 'all') throw new SparsetrainError('ERR_ARGUMENT', `unit health: mrp must be 'candidates' or 'all', got ${JSON.stringify(r.mrp)}`);
  return r as Required<UnitHealthOptions>;
}

/** The unit-health report of a model on a sample of examples (see the file comment). */
export function unitHealth(model: AnyModule, batches: readonly Batch[], options: UnitHealthOptions = {}, graph?: UnitGraph): UnitHealthReport {
  const t0 = Date.now();
  const o = checkOptions(options);
  const data = takeExamples(batches, o.examples);
  const g0 = graph ?? buildUnitGraph(model, data[0].x.shape.slice(1));
  const mg = measurementGraph(g0);
  const groups = mg.groups.filter((g) => g.consumers.length > 0);
  const stats = groups.length ? collectUnitMeasures(model, mg, { batches: data, groups: groups.map((g) => g.name) }) : new Map();
  const base = perExampleLosses(model, data);
  const loss = base.reduce((a, b) => a + b, 0) / base.length;
  const deadThreshold = o.deadTolerance * loss;
  const sp = sparsityReport(model);
  const sparsity: Record<string, number> = {};
  for (const l of sp.layers) sparsity[l.key.replace(/\.?weight$/, '')] = l.sparsity;

  const aliveOf = new Map(groups.map((g) => [g.name, aliveUnits(model.getSubmodule(g.maskAt), g.size)]));
  const layers: UnitHealthLayer[] = groups.map((g) => {
    const s = stats.get(g.name)!;
    const alive = aliveOf.get(g.name)!;
    const aliveIdx = alive.map((a, i) => (a ? i : -1)).filter((i) => i >= 0);
    const meanG = aliveIdx.length ? aliveIdx.reduce((a, i) => a + s.gradAbsMean[i], 0) / aliveIdx.length : 0;
    const frozenThreshold = o.frozenTolerance * meanG;
    const relu = reluFollows(g);
    return {
      layer: g.name, kind: g.kind, units: g.size, pruned: g.size - aliveIdx.length, sparsity: sparsity[g.name] ?? 0,
      frozen: aliveIdx.filter((i) => s.gradAbsMean[i] <= frozenThreshold),
      dead: [],
      inactive: relu ? aliveIdx.filter((i) => s.max[i] <= 0) : null,
      unchecked: 0,
      frozenThreshold,
      gradAbsMean: s.gradAbsMean, mrs: s.mrs, mrp: new Float64Array(g.size).fill(NaN), max: s.max, activeFraction: s.activeFraction,
    };
  });

  // Which exact MRPs to compute.
  const todo = new Map<string, number[]>();
  const zeroByConstruction = new Map<string, Set<number>>();
  const cands: { layer: UnitHealthLayer; u: number }[] = [];
  for (const L of layers) {
    const s = stats.get(L.layer)!;
    const alive = aliveOf.get(L.layer)!;
    const zero = new Set<number>();
    for (let u = 0; u < L.units; u++) {
      if (!alive[u]) continue;
      if (o.mrp === 'all') {
        cands.push({ layer: L, u });
        continue;
      }
      if (s.min[u] === s.max[u] || (L.inactive !== null && s.max[u] <= 0)) zero.add(u);
      else if (s.mrs[u] <= o.candidateFactor * deadThreshold) cands.push({ layer: L, u });
    }
    zeroByConstruction.set(L.layer, zero);
  }
  let chosen = cands;
  if (o.mrp === 'candidates') {
    chosen = [...cands].sort((a, b) => a.layer.mrs[a.u] - b.layer.mrs[b.u]).slice(0, o.maxMrpUnits);
    const picked = new Set(chosen);
    for (const c of cands) if (!picked.has(c)) c.layer.unchecked++;
  }
  for (const c of chosen) {
    if (!todo.has(c.layer.layer)) todo.set(c.layer.layer, []);
    todo.get(c.layer.layer)!.push(c.u);
  }
  let mrpEvaluated = 0;
  for (const L of layers) {
    const units = (todo.get(L.layer) ?? []).sort((a, b) => a - b);
    if (units.length) {
      const v = unitMrp(model, mg, L.layer, units, stats.get(L.layer)!.mean, data, { base });
      units.forEach((u, j) => { L.mrp[u] = v[j]; });
      mrpEvaluated += units.length;
    }
    for (const u of zeroByConstruction.get(L.layer)!) L.mrp[u] = 0;
    const dead: number[] = [];
    for (let u = 0; u < L.units; u++) if (!Number.isNaN(L.mrp[u]) && L.mrp[u] <= deadThreshold) dead.push(u);
    L.dead = dead;
  }
  return { examples: base.length, loss, deadThreshold, mrpEvaluated, layers, sparsity, seconds: (Date.now() - t0) / 1000 };
}

/** The report's compact form for a metrics line (counts and unit indices per layer). */
export function unitHealthMetrics(r: UnitHealthReport): Record<string, unknown> {
  const layers: Record<string, unknown> = {};
  for (const L of r.layers) {
    layers[L.layer] = {
      units: L.units, pruned: L.pruned, sparsity: L.sparsity,
      frozen: L.frozen.length, dead: L.dead.length, inactive: L.inactive ? L.inactive.length : null,
      frozenUnits: L.frozen, deadUnits: L.dead, inactiveUnits: L.inactive, ...(L.unchecked ? { unchecked: L.unchecked } : {}),
    };
  }
  for (const [k, s] of Object.entries(r.sparsity)) if (!(k in layers)) layers[k] = { sparsity: s };
  return {
    examples: r.examples, loss: r.loss, deadThreshold: r.deadThreshold, mrpEvaluated: r.mrpEvaluated, seconds: r.seconds,
    frozen: r.layers.reduce((a, L) => a + L.frozen.length, 0), dead: r.layers.reduce((a, L) => a + L.dead.length, 0), layers,
  };
}

/** One short line: frozen and dead units per layer, the sparsity where there is any, the cost. */
export function formatUnitHealth(r: UnitHealthReport, epochSeconds?: number): string {
  const parts = r.layers.map((L) => {
    const extra = [L.inactive && L.inactive.length ? `${L.inactive.length} never active` : '', L.pruned ? `${L.pruned} pruned` : '', L.unchecked ? `${L.unchecked} unchecked` : '']
      .filter(Boolean).join(', ');
    return `${L.layer} ${L.frozen.length} frozen ${L.dead.length} dead of ${L.units}${extra ? ` (${extra})` : ''}`;
  });
  const sp = Object.entries(r.sparsity).filter(([, s]) => s > 0).map(([k, s]) => `${k} ${(100 * s).toFixed(1)}%`);
  const cost = epochSeconds && epochSeconds > 0 ? `, ${((100 * r.seconds) / epochSeconds).toFixed(1)}% of the epoch` : '';
  return `unit health: ${parts.join(' | ')}${sp.length ? ` | zero weights ${sp.join(', ')}` : ''} (${r.examples} examples, ${r.seconds.toFixed(2)} s${cost})`;
}

/**
 * Runs unitHealth at the end of every epoch on ctx.sampleTrainBatches(N):
 * ctx.epochMetrics.unitHealth (unitHealthMetrics) lands in metrics.jsonl, and
 * one line goes to the log. Stateless (nothing to checkpoint).
 */
export class UnitHealthPlugin implements TrainPlugin {
  readonly name = 'unit-health';
  readonly options: UnitHealthOptions;
  private batches: Batch[] | null = null;
  /** The last report (for callers and tests). */
  last: UnitHealthReport | null = null;

  constructor(options: UnitHealthOptions = {}) {
    checkOptions(options);
    this.options = { ...options };
  }

  onEpochEnd(ctx: TrainContext): void {
    if (!this.batches) this.batches = ctx.sampleTrainBatches(this.options.examples ?? 1000);
    const r = unitHealth(ctx.model, this.batches, this.options);
    this.last = r;
    const epochSeconds = typeof ctx.epochMetrics.seconds === 'number' ? ctx.epochMetrics.seconds : undefined;
    ctx.epochMetrics.unitHealth = unitHealthMetrics(r);
    ctx.log(`epoch ${ctx.epoch + 1} ${formatUnitHealth(r, epochSeconds)}`);
  }
}

export function unitHealthPlugin(options: UnitHealthOptions = {}): UnitHealthPlugin {
  return new UnitHealthPlugin(options);
}
