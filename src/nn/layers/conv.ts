/** Conv2d, as torch.nn.Conv2d (zero padding): weight [out, in/groups, kh, kw], bias [out]. */
import { Tensor } from '../../tensor/tensor';
import { Generator, defaultGenerator } from '../../tensor/random';
import { conv2d } from '../../ops/conv';
import { pad } from '../../ops/shape';
import { SparsetrainError } from '../../errors';
import { Module, parameter } from '../module';
import { resetWeightAndBias } from './linear';

type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** A size per side, or 'valid' (none) or 'same' (output size = input size; stride 1 only). */
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

function pairOf(layer: string, what: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!(Array.isArray(v) ? v.length === 2 : true) || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new SparsetrainError('ERR_ARGUMENT', `${layer}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

export class Conv2d extends Module {
  declare weight: Tensor;
  declare bias: Tensor | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;
  /** Explicit [left, right, top, bottom] padding when 'same' needs an uneven split (as PyTorch). */
  private readonly samePads: [number, number, number, number] | null = null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    const L = 'Conv2d';
    for (const [what, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as [string, number][]) {
      if (!Number.isInteger(v) || v < 1) throw new SparsetrainError('ERR_ARGUMENT', `${L}: ${what} must be a positive integer, got ${v}`);
    }
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw new SparsetrainError('ERR_ARGUMENT', `${L}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0) throw new SparsetrainError('ERR_ARGUMENT', `${L}: inChannels ${inChannels} must be divisible by groups ${groups}`);
    if (outChannels % groups !== 0) throw new SparsetrainError('ERR_ARGUMENT', `${L}: outChannels ${outChannels} must be divisible by groups ${groups}`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernelSize = pairOf(L, 'kernelSize', kernelSize, 1);
    this.stride = pairOf(L, 'stride', opts.stride ?? 1, 1);
    this.dilation = pairOf(L, 'dilation', opts.dilation ?? 1, 1);
    const p = opts.padding ?? 0;
    if (p === 'valid' || p === 'same') {
      this.padding = p;
      if (p === 'same') {
        if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new SparsetrainError('ERR_ARGUMENT', `${L}: padding 'same' is not supported for strided convolutions`);
        const tot = [0, 1].map((i) => this.dilation[i] * (this.kernelSize[i] - 1));
        if (tot.some((t) => t % 2 !== 0)) {
          // PyTorch puts the extra row/column on the bottom/right.
          this.samePads = [tot[1] >> 1, tot[1] - (tot[1] >> 1), tot[0] >> 1, tot[0] - (tot[0] >> 1)];
        }
      }
    } else {
      this.padding = pairOf(L, 'padding', p, 0);
    }
    const [kh, kw] = this.kernelSize;
    this.registerParameter('weight', parameter(Tensor.empty([outChannels, inChannels / groups, kh, kw])));
    this.registerParameter('bias', (opts.bias ?? true) ? parameter(Tensor.empty([outChannels])) : null);
    this.resetParameters(opts.generator);
  }

  resetParameters(generator: Generator = defaultGenerator()): void {
    resetWeightAndBias(this.weight, this.bias, generator);
  }

  /** The symmetric padding passed to the convolution. */
  private convPadding(): [number, number] {
    if (this.padding === 'valid' || this.samePads) return [0, 0];
    if (this.padding === 'same') return [0, 1].map((i) => (this.dilation[i] * (this.kernelSize[i] - 1)) / 2) as [number, number];
    return this.padding;
  }

  forward(x: Tensor): Tensor {
    const input = this.samePads ? pad(x, this.samePads) : x;
    return conv2d(input, this.weight, this.bias, { stride: this.stride, padding: this.convPadding(), dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=[${this.kernelSize}]`, `stride=[${this.stride}]`];
    parts.push(`padding=${typeof this.padding === 'string' ? this.padding : `[${this.padding}]`}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}
