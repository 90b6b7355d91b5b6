/**
 * Mean replacement with bias propagation (thesis, seed 001, sections 1.2.4 and 3.1).
 *
 * Replacing unit u's output by a constant m (its mean over the data) and
 * removing the unit are the same model once the constant is folded into the
 * biases of the layers that read the unit:
 *
 *   1. the constant is carried forward to what each consumer reads. The
 *      thesis takes the mean before the non-linearity, so the consumer reads
 *      act(m) (its eq. 1.6 writes g(E[y] W), but the unit's value act(m) is
 *      what the next layer multiplies; we follow the computation, not the
 *      typo). Max-pooling a constant plane gives the constant; BatchNorm in
 *      eval mode maps it through its affine transform (site 'layer'); flatten
 *      turns a channel into a block of H*W equal columns. Rather than
 *      re-implementing these ops, feedConstants() runs the model itself once
 *      (eval mode, zero input) with the site's output set to constant planes
 *      and reads the consumers' inputs, checking that every block is constant
 *      — so whatever the chain (relu, tanh, pools, BatchNorm) the propagated
 *      value is exactly what the forward computes.
 *   2. the unit is masked at its mask point (its output becomes 0, and the
 *      consumer reads c0 = chain(0), which is 0 for relu/tanh/max-pool).
 *   3. the difference d = chain(m) - c0 is added to the consumer's bias:
 *        Linear   b[o] += d * sum_{p in block(u)} W[o, p]
 *        Conv2d   b[o] += d * sum_{ky,kx} W[o, u, ky, kx]   (no padding)
 *      using the effective weight (weight_orig * weight_mask when masked).
 *
 * Limits, checked per unit (a unit that cannot be replaced exactly is skipped
 * and reported, never approximated silently):
 *   - a Conv2d consumer with zero padding sees the constant only inside the
 *     image: its contribution differs at the borders and is no bias. Such a
 *     unit is pruned only when d = 0 (e.g. relu of a negative mean), or with
 *     replacement 'zero' (plain removal);
 *   - a consumer without a bias cannot take d != 0 (ResNet/WRN convolutions
 *     are bias-free, and padded anyway).
 * With BatchNorm after the producer the default site 'pre' is the
 * BatchNorm's output, where the mask also sits: the folded model equals the
 * replaced one in both BatchNorm modes. With site 'layer' the mean is taken
 * before BatchNorm and carried through its eval-mode transform (running
 * statistics): equal in eval mode.
 */
import { Tensor } from '../../tensor/tensor';
import { noGrad } from '../../autograd/grad-mode';
import { zeros } from '../../ops/creation';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { UnitGraph, UnitGroup, ConsumerLink, getGroup } from './graph';
import { UnitSite, withEval, siteLayout } from './stats';
import { aliveUnits, biasTarget, effectiveWeight, localTensor, maskUnits } from './mask';

type AnyModule = Module<any[], any>;

/**
 * What each consumer of the group reads for unit u when the module `at`
 * ('mask': the mask point; 'producer': the producing layer) outputs the
 * constant plane values[u] for every unit. One eval-mode forward pass on a
 * zero input; throws if a unit's block is not constant at a consumer.
 * Returns one array per consumer link (in graph order).
 */
export function feedConstants(model: AnyModule, graph: UnitGraph, group: UnitGroup, at: 'mask' | 'producer', values: ArrayLike<number>): Float64Array[] {
  if (values.length !== group.size) throw new SparsetrainError('ERR_SHAPE', `feedConstants: ${values.length} values for ${group.size} units of ${group.name}`);
  const src = model.getSubmodule(at === 'mask' ? group.maskAt : group.producer);
  const seen = new Map<string, Tensor>();
  const handles = [
    src.registerForwardHook((_m, _in, out) => {
      const t = out as Tensor;
      const { B, P, at: idx } = siteLayout(t, group.size, 1);
      const d = new Float32Array(t.numel);
      for (let k = 0; k < B; k++) for (let u = 0; u < group.size; u++) for (let p = 0; p < P; p++) d[idx(k, u, p)] = values[u];
      return new Tensor(d, t.shape, 'float32');
    }),
    ...group.consumers.map((c) => model.getSubmodule(c.consumer).registerForwardPreHook((_m, input) => { seen.set(c.consumer, input[0] as Tensor); })),
  ];
  try {
    withEval(model, () => noGrad(() => model.call(zeros([1, ...graph.inputShape]))));
  } finally {
    handles.forEach((h) => h.remove());
  }
  return group.consumers.map((c) => {
    const t = seen.get(c.consumer);
    if (!t) throw new SparsetrainError('ERR_ARGUMENT', `feedConstants: the forward did not reach ${c.consumer}`);
    const { P, at: idx } = siteLayout(t, group.size, c.block);
    const out = new Float64Array(group.size);
    for (let u = 0; u < group.size; u++) {
      const v0 = t.f32[idx(0, u, 0)];
      for (let p = 1; p < P; p++) {
        const v = t.f32[idx(0, u, p)];
        if (Math.abs(v - v0) > 1e-6 * Math.max(1, Math.abs(v0))) {
          throw new SparsetrainError('ERR_ARGUMENT', `${group.name} -> ${c.consumer}: a constant output of unit ${u} does not reach the consumer as a constant (${v0} vs ${v}); the ops between them do not keep constants`);
        }
      }
      out[u] = v0;
    }
    return out;
  });
}

/** Why a constant d for unit u cannot be folded into the link's consumer, or null when it can. */
export function foldProblem(model: AnyModule, link: ConsumerLink, d: number): string | null {
  if (d === 0) return null;
  if (link.padded) return `consumer ${link.consumer} pads its input with zeros, so a constant input is not a constant contribution at the borders`;
  if (!link.hasBias) return `consumer ${link.consumer} has no bias to take the constant`;
  const m = model.getSubmodule(link.consumer);
  if (localTensor(m, 'bias_orig') && localTensor(m, 'bias_mask')?.data.some((v) => v === 0)) return `consumer ${link.consumer}'s bias is partly masked`;
  return null;
}

/** Adds the contribution of a constant input d on unit u to the consumer's bias (the caller checked foldProblem). */
export function foldIntoConsumer(model: AnyModule, link: ConsumerLink, unit: number, d: number): void {
  if (d === 0) return;
  const m = model.getSubmodule(link.consumer);
  const w = effectiveWeight(m);
  const b = biasTarget(m);
  if (!b) throw new SparsetrainError('ERR_ARGUMENT', `foldIntoConsumer: ${link.consumer} has no bias`);
  const [O, I] = w.shape;
  const inner = w.data.length / (O * I);
  const bd = b.f32;
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let i = unit * link.block; i < (unit + 1) * link.block; i++) {
      const base = (o * I + i) * inner;
      for (let r = 0; r < inner; r++) s += w.data[base + r];
    }
    bd[o] += d * s;
  }
}

export interface PruneUnitsOptions {
  /** 'mean' (default): mean replacement with bias propagation; 'zero': plain removal (the unit's output becomes 0). */
  replacement?: 'mean' | 'zero';
  /** For 'mean': each unit's mean output at `site` (UnitStats.mean), one value per unit of the group. */
  means?: ArrayLike<number>;
  /** Where the means were measured (default 'pre'). */
  site?: UnitSite;
}

export interface PruneUnitsResult {
  group: string;
  /** Units masked now (constants folded into consumer biases). */
  pruned: number[];
  /** Units left alive, with the reason. */
  skipped: { unit: number; reason: string }[];
}

/**
 * Prunes units of one group: folds their replacement constant into the
 * consumers' biases (mean replacement) and masks them. The model then
 * computes exactly what it computed with those units' outputs replaced by
 * their means (eval mode for site 'layer'); shrinkModel() removes them.
 */
export function pruneUnits(model: AnyModule, graph: UnitGraph, groupName: string, units: readonly number[], opts: PruneUnitsOptions = {}): PruneUnitsResult {
  const g = getGroup(graph, groupName);
  if (!g.prunable) throw new SparsetrainError('ERR_ARGUMENT', `unit group "${g.name}" cannot be pruned: ${g.reason}`);
  const replacement = opts.replacement ?? 'mean';
  const site = opts.site ?? 'pre';
  if (replacement !== 'mean' && replacement !== 'zero') throw new SparsetrainError('ERR_ARGUMENT', `pruneUnits: replacement must be 'mean' or 'zero', got ${JSON.stringify(replacement)}`);
  const alive = aliveUnits(model.getSubmodule(g.maskAt), g.size);
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u >= g.size) throw new SparsetrainError('ERR_ARGUMENT', `pruneUnits: unit ${u} out of range 0..${g.size - 1} of ${g.name}`);
    if (!alive[u]) throw new SparsetrainError('ERR_ARGUMENT', `pruneUnits: unit ${u} of ${g.name} is already pruned`);
  }
  const result: PruneUnitsResult = { group: g.name, pruned: [], skipped: [] };
  if (!units.length) return result;
  if (replacement === 'zero') {
    maskUnits(model.getSubmodule(g.maskAt), g.size, units);
    result.pruned = [...units];
    return result;
  }
  if (!opts.means || opts.means.length !== g.size) throw new SparsetrainError('ERR_ARGUMENT', `pruneUnits: mean replacement needs means for the ${g.size} units of ${g.name}`);
  if (site === 'post' && g.consumers.length !== 1) throw new SparsetrainError('ERR_ARGUMENT', `pruneUnits: site 'post' needs a single consumer; ${g.name} has ${g.consumers.length}`);
  const means = Float64Array.from(opts.means);
  const feed0 = feedConstants(model, graph, g, 'mask', new Float64Array(g.size));
  const feedM = site === 'post' ? [means] : feedConstants(model, graph, g, site === 'pre' ? 'mask' : 'producer', means);
  const ok: number[] = [];
  for (const u of units) {
    const ds = g.consumers.map((_, l) => feedM[l][u] - feed0[l][u]);
    const problem = g.consumers.map((c, l) => foldProblem(model, c, ds[l])).find((p) => p !== null);
    if (problem) {
      result.skipped.push({ unit: u, reason: problem });
      continue;
    }
    g.consumers.forEach((c, l) => foldIntoConsumer(model, c, u, ds[l]));
    ok.push(u);
  }
  if (ok.length) maskUnits(model.getSubmodule(g.maskAt), g.size, ok);
  result.pruned = ok;
  return result;
}
