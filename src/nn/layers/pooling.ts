/** 2-d pooling layers over [N, C, H, W], as torch.nn.MaxPool2d / AvgPool2d / AdaptiveAvgPool2d. */
import { Tensor } from '../../tensor/tensor';
import { maxPool2d, avgPool2d, adaptiveAvgPool2d } from '../../ops/pool';
import { SparsetrainError } from '../../errors';
import { Module } from '../module';

type Pair = number | [number, number];

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Padding zeros count in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

export class MaxPool2d extends Module {
  readonly kernelSize: Pair;
  readonly opts: Readonly<MaxPool2dOptions>;
  constructor(kernelSize: Pair, opts: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.opts = { ...opts };
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    const o = this.opts;
    return `kernelSize=${this.kernelSize}, stride=${o.stride ?? this.kernelSize}, padding=${o.padding ?? 0}, dilation=${o.dilation ?? 1}, ceilMode=${!!o.ceilMode}`;
  }
}

export class AvgPool2d extends Module {
  readonly kernelSize: Pair;
  readonly opts: Readonly<AvgPool2dOptions>;
  constructor(kernelSize: Pair, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.opts = { ...opts };
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    const o = this.opts;
    return `kernelSize=${this.kernelSize}, stride=${o.stride ?? this.kernelSize}, padding=${o.padding ?? 0}, ceilMode=${!!o.ceilMode}, countIncludePad=${o.countIncludePad ?? true}`;
  }
}

/** Average pooling to a fixed output size (a number: square). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: Pair;
  constructor(outputSize: Pair) {
    super();
    const s = typeof outputSize === 'number' ? [outputSize] : outputSize;
    if (!s.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new SparsetrainError('ERR_ARGUMENT', `AdaptiveAvgPool2d: output size must be positive integers, got ${JSON.stringify(outputSize)}`);
    }
    this.outputSize = outputSize;
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}
