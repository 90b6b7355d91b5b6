/**
 * Trial pruning that is undone afterwards: the thesis' scorer comparison
 * (prune fraction f with a scorer, measure the loss, undo) and sensitivity
 * analysis (prune one layer alone, evaluate, undo).
 *
 * snapshotPruning(model) copies every mask and the values of every
 * parameter; restorePruning(model, snap) puts them back: masks of parameters
 * pruned at the snapshot are restored, parameters pruned since are
 * un-pruned (their keys as before), every parameter's values are copied back.
 * With an optimizer, its masks are re-synced (and removed for the parameters
 * un-pruned); its state buffers (momentum, moments) are not restored: save
 * optimizer.stateDict() as well if a trial runs optimizer steps.
 */
import { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import type { Optimizer } from '../optim/optimizer';
import { noGrad } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import { prune, prunedParameters, remove, applyMasksToOptimizer, refreshEffective } from './mask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

export interface PruningSnapshot {
  readonly model: AnyModule;
  /** Mask values by parameter key (e.g. "fc1.weight"), for the parameters pruned at the snapshot. */
  readonly masks: Map<string, Float32Array>;
  /** Values of every parameter tensor (the trained tensors, `_orig` for pruned ones). */
  readonly values: Map<Tensor, Float32Array>;
}

export function snapshotPruning(model: AnyModule): PruningSnapshot {
  const masks = new Map(prunedParameters(model).map((p) => [p.key, Float32Array.from(p.mask.data as Float32Array)]));
  const values = new Map(model.parameters().map((p) => [p, Float32Array.from(p.data as Float32Array)]));
  return { model, masks, values };
}

export function restorePruning(model: AnyModule, snap: PruningSnapshot, optimizer?: AnyOptimizer): void {
  if (snap.model !== model) throw new SparsetrainError('ERR_ARGUMENT', 'restorePruning: the snapshot was taken of another model');
  const unpruned: Tensor[] = [];
  for (const p of prunedParameters(model)) {
    const m = p.mask.data as Float32Array;
    const before = snap.masks.get(p.key);
    if (before) {
      m.set(before);
    } else {
      m.fill(1);
      remove(p.module, p.name);
      unpruned.push(p.orig);
    }
  }
  // Parameters pruned at the snapshot but made permanent (remove) since: pruned again.
  const now = new Set(prunedParameters(model).map((p) => p.key));
  for (const [key, m] of snap.masks) if (!now.has(key)) prune(model, key, m);
  for (const [t, v] of snap.values) (t.data as Float32Array).set(v);
  noGrad(() => refreshEffective(model));
  if (optimizer) {
    const held = new Set(optimizer.params);
    for (const t of unpruned) if (held.has(t)) optimizer.setMask(t, null);
    applyMasksToOptimizer(model, optimizer);
  }
}

/** Runs fn, then restores the model's pruning and parameter values as they were before (also when fn throws). */
export function withPruningUndone<T>(model: AnyModule, fn: () => T, optimizer?: AnyOptimizer): T {
  const snap = snapshotPruning(model);
  try {
    return fn();
  } finally {
    restorePruning(model, snap, optimizer);
  }
}
