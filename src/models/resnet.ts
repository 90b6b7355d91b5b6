/**
 * CIFAR ResNet-{20,32,44,56,110} (He et al. 2016), as shared/reference/torch_models.py:
 * depth = 6n + 2, stages of 16/32/64 channels, option A shortcuts (a
 * parameter-free identity that subsamples by 2 and zero-pads channels when
 * the shape changes). Keys conv1, bn1, layer{1,2,3}.<i>.{conv1,bn1,conv2,bn2}, fc.
 */
import { Tensor } from '../tensor/tensor';
import { Generator } from '../tensor/random';
import { adaptiveAvgPool2d } from '../ops/pool';
import { flatten, pad, slice } from '../ops/shape';
import { SparsetrainError } from '../errors';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import { BatchNorm2d } from '../nn/layers/batchnorm';
import { Sequential } from '../nn/layers/container';

export class BasicBlock extends Module {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare conv2: Conv2d;
  declare bn2: BatchNorm2d;
  /** Zero channels added to the shortcut (cout - cin). */
  readonly padChannels: number;
  readonly stride: number;

  constructor(cin: number, cout: number, stride: number, generator?: Generator) {
    super();
    if (cout < cin) throw new SparsetrainError('ERR_ARGUMENT', `BasicBlock: option A shortcut needs cout >= cin, got ${cin} -> ${cout}`);
    this.registerModule('conv1', new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, generator }));
    this.registerModule('bn1', new BatchNorm2d(cout));
    this.registerModule('conv2', new Conv2d(cout, cout, 3, { stride: 1, padding: 1, bias: false, generator }));
    this.registerModule('bn2', new BatchNorm2d(cout));
    this.padChannels = cout - cin;
    this.stride = stride;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn1.callRelu(this.conv1.call(x));
    const main = this.conv2.call(out);
    let sc = x;
    if (this.stride !== 1 || this.padChannels) {
      sc = slice(slice(x, 2, 0, undefined, this.stride), 3, 0, undefined, this.stride);
      const p = this.padChannels;
      sc = pad(sc, [0, 0, 0, 0, p >> 1, p - (p >> 1)]);
    }
    return this.bn2.callAddRelu(main, sc); // relu(bn2(main) + sc), fused
  }
}

export interface ResNetCifarOptions {
  numClasses?: number;
  inChannels?: number;
  generator?: Generator;
}

export class ResNetCifar extends Module {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare layer1: Sequential;
  declare layer2: Sequential;
  declare layer3: Sequential;
  declare fc: Linear;

  constructor(depth = 20, o: ResNetCifarOptions = {}) {
    super();
    if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
      throw new SparsetrainError('ERR_ARGUMENT', `ResNetCifar: depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110, ...), got ${depth}`);
    }
    const n = (depth - 2) / 6;
    const generator = o.generator;
    this.registerModule('conv1', new Conv2d(o.inChannels ?? 3, 16, 3, { stride: 1, padding: 1, bias: false, generator }));
    this.registerModule('bn1', new BatchNorm2d(16));
    let c = 16;
    [16, 32, 64].forEach((w, i) => {
      const blocks: BasicBlock[] = [];
      for (let j = 0; j < n; j++) {
        blocks.push(new BasicBlock(c, w, i > 0 && j === 0 ? 2 : 1, generator));
        c = w;
      }
      this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.registerModule('fc', new Linear(64, o.numClasses ?? 10, { generator }));
  }

  forward(x: Tensor): Tensor {
    let h = this.bn1.callRelu(this.conv1.call(x));
    h = this.layer3.call(this.layer2.call(this.layer1.call(h)));
    return this.fc.call(flatten(adaptiveAvgPool2d(h, 1), 1));
  }
}
