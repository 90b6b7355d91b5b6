/** Element-wise activation layers (no parameters). */
import { Tensor } from '../../tensor/tensor';
import { relu, tanh, sigmoid, leakyRelu } from '../../ops/activation';
import { SparsetrainError } from '../../errors';
import { Module } from '../module';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** max(0, x) + negativeSlope * min(0, x). */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    if (!Number.isFinite(negativeSlope)) throw new SparsetrainError('ERR_ARGUMENT', `LeakyReLU: negativeSlope must be a finite number, got ${negativeSlope}`);
    this.negativeSlope = negativeSlope;
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}
