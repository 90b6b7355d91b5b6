/**
 * Module: the base class of layers and models, mirroring torch.nn.Module.
 *
 * A module owns three ordered tables: parameters, buffers and child modules,
 * each in registration order. registerParameter / registerBuffer /
 * registerModule also define an accessor property of the same name, so
 * `layer.weight` reads the registered tensor and `layer.weight = t` replaces
 * it in the table (as PyTorch's __setattr__). Subclasses declare the property
 * type with `declare weight: Tensor;` (no emitted field) and register in the
 * constructor.
 *
 * State-dict order is PyTorch's: a module's parameters, then its persistent
 * buffers, then each child's entries recursively under "<child>." prefixes.
 *
 * Checkpoint dtypes. Buffers can carry a checkpoint dtype that differs from
 * their in-memory dtype: BatchNorm's num_batches_tracked is an int32 tensor in
 * memory, registered with `{ checkpointDtype: 'int64' }`, and
 * `stateDictDtypes()` reports 'int64' for its key so that a checkpoint writer
 * emits I64 as PyTorch does. loadStateDict accepts that key as any numeric
 * dtype and converts.
 */
import { Tensor, HookHandle } from '../tensor/tensor';
import type { DType } from '../tensor/dtype';
import { fmt, sameShape } from '../tensor/shape';
import { SparsetrainError } from '../errors';

/** Element types a state-dict entry has in a PyTorch checkpoint. */
export type CheckpointDType = DType | 'int64';

/** Marks t as a trainable parameter: a leaf that requires grad (t itself when it is a float32 leaf). */
export function parameter(t: Tensor): Tensor {
  if (t.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `parameter: parameters must be float32, got ${t.dtype}`);
  const p = t.isLeaf ? t : t.detach();
  p.requiresGrad_(true);
  return p;
}

export type ForwardPreHook<M extends Module<any[], any> = Module<any[], any>> =
  (module: M, input: unknown[]) => unknown[] | unknown | void;
export type ForwardHook<M extends Module<any[], any> = Module<any[], any>> =
  (module: M, input: unknown[], output: unknown) => unknown | void;

export interface RegisterBufferOptions {
  /** Part of the state dict (default true). */
  persistent?: boolean;
  /** Element type in a PyTorch checkpoint when it differs from the tensor's (num_batches_tracked: 'int64'). */
  checkpointDtype?: CheckpointDType;
}

export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true). Shape mismatches are always errors. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Anything a state dict can be given as: tensors, or raw {shape, data} records (e.g. a safetensors reader's). */
export type StateDictValue = Tensor | { shape: readonly number[]; data: ArrayLike<number> | BigInt64Array };
export type StateDictInput = Map<string, StateDictValue> | Record<string, StateDictValue>;

type AnyModule = Module<any[], any>;
type Slot = 'parameter' | 'buffer' | 'module';

let nextHookId = 0;

export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode (dropout active, batch norm uses batch statistics). Set with train()/eval(). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _checkpointDtypes = new Map<string, CheckpointDType>();
  private readonly _modules = new Map<string, AnyModule | null>();
  private readonly _preHooks = new Map<number, ForwardPreHook<any>>();
  private readonly _hooks = new Map<number, ForwardHook<any>>();

  /** The computation; call the module with call() so that hooks run. */
  abstract forward(...input: In): Out;

  /** Runs forward pre-hooks, forward, then forward hooks (torch's module(...)). */
  call(...input: In): Out {
    let args: unknown[] = input;
    for (const hook of [...this._preHooks.values()]) {
      const r = hook(this, args);
      if (r !== undefined) args = Array.isArray(r) ? r : [r];
    }
    let out: unknown = this.forward(...(args as In));
    for (const hook of [...this._hooks.values()]) {
      const r = hook(this, args, out);
      if (r !== undefined) out = r;
    }
    return out as Out;
  }

  /** True when forward hooks or forward pre-hooks are registered (callers that fuse modules must not skip them). */
  hasForwardHooks(): boolean {
    return this._preHooks.size > 0 || this._hooks.size > 0;
  }

  /** A short description of the hyper-parameters, shown by toString(). */
  extraRepr(): string {
    return '';
  }

  // ---- registration -------------------------------------------------------------

  /** Registers (or replaces) a parameter; null registers the name with no tensor (e.g. bias=false). */
  registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName(name, 'parameter');
    if (t !== null) {
      if (!(t instanceof Tensor)) throw new SparsetrainError('ERR_ARGUMENT', `registerParameter("${name}"): expected a Tensor or null`);
      if (t.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `registerParameter("${name}"): parameters must be float32, got ${t.dtype}`);
      if (!t.isLeaf) {
        throw new SparsetrainError('ERR_ARGUMENT', `registerParameter("${name}"): a parameter must be a leaf tensor (not the result of an op); use parameter(t.detach())`);
      }
      if (!t.requiresGrad) t.requiresGrad_(true);
      t.name = name;
    }
    this._parameters.set(name, t);
    this.defineAccessor(name, 'parameter');
    return t;
  }

  /** Registers (or replaces) a buffer: state that is not trained (running statistics, masks). */
  registerBuffer(name: string, t: Tensor | null, opts: RegisterBufferOptions = {}): Tensor | null {
    this.checkName(name, 'buffer');
    if (t !== null && !(t instanceof Tensor)) throw new SparsetrainError('ERR_ARGUMENT', `registerBuffer("${name}"): expected a Tensor or null`);
    if (t) t.name = name;
    this._buffers.set(name, t);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    if (opts.checkpointDtype !== undefined) this._checkpointDtypes.set(name, opts.checkpointDtype);
    else this._checkpointDtypes.delete(name);
    this.defineAccessor(name, 'buffer');
    return t;
  }

  /** Registers (or replaces) a child module; its entries appear under "<name>." in the state dict. */
  registerModule<M extends AnyModule | null>(name: string, m: M): M {
    this.checkName(name, 'module');
    if (m !== null && !(m instanceof Module)) throw new SparsetrainError('ERR_ARGUMENT', `registerModule("${name}"): expected a Module or null`);
    this._modules.set(name, m);
    if (m) m.renameTensors(`${name}.`);
    this.defineAccessor(name, 'module');
    return m;
  }

  /** Sets Tensor.name of every tensor below this module to its state-dict key (relative to this module). */
  private renameTensors(prefix: string): void {
    for (const [k, t] of this.namedParameters(prefix.slice(0, -1))) t.name = k;
    for (const [k, t] of this.namedBuffers(prefix.slice(0, -1))) t.name = k;
  }

  private slotOf(name: string): Slot | null {
    if (this._parameters.has(name)) return 'parameter';
    if (this._buffers.has(name)) return 'buffer';
    if (this._modules.has(name)) return 'module';
    return null;
  }

  private checkName(name: string, kind: Slot): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new SparsetrainError('ERR_ARGUMENT', `register ${kind}: name must be a non-empty string without ".", got ${JSON.stringify(name)}`);
    }
    const slot = this.slotOf(name);
    if (slot !== null && slot !== kind) {
      throw new SparsetrainError('ERR_ARGUMENT', `register ${kind} "${name}": ${this.constructor.name} already has a ${slot} of that name`);
    }
    if (slot === null && name in this) {
      const own = Object.getOwnPropertyDescriptor(this, name);
      // A declared-but-unset class field (value undefined) may become the accessor.
      if (!(own && 'value' in own && own.value === undefined)) {
        throw new SparsetrainError('ERR_ARGUMENT', `register ${kind} "${name}": ${this.constructor.name} already has an attribute "${name}"`);
      }
    }
  }

  private defineAccessor(name: string, kind: Slot): void {
    const own = Object.getOwnPropertyDescriptor(this, name);
    if (own && own.get) return;
    const table = kind === 'parameter' ? this._parameters : kind === 'buffer' ? this._buffers : this._modules;
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: true,
      get: () => table.get(name) ?? null,
      set: (v: unknown) => {
        if (kind === 'parameter') this.registerParameter(name, v as Tensor | null);
        else if (kind === 'buffer') this.registerBuffer(name, v as Tensor | null, {
          persistent: !this._nonPersistent.has(name), checkpointDtype: this._checkpointDtypes.get(name),
        });
        else this.registerModule(name, v as AnyModule | null);
      },
    });
  }

  // ---- traversal ------------------------------------------------------------------

  /** Registered children in order, including a module registered under two names (containers iterate these). */
  protected moduleEntries(): [string, AnyModule][] {
    return [...this._modules].filter((e): e is [string, AnyModule] => e[1] !== null);
  }

  /** Direct children with their names, in registration order, each module once. */
  namedChildren(): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    for (const [k, m] of this._modules) {
      if (m && !seen.has(m)) {
        seen.add(m);
        out.push([k, m]);
      }
    }
    return out;
  }
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant (pre-order: a module before its children), each once. */
  namedModules(prefix = '', memo: Set<AnyModule> = new Set()): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    if (memo.has(this)) return out;
    memo.add(this);
    out.push([prefix, this]);
    for (const [k, m] of this._modules) {
      if (m) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k, memo));
    }
    return out;
  }
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  private namedMembers(table: (m: Module<any[], any>) => Map<string, Tensor | null>, prefix: string, recurse: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, AnyModule][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, t] of table(m)) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([mp ? `${mp}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Parameters with their state-dict keys, each tensor once, in state-dict order. */
  namedParameters(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers((m) => m._parameters, prefix, recurse);
  }
  parameters(recurse = true): Tensor[] {
    return this.namedParameters('', recurse).map(([, t]) => t);
  }
  /** Buffers (persistent or not) with their keys. */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    return this.namedMembers((m) => m._buffers, prefix, recurse);
  }
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, t]) => t);
  }

  /** The descendant at a dotted path ('' is this module), e.g. "layer1.0.conv1". */
  getSubmodule(path: string): AnyModule {
    let m: AnyModule = this;
    if (path === '') return m;
    const parts = path.split('.');
    parts.forEach((p, i) => {
      const c = m._modules.get(p);
      if (!c) throw new SparsetrainError('ERR_ARGUMENT', `getSubmodule("${path}"): ${m.constructor.name} at "${parts.slice(0, i).join('.')}" has no submodule "${p}"`);
      m = c;
    });
    return m;
  }
  /** The parameter at a dotted state-dict key, e.g. "fc1.weight". */
  getParameter(key: string): Tensor {
    const i = key.lastIndexOf('.');
    const m = this.getSubmodule(i < 0 ? '' : key.slice(0, i));
    const t = m._parameters.get(key.slice(i + 1));
    if (!t) throw new SparsetrainError('ERR_ARGUMENT', `getParameter("${key}"): no such parameter`);
    return t;
  }
  /** The buffer at a dotted state-dict key, e.g. "bn1.running_mean". */
  getBuffer(key: string): Tensor {
    const i = key.lastIndexOf('.');
    const m = this.getSubmodule(i < 0 ? '' : key.slice(0, i));
    const t = m._buffers.get(key.slice(i + 1));
    if (!t) throw new SparsetrainError('ERR_ARGUMENT', `getBuffer("${key}"): no such buffer`);
    return t;
  }

  // ---- state dict ------------------------------------------------------------------

  /** Visits every state-dict entry in PyTorch's order: (key, tensor, owning module, local name). */
  private visitState(prefix: string, fn: (key: string, t: Tensor, m: AnyModule, local: string) => void): void {
    for (const [k, t] of this._parameters) if (t) fn(prefix + k, t, this, k);
    for (const [k, t] of this._buffers) if (t && !this._nonPersistent.has(k)) fn(prefix + k, t, this, k);
    for (const [k, m] of this._modules) if (m) m.visitState(`${prefix}${k}.`, fn);
  }

  /**
   * The state dict: every parameter and persistent buffer by key, in PyTorch's
   * order. Values are detached tensors sharing the module's data (keepVars:
   * the tensors themselves).
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.visitState(opts.prefix ?? '', (k, t) => {
      const v = opts.keepVars ? t : t.detach();
      if (!opts.keepVars) v.name = t.name;
      out.set(k, v);
    });
    return out;
  }

  /** The checkpoint element type of every state-dict key (int64 for num_batches_tracked). */
  stateDictDtypes(prefix = ''): Map<string, CheckpointDType> {
    const out = new Map<string, CheckpointDType>();
    this.visitState(prefix, (k, t, m, local) => out.set(k, m._checkpointDtypes.get(local) ?? t.dtype));
    return out;
  }

  /**
   * Copies a state dict into this module's tensors in place (the tensor
   * objects stay the same, so an optimizer holding them keeps working).
   * Everything is checked before anything is copied: with strict (default),
   * missing or unexpected keys are an error; a shape mismatch always is.
   */
  loadStateDict(state: StateDictInput, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const own = new Map<string, Tensor>();
    this.visitState('', (k, t) => own.set(k, t));
    const missingKeys = [...own.keys()].filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing key(s): ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected key(s): ${unexpectedKeys.join(', ')}`);
    for (const [k, t] of own) {
      const v = src.get(k);
      if (v === undefined) continue;
      if (!v || !Array.isArray(v.shape) || !v.data) {
        problems.push(`${k}: value is not a tensor`);
        continue;
      }
      if ((v as { dtype?: unknown }).dtype === 'F16') {
        problems.push(`${k}: F16 data must be converted to float32 first (toFloat32)`);
        continue;
      }
      if (!sameShape(v.shape, t.shape)) {
        problems.push(`size mismatch for ${k}: checkpoint shape ${fmt(v.shape)}, model shape ${fmt(t.shape)}`);
      } else if (v.data.length !== t.numel) {
        problems.push(`${k}: ${v.data.length} values for shape ${fmt(t.shape)}`);
      }
    }
    if (problems.length) {
      throw new SparsetrainError('ERR_ARGUMENT', `loadStateDict: error(s) loading state dict into ${this.constructor.name}: ${problems.join('; ')}`);
    }
    for (const [k, t] of own) {
      const v = src.get(k);
      if (v === undefined) continue;
      copyInto(t, v.data);
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- modes, hooks, utilities ---------------------------------------------------------

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** fn(module, input) runs before forward; a returned value replaces the input (an array: the argument list). */
  registerForwardPreHook(fn: ForwardPreHook<this>): HookHandle {
    const id = nextHookId++;
    this._preHooks.set(id, fn);
    return { remove: () => { this._preHooks.delete(id); } };
  }
  /** fn(module, input, output) runs after forward; a returned value replaces the output. */
  registerForwardHook(fn: ForwardHook<this>): HookHandle {
    const id = nextHookId++;
    this._hooks.set(id, fn);
    return { remove: () => { this._hooks.delete(id); } };
  }

  /** Calls fn on every descendant (children first) and then on this module. */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Clears parameter gradients: to null (default, as PyTorch), or to zeros in place with setToNone false. */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (setToNone) p.grad = null;
      else if (p.grad.gradFn) p.grad = new Tensor(new Float32Array(p.numel), p.shape, 'float32');
      else p.grad.data.fill(0);
    }
  }

  /** Turns gradient tracking of every parameter on or off (freezing). */
  requiresGrad_(on = true): this {
    for (const p of this.parameters()) p.requiresGrad_(on);
    return this;
  }

  /** Number of parameter elements (onlyTrainable: those with requiresGrad). */
  numParameters(onlyTrainable = false): number {
    let n = 0;
    for (const p of this.parameters()) if (!onlyTrainable || p.requiresGrad) n += p.numel;
    return n;
  }

  /** A PyTorch-style printout of the module tree. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

/** Copies values into t's storage, converting numeric types (int64 as BigInt -> int32 included). */
function copyInto(t: Tensor, data: ArrayLike<number> | BigInt64Array): void {
  const dst = t.data;
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < data.length; i++) dst[i] = Number(data[i]);
  } else if (ArrayBuffer.isView(data)) {
    if (data !== dst) dst.set(data as ArrayLike<number>);
  } else {
    for (let i = 0; i < data.length; i++) dst[i] = data[i];
  }
}
