/**
 * Physical removal of pruned units: the model is rebuilt in place with smaller
 * tensors, so it really is smaller (fewer parameters, smaller state dict with
 * the same key names, smaller layers' attributes) and computes exactly what
 * the masked model computed.
 *
 * For each prunable group whose mask point has masked units:
 *   - the producer loses those output rows/filters: weight[, weight_orig,
 *     weight_mask] dim 0 and bias[, bias_orig, bias_mask];
 *     outFeatures / outChannels updated;
 *   - each BatchNorm right after it loses those channels: weight, bias,
 *     running_mean, running_var; numFeatures updated;
 *   - each consumer loses the matching input columns (Linear, a block of H*W
 *     columns per channel after a flatten) or input channels (Conv2d) of
 *     weight[, weight_orig, weight_mask]; inFeatures / inChannels updated;
 *   - whatever a masked unit still fed its consumers (chain(0), zero for
 *     relu/tanh/max-pool chains) is folded into their biases first.
 * The unit mask is removed afterwards (every remaining unit is alive).
 *
 * The tensors are replaced by new ones: an optimizer built before must be
 * rebuilt over model.parameters() (its state for the old tensors is void).
 * Training with unit masks and shrinking at the end avoids this.
 */
import { Tensor } from '../../tensor/tensor';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { Linear } from '../../nn/layers/linear';
import { Conv2d } from '../../nn/layers/conv';
import { BatchNormBase } from '../../nn/layers/batchnorm';
import type { StateDictInput, StateDictValue, LoadStateDictResult } from '../../nn/module';
import { UnitGraph, UnitGroup, prunableGroups, refreshSizes } from './graph';
import { getUnitMask, removeUnitMask } from './mask';
import { feedConstants, foldIntoConsumer, foldProblem } from './replace';

type AnyModule = Module<any[], any>;

/** A copy of t keeping, along dim, the indices in keep (in order). Same dtype. */
export function selectAlong(t: Tensor, dim: number, keep: readonly number[]): Tensor {
  const shape = [...t.shape];
  const outer = shape.slice(0, dim).reduce((a, b) => a * b, 1);
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const n = shape[dim];
  shape[dim] = keep.length;
  const Ctor = t.data.constructor as { new (n: number): typeof t.data };
  const out = new Ctor(outer * keep.length * inner);
  const src = t.data;
  for (let o = 0; o < outer; o++) {
    keep.forEach((k, j) => {
      const s = (o * n + k) * inner;
      const d = (o * keep.length + j) * inner;
      for (let r = 0; r < inner; r++) out[d + r] = src[s + r];
    });
  }
  return new Tensor(out, shape, t.dtype);
}

/** Replaces a module's registered parameter or buffer `name` by a sliced copy (keeping requiresGrad, name and buffer options). */
function sliceMember(m: AnyModule, name: string, dim: number, keep: readonly number[]): void {
  const isParam = m.namedParameters('', false).some(([k]) => k === name);
  const old = (isParam ? m.namedParameters('', false) : m.namedBuffers('', false)).find(([k]) => k === name)![1];
  const t = selectAlong(old, dim, keep);
  t.name = old.name;
  if (isParam) {
    t.requiresGrad = old.requiresGrad;
    m.registerParameter(name, t);
    if (!old.requiresGrad) t.requiresGrad_(false);
    t.name = old.name;
  } else {
    (m as unknown as Record<string, Tensor>)[name] = t; // the accessor keeps persistent / checkpointDtype
    t.name = old.name;
  }
}

/** Local names of a module's parameters and buffers that are the layer's weight or bias (also *_orig, *_mask). */
function members(m: AnyModule, prefix: 'weight' | 'bias'): string[] {
  const names = [...m.namedParameters('', false), ...m.namedBuffers('', false)].map(([k]) => k);
  return names.filter((k) => k === prefix || k === `${prefix}_orig` || k === `${prefix}_mask`);
}

function setAttr(m: AnyModule, attr: string, v: number): void {
  (m as unknown as Record<string, number>)[attr] = v;
}

/** Keeps only units `keep` of a group (no folding): producer rows, BatchNorm channels, consumer columns. */
export function keepUnits(model: AnyModule, group: UnitGroup, keep: readonly number[]): void {
  if (!keep.length) throw new SparsetrainError('ERR_ARGUMENT', `keepUnits: cannot remove every unit of ${group.name}`);
  const size = group.size;
  const p = model.getSubmodule(group.producer) as Conv2d | Linear;
  for (const k of [...members(p, 'weight'), ...members(p, 'bias')]) sliceMember(p, k, 0, keep);
  setAttr(p, p instanceof Conv2d ? 'outChannels' : 'outFeatures', keep.length);
  for (const b of group.bns) {
    const bn = model.getSubmodule(b) as BatchNormBase;
    for (const [k, t] of [...bn.namedParameters('', false), ...bn.namedBuffers('', false)]) {
      if (t.ndim === 1 && t.shape[0] === size) sliceMember(bn, k, 0, keep);
    }
    setAttr(bn, 'numFeatures', keep.length);
  }
  for (const c of group.consumers) {
    const cm = model.getSubmodule(c.consumer) as Conv2d | Linear;
    const cols = keep.flatMap((u) => Array.from({ length: c.block }, (_, r) => u * c.block + r));
    for (const k of members(cm, 'weight')) sliceMember(cm, k, 1, cols);
    setAttr(cm, cm instanceof Conv2d ? 'inChannels' : 'inFeatures', cols.length);
  }
  group.size = keep.length;
}

export interface ShrinkResult {
  /** Parameter elements before and after. */
  parametersBefore: number;
  parametersAfter: number;
  /** Units per shrunk group, before and after. */
  groups: { name: string; before: number; after: number }[];
}

/**
 * Removes every masked unit of every prunable group from the model (in place),
 * after folding what the masked units still fed their consumers. The model's
 * output is unchanged (up to float rounding).
 */
export function shrinkModel(model: AnyModule, graph: UnitGraph): ShrinkResult {
  const parametersBefore = model.numParameters();
  const groups: ShrinkResult['groups'] = [];
  // Plan and check everything first, against the unshrunk model. What a masked
  // unit feeds its consumers (chain(0)) does not change when other groups shrink.
  const plans = prunableGroups(graph).map((g) => {
    const mask = getUnitMask(model.getSubmodule(g.maskAt));
    const removed = mask ? [...mask.keys()].filter((i) => mask[i] === 0) : [];
    return { g, mask, removed, feed0: [] as Float64Array[] };
  }).filter((p) => p.mask);
  for (const plan of plans) {
    const { g, removed } = plan;
    if (!removed.length) continue;
    if (removed.length === g.size) throw new SparsetrainError('ERR_ARGUMENT', `shrinkModel: every unit of ${g.name} is masked; the layer cannot be removed`);
    plan.feed0 = feedConstants(model, graph, g, 'mask', new Float64Array(g.size));
    for (const u of removed) {
      g.consumers.forEach((c, l) => {
        const problem = foldProblem(model, c, plan.feed0[l][u]);
        if (problem) throw new SparsetrainError('ERR_ARGUMENT', `shrinkModel: a masked unit ${u} of ${g.name} still feeds ${plan.feed0[l][u]}: ${problem}`);
      });
    }
  }
  for (const { g, removed, feed0 } of plans) {
    if (removed.length) {
      for (const u of removed) g.consumers.forEach((c, l) => foldIntoConsumer(model, c, u, feed0[l][u]));
      const before = g.size;
      const gone = new Set(removed);
      const keep = [...Array(g.size).keys()].filter((i) => !gone.has(i));
      keepUnits(model, g, keep);
      groups.push({ name: g.name, before, after: keep.length });
    }
    removeUnitMask(model.getSubmodule(g.maskAt));
  }
  refreshSizes(model, graph);
  return { parametersBefore, parametersAfter: model.numParameters(), groups };
}

/**
 * The parameter count the model would have after shrinkModel (masked units
 * removed), without changing it.
 */
export function shrunkParameterCount(model: AnyModule, graph: UnitGraph): number {
  // Per tensor: fraction kept along dim 0 and dim 1.
  const keep0 = new Map<Tensor, number>();
  const keep1 = new Map<Tensor, number>();
  for (const g of prunableGroups(graph)) {
    const mask = getUnitMask(model.getSubmodule(g.maskAt));
    if (!mask) continue;
    const alive = mask.reduce((a, v) => a + v, 0);
    const f = alive / g.size;
    const params = (m: AnyModule, prefixes: ('weight' | 'bias')[]) => {
      const names = prefixes.flatMap((x) => members(m, x));
      return m.namedParameters('', false).filter(([k]) => names.includes(k)).map(([, t]) => t);
    };
    for (const t of params(model.getSubmodule(g.producer), ['weight', 'bias'])) keep0.set(t, f);
    for (const b of g.bns) for (const [, t] of model.getSubmodule(b).namedParameters('', false)) keep0.set(t, f);
    for (const c of g.consumers) for (const t of params(model.getSubmodule(c.consumer), ['weight'])) keep1.set(t, f);
  }
  let n = 0;
  for (const t of model.parameters()) n += Math.round(t.numel * (keep0.get(t) ?? 1) * (keep1.get(t) ?? 1));
  return n;
}

/**
 * Resizes a (fresh, full-width) model to the unit counts of a shrunk state
 * dict, read from the producers' weight shapes (`<producer>.weight`, or
 * `<producer>.weight_orig` for a weight-masked checkpoint); units 0..n-1 are
 * kept, their values are to be overwritten by loading. Returns the groups
 * resized. For a checkpoint with weight_orig / weight_mask keys, call this,
 * then the weight-mask loader (src/sparse/mask.ts loadPrunedStateDict).
 */
export function resizeToStateDict(model: AnyModule, graph: UnitGraph, state: StateDictInput): { name: string; before: number; after: number }[] {
  const src = state instanceof Map ? state : new Map(Object.entries(state));
  const plans: [UnitGroup, number][] = [];
  for (const g of prunableGroups(graph)) {
    const v: StateDictValue | undefined = src.get(`${g.producer}.weight`) ?? src.get(`${g.producer}.weight_orig`);
    if (!v) continue;
    const n = v.shape[0];
    if (!(Number.isInteger(n) && n >= 1 && n <= g.size)) {
      throw new SparsetrainError('ERR_ARGUMENT', `resizeToStateDict: ${g.producer}.weight has ${n} units; the model has ${g.size}`);
    }
    if (n < g.size) plans.push([g, n]);
  }
  const out = plans.map(([g, n]) => {
    const before = g.size;
    removeUnitMask(model.getSubmodule(g.maskAt));
    keepUnits(model, g, [...Array(n).keys()]);
    return { name: g.name, before, after: n };
  });
  refreshSizes(model, graph);
  return out;
}

/**
 * Loads a state dict written after shrinkModel into a (fresh, full-width)
 * model of the same layout: resizeToStateDict, then model.loadStateDict.
 * This is how a shrunk checkpoint is loaded: build the zoo model, build its
 * graph, then loadShrunkStateDict.
 */
export function loadShrunkStateDict(model: AnyModule, graph: UnitGraph, state: StateDictInput, opts: { strict?: boolean } = {}): LoadStateDictResult {
  const src = state instanceof Map ? state : new Map(Object.entries(state));
  resizeToStateDict(model, graph, src);
  return model.loadStateDict(src, opts);
}
