/**
 * Optimizer base class, as torch.optim.Optimizer: parameter groups whose
 * options override the defaults, per-parameter state, zeroGrad, step and a
 * checkpointable state dict.
 *
 * sparsetrain additions, per parameter:
 * - setMask(p, mask): a float32 0/1 tensor of p's shape handed to the update
 *   kernels, which hold p, its gradient contribution and its state buffers
 *   (momentum, Adam moments) at exactly zero where the mask is 0. setMask also
 *   zeroes those entries of p and of existing state right away.
 * - setLrMultiplier(p, m): a tensor broadcastable to p's shape; element i of p
 *   is then updated with learning rate lr * m[i], everything else as torch.
 *   Implemented by running the ordinary update and rescaling the parameter
 *   delta: p = p_old + m * (p_new - p_old), in double precision. This is exact
 *   in the formulas because for SGD, Adam and AdamW the delta is linear in lr
 *   and the state buffers (momentum, moments) do not depend on lr.
 */
import { Tensor } from '../tensor/tensor';
import { broadcastStrides, fmt, numel, sameShape, stridesOf } from '../tensor/shape';
import { enableGrad } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import { zerosLikeTensor } from '../ops/elementwise';

/** Values kept per parameter: buffers of the parameter's size and scalars (e.g. the step count). */
export type ParamState = Record<string, Float32Array | number>;

/** A parameter group as given by the user: params plus any options overriding the defaults. */
export type ParamGroupInput<O> = { params: Tensor[] } & Partial<O>;

/** A parameter group with every option filled in. */
export type ParamGroup<O> = { params: Tensor[] } & O & Record<string, unknown>;

/** Serialised group: options plus the positions of its parameters (numbered across all groups). */
export type GroupStateDict = Record<string, unknown> & { params: number[] };

/**
 * A checkpoint of an optimizer: plain JSON-able values plus Float32Array
 * buffers; parameters are referred to by their position (counted through
 * the groups in order), as torch does.
 */
export interface OptimizerStateDict {
  state: Record<number, Record<string, Float32Array | number>>;
  paramGroups: GroupStateDict[];
  /** Masks by parameter position (set with setMask). */
  masks: Record<number, Float32Array>;
  /** Learning-rate multipliers by parameter position, in the shape they were given. */
  lrMultipliers: Record<number, { shape: number[]; data: Float32Array }>;
}

export function argError(op: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}

/** Throws unless v is a finite number >= min (and < max when given). */
export function checkRange(op: string, name: string, v: unknown, min: number, max?: number, maxInclusive = false): void {
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && (max === undefined || (maxInclusive ? v <= max : v < max));
  if (!ok) {
    const range = max === undefined ? `>= ${min}` : `in [${min}, ${max}${maxInclusive ? ']' : ')'}`;
    throw argError(op, `invalid ${name} ${String(v)}: expected a number ${range}`);
  }
}

interface LrMultiplier {
  shape: number[];
  data: Float32Array;
  /** data broadcast to the parameter's shape. */
  full: Float32Array;
}

export abstract class Optimizer<O extends object> {
  readonly defaults: O;
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on the parameter's first step. */
  state = new Map<Tensor, ParamState>();
  protected readonly masks = new Map<Tensor, Float32Array>();
  protected readonly lrMultipliers = new Map<Tensor, LrMultiplier>();
  /** Name used in error messages ('SGD', 'Adam', ...). */
  protected readonly opName: string;

  constructor(opName: string, params: Tensor[] | ParamGroupInput<O>[], defaults: O) {
    this.opName = opName;
    this.defaults = { ...defaults };
    if (!Array.isArray(params) || params.length === 0) {
      throw argError(opName, 'got an empty parameter list');
    }
    const isGroups = !(params[0] instanceof Tensor);
    const groups = isGroups ? (params as ParamGroupInput<O>[]) : [{ params: params as Tensor[] } as ParamGroupInput<O>];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks a group's options (each subclass validates its own). */
  protected abstract validateGroup(group: ParamGroup<O>): void;

  /** Adds a group of parameters with its own options (missing ones from the defaults). */
  addParamGroup(group: ParamGroupInput<O>): void {
    const op = `${this.opName}.addParamGroup`;
    if (!group || !Array.isArray(group.params)) throw argError(op, 'a parameter group needs a `params` array of tensors');
    if (group.params.length === 0) throw argError(op, 'a parameter group has no parameters');
    const seen = new Set<Tensor>();
    for (const [i, p] of group.params.entries()) {
      if (!(p instanceof Tensor)) throw argError(op, `params[${i}] is not a Tensor`);
      if (p.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `${op}: params[${i}] of shape ${fmt(p.shape)} is ${p.dtype}; only float32 tensors can be optimized`);
      if (!p.isLeaf) throw argError(op, `params[${i}] of shape ${fmt(p.shape)} is not a leaf tensor (it has a grad_fn); only leaves can be optimized`);
      if (seen.has(p)) throw argError(op, `params[${i}] of shape ${fmt(p.shape)} appears twice in the group`);
      seen.add(p);
      for (const other of this.paramGroups) {
        if (other.params.includes(p)) throw argError(op, `params[${i}] of shape ${fmt(p.shape)} already belongs to another parameter group`);
      }
    }
    const full = { ...this.defaults, ...group, params: [...group.params] } as ParamGroup<O>;
    this.validateGroup(full);
    this.paramGroups.push(full);
  }

  /** Every parameter, in group order (their positions in the state dict). */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Clears gradients: sets .grad to null (default, as torch), or fills it with zeros. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (setToNone) p.grad = null;
        else if (p.grad.requiresGrad || p.grad.gradFn) p.grad = zerosLikeTensor(p);
        else p.grad.data.fill(0);
      }
    }
  }

  /** One update of every parameter that has a gradient. */
  protected abstract update(): void;

  /**
   * Performs one optimization step. With a closure (which should zero the
   * gradients, compute the loss and call backward), the closure runs first and
   * its loss is returned, as torch.
   */
  step(closure?: () => Tensor | number): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const l = enableGrad(closure);
      loss = typeof l === 'number' ? l : l.item();
    }
    this.update();
    return loss;
  }

  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** The gradient of p as float32 data, checked against p's shape. */
  protected gradData(p: Tensor): Float32Array {
    const g = p.grad!;
    if (g.dtype !== 'float32' || !sameShape(g.shape, p.shape)) {
      throw new SparsetrainError('ERR_SHAPE', `${this.opName}.step: parameter of shape ${fmt(p.shape)} has a gradient of shape ${fmt(g.shape)} (${g.dtype})`);
    }
    return g.data as Float32Array;
  }

  private checkOwned(op: string, param: Tensor): void {
    if (!this.paramGroups.some((g) => g.params.includes(param))) {
      throw argError(`${this.opName}.${op}`, `the tensor of shape ${fmt(param.shape)} is not a parameter of this optimizer`);
    }
  }

  /**
   * Masks a parameter: mask is float32 0/1 of the parameter's shape (null
   * removes it). Masked entries of the parameter and of its state are zeroed
   * now and held at zero by every later step.
   */
  setMask(param: Tensor, mask: Tensor | null): void {
    const op = `${this.opName}.setMask`;
    this.checkOwned('setMask', param);
    if (mask === null) {
      this.masks.delete(param);
      return;
    }
    if (mask.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `${op}: mask must be float32 (0/1), got ${mask.dtype}`);
    if (!sameShape(mask.shape, param.shape)) throw new SparsetrainError('ERR_SHAPE', `${op}: mask of shape ${fmt(mask.shape)} does not match parameter ${fmt(param.shape)}`);
    const m = (mask.data as Float32Array).slice();
    for (let i = 0; i < m.length; i++) {
      if (m[i] !== 0 && m[i] !== 1) throw argError(op, `mask values must be 0 or 1, got ${m[i]} at flat index ${i}`);
    }
    this.masks.set(param, m);
    this.applyMask(param, m);
  }

  getMask(param: Tensor): Float32Array | null {
    return this.masks.get(param) ?? null;
  }

  /** Zeroes the masked entries of the parameter and of its state buffers. */
  private applyMask(param: Tensor, m: Float32Array): void {
    const bufs: Float32Array[] = [param.data as Float32Array];
    for (const v of Object.values(this.state.get(param) ?? {})) if (v instanceof Float32Array) bufs.push(v);
    for (const b of bufs) for (let i = 0; i < m.length; i++) if (m[i] === 0) b[i] = 0;
  }

  /**
   * Per-element learning-rate multiplier for a parameter: m broadcastable to
   * the parameter's shape (e.g. [out, 1] for one factor per output unit);
   * element i is updated with lr * m[i]. null removes it.
   */
  setLrMultiplier(param: Tensor, m: Tensor | null): void {
    const op = `${this.opName}.setLrMultiplier`;
    this.checkOwned('setLrMultiplier', param);
    if (m === null) {
      this.lrMultipliers.delete(param);
      return;
    }
    if (m.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `${op}: multiplier must be float32, got ${m.dtype}`);
    const d = m.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]) || d[i] < 0) throw argError(op, `multipliers must be finite and >= 0, got ${d[i]} at flat index ${i}`);
    }
    this.lrMultipliers.set(param, { shape: [...m.shape], data: d.slice(), full: broadcastTo(op, d, m.shape, param.shape) });
  }

  getLrMultiplier(param: Tensor): Float32Array | null {
    return this.lrMultipliers.get(param)?.full ?? null;
  }

  /** Before a kernel update: a copy of p when it has an lr multiplier. */
  protected beforeUpdate(p: Tensor): Float32Array | null {
    return this.lrMultipliers.has(p) ? (p.data as Float32Array).slice() : null;
  }

  /** After a kernel update: rescales the delta by the multiplier. */
  protected afterUpdate(p: Tensor, old: Float32Array | null): void {
    if (!old) return;
    const m = this.lrMultipliers.get(p)!.full;
    const d = p.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = old[i] + m[i] * (d[i] - old[i]);
  }

  // ---- checkpoints -----------------------------------------------------------

  /** A deep copy of the optimizer's state (see OptimizerStateDict). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.params.forEach((p, i) => index.set(p, i));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const copy: Record<string, Float32Array | number> = {};
      for (const [k, v] of Object.entries(s)) copy[k] = v instanceof Float32Array ? v.slice() : v;
      state[i] = copy;
    }
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...opts } = g;
      return { ...structuredClone(opts), params: params.map((p) => index.get(p)!) } as GroupStateDict;
    });
    const masks: OptimizerStateDict['masks'] = {};
    for (const [p, m] of this.masks) masks[index.get(p)!] = m.slice();
    const lrMultipliers: OptimizerStateDict['lrMultipliers'] = {};
    for (const [p, m] of this.lrMultipliers) lrMultipliers[index.get(p)!] = { shape: [...m.shape], data: m.data.slice() };
    return { state, paramGroups, masks, lrMultipliers };
  }

  /**
   * Restores a stateDict() of an optimizer over parameters of the same shapes
   * in the same groups: group options, per-parameter state, masks and lr
   * multipliers (all replaced; the data is copied).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const op = `${this.opName}.loadStateDict`;
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object') {
      throw argError(op, 'expected an object with `state` and `paramGroups`');
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw argError(op, `the checkpoint has ${sd.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const params = this.params;
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, gi) => {
      const mine = this.paramGroups[gi].params;
      if (!Array.isArray(g.params) || g.params.length !== mine.length) {
        throw argError(op, `group ${gi} of the checkpoint has ${Array.isArray(g.params) ? g.params.length : 'no'} parameters, this optimizer's has ${mine.length}`);
      }
      g.params.forEach((idx, j) => byIndex.set(idx, mine[j]));
    });
    const paramAt = (key: string, what: string): Tensor => {
      const p = byIndex.get(Number(key));
      if (!p) throw argError(op, `${what} for parameter ${key}, which no group of the checkpoint lists (${params.length} parameters)`);
      return p;
    };
    const checkBuf = (p: Tensor, key: string, name: string, v: unknown): Float32Array => {
      if (!(v instanceof Float32Array)) throw new SparsetrainError('ERR_DTYPE', `${op}: ${name} of parameter ${key} must be a Float32Array`);
      if (v.length !== p.numel) throw new SparsetrainError('ERR_SHAPE', `${op}: ${name} of parameter ${key} has ${v.length} values, the parameter ${fmt(p.shape)} has ${p.numel}`);
      return v.slice();
    };
    // Validate and copy everything before touching this optimizer.
    const state = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(sd.state)) {
      const p = paramAt(key, 'state');
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (typeof v === 'number') copy[k] = v;
        else copy[k] = checkBuf(p, key, `state '${k}'`, v);
      }
      state.set(p, copy);
    }
    const masks = new Map<Tensor, Float32Array>();
    for (const [key, m] of Object.entries(sd.masks ?? {})) {
      const p = paramAt(key, 'a mask');
      masks.set(p, checkBuf(p, key, 'mask', m));
    }
    const mults = new Map<Tensor, LrMultiplier>();
    for (const [key, m] of Object.entries(sd.lrMultipliers ?? {})) {
      const p = paramAt(key, 'an lr multiplier');
      if (!m || !(m.data instanceof Float32Array) || !Array.isArray(m.shape) || numel(m.shape) !== m.data.length) {
        throw argError(op, `lr multiplier of parameter ${key} must be { shape, data: Float32Array } with matching sizes`);
      }
      mults.set(p, { shape: [...m.shape], data: m.data.slice(), full: broadcastTo(op, m.data, m.shape, p.shape) });
    }
    const groups = sd.paramGroups.map((g, gi) => {
      const { params: _ignored, ...opts } = g;
      const full = { ...this.defaults, ...structuredClone(opts), params: this.paramGroups[gi].params } as ParamGroup<O>;
      this.validateGroup(full);
      return full;
    });
    this.paramGroups = groups;
    this.state = state;
    this.masks.clear();
    for (const [p, m] of masks) this.masks.set(p, m);
    this.lrMultipliers.clear();
    for (const [p, m] of mults) this.lrMultipliers.set(p, m);
  }
}

/** data of shape `from` broadcast (copied) to shape `to`; from must broadcast to exactly `to`. */
function broadcastTo(op: string, data: Float32Array, from: readonly number[], to: readonly number[]): Float32Array {
  const ok = from.length <= to.length && from.every((d, i) => d === 1 || d === to[to.length - from.length + i]);
  if (!ok) throw new SparsetrainError('ERR_SHAPE', `${op}: multiplier of shape ${fmt(from)} cannot be broadcast to parameter ${fmt(to)}`);
  const st = broadcastStrides(from, to);
  const n = numel(to);
  const out = new Float32Array(n);
  const ost = stridesOf(to);
  for (let i = 0; i < n; i++) {
    let r = i;
    let src = 0;
    for (let d = 0; d < to.length; d++) {
      const q = Math.floor(r / ost[d]);
      r -= q * ost[d];
      src += q * st[d];
    }
    out[i] = data[src];
  }
  return out;
}
