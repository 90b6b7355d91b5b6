/** Sequential and ModuleList: ordered containers of modules. */
import { Tensor } from '../../tensor/tensor';
import { SparsetrainError } from '../../errors';
import { Module } from '../module';
import { BatchNormBase } from './batchnorm';
import { ReLU } from './activation';

type AnyModule = Module<any[], any>;

function indexIn(what: string, i: number, n: number): number {
  if (!Number.isInteger(i) || i < -n || i >= n) throw new SparsetrainError('ERR_ARGUMENT', `${what}: index ${i} is out of range for ${n} modules`);
  return i < 0 ? i + n : i;
}

/**
 * Runs its children in order, each on the previous one's output. Children are
 * named "0", "1", ... (state-dict keys "0.weight", ...), or by the keys of a
 * Map / record given to the constructor. Indexable: seq.at(-1), seq[0]
 * (through the registered accessors), iterable, and with length.
 * A BatchNorm child followed by a plain ReLU child runs as one fused op
 * (BatchNormBase.callRelu); both children's hooks still run or disable it.
 */
export class Sequential extends Module<[Tensor], Tensor> implements Iterable<AnyModule> {
  [index: number]: AnyModule;

  constructor(...modules: AnyModule[] | [Map<string, AnyModule> | Record<string, AnyModule>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && !(first instanceof Module)) {
      const entries = first instanceof Map ? [...first] : Object.entries(first as Record<string, AnyModule>);
      for (const [k, m] of entries) this.registerModule(k, m);
    } else {
      (modules as AnyModule[]).forEach((m, i) => this.registerModule(String(i), m));
    }
  }

  get length(): number {
    return this.moduleEntries().length;
  }

  /** The i-th module (negative counts from the end); the type argument is a cast for convenience. */
  at<M extends AnyModule = AnyModule>(i: number): M {
    const kids = this.moduleEntries();
    return kids[indexIn('Sequential.at', i, kids.length)][1] as M;
  }

  /** Appends a module under the next free index name. */
  append(m: AnyModule): this {
    this.registerModule(String(this.length), m);
    return this;
  }

  /** A new Sequential of modules start..end (exclusive), keeping their names (as PyTorch's seq[a:b]). */
  slice(start = 0, end?: number): Sequential {
    return new Sequential(new Map(this.moduleEntries().slice(start, end)));
  }

  [Symbol.iterator](): Iterator<AnyModule> {
    return this.moduleEntries().map(([, m]) => m)[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    const mods = [...this.moduleEntries()].map(([, m]) => m);
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i];
      const next = mods[i + 1];
      // BatchNorm followed by a plain ReLU (VGG with batch norm): one fused op, unless the ReLU has hooks
      // or its forward was replaced (the same rule callRelu applies to the BatchNorm).
      if (m instanceof BatchNormBase && next instanceof ReLU && next.constructor === ReLU && !next.hasForwardHooks() && next.forward === ReLU.prototype.forward) {
        x = m.callRelu(x);
        i++;
      } else {
        x = m.call(x);
      }
    }
    return x;
  }
}

/** A list of modules registered as "0", "1", ...; it holds modules but has no forward of its own. */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> implements Iterable<M> {
  [index: number]: M;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return this.moduleEntries().length;
  }

  at(i: number): M {
    const kids = this.moduleEntries();
    return kids[indexIn('ModuleList.at', i, kids.length)][1] as M;
  }

  append(m: M): this {
    this.registerModule(String(this.length), m);
    return this;
  }

  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.moduleEntries().map(([, m]) => m as M)[Symbol.iterator]();
  }

  forward(): never {
    throw new SparsetrainError('ERR_ARGUMENT', 'ModuleList has no forward; iterate over it and call its modules');
  }
}
