/**
 * Where and how much to prune: from scores (lower = pruned first) to masks.
 *
 * Targets: by default the weights of every Linear ("fc") and Conv2d ("conv")
 * layer; biases and BatchNorm parameters are never targets.
 *
 * Amounts, always over a group of targets (one layer, one layer kind, or all):
 *   { fraction: f }   prune round(f * R) of the R still-unpruned weights (torch's
 *                     semantics when pruning again: the fraction of what is left);
 *   { sparsity: s }   reach an overall sparsity s of the group: prune
 *                     max(0, round(s * T) - P) more, T weights of which P are already
 *                     pruned (never un-prunes: a target below P does nothing);
 *   { count: n }      prune n more (an integer, at most R);
 *   { threshold: t }  prune every still-unpruned weight whose score is < t.
 * round() is round-half-to-even, as Python's round() that torch uses.
 *
 * Scopes:
 *   { scope: 'layer', amount }            each layer its own group; amount is one Amount for
 *                                         every layer or a record key -> Amount (layers not
 *                                         named are left alone);
 *   { scope: 'kind', conv, fc, within }   separate targets for conv and fc layers (seed 002's
 *                                         --prune-target-sparsity-conv / -fc); within 'layer'
 *                                         (default) applies the kind's amount to each layer of
 *                                         that kind, 'global' pools the kind's layers under one
 *                                         threshold; a kind without an amount is left alone;
 *   { scope: 'global', amount }           one group, one threshold across all layers
 *                                         (kthvalue over every still-unpruned score).
 *
 * Exact counts and ties: the k lowest still-unpruned scores of a group are
 * pruned, exactly k. Ties at the threshold are broken by position: layers in
 * target order, then flat index, lower first. Already pruned weights are never
 * candidates and always stay pruned.
 */
import { Tensor } from '../tensor/tensor';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import type { Optimizer } from '../optim/optimizer';
import { kthvalue } from '../ops/select';
import { SparsetrainError } from '../errors';
import { prune, getMask, getOrig, isPruned, applyMasksToOptimizer, effectiveValues } from './mask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

export type LayerKind = 'conv' | 'fc';
export const LAYER_KINDS: readonly LayerKind[] = ['conv', 'fc'];

/** A prunable parameter. */
export interface PruneTarget {
  /** State-dict key of the (unpruned) parameter, e.g. "fc1.weight". */
  key: string;
  /** The layer that owns it and the local name ("weight"). */
  module: AnyModule;
  name: string;
  kind: LayerKind;
  /** Number of weights. */
  numel: number;
  shape: readonly number[];
}

export interface TargetOptions {
  /** Layer kinds to include (default both). */
  kinds?: readonly LayerKind[];
  /** Only these keys (each the weight of a Linear or Conv2d layer). */
  keys?: readonly string[];
  /** Leave these keys out. */
  exclude?: readonly string[];
}

export type Amount = { fraction: number } | { sparsity: number } | { count: number } | { threshold: number };

export type Selection =
  | { scope: 'layer'; amount: Amount | Record<string, Amount> }
  | { scope: 'kind'; conv?: Amount; fc?: Amount; within?: 'layer' | 'global' }
  | { scope: 'global'; amount: Amount };

/** Scores by target key, each of the target's size (flat, row-major). */
export type ScoreMap = Map<string, Float32Array>;

function err(op: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}

function kindOf(m: AnyModule): LayerKind | null {
  if (m instanceof Conv2d) return 'conv';
  if (m instanceof Linear) return 'fc';
  return null;
}

/** The prunable weights of model (Linear and Conv2d weights, pruned or not), in module order. */
export function findTargets(model: AnyModule, opts: TargetOptions = {}): PruneTarget[] {
  const op = 'findTargets';
  const kinds = opts.kinds ?? LAYER_KINDS;
  for (const k of kinds) if (!LAYER_KINDS.includes(k)) throw err(op, `unknown layer kind ${JSON.stringify(k)}; expected 'conv' or 'fc'`);
  const all: PruneTarget[] = [];
  for (const [path, m] of model.namedModules()) {
    const kind = kindOf(m);
    if (!kind) continue;
    const w = getOrig(m, 'weight');
    all.push({ key: path ? `${path}.weight` : 'weight', module: m, name: 'weight', kind, numel: w.numel, shape: w.shape });
  }
  const known = new Set(all.map((t) => t.key));
  for (const k of [...(opts.keys ?? []), ...(opts.exclude ?? [])]) {
    if (!known.has(k)) throw err(op, `"${k}" is not the weight of a Linear or Conv2d layer of ${model.constructor.name}; prunable: ${[...known].join(', ')}`);
  }
  const keys = opts.keys ? new Set(opts.keys) : null;
  const exclude = new Set(opts.exclude ?? []);
  return all.filter((t) => kinds.includes(t.kind) && (!keys || keys.has(t.key)) && !exclude.has(t.key));
}

/** The target's current mask values (all ones when it is not pruned yet). */
export function currentMask(t: PruneTarget): Float32Array {
  const m = getMask(t.module, t.name);
  return m ? Float32Array.from(m.data as Float32Array) : new Float32Array(t.numel).fill(1);
}

/** The tensor that is trained (`weight_orig` when pruned). */
export function trainedTensor(t: PruneTarget): Tensor {
  return getOrig(t.module, t.name);
}

/** The effective weight values orig * mask. */
export function weightValues(t: PruneTarget): Float32Array {
  return effectiveValues(t.module, t.name);
}

/** Python's round(): to nearest, ties to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Throws unless a is a valid Amount. */
export function checkAmount(op: string, a: unknown, where = 'amount'): asserts a is Amount {
  if (!a || typeof a !== 'object') throw err(op, `${where} must be { fraction } | { sparsity } | { count } | { threshold }, got ${JSON.stringify(a)}`);
  const keys = Object.keys(a);
  if (keys.length !== 1) throw err(op, `${where} must have exactly one of fraction, sparsity, count, threshold; got ${JSON.stringify(a)}`);
  const [k] = keys;
  const v = (a as Record<string, unknown>)[k];
  const num = typeof v === 'number' && Number.isFinite(v);
  if (k === 'fraction' || k === 'sparsity') {
    if (!num || (v as number) < 0 || (v as number) > 1) throw err(op, `${where}: ${k} must be a number in [0, 1], got ${String(v)}`);
  } else if (k === 'count') {
    if (!num || !Number.isInteger(v) || (v as number) < 0) throw err(op, `${where}: count must be a non-negative integer, got ${String(v)}`);
  } else if (k === 'threshold') {
    if (typeof v !== 'number' || Number.isNaN(v)) throw err(op, `${where}: threshold must be a number, got ${String(v)}`);
  } else {
    throw err(op, `${where}: unknown amount "${k}"; expected fraction, sparsity, count or threshold`);
  }
}

/** Checks a Selection: scope, amounts, and per-layer keys against the targets (unless targets is null). */
export function checkSelection(op: string, sel: Selection, targets: readonly PruneTarget[] | null): void {
  if (!sel || typeof sel !== 'object') throw err(op, 'expected a selection { scope, ... }');
  if (sel.scope === 'layer') {
    const a = sel.amount as Record<string, unknown>;
    if (a && typeof a === 'object' && !['fraction', 'sparsity', 'count', 'threshold'].some((k) => k in a)) {
      const known = new Set((targets ?? []).map((t) => t.key));
      for (const [k, v] of Object.entries(a)) {
        if (targets && !known.has(k)) throw err(op, `per-layer amount for "${k}", which is not a target; targets: ${[...known].join(', ')}`);
        checkAmount(op, v, `amount of "${k}"`);
      }
    } else {
      checkAmount(op, sel.amount);
    }
  } else if (sel.scope === 'kind') {
    if (sel.conv === undefined && sel.fc === undefined) throw err(op, "scope 'kind' needs a conv or an fc amount");
    if (sel.conv !== undefined) checkAmount(op, sel.conv, 'conv amount');
    if (sel.fc !== undefined) checkAmount(op, sel.fc, 'fc amount');
    if (sel.within !== undefined && sel.within !== 'layer' && sel.within !== 'global') {
      throw err(op, `within must be 'layer' or 'global', got ${JSON.stringify(sel.within)}`);
    }
  } else if (sel.scope === 'global') {
    checkAmount(op, sel.amount);
  } else {
    throw err(op, `unknown scope ${JSON.stringify((sel as { scope: unknown }).scope)}; expected 'layer', 'kind' or 'global'`);
  }
}

/** The groups of a selection: targets pruned together under one amount. */
export function selectionGroups(sel: Selection, targets: readonly PruneTarget[]): { targets: PruneTarget[]; amount: Amount }[] {
  checkSelection('selectionGroups', sel, targets);
  if (sel.scope === 'global') return [{ targets: [...targets], amount: sel.amount }];
  if (sel.scope === 'layer') {
    const a = sel.amount as Record<string, Amount>;
    const perKey = !['fraction', 'sparsity', 'count', 'threshold'].some((k) => k in a);
    return targets
      .filter((t) => !perKey || a[t.key] !== undefined)
      .map((t) => ({ targets: [t], amount: perKey ? a[t.key] : (sel.amount as Amount) }));
  }
  const out: { targets: PruneTarget[]; amount: Amount }[] = [];
  for (const kind of LAYER_KINDS) {
    const amount = sel[kind];
    if (amount === undefined) continue;
    const ts = targets.filter((t) => t.kind === kind);
    if (!ts.length) continue;
    if ((sel.within ?? 'layer') === 'global') out.push({ targets: ts, amount });
    else for (const t of ts) out.push({ targets: [t], amount });
  }
  return out;
}

/**
 * How many more weights an amount prunes in a group of `total` weights of
 * which `remaining` are still unpruned (threshold amounts: null, decided by
 * the scores).
 */
export function pruneCount(op: string, amount: Amount, total: number, remaining: number): number | null {
  checkAmount(op, amount);
  if ('fraction' in amount) return roundHalfEven(amount.fraction * remaining);
  if ('sparsity' in amount) return Math.max(0, roundHalfEven(amount.sparsity * total) - (total - remaining));
  if ('count' in amount) {
    if (amount.count > remaining) throw err(op, `count ${amount.count} exceeds the ${remaining} still-unpruned weights of the group`);
    return amount.count;
  }
  return null;
}

/**
 * Marks (sets to 0 in masks) the k lowest scores among the entries still 1
 * in masks, across the arrays in order; ties by position. Exactly k.
 */
export function pruneLowest(scores: readonly Float32Array[], masks: Float32Array[], k: number): void {
  let remaining = 0;
  for (const m of masks) for (let i = 0; i < m.length; i++) remaining += m[i];
  if (k <= 0) return;
  if (k > remaining) throw err('pruneLowest', `cannot prune ${k} of ${remaining} remaining weights`);
  if (k === remaining) {
    for (const m of masks) m.fill(0);
    return;
  }
  const pool = new Float32Array(remaining);
  let j = 0;
  scores.forEach((s, a) => {
    const m = masks[a];
    for (let i = 0; i < s.length; i++) if (m[i] === 1) pool[j++] = s[i];
  });
  const t = kthvalue(new Tensor(pool, [remaining], 'float32'), k);
  let below = 0;
  for (let i = 0; i < pool.length; i++) if (pool[i] < t) below++;
  let ties = k - below;
  scores.forEach((s, a) => {
    const m = masks[a];
    for (let i = 0; i < s.length; i++) {
      if (m[i] !== 1) continue;
      if (s[i] < t) m[i] = 0;
      else if (s[i] === t && ties > 0) {
        m[i] = 0;
        ties--;
      }
    }
  });
}

/**
 * The masks a selection gives: for every target of every group, its current
 * mask with the newly pruned entries set to 0 (targets outside every group
 * are absent). scores must hold every grouped target's key.
 */
export function selectMasks(targets: readonly PruneTarget[], scores: ScoreMap, sel: Selection): Map<string, Float32Array> {
  const op = 'selectMasks';
  const out = new Map<string, Float32Array>();
  for (const g of selectionGroups(sel, targets)) {
    const ss = g.targets.map((t) => {
      const s = scores.get(t.key);
      if (!s) throw err(op, `no scores for "${t.key}"`);
      if (s.length !== t.numel) throw new SparsetrainError('ERR_SHAPE', `${op}: ${s.length} scores for "${t.key}", which has ${t.numel} weights`);
      for (let i = 0; i < s.length; i++) {
        if (Number.isNaN(s[i])) throw err(op, `score of "${t.key}" is NaN at flat index ${i}`);
      }
      return s;
    });
    const ms = g.targets.map((t) => currentMask(t));
    const total = g.targets.reduce((n, t) => n + t.numel, 0);
    let remaining = 0;
    for (const m of ms) for (let i = 0; i < m.length; i++) remaining += m[i];
    const k = pruneCount(op, g.amount, total, remaining);
    if (k === null) {
      const thr = (g.amount as { threshold: number }).threshold;
      ss.forEach((s, a) => {
        const m = ms[a];
        for (let i = 0; i < s.length; i++) if (m[i] === 1 && s[i] < thr) m[i] = 0;
      });
    } else {
      pruneLowest(ss, ms, k);
    }
    g.targets.forEach((t, a) => out.set(t.key, ms[a]));
  }
  return out;
}

/**
 * Applies masks by key (from selectMasks) with prune(): every listed
 * parameter is reparametrised (also when nothing of it is pruned, so the
 * state-dict keys of the targets stay uniform); the optimizer's masks are
 * synced when one is given. Returns the number of newly pruned weights per key.
 */
export function applyMasks(model: AnyModule, masks: Map<string, Float32Array>, optimizer?: AnyOptimizer): Map<string, number> {
  const added = new Map<string, number>();
  for (const [key, m] of masks) {
    const before = isPruned(model, key) ? (getMask(model, key)!.data as Float32Array) : null;
    let n = 0;
    for (let i = 0; i < m.length; i++) if (m[i] === 0 && (before ? before[i] === 1 : true)) n++;
    prune(model, key, m);
    added.set(key, n);
  }
  if (optimizer) applyMasksToOptimizer(model, optimizer);
  return added;
}
