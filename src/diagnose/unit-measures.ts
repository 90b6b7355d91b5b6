/**
 * Measurements of units for diagnosis (unit health, the learning-rate attack):
 * the thesis' unit statistics (seed 001, sections 3.1-3.2) from
 * src/sparse/units collectUnitStats, plus what diagnosis needs on top:
 *
 *   - per unit, over the examples and positions of the unit's output h
 *     (site 'pre': before the non-linearity, after a BatchNorm if any): the
 *     minimum, the maximum and the fraction of values > 0, read by a forward
 *     hook in the same forward pass as collectUnitStats' (no extra cost);
 *   - the exact MRP of chosen units only (mrpScores in src/sparse/units
 *     measures every unit of a group: one forward pass over the examples per
 *     unit, too slow to run every epoch on lenet300's 400 units);
 *   - whether a ReLU follows the site directly (only max-pooling on the way),
 *     so that "never active" (max h <= 0) means the unit's activation is 0 for
 *     every example.
 *
 * Groups. collectUnitStats and replaceAtSite accept only prunable unit groups
 * (graph.ts): diagnosis also looks at units that cannot be pruned (e.g. the
 * channels a residual addition joins, or the classifier's outputs), since
 * measuring them needs no rewiring. measurementGraph() marks every group
 * measurable; it is for measuring only and must not be handed to pruning.
 */
import { Tensor } from '../tensor/tensor';
import { Module } from '../nn/module';
import { SparsetrainError } from '../errors';
import type { Batch } from '../train/plugin';
import {
  collectUnitStats, perExampleLosses, replaceAtSite, siteLayout, siteModule, takeExamples,
  type UnitGraph, type UnitGroup, type UnitStats,
} from '../sparse/units';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** A copy of the graph in which every group can be measured (not for pruning). */
export function measurementGraph(graph: UnitGraph): UnitGraph {
  return { inputShape: [...graph.inputShape], groups: graph.groups.map((g) => ({ ...g, prunable: true, reason: undefined })) };
}

/** The group of a producer layer; the error lists the layers that have units. */
export function findGroup(graph: UnitGraph, layer: string, flag = 'layer'): UnitGroup {
  const g = graph.groups.find((x) => x.name === layer);
  if (!g) throw new SparsetrainError('ERR_ARGUMENT', `${flag} ${layer}: not a Linear or Conv2d layer of the model; layers with units: ${graph.groups.map((x) => x.name).join(', ')}`);
  return g;
}

/** Ops that keep "every value <= 0" true on the way from the site to a ReLU. */
const NON_POSITIVE_PRESERVING = new Set(['maxPool2d', 'adaptiveAvgPool2d', 'clone', 'unitMask']);

/**
 * True when every consumer reads the group's units through a ReLU that
 * follows the site ('pre': after the group's BatchNorms) with only pooling
 * on the way. Then a unit whose output is <= 0 for every example and
 * position has a zero activation everywhere ("never active").
 */
export function reluFollows(group: UnitGroup): boolean {
  if (!group.consumers.length) return false;
  return group.consumers.every((c) => {
    const ops = c.ops.filter((o) => !o.startsWith('bn:'));
    const r = ops.indexOf('relu');
    return r >= 0 && ops.slice(0, r).every((o) => NON_POSITIVE_PRESERVING.has(o));
  });
}

export interface UnitMeasures extends UnitStats {
  /** Smallest and largest output per unit over examples and positions. */
  min: Float64Array;
  max: Float64Array;
  /** Fraction of (example, position) values > 0 per unit. */
  activeFraction: Float64Array;
}

export interface MeasureOptions {
  batches: readonly Batch[];
  /** At most this many examples (default 1000). */
  examples?: number;
  /** Groups to measure (default: all of the graph's). */
  groups?: readonly string[];
  /** With gradients (MRS, mean |dl/dh|), default true. */
  gradients?: boolean;
}

/**
 * collectUnitStats (site 'pre') over a measurement graph, with min, max and the
 * active fraction of every unit from the same forward passes.
 */
export function collectUnitMeasures(model: AnyModule, graph: UnitGraph, opts: MeasureOptions): Map<string, UnitMeasures> {
  const mg = measurementGraph(graph);
  const names = opts.groups ?? mg.groups.map((g) => g.name);
  const groups = names.map((n) => findGroup(mg, n));
  const ext = new Map(groups.map((g) => [g.name, {
    min: new Float64Array(g.size).fill(Infinity), max: new Float64Array(g.size).fill(-Infinity), pos: new Float64Array(g.size), n: 0,
  }]));
  const handles = groups.map((g) => {
    const s = siteModule(g, 'pre');
    const e = ext.get(g.name)!;
    return model.getSubmodule(s.path).registerForwardHook((_m, _in, out) => {
      const t = out as Tensor;
      const { B, P, at } = siteLayout(t, g.size, s.block);
      const h = t.f32;
      for (let k = 0; k < B; k++) {
        for (let i = 0; i < g.size; i++) {
          let lo = e.min[i], hi = e.max[i], pos = 0;
          for (let p = 0; p < P; p++) {
            const v = h[at(k, i, p)];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            if (v > 0) pos++;
          }
          e.min[i] = lo;
          e.max[i] = hi;
          e.pos[i] += pos;
        }
      }
      e.n += B * P;
    });
  });
  let stats: Map<string, UnitStats>;
  try {
    stats = collectUnitStats(model, mg, { batches: opts.batches, examples: opts.examples, groups: names, site: 'pre', gradients: opts.gradients ?? true });
  } finally {
    handles.forEach((h) => h.remove());
  }
  const out = new Map<string, UnitMeasures>();
  for (const g of groups) {
    const e = ext.get(g.name)!;
    out.set(g.name, { ...stats.get(g.name)!, min: e.min, max: e.max, activeFraction: e.pos.map((v) => (e.n ? v / e.n : 0)) });
  }
  return out;
}

/**
 * Exact mean replacement penalty (thesis eq. 3.1, averaged over examples) of
 * the given units of one group: 1/N sum_k |l_k(h with unit u replaced by its
 * mean) - l_k(h)|. One forward pass over the examples per unit; `base` (the
 * per-example losses of the unchanged model) may be passed to save one more.
 */
export function unitMrp(
  model: AnyModule, graph: UnitGraph, layer: string, units: readonly number[], means: ArrayLike<number>,
  batches: readonly Batch[], opts: { examples?: number; base?: Float64Array } = {},
): Float64Array {
  const g = findGroup(measurementGraph(graph), layer);
  const data = takeExamples(batches, opts.examples ?? 1000);
  const base = opts.base ?? perExampleLosses(model, data);
  const out = new Float64Array(units.length);
  units.forEach((u, j) => {
    if (!Number.isInteger(u) || u < 0 || u >= g.size) throw new SparsetrainError('ERR_ARGUMENT', `unitMrp: unit ${u} of ${layer} out of range 0..${g.size - 1}`);
    const h = replaceAtSite(model, g, 'pre', [u], means);
    let l: Float64Array;
    try {
      l = perExampleLosses(model, data);
    } finally {
      h.remove();
    }
    let acc = 0;
    for (let k = 0; k < l.length; k++) acc += Math.abs(l[k] - base[k]);
    out[j] = acc / l.length;
  });
  return out;
}
