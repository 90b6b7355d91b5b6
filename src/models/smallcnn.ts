/**
 * The thesis' small CNN (seed 001, Appendix C), as shared/reference/torch_models.py:
 * conv1 (8 5x5) [bn1] maxpool act, conv2 (16 5x5) [bn2] maxpool act, fc1 (->64) act, fc2.
 * MNIST 1x28x28: 20,522 parameters; CIFAR 3x32x32: fc1 takes 400 inputs.
 * Registration order (and so state-dict order): conv1, conv2, bn1, bn2, fc1, fc2, act.
 */
import { Tensor } from '../tensor/tensor';
import { Generator } from '../tensor/random';
import { maxPool2d } from '../ops/pool';
import { flatten } from '../ops/shape';
import { SparsetrainError } from '../errors';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import { BatchNorm2d } from '../nn/layers/batchnorm';
import { ReLU, Tanh } from '../nn/layers/activation';

export type ActName = 'relu' | 'tanh';

export interface SmallCNNOptions {
  numClasses?: number;
  inChannels?: number;
  imageSize?: number;
  act?: ActName;
  /** BatchNorm2d after each convolution (keys bn1.*, bn2.*). */
  batchNorm?: boolean;
  generator?: Generator;
}

export function activation(name: ActName): ReLU | Tanh {
  if (name === 'relu') return new ReLU();
  if (name === 'tanh') return new Tanh();
  throw new SparsetrainError('ERR_ARGUMENT', `unknown activation ${JSON.stringify(name)}; expected 'relu' or 'tanh'`);
}

export class SmallCNN extends Module {
  declare conv1: Conv2d;
  declare conv2: Conv2d;
  /** Only with batchNorm (otherwise not registered, as PyTorch's None attribute). */
  declare bn1?: BatchNorm2d;
  declare bn2?: BatchNorm2d;
  declare fc1: Linear;
  declare fc2: Linear;
  declare act: ReLU | Tanh;

  constructor(o: SmallCNNOptions = {}) {
    super();
    const g = { generator: o.generator };
    const size = o.imageSize ?? 28;
    const side = Math.floor((Math.floor((size - 4) / 2) - 4) / 2);
    if (!Number.isInteger(size) || side < 1) throw new SparsetrainError('ERR_ARGUMENT', `SmallCNN: imageSize must be an integer >= 16, got ${o.imageSize}`);
    const act = activation(o.act ?? 'relu');
    this.registerModule('conv1', new Conv2d(o.inChannels ?? 1, 8, 5, g));
    this.registerModule('conv2', new Conv2d(8, 16, 5, g));
    if (o.batchNorm) {
      this.registerModule('bn1', new BatchNorm2d(8));
      this.registerModule('bn2', new BatchNorm2d(16));
    }
    this.registerModule('fc1', new Linear(16 * side * side, 64, g));
    this.registerModule('fc2', new Linear(64, o.numClasses ?? 10, g));
    this.registerModule('act', act);
  }

  forward(x: Tensor): Tensor {
    let h = this.conv1.call(x);
    if (this.bn1) h = this.bn1.call(h);
    h = this.act.call(maxPool2d(h, 2));
    h = this.conv2.call(h);
    if (this.bn2) h = this.bn2.call(h);
    h = this.act.call(maxPool2d(h, 2));
    return this.fc2.call(this.act.call(this.fc1.call(flatten(h, 1))));
  }
}
