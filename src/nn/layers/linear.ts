/** Linear: y = x W^T + b, W [out, in], as torch.nn.Linear. */
import { Tensor } from '../../tensor/tensor';
import { Generator, defaultGenerator } from '../../tensor/random';
import { linear } from '../../ops/linalg';
import { SparsetrainError } from '../../errors';
import { Module, parameter } from '../module';
import * as init from '../init';

export interface LinearOptions {
  bias?: boolean;
  /** Source of the initial values (default: the global generator). */
  generator?: Generator;
}

const checkSize = (layer: string, what: string, v: number): void => {
  if (!Number.isInteger(v) || v < 0) throw new SparsetrainError('ERR_ARGUMENT', `${layer}: ${what} must be a non-negative integer, got ${v}`);
};

/**
 * PyTorch's default initialisation of a weight and its bias:
 * W ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
export function resetWeightAndBias(weight: Tensor, bias: Tensor | null, generator: Generator): void {
  init.kaimingUniform(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const fi = init.fanIn(weight);
    const bound = fi > 0 ? 1 / Math.sqrt(fi) : 0;
    init.uniform(bias, -bound, bound, generator);
  }
}

export class Linear extends Module {
  declare weight: Tensor;
  declare bias: Tensor | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', parameter(Tensor.empty([outFeatures, inFeatures])));
    this.registerParameter('bias', (opts.bias ?? true) ? parameter(Tensor.empty([outFeatures])) : null);
    this.resetParameters(opts.generator);
  }

  resetParameters(generator: Generator = defaultGenerator()): void {
    resetWeightAndBias(this.weight, this.bias, generator);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
