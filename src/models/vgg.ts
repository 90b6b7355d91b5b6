/**
 * VGG for 32x32 inputs (seed 000's VGG19), as shared/reference/torch_models.py:
 * per cfg entry a 3x3 conv (padding 1) + BatchNorm2d + ReLU, 2x2 max-pooling
 * at 'M', then one Linear classifier. Keys features.<i>.*, classifier.*.
 */
import { Tensor } from '../tensor/tensor';
import { Generator } from '../tensor/random';
import { flatten } from '../ops/shape';
import { SparsetrainError } from '../errors';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import { BatchNorm2d } from '../nn/layers/batchnorm';
import { ReLU } from '../nn/layers/activation';
import { MaxPool2d } from '../nn/layers/pooling';
import { Sequential } from '../nn/layers/container';

export const VGG_CFG: Record<11 | 16 | 19, readonly (number | 'M')[]> = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

export interface VGGOptions {
  numClasses?: number;
  inChannels?: number;
  /** Channel multiplier: each conv has trunc(v * width) filters. */
  width?: number;
  generator?: Generator;
}

export class VGG extends Module {
  declare features: Sequential;
  declare classifier: Linear;
  constructor(depth: 11 | 16 | 19 = 19, o: VGGOptions = {}) {
    super();
    const cfg = VGG_CFG[depth];
    if (!cfg) throw new SparsetrainError('ERR_ARGUMENT', `VGG: depth must be 11, 16 or 19, got ${depth}`);
    const width = o.width ?? 1;
    if (!(width > 0) || Math.trunc(64 * width) < 1) throw new SparsetrainError('ERR_ARGUMENT', `VGG: width must leave at least one channel per layer, got ${o.width}`);
    const g = { generator: o.generator };
    const layers: Module[] = [];
    let c = o.inChannels ?? 3;
    for (const v of cfg) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2));
      } else {
        const w = Math.trunc(v * width);
        layers.push(new Conv2d(c, w, 3, { padding: 1, ...g }), new BatchNorm2d(w), new ReLU());
        c = w;
      }
    }
    this.registerModule('features', new Sequential(...layers));
    this.registerModule('classifier', new Linear(c, o.numClasses ?? 10, g));
  }
  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(this.features.call(x), 1));
  }
}
