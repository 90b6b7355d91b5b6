/**
 * Unit outputs and their gradients over N examples (default 1000): the data
 * behind mean replacement and MRS (thesis, seed 001, section 3.1).
 *
 * Where a unit's output h is read (the "site"):
 *   'pre'   (default) the unit's output before the non-linearity, as in the
 *           thesis: the output of its mask point — the producing layer, or the
 *           BatchNorm right after it. For a convolution the thesis (and its
 *           pytorchpruner code) replaces the layer's output before pooling, so
 *           the mean is over examples and all H*W positions of the layer's output.
 *   'layer' the producing Conv2d/Linear's own output (before its BatchNorm);
 *           equals 'pre' when there is no BatchNorm.
 *   'post'  what the consumer reads: after the non-linearity (and pooling,
 *           flatten), the thesis' "mean after the nonlinearity" alternative.
 *           Only for groups with a single consumer.
 *
 * Scores are computed in eval mode (modes are restored afterwards): with
 * BatchNorm in training mode the examples of a batch would interact, and the
 * per-example loss change that MRP and MRS measure would not be defined.
 *
 * With per-example losses l_k, the gradient g_k = dl_k/dh_k of the summed
 * batch loss is each example's own gradient (in eval mode). For unit i with
 * positions p (H*W for a channel, 1 for a feature), over N examples:
 *   mean_i  = 1/(N P) sum_k sum_p h_kip
 *   MRS_i   = 1/N sum_k | sum_p (mean_i - h_kip) g_kip |
 * the first-order Taylor term of the per-example loss change when the unit's
 * output is replaced by its mean (thesis eq. 3.2-3.3), with the absolute value
 * per example as in MRP (eq. 3.1). It is computed in one forward and backward
 * pass: per example we keep S1 = sum_p h g and S2 = sum_p g, and at the end
 * MRS_i = 1/N sum_k |S1_ki - mean_i S2_ki|. The thesis sums over examples; we
 * average (a loss change per example; the ranking is the same). (The thesis'
 * pytorchpruner code instead sums |(h - mean) g| per element over a batch,
 * with the gradient of the batch-mean loss: an upper bound of the same first
 * order term; we follow the thesis' definition, eq. 3.3.)
 *
 * BatchNorm models scored during training: means and MRS come from eval mode
 * (running statistics), which is also what bias propagation folds (replace.ts).
 */
import { Tensor } from '../../tensor/tensor';
import { grad } from '../../autograd/engine';
import { enableGrad, noGrad } from '../../autograd/grad-mode';
import { crossEntropy } from '../../ops/loss';
import { sum } from '../../ops/reduce';
import { slice } from '../../ops/shape';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import type { Batch } from '../../train/plugin';
import { UnitGraph, UnitGroup, prunableGroups } from './graph';

type AnyModule = Module<any[], any>;

export type UnitSite = 'pre' | 'layer' | 'post';

/** Per-example losses [B] of a batch. */
export type PerExampleLoss = (output: Tensor, target: Tensor) => Tensor;

/** Cross-entropy per example (reduction 'none'). */
export const crossEntropyPerExample: PerExampleLoss = (out, y) => crossEntropy(out, y, { reduction: 'none' });

export interface UnitDataOptions {
  /** The examples (e.g. ctx.sampleTrainBatches(1000)). */
  batches: readonly Batch[];
  /** Use at most this many examples from batches (default 1000). */
  examples?: number;
  /** Where unit outputs are read (default 'pre'). */
  site?: UnitSite;
  /** Groups (producer names) to measure; default every prunable group. */
  groups?: readonly string[];
  /** Per-example loss (default cross-entropy). */
  loss?: PerExampleLoss;
}

export interface UnitStats {
  group: string;
  site: UnitSite;
  size: number;
  /** Positions per unit and example at the site (H*W, or 1). */
  positions: number;
  examples: number;
  /** Mean output per unit over examples and positions. */
  mean: Float64Array;
  /** Variance of the output per unit over examples and positions. */
  variance: Float64Array;
  /** Mean replacement saliency per unit (empty without gradients). */
  mrs: Float64Array;
  /** Mean |dl_k/dh| over examples and positions (a frozen unit's is near zero; empty without gradients). */
  gradAbsMean: Float64Array;
}

/** Runs fn with the whole model in eval mode, restoring every module's mode afterwards. */
export function withEval<T>(model: AnyModule, fn: () => T): T {
  const mods = model.modules();
  const modes = mods.map((m) => m.training);
  model.eval();
  try {
    return fn();
  } finally {
    mods.forEach((m, i) => { m.training = modes[i]; });
  }
}

/** The first n examples of batches (the last batch cut if needed). */
export function takeExamples(batches: readonly Batch[], n = 1000): Batch[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new SparsetrainError('ERR_ARGUMENT', `unit scores: examples must be a positive integer, got ${n}`);
  const out: Batch[] = [];
  let left = n;
  for (const b of batches) {
    if (left <= 0) break;
    const B = b.x.shape[0];
    if (B <= left) out.push(b);
    else out.push(noGrad(() => ({ x: slice(b.x, 0, 0, left), y: slice(b.y, 0, 0, left) })));
    left -= Math.min(B, left);
  }
  if (!out.length) throw new SparsetrainError('ERR_ARGUMENT', 'unit scores: no examples given (batches is empty)');
  return out;
}

/** Module whose output (or, for 'post', whose input) is the group's site. */
export function siteModule(group: UnitGroup, site: UnitSite): { path: string; input: boolean; block: number } {
  if (site === 'pre') return { path: group.maskAt, input: false, block: 1 };
  if (site === 'layer') return { path: group.producer, input: false, block: 1 };
  if (site === 'post') {
    if (group.consumers.length !== 1) {
      throw new SparsetrainError('ERR_ARGUMENT', `site 'post' needs a single consumer; ${group.name} has ${group.consumers.length} (${group.consumers.map((c) => c.consumer).join(', ')})`);
    }
    const c = group.consumers[0];
    return { path: c.consumer, input: true, block: c.block };
  }
  throw new SparsetrainError('ERR_ARGUMENT', `unknown unit site ${JSON.stringify(site)}; expected 'pre', 'layer' or 'post'`);
}

/** Layout of a site tensor: units, positions per unit, and the flat index of (example k, unit i, position p). */
export function siteLayout(t: Tensor, size: number, block: number): { B: number; P: number; at: (k: number, i: number, p: number) => number } {
  const B = t.shape[0];
  if (t.ndim === 2 && block > 1) {
    if (t.shape[1] !== size * block) throw new SparsetrainError('ERR_SHAPE', `unit site: input [${t.shape}] is not ${size} units x ${block}`);
    const W = t.shape[1];
    return { B, P: block, at: (k, i, p) => k * W + i * block + p };
  }
  if (t.ndim < 2 || t.shape[1] !== size) throw new SparsetrainError('ERR_SHAPE', `unit site: tensor [${t.shape}] does not have ${size} units in dim 1`);
  const P = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { B, P, at: (k, i, p) => (k * size + i) * P + p };
}

/**
 * Hooks that capture each group's site tensor during one forward; returns the
 * captured tensors (by group) and a remover.
 */
function captureSites(model: AnyModule, groups: UnitGroup[], site: UnitSite): { got: Map<string, Tensor>; remove: () => void } {
  const got = new Map<string, Tensor>();
  const handles = groups.map((g) => {
    const s = siteModule(g, site);
    const m = model.getSubmodule(s.path);
    if (s.input) return m.registerForwardPreHook((_m, input) => { got.set(g.name, input[0] as Tensor); });
    return m.registerForwardHook((_m, _in, out) => { got.set(g.name, out as Tensor); });
  });
  return { got, remove: () => handles.forEach((h) => h.remove()) };
}

/**
 * Means, variances, MRS and mean gradient magnitudes of every unit of the
 * chosen groups, from one forward and (with gradients, default) one backward
 * pass per batch. Parameter .grad fields are not touched.
 */
export function collectUnitStats(
  model: AnyModule, graph: UnitGraph, opts: UnitDataOptions & { gradients?: boolean },
): Map<string, UnitStats> {
  const site = opts.site ?? 'pre';
  const groups = prunableGroups(graph, opts.groups);
  const batches = takeExamples(opts.batches, opts.examples ?? 1000);
  const lossFn = opts.loss ?? crossEntropyPerExample;
  const withGrad = opts.gradients ?? true;
  interface Acc { n: number; S1: Float64Array[]; S2: Float64Array[]; gabs: Float64Array; sum: Float64Array; sq: Float64Array; P: number }
  const acc = new Map<string, Acc>(groups.map((g) => [g.name, {
    n: 0, S1: [], S2: [], gabs: new Float64Array(g.size), sum: new Float64Array(g.size), sq: new Float64Array(g.size), P: 0,
  }]));
  const { got, remove } = captureSites(model, groups, site);
  try {
    withEval(model, () => {
      for (const b of batches) {
        got.clear();
        const run = () => {
          const out = model.call(b.x) as Tensor;
          return withGrad ? sum(lossFn(out, b.y)) : null;
        };
        const loss = withGrad ? enableGrad(run) : noGrad(run);
        const tensors = groups.map((g) => {
          const t = got.get(g.name);
          if (!t) throw new SparsetrainError('ERR_ARGUMENT', `unit stats: the forward did not reach the site of ${g.name}`);
          if (withGrad && !t.requiresGrad) throw new SparsetrainError('ERR_AUTOGRAD', `unit stats: the output at ${g.name} does not require grad (frozen parameters?); MRS needs its gradient`);
          return t;
        });
        const grads = withGrad ? grad(loss!, tensors, undefined, { allowUnused: true }) : tensors.map(() => null);
        groups.forEach((g, gi) => {
          const a = acc.get(g.name)!;
          const t = tensors[gi];
          const { B, P, at } = siteLayout(t, g.size, siteModule(g, site).block);
          a.P = P;
          const h = t.f32;
          const gd = grads[gi]?.f32 ?? null;
          const S1 = new Float64Array(B * g.size);
          const S2 = new Float64Array(B * g.size);
          for (let k = 0; k < B; k++) {
            for (let i = 0; i < g.size; i++) {
              let s = 0, sq = 0, s1 = 0, s2 = 0, ga = 0;
              for (let p = 0; p < P; p++) {
                const j = at(k, i, p);
                const v = h[j];
                s += v;
                sq += v * v;
                if (gd) {
                  const gv = gd[j];
                  s1 += v * gv;
                  s2 += gv;
                  ga += Math.abs(gv);
                }
              }
              a.sum[i] += s;
              a.sq[i] += sq;
              S1[k * g.size + i] = s1;
              S2[k * g.size + i] = s2;
              a.gabs[i] += ga;
            }
          }
          a.n += B;
          if (withGrad) {
            a.S1.push(S1);
            a.S2.push(S2);
          }
        });
      }
    });
  } finally {
    remove();
  }
  const out = new Map<string, UnitStats>();
  for (const g of groups) {
    const a = acc.get(g.name)!;
    const NP = a.n * a.P;
    const mean = a.sum.map((s) => s / NP);
    const variance = a.sq.map((s, i) => Math.max(0, s / NP - mean[i] * mean[i]));
    let mrs = new Float64Array(0);
    let gradAbsMean = new Float64Array(0);
    if (withGrad) {
      mrs = new Float64Array(g.size);
      a.S1.forEach((S1, bi) => {
        const S2 = a.S2[bi];
        const B = S1.length / g.size;
        for (let k = 0; k < B; k++) for (let i = 0; i < g.size; i++) mrs[i] += Math.abs(S1[k * g.size + i] - mean[i] * S2[k * g.size + i]);
      });
      for (let i = 0; i < g.size; i++) mrs[i] /= a.n;
      gradAbsMean = a.gabs.map((v) => v / NP);
    }
    out.set(g.name, { group: g.name, site, size: g.size, positions: a.P, examples: a.n, mean, variance, mrs, gradAbsMean });
  }
  return out;
}

/** Per-example losses of the model over batches (eval mode, no graph). */
export function perExampleLosses(model: AnyModule, batches: readonly Batch[], loss: PerExampleLoss = crossEntropyPerExample): Float64Array {
  const parts: Float32Array[] = [];
  withEval(model, () => noGrad(() => {
    for (const b of batches) parts.push(Float32Array.from(loss(model.call(b.x) as Tensor, b.y).f32));
  }));
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A forward hook (site on a module output) or pre-hook (site on a consumer
 * input) that replaces units of the site tensor by constants: value[u] for
 * each u in `units`. Returns the hook handle.
 */
export function replaceAtSite(
  model: AnyModule, group: UnitGroup, site: UnitSite, units: readonly number[], values: ArrayLike<number>,
): { remove(): void } {
  const s = siteModule(group, site);
  const m = model.getSubmodule(s.path);
  const replace = (t: Tensor): Tensor => {
    const { B, P, at } = siteLayout(t, group.size, s.block);
    const d = Float32Array.from(t.f32);
    for (const u of units) {
      const v = values[u];
      for (let k = 0; k < B; k++) for (let p = 0; p < P; p++) d[at(k, u, p)] = v;
    }
    return new Tensor(d, t.shape, 'float32');
  };
  if (s.input) return m.registerForwardPreHook((_m, input) => [replace(input[0] as Tensor), ...input.slice(1)]);
  return m.registerForwardHook((_m, _in, out) => replace(out as Tensor));
}
