/**
 * Seeded random generators. A Generator owns a xoshiro128** state
 * (Uint32Array(4)) that the backend's rng kernels advance in place, so the
 * state can be saved in a checkpoint and restored for an identical resume.
 */
import { backend } from '../backend';
import { SparsetrainError } from '../errors';

export class Generator {
  readonly state = new Uint32Array(4);
  constructor(seed = 0) {
    this.manualSeed(seed);
  }
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) throw new SparsetrainError('ERR_ARGUMENT', `manualSeed: seed must be a finite number, got ${seed}`);
    backend().rngSeed(this.state, seed);
    return this;
  }
  getState(): number[] {
    return Array.from(this.state);
  }
  setState(s: ArrayLike<number>): void {
    if (s.length !== 4) throw new SparsetrainError('ERR_ARGUMENT', `Generator.setState: expected 4 words, got ${s.length}`);
    this.state.set(Array.from(s, (v) => v >>> 0));
    if (this.state.every((v) => v === 0)) throw new SparsetrainError('ERR_ARGUMENT', 'Generator.setState: the all-zero state is invalid');
  }
}

let global: Generator | null = null;

/** The process-wide generator used when an op is not given one. */
export function defaultGenerator(): Generator {
  if (!global) global = new Generator(0);
  return global;
}

/** Seeds the default generator (torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator().manualSeed(seed);
}
