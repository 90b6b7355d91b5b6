/** Dropout (inverted): in training mode zeroes each element with probability p and scales the rest by 1/(1-p). */
import { Tensor } from '../../tensor/tensor';
import { Generator, defaultGenerator } from '../../tensor/random';
import { dropout } from '../../ops/activation';
import { SparsetrainError } from '../../errors';
import { Module } from '../module';

let moduleGenerator: Generator | null = null;

/**
 * Sets the generator every Dropout without a generator of its own draws from
 * (null: back to the global generator), e.g. to make dropout reproducible
 * independently of other random draws.
 */
export function setDropoutGenerator(g: Generator | null): void {
  moduleGenerator = g;
}
export function getDropoutGenerator(): Generator {
  return moduleGenerator ?? defaultGenerator();
}

export interface DropoutOptions {
  /** Source of the masks; settable later through `.generator` (null: the global generator). */
  generator?: Generator | null;
}

export class Dropout extends Module {
  readonly p: number;
  /** The generator the masks are drawn from; null: setDropoutGenerator's, else the global one, at each call. */
  generator: Generator | null;
  constructor(p = 0.5, opts: DropoutOptions = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new SparsetrainError('ERR_ARGUMENT', `Dropout: probability must be in [0, 1], got ${p}`);
    this.p = p;
    this.generator = opts.generator ?? null;
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator ?? getDropoutGenerator());
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
