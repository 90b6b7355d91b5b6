/**
 * Wide ResNet WRN-depth-k for CIFAR (Zagoruyko & Komodakis 2016), as
 * shared/reference/torch_models.py: depth = 6n + 4, pre-activation blocks with
 * a 1x1 convolution shortcut (key shortcut) when the shape changes. Keys
 * conv1, block{1,2,3}.<i>.{bn1,conv1,bn2,conv2[,shortcut]}, bn, fc.
 */
import { Tensor } from '../tensor/tensor';
import { Generator } from '../tensor/random';
import { relu } from '../ops/activation';
import { adaptiveAvgPool2d } from '../ops/pool';
import { flatten } from '../ops/shape';
import { SparsetrainError } from '../errors';
import { Module } from '../nn/module';
import { Linear } from '../nn/layers/linear';
import { Conv2d } from '../nn/layers/conv';
import { BatchNorm2d } from '../nn/layers/batchnorm';
import { Sequential } from '../nn/layers/container';

export class WideBlock extends Module {
  declare bn1: BatchNorm2d;
  declare conv1: Conv2d;
  declare bn2: BatchNorm2d;
  declare conv2: Conv2d;
  /** Only when the shape changes (otherwise the identity, as PyTorch's None). */
  declare shortcut?: Conv2d;

  constructor(cin: number, cout: number, stride: number, generator?: Generator) {
    super();
    this.registerModule('bn1', new BatchNorm2d(cin));
    this.registerModule('conv1', new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, generator }));
    this.registerModule('bn2', new BatchNorm2d(cout));
    this.registerModule('conv2', new Conv2d(cout, cout, 3, { stride: 1, padding: 1, bias: false, generator }));
    if (stride !== 1 || cin !== cout) {
      this.registerModule('shortcut', new Conv2d(cin, cout, 1, { stride, padding: 0, bias: false, generator }));
    }
  }

  forward(x: Tensor): Tensor {
    const o = this.bn1.callRelu(x);
    const sc = this.shortcut ? this.shortcut.call(o) : x;
    const h = this.conv2.call(this.bn2.callRelu(this.conv1.call(o)));
    return h.add(sc);
  }
}

export interface WideResNetOptions {
  numClasses?: number;
  inChannels?: number;
  generator?: Generator;
}

export class WideResNet extends Module {
  declare conv1: Conv2d;
  declare block1: Sequential;
  declare block2: Sequential;
  declare block3: Sequential;
  declare bn: BatchNorm2d;
  declare fc: Linear;

  constructor(depth = 28, widen = 2, o: WideResNetOptions = {}) {
    super();
    if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
      throw new SparsetrainError('ERR_ARGUMENT', `WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got ${depth}`);
    }
    if (!Number.isInteger(widen) || widen < 1) throw new SparsetrainError('ERR_ARGUMENT', `WideResNet: widen must be a positive integer, got ${widen}`);
    const n = (depth - 4) / 6;
    const generator = o.generator;
    this.registerModule('conv1', new Conv2d(o.inChannels ?? 3, 16, 3, { stride: 1, padding: 1, bias: false, generator }));
    let c = 16;
    [16 * widen, 32 * widen, 64 * widen].forEach((w, i) => {
      const blocks: WideBlock[] = [];
      for (let j = 0; j < n; j++) {
        blocks.push(new WideBlock(c, w, i > 0 && j === 0 ? 2 : 1, generator));
        c = w;
      }
      this.registerModule(`block${i + 1}`, new Sequential(...blocks));
    });
    this.registerModule('bn', new BatchNorm2d(c));
    this.registerModule('fc', new Linear(c, o.numClasses ?? 10, { generator }));
  }

  forward(x: Tensor): Tensor {
    const h = this.block3.call(this.block2.call(this.block1.call(this.conv1.call(x))));
    return this.fc.call(flatten(adaptiveAvgPool2d(this.bn.callRelu(h), 1), 1));
  }
}
