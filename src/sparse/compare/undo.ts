/**
 * Trial pruning that is undone exactly, for weights and units together.
 *
 * src/sparse/trial.ts snapshots weight masks and parameter values; unit masks
 * (src/sparse/units/mask.ts) are forward hooks kept outside the state dict,
 * so a unit trial also needs them saved: withTrialUndone() snapshots both and
 * restores both, also when the trial throws. Mean replacement folds constants
 * into consumer biases, which are parameters, so the parameter snapshot
 * covers them.
 *
 * modelFingerprint() / sameFingerprint() copy and compare, bit for bit (as
 * 32-bit patterns, so -0 and NaN payloads count), every entry of the model's
 * state dict (parameters, buffers, weight masks under their keys) plus every
 * unit mask. The scorer comparison checks it around each measurement: a trial
 * that left any trace is an error, never a silently changed training run.
 */
import { Module } from '../../nn/module';
import { SparsetrainError } from '../../errors';
import { snapshotPruning, restorePruning } from '../trial';
import { getUnitMask, setUnitMask, removeUnitMask } from '../units/mask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** Runs fn, then puts back weight masks, parameter values and unit masks as they were (also when fn throws). */
export function withTrialUndone<T>(model: AnyModule, fn: () => T): T {
  const snap = snapshotPruning(model);
  const unitMasks = model.modules().map((m) => [m, getUnitMask(m)] as const);
  try {
    return fn();
  } finally {
    for (const [m, mask] of unitMasks) {
      if (mask) setUnitMask(m, mask);
      else removeUnitMask(m);
    }
    restorePruning(model, snap);
  }
}

/** A bitwise copy of a model's state: state-dict entries by key and unit masks by module path. */
export interface ModelFingerprint {
  state: Map<string, { shape: string; bits: Uint32Array | Int32Array | Uint8Array }>;
  unitMasks: Map<string, Uint32Array>;
}

function bitsOf(data: ArrayLike<number> & { buffer?: ArrayBufferLike }): Uint32Array | Int32Array | Uint8Array {
  if (data instanceof Float32Array) return new Uint32Array(Float32Array.from(data).buffer);
  if (data instanceof Int32Array) return Int32Array.from(data);
  return Uint8Array.from(data as ArrayLike<number>);
}

export function modelFingerprint(model: AnyModule): ModelFingerprint {
  const state = new Map<string, { shape: string; bits: Uint32Array | Int32Array | Uint8Array }>();
  for (const [k, t] of model.stateDict()) state.set(k, { shape: t.shape.join('x'), bits: bitsOf(t.data as Float32Array) });
  const unitMasks = new Map<string, Uint32Array>();
  for (const [path, m] of model.namedModules()) {
    const mask = getUnitMask(m);
    if (mask) unitMasks.set(path, new Uint32Array(mask.buffer));
  }
  return { state, unitMasks };
}

/** The first difference between two fingerprints (a key and what differs), or null when they are bit-identical. */
export function fingerprintDifference(a: ModelFingerprint, b: ModelFingerprint): string | null {
  const keysA = [...a.state.keys()].join(',');
  const keysB = [...b.state.keys()].join(',');
  if (keysA !== keysB) return `state-dict keys changed: [${keysA}] -> [${keysB}]`;
  for (const [k, x] of a.state) {
    const y = b.state.get(k)!;
    if (x.shape !== y.shape) return `${k}: shape ${x.shape} -> ${y.shape}`;
    for (let i = 0; i < x.bits.length; i++) if (x.bits[i] !== y.bits[i]) return `${k}: element ${i} changed`;
  }
  const ua = [...a.unitMasks.keys()].join(',');
  const ub = [...b.unitMasks.keys()].join(',');
  if (ua !== ub) return `unit masks changed: on [${ua}] -> [${ub}]`;
  for (const [k, x] of a.unitMasks) {
    const y = b.unitMasks.get(k)!;
    if (x.length !== y.length || x.some((v, i) => v !== y[i])) return `unit mask of ${k} changed`;
  }
  return null;
}

/** Throws when the model differs from the fingerprint (op names the caller). */
export function assertUnchanged(op: string, model: AnyModule, before: ModelFingerprint): void {
  const d = fingerprintDifference(before, modelFingerprint(model));
  if (d) throw new SparsetrainError('ERR_RUN', `${op}: a trial was not undone exactly (${d}); this is a bug, the run stops rather than train a changed model`);
}
