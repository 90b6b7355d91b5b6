/**
 * Unit saliency scores (thesis, seed 001, Table 4.1) and unit selection.
 * Lower score = pruned first.
 *
 *   mrs     mean replacement saliency, first order, one forward + backward
 *           pass (stats.ts): 1/N sum_k |sum_p (mean_i - h_kip) dl_k/dh_kip|
 *   mrp     mean replacement penalty, exact: 1/N sum_k |l_k(h~) - l_k(h)|
 *           where h~ has unit i's output replaced by its mean (eq. 3.1; one
 *           forward pass over the examples per unit). absolute: false gives
 *           the signed change of the mean loss instead (negative: pruning the
 *           unit lowers the loss).
 *   l1, l2  ||w||_1 and ||w||_2^2 of the unit's incoming weights (the
 *           producer's row / filter, the effective weight when masked);
 *           direction 'out' uses the consumers' columns, 'both' adds them.
 *   random  uniform in [0, 1) from a seeded generator.
 *
 * Units already masked (pruned) get score 0 and are never selected again.
 */
import { Generator, defaultGenerator } from '../../tensor/random';
import { rand } from '../../ops/creation';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { UnitGraph, UnitGroup, prunableGroups } from './graph';
import {
  UnitDataOptions, UnitStats, UnitSite, collectUnitStats, perExampleLosses, replaceAtSite, takeExamples, withEval, crossEntropyPerExample,
} from './stats';
import { aliveUnits, effectiveWeight } from './mask';

type AnyModule = Module<any[], any>;

export type UnitScorer = 'mrs' | 'mrp' | 'l1' | 'l2' | 'random';
export const UNIT_SCORERS: readonly UnitScorer[] = ['mrs', 'mrp', 'l1', 'l2', 'random'];

export interface UnitScoreOptions extends Partial<UnitDataOptions> {
  /** l1 / l2: incoming weights (default), outgoing, or both. */
  direction?: 'in' | 'out' | 'both';
  /** random: the generator (default: the global one). */
  generator?: Generator;
  /** mrp: per-example absolute loss change (default true, the thesis' MRP), or the signed mean change. */
  absolute?: boolean;
  /** mrp: means at the site already measured (e.g. by collectUnitStats); otherwise one forward pass measures them. */
  stats?: Map<string, UnitStats>;
}

/** Scores of every unit of the chosen (default: all prunable) groups, by group name. */
export function scoreUnits(model: AnyModule, graph: UnitGraph, scorer: UnitScorer, opts: UnitScoreOptions = {}): Map<string, Float64Array> {
  switch (scorer) {
    case 'mrs': {
      const stats = collectUnitStats(model, graph, needData(opts, 'mrs'));
      return zeroMasked(model, graph, new Map([...stats].map(([k, s]) => [k, s.mrs])));
    }
    case 'mrp': return mrpScores(model, graph, needData(opts, 'mrp'));
    case 'l1': return normScores(model, graph, 1, opts);
    case 'l2': return normScores(model, graph, 2, opts);
    case 'random': return randomScores(model, graph, opts);
    default: throw new SparsetrainError('ERR_ARGUMENT', `unknown unit scorer ${JSON.stringify(scorer)}; expected one of ${UNIT_SCORERS.join(', ')}`);
  }
}

function needData(opts: UnitScoreOptions, what: string): UnitScoreOptions & UnitDataOptions {
  if (!opts.batches) throw new SparsetrainError('ERR_ARGUMENT', `unit scorer ${what} needs examples (batches)`);
  return opts as UnitScoreOptions & UnitDataOptions;
}

function zeroMasked(model: AnyModule, graph: UnitGraph, scores: Map<string, Float64Array>): Map<string, Float64Array> {
  for (const [name, s] of scores) {
    const g = graph.groups.find((x) => x.name === name)!;
    aliveUnits(model.getSubmodule(g.maskAt), g.size).forEach((a, i) => { if (!a) s[i] = 0; });
  }
  return scores;
}

/** Exact mean replacement penalty of each alive unit (one forward pass over the examples per unit). */
export function mrpScores(model: AnyModule, graph: UnitGraph, opts: UnitScoreOptions & UnitDataOptions): Map<string, Float64Array> {
  const site: UnitSite = opts.site ?? 'pre';
  const groups = prunableGroups(graph, opts.groups);
  const batches = takeExamples(opts.batches, opts.examples ?? 1000);
  const loss = opts.loss ?? crossEntropyPerExample;
  const absolute = opts.absolute ?? true;
  const stats = opts.stats ?? collectUnitStats(model, graph, { ...opts, batches, site, gradients: false });
  const base = perExampleLosses(model, batches, loss);
  const out = new Map<string, Float64Array>();
  withEval(model, () => {
    for (const g of groups) {
      const st = stats.get(g.name);
      if (!st || st.site !== site) throw new SparsetrainError('ERR_ARGUMENT', `mrp: no unit means of ${g.name} at site '${site}'`);
      const alive = aliveUnits(model.getSubmodule(g.maskAt), g.size);
      const s = new Float64Array(g.size);
      for (let u = 0; u < g.size; u++) {
        if (!alive[u]) continue;
        const h = replaceAtSite(model, g, site, [u], st.mean);
        let l: Float64Array;
        try {
          l = perExampleLosses(model, batches, loss);
        } finally {
          h.remove();
        }
        let acc = 0;
        for (let k = 0; k < l.length; k++) acc += absolute ? Math.abs(l[k] - base[k]) : l[k] - base[k];
        s[u] = acc / l.length;
      }
      out.set(g.name, s);
    }
  });
  return out;
}

/** Sum of |w| (p = 1) or w^2 (p = 2) over a unit's incoming and/or outgoing effective weights. */
export function normScores(model: AnyModule, graph: UnitGraph, p: 1 | 2, opts: { groups?: readonly string[]; direction?: 'in' | 'out' | 'both' } = {}): Map<string, Float64Array> {
  const dir = opts.direction ?? 'in';
  if (dir !== 'in' && dir !== 'out' && dir !== 'both') throw new SparsetrainError('ERR_ARGUMENT', `norm scores: direction must be 'in', 'out' or 'both', got ${JSON.stringify(dir)}`);
  const f = p === 1 ? Math.abs : (v: number) => v * v;
  const out = new Map<string, Float64Array>();
  for (const g of prunableGroups(graph, opts.groups)) {
    const s = new Float64Array(g.size);
    if (dir !== 'out') {
      const w = effectiveWeight(model.getSubmodule(g.producer));
      const row = w.data.length / g.size;
      for (let u = 0; u < g.size; u++) for (let j = u * row; j < (u + 1) * row; j++) s[u] += f(w.data[j]);
    }
    if (dir !== 'in') {
      forEachOutgoing(model, g, (u, v) => { s[u] += f(v); });
    }
    out.set(g.name, s);
  }
  return zeroMasked(model, graph, out);
}

/** Calls fn(unit, weight) for every outgoing effective weight of the group's units, over all consumers. */
export function forEachOutgoing(model: AnyModule, g: UnitGroup, fn: (unit: number, w: number) => void): void {
  for (const c of g.consumers) {
    const w = effectiveWeight(model.getSubmodule(c.consumer));
    const [O, I] = w.shape;
    const inner = w.data.length / (O * I);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        const u = Math.floor(i / c.block);
        const base = (o * I + i) * inner;
        for (let r = 0; r < inner; r++) fn(u, w.data[base + r]);
      }
    }
  }
}

/** Uniform random scores. */
export function randomScores(model: AnyModule, graph: UnitGraph, opts: { groups?: readonly string[]; generator?: Generator } = {}): Map<string, Float64Array> {
  const gen = opts.generator ?? defaultGenerator();
  const out = new Map<string, Float64Array>();
  for (const g of prunableGroups(graph, opts.groups)) out.set(g.name, Float64Array.from(rand([g.size], { generator: gen }).f32));
  return zeroMasked(model, graph, out);
}

export interface SelectOptions {
  /** Fraction of units pruned in total after this call (cumulative, counting units already pruned), in [0, 1]. */
  fraction: number;
  /** 'layer' (default): the fraction of each group, floor(fraction * size) units, as the thesis; 'global': of all groups together, lowest scores first. */
  scope?: 'layer' | 'global';
  /** Units kept alive in every group (default 1). */
  minUnits?: number;
}

/**
 * The units to prune now, per group: the lowest-scoring alive units, so that
 * the pruned total reaches the fraction. Ties go to the lower index.
 */
export function selectUnits(model: AnyModule, graph: UnitGraph, scores: Map<string, Float64Array>, opts: SelectOptions): Map<string, number[]> {
  const { fraction } = opts;
  const scope = opts.scope ?? 'layer';
  const minUnits = opts.minUnits ?? 1;
  if (!(fraction >= 0 && fraction <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `selectUnits: fraction must be in [0, 1], got ${fraction}`);
  if (scope !== 'layer' && scope !== 'global') throw new SparsetrainError('ERR_ARGUMENT', `selectUnits: scope must be 'layer' or 'global', got ${JSON.stringify(scope)}`);
  if (!(Number.isInteger(minUnits) && minUnits >= 1)) throw new SparsetrainError('ERR_ARGUMENT', `selectUnits: minUnits must be a positive integer, got ${minUnits}`);
  const info = [...scores].map(([name, s]) => {
    const g = graph.groups.find((x) => x.name === name);
    if (!g) throw new SparsetrainError('ERR_ARGUMENT', `selectUnits: unknown group ${name}`);
    if (s.length !== g.size) throw new SparsetrainError('ERR_SHAPE', `selectUnits: ${s.length} scores for ${g.size} units of ${name}`);
    const alive = aliveUnits(model.getSubmodule(g.maskAt), g.size);
    return { g, s, alive, pruned: alive.filter((a) => !a).length };
  });
  const out = new Map<string, number[]>(info.map(({ g }) => [g.name, []]));
  const eps = 1e-9;
  if (scope === 'layer') {
    for (const { g, s, alive, pruned } of info) {
      const target = Math.min(Math.floor(fraction * g.size + eps), g.size - minUnits);
      const need = target - pruned;
      if (need <= 0) continue;
      const cand = alive.map((a, i) => i).filter((i) => alive[i]).sort((a, b) => s[a] - s[b] || a - b);
      out.set(g.name, cand.slice(0, need).sort((a, b) => a - b));
    }
    return out;
  }
  const total = info.reduce((a, x) => a + x.g.size, 0);
  let need = Math.floor(fraction * total + eps) - info.reduce((a, x) => a + x.pruned, 0);
  const cand = info.flatMap(({ g, s, alive }) => alive.map((a, i) => ({ g: g.name, i, v: s[i], a })).filter((c) => c.a));
  cand.sort((a, b) => a.v - b.v || a.g.localeCompare(b.g) || a.i - b.i);
  const left = new Map(info.map((x) => [x.g.name, x.g.size - x.pruned]));
  for (const c of cand) {
    if (need <= 0) break;
    if (left.get(c.g)! <= minUnits) continue;
    out.get(c.g)!.push(c.i);
    left.set(c.g, left.get(c.g)! - 1);
    need--;
  }
  for (const v of out.values()) v.sort((a, b) => a - b);
  return out;
}
