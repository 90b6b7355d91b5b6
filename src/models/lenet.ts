/** LeNet-300-100 and Caffe's LeNet-5 (Han et al. 2015), as shared/reference/torch_models.py. */
import { Tensor } from '../tensor/tensor';
import { Generator } from '../tensor/random';
import { relu } from '../ops/activation';
import { maxPool2d } from '../ops/pool';
import { flatten } from '../ops/shape';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';

export interface LeNet300Options {
  numClasses?: number;
  inFeatures?: number;
  generator?: Generator;
}

/** fc1 (784->300) relu fc2 (300->100) relu fc3: 266,610 parameters. Keys fc{1,2,3}.{weight,bias}. */
export class LeNet300 extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  declare fc3: Linear;
  constructor(o: LeNet300Options = {}) {
    super();
    const g = { generator: o.generator };
    this.registerModule('fc1', new Linear(o.inFeatures ?? 784, 300, g));
    this.registerModule('fc2', new Linear(300, 100, g));
    this.registerModule('fc3', new Linear(100, o.numClasses ?? 10, g));
  }
  forward(x: Tensor): Tensor {
    const h = relu(this.fc1.call(flatten(x, 1)));
    return this.fc3.call(relu(this.fc2.call(h)));
  }
}

export interface LeNet5Options {
  numClasses?: number;
  inChannels?: number;
  generator?: Generator;
}

/**
 * conv1 (20 5x5) maxpool conv2 (50 5x5) maxpool fc1 (800->500) relu fc2:
 * 431,080 parameters. No non-linearity after the convolutions (Caffe's lenet).
 */
export class LeNet5 extends Module {
  declare conv1: Conv2d;
  declare conv2: Conv2d;
  declare fc1: Linear;
  declare fc2: Linear;
  constructor(o: LeNet5Options = {}) {
    super();
    const g = { generator: o.generator };
    this.registerModule('conv1', new Conv2d(o.inChannels ?? 1, 20, 5, g));
    this.registerModule('conv2', new Conv2d(20, 50, 5, g));
    this.registerModule('fc1', new Linear(800, 500, g));
    this.registerModule('fc2', new Linear(500, o.numClasses ?? 10, g));
  }
  forward(x: Tensor): Tensor {
    let h = maxPool2d(this.conv1.call(x), 2);
    h = maxPool2d(this.conv2.call(h), 2);
    return this.fc2.call(relu(this.fc1.call(flatten(h, 1))));
  }
}
