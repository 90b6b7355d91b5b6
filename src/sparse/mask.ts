/**
 * Masks as a reparametrisation, after torch.nn.utils.prune.
 *
 * prune(module, 'weight', mask) turns the parameter `weight` into
 *   - `weight_orig`: the same tensor object, still the trained parameter (so an
 *     optimizer that holds it keeps working), registered under the new name;
 *   - `weight_mask`: a float32 0/1 buffer of the parameter's shape;
 *   - `weight`: a plain attribute (neither parameter nor buffer) holding
 *     orig * mask, recomputed by a forward pre-hook before every forward, so
 *     gradients reach `weight_orig` through the mask (zero where it is 0).
 * The state dict then has torch's keys `<prefix>.weight_orig` and
 * `<prefix>.weight_mask`. Unlike torch, which appends weight_orig after the
 * module's other parameters, weight_orig keeps the position of weight, so
 * model.parameters() has the same order before and after pruning and an
 * optimizer's positional state dict loads into a model pruned later or
 * earlier (resume); weight_mask comes after the module's other buffers, as
 * torch. Loading by key (torch's load_state_dict, loadStateDict) does not
 * depend on the order. effectiveStateDict() folds the pair back into
 * `<prefix>.weight` = orig * mask for export.
 *
 * A second prune of the same parameter multiplies the masks: it can only
 * remove more entries (torch's PruningContainer). Amount-based selection (a
 * fraction of the still-unpruned entries, a count, a sparsity target) lives
 * in select.ts and produces masks for this function.
 *
 * Names may be dotted from any ancestor: prune(model, 'fc1.weight', m) is
 * prune(model.fc1, 'weight', m).
 *
 * Optimizer masks: the reparametrisation alone keeps the effective weight
 * zero, but momentum and weight decay would still move the masked entries of
 * `weight_orig`. applyMasksToOptimizer(model, opt) hands every mask to
 * opt.setMask(orig, mask), which zeroes those entries of orig and of its
 * optimizer state and holds them at exactly zero. Call it again after every
 * pruning (setMask copies the mask). remove() leaves the optimizer's mask in
 * place, so a permanently pruned weight stays zero while training goes on;
 * opt.setMask(p, null) lets it regrow.
 *
 * Implementation note: Module has no public way to unregister a parameter, so
 * this file edits its `_parameters` / `_buffers` tables directly (the same
 * tables registerParameter fills); nothing else in sparsetrain does.
 */
import { Tensor, HookHandle } from '../tensor/tensor';
import { Module, LoadStateDictOptions, LoadStateDictResult, StateDictInput, StateDictValue, CheckpointDType } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { noGrad } from '../autograd/grad-mode';
import { mul } from '../ops/elementwise';
import { fmt, sameShape } from '../tensor/shape';
import { SparsetrainError } from '../errors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

/** The Module tables this file edits (see the implementation note above). */
interface ModuleTables {
  _parameters: Map<string, Tensor | null>;
  _buffers: Map<string, Tensor | null>;
}

interface PruneRecord {
  hook: HookHandle;
}

const records = new WeakMap<AnyModule, Map<string, PruneRecord>>();

/** A mask as given: a tensor of the parameter's shape, or flat values in row-major order. */
export type MaskInput = Tensor | ArrayLike<number>;

/** One pruned parameter of a model. */
export interface PrunedParameter {
  /** The parameter's state-dict key before pruning, e.g. "fc1.weight". */
  key: string;
  /** The module that owns it and its local name ("weight"). */
  module: AnyModule;
  name: string;
  /** The trained tensor (registered as `<name>_orig`). */
  orig: Tensor;
  /** The 0/1 float32 buffer (`<name>_mask`). */
  mask: Tensor;
}

function err(op: string, msg: string, code: 'ERR_ARGUMENT' | 'ERR_SHAPE' = 'ERR_ARGUMENT'): SparsetrainError {
  return new SparsetrainError(code, `${op}: ${msg}`);
}

function tables(m: AnyModule): ModuleTables {
  return m as unknown as ModuleTables;
}

/** Splits a dotted name into the owning module and the local name. */
function resolve(op: string, module: AnyModule, name: string): { owner: AnyModule; local: string; prefix: string } {
  if (!(module instanceof Module)) throw err(op, 'expected a Module');
  if (typeof name !== 'string' || name === '') throw err(op, `expected a parameter name, got ${JSON.stringify(name)}`);
  const i = name.lastIndexOf('.');
  const path = i < 0 ? '' : name.slice(0, i);
  let owner: AnyModule;
  try {
    owner = module.getSubmodule(path);
  } catch {
    throw err(op, `${module.constructor.name} has no submodule "${path}" (from "${name}")`);
  }
  return { owner, local: name.slice(i + 1), prefix: path ? `${path}.` : '' };
}

/** Reorders a table so that newKey (just appended) sits where oldKey was in `order`. */
function renameInPlace(table: Map<string, Tensor | null>, newKey: string, oldKey: string, order: string[]): void {
  const entries = new Map(table);
  table.clear();
  for (const k of order) {
    const key = k === oldKey ? newKey : k;
    if (entries.has(key)) table.set(key, entries.get(key)!);
  }
  for (const [k, v] of entries) if (!table.has(k)) table.set(k, v);
}

function recordOf(owner: AnyModule, local: string): PruneRecord | undefined {
  return records.get(owner)?.get(local);
}

/** Checks a mask against a parameter and returns a float32 copy of its values (0 or 1). */
function maskValues(op: string, what: string, param: Tensor, mask: MaskInput): Float32Array {
  let data: ArrayLike<number>;
  if (mask instanceof Tensor) {
    if (!sameShape(mask.shape, param.shape)) {
      throw err(op, `mask of shape ${fmt(mask.shape)} does not match ${what} of shape ${fmt(param.shape)}`, 'ERR_SHAPE');
    }
    data = mask.data;
  } else {
    if (!mask || typeof (mask as ArrayLike<number>).length !== 'number') throw err(op, 'mask must be a Tensor or an array of numbers');
    if (mask.length !== param.numel) {
      throw err(op, `mask has ${mask.length} values, ${what} of shape ${fmt(param.shape)} has ${param.numel}`, 'ERR_SHAPE');
    }
    data = mask;
  }
  const out = new Float32Array(param.numel);
  for (let i = 0; i < out.length; i++) {
    const v = Number(data[i]);
    if (v !== 0 && v !== 1) throw err(op, `mask values must be 0 or 1, got ${data[i]} at flat index ${i} (${what})`);
    out[i] = v;
  }
  return out;
}

/** The module path part of a tensor's name ("fc1." of "fc1.weight"), given its local name. */
function pathOf(name: string | undefined, local: string): string {
  return name && name.endsWith(local) ? name.slice(0, name.length - local.length) : '';
}

/** Sets the plain attribute `<local>` = orig * mask (a graph node when grad mode is on). */
function setEffective(owner: AnyModule, local: string): void {
  const orig = tables(owner)._parameters.get(`${local}_orig`)!;
  const mask = tables(owner)._buffers.get(`${local}_mask`)!;
  Object.defineProperty(owner, local, { value: mul(orig, mask), writable: true, configurable: true, enumerable: true });
}

/**
 * Prunes the parameter `name` of module (dotted names reach submodules) with
 * a 0/1 mask of its shape. The first call reparametrises (see the file
 * comment); later calls multiply the stored mask by the new one. Returns the
 * combined mask buffer.
 */
export function prune(module: AnyModule, name: string, mask: MaskInput): Tensor {
  const op = 'prune';
  const { owner, local } = resolve(op, module, name);
  const rec = recordOf(owner, local);
  const t = tables(owner);
  if (rec) {
    const buf = t._buffers.get(`${local}_mask`)!;
    const m = maskValues(op, `the pruned parameter "${name}"`, buf, mask);
    const d = buf.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] *= m[i];
    setEffective(owner, local);
    return buf;
  }
  const param = t._parameters.get(local);
  if (!param) {
    const what = t._buffers.has(local) ? 'a buffer, not a parameter' : t._parameters.has(local) ? 'registered as null' : 'not a parameter';
    throw err(op, `"${name}" of ${owner.constructor.name} is ${what}`);
  }
  const m = maskValues(op, `parameter "${name}"`, param, mask);
  const paramsBefore = [...t._parameters.keys()];
  for (const suffix of ['_orig', '_mask']) {
    if (t._parameters.has(local + suffix) || t._buffers.has(local + suffix) || (local + suffix) in owner) {
      throw err(op, `${owner.constructor.name} already has an attribute "${local + suffix}"`);
    }
  }
  const path = pathOf(param.name, local);
  t._parameters.delete(local);
  owner.registerParameter(`${local}_orig`, param);
  renameInPlace(t._parameters, `${local}_orig`, local, paramsBefore);
  param.name = `${path}${local}_orig`;
  const maskT = new Tensor(m, param.shape, 'float32');
  owner.registerBuffer(`${local}_mask`, maskT);
  maskT.name = `${path}${local}_mask`;
  setEffective(owner, local);
  const hook = owner.registerForwardPreHook((mod) => {
    setEffective(mod, local);
  });
  let map = records.get(owner);
  if (!map) {
    map = new Map();
    records.set(owner, map);
  }
  map.set(local, { hook });
  return maskT;
}

/**
 * Makes the pruning of `name` permanent (torch's prune.remove): the parameter
 * becomes a plain parameter again holding orig * mask, in place (the same
 * tensor object, so optimizers keep it), at the same position among the
 * module's parameters; the mask buffer and the hook are gone.
 */
export function remove(module: AnyModule, name: string): void {
  const op = 'remove';
  const { owner, local } = resolve(op, module, name);
  const rec = recordOf(owner, local);
  if (!rec) throw err(op, `"${name}" of ${owner.constructor.name} is not pruned`);
  const t = tables(owner);
  const orig = t._parameters.get(`${local}_orig`)!;
  const mask = t._buffers.get(`${local}_mask`)!;
  const path = pathOf(orig.name, `${local}_orig`);
  const o = orig.data as Float32Array;
  const m = mask.data as Float32Array;
  for (let i = 0; i < o.length; i++) o[i] = o[i] * m[i] + 0; // + 0: no -0 left behind
  rec.hook.remove();
  records.get(owner)!.delete(local);
  const before = [...t._parameters.keys()];
  t._parameters.delete(`${local}_orig`);
  t._buffers.delete(`${local}_mask`);
  for (const k of [`${local}_orig`, `${local}_mask`, local]) delete (owner as unknown as Record<string, unknown>)[k];
  owner.registerParameter(local, orig);
  renameInPlace(t._parameters, local, `${local}_orig`, before);
  orig.name = path + local;
}

/** Whether `name` (dotted from module) is pruned. */
export function isPruned(module: AnyModule, name: string): boolean {
  const { owner, local } = resolve('isPruned', module, name);
  return recordOf(owner, local) !== undefined;
}

/** The mask buffer of a pruned parameter, or null when it is not pruned. Edit it only through prune(). */
export function getMask(module: AnyModule, name: string): Tensor | null {
  const { owner, local } = resolve('getMask', module, name);
  return recordOf(owner, local) ? tables(owner)._buffers.get(`${local}_mask`)! : null;
}

/** The trained tensor of a parameter: `<name>_orig` when pruned, else the parameter itself. */
export function getOrig(module: AnyModule, name: string): Tensor {
  const { owner, local } = resolve('getOrig', module, name);
  const t = tables(owner)._parameters.get(recordOf(owner, local) ? `${local}_orig` : local);
  if (!t) throw err('getOrig', `"${name}" of ${owner.constructor.name} is not a parameter`);
  return t;
}

/** orig * mask as fresh float32 values (the parameter's values when it is not pruned); pruned entries are +0. */
export function effectiveValues(module: AnyModule, name: string): Float32Array {
  const orig = getOrig(module, name);
  const mask = getMask(module, name);
  const out = Float32Array.from(orig.data as Float32Array);
  if (mask) {
    const m = mask.data as Float32Array;
    for (let i = 0; i < out.length; i++) out[i] = out[i] * m[i] + 0;
  }
  return out;
}

/** Every pruned parameter below model, in module order. */
export function prunedParameters(model: AnyModule): PrunedParameter[] {
  const out: PrunedParameter[] = [];
  for (const [path, m] of model.namedModules()) {
    const map = records.get(m);
    if (!map) continue;
    for (const local of map.keys()) {
      const t = tables(m);
      out.push({
        key: path ? `${path}.${local}` : local,
        module: m, name: local,
        orig: t._parameters.get(`${local}_orig`)!,
        mask: t._buffers.get(`${local}_mask`)!,
      });
    }
  }
  return out;
}

/** Makes every pruning below model permanent (remove() on each). */
export function removeAll(model: AnyModule): void {
  for (const p of prunedParameters(model)) remove(p.module, p.name);
}

/** Recomputes every effective weight now (they are otherwise refreshed at each forward). */
export function refreshEffective(model: AnyModule): void {
  for (const p of prunedParameters(model)) setEffective(p.module, p.name);
}

/**
 * Hands every pruned parameter's mask to optimizer.setMask(orig, mask)
 * (parameters the optimizer does not hold are skipped). Returns the keys
 * whose masks were set.
 */
export function applyMasksToOptimizer(model: AnyModule, optimizer: AnyOptimizer): string[] {
  const held = new Set(optimizer.params);
  const keys: string[] = [];
  for (const p of prunedParameters(model)) {
    if (!held.has(p.orig)) continue;
    optimizer.setMask(p.orig, p.mask);
    keys.push(p.key);
  }
  return keys;
}

/** The state-dict keys of model's pruned parameters: key -> [key_orig, key_mask]. */
function prunedKeys(model: AnyModule): Map<string, PrunedParameter> {
  const out = new Map<string, PrunedParameter>();
  for (const p of prunedParameters(model)) out.set(`${p.key}_orig`, p);
  return out;
}

/**
 * The state dict with every `<k>_orig` / `<k>_mask` pair folded into `<k>` =
 * orig * mask (at the position of `<k>_orig`): the keys of the unpruned
 * model, loadable by PyTorch into the same architecture.
 */
export function effectiveStateDict(model: AnyModule): Map<string, Tensor> {
  const byOrig = prunedKeys(model);
  const masks = new Set([...byOrig.keys()].map((k) => k.replace(/_orig$/, '_mask')));
  const out = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) {
    if (masks.has(k)) continue;
    const p = byOrig.get(k);
    if (p) {
      const v = new Tensor(effectiveValues(p.module, p.name), p.orig.shape, 'float32');
      v.name = p.key;
      out.set(p.key, v);
    } else {
      out.set(k, t);
    }
  }
  return out;
}

/** stateDictDtypes() for the keys of effectiveStateDict(). */
export function effectiveStateDictDtypes(model: AnyModule): Map<string, CheckpointDType> {
  const byOrig = prunedKeys(model);
  const masks = new Set([...byOrig.keys()].map((k) => k.replace(/_orig$/, '_mask')));
  const out = new Map<string, CheckpointDType>();
  for (const [k, d] of model.stateDictDtypes()) {
    if (masks.has(k)) continue;
    const p = byOrig.get(k);
    out.set(p ? p.key : k, d);
  }
  return out;
}

/**
 * Loads a state dict that may hold pruned entries (`<k>_orig` and `<k>_mask`,
 * as saved by a pruned model or by torch): every such parameter of model that
 * is not pruned yet is first pruned with an all-ones mask, then the whole
 * dict is loaded (model.loadStateDict, same strictness), and the effective
 * weights are recomputed. An unpruned entry `<k>` for a pruned parameter of
 * model is an error.
 */
export function loadPrunedStateDict(model: AnyModule, state: StateDictInput, opts: LoadStateDictOptions = {}): LoadStateDictResult {
  const op = 'loadPrunedStateDict';
  const src: Map<string, StateDictValue> = state instanceof Map ? state : new Map(Object.entries(state));
  const toPrune: string[] = [];
  for (const k of src.keys()) {
    if (!k.endsWith('_mask')) continue;
    const base = k.slice(0, -'_mask'.length);
    if (!src.has(`${base}_orig`)) continue;
    let isParam = false;
    try {
      model.getParameter(base);
      isParam = true;
    } catch {
      isParam = false;
    }
    if (isParam) toPrune.push(base);
    else if (!isPruned(model, base) && (opts.strict ?? true)) {
      throw err(op, `the state dict prunes "${base}", which is not a parameter of ${model.constructor.name}`);
    }
  }
  for (const p of prunedParameters(model)) {
    if (src.has(p.key)) {
      throw err(op, `"${p.key}" is pruned in the model but the state dict has it unpruned; remove(model, "${p.key}") first or load "${p.key}_orig" and "${p.key}_mask"`);
    }
  }
  // Validate the mask values before changing the model.
  for (const base of toPrune) {
    const v = src.get(`${base}_mask`)!;
    const d = v.data;
    for (let i = 0; i < d.length; i++) {
      const x = Number(d[i]);
      if (x !== 0 && x !== 1) throw err(op, `${base}_mask: values must be 0 or 1, got ${x} at flat index ${i}`);
    }
  }
  for (const base of toPrune) {
    const p = model.getParameter(base);
    prune(model, base, new Float32Array(p.numel).fill(1));
  }
  let r: LoadStateDictResult;
  try {
    r = model.loadStateDict(src, opts);
  } catch (e) {
    // loadStateDict changed nothing; undo the all-ones prunings (exactly reversible).
    for (const base of toPrune) remove(model, base);
    throw e;
  }
  noGrad(() => refreshEffective(model));
  return r;
}
