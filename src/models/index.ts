/**
 * The model zoo by name, as the CLI spells them (shared/reference/torch_models.py's build()).
 *
 *   const model = buildModel('resnet20', { numClasses: 10 });
 *   modelInfo('lenet5').inputShape  // [1, 28, 28]
 */
import { Generator } from '../tensor/random';
import { SparsetrainError } from '../errors';
import { Module } from '../nn/module';
import { LeNet300, LeNet5 } from './lenet';
import { SmallCNN, ActName } from './smallcnn';
import { VGG } from './vgg';
import { ResNetCifar } from './resnet';
import { WideResNet } from './wrn';

export { LeNet300, LeNet5 } from './lenet';
export type { LeNet300Options, LeNet5Options } from './lenet';
export { SmallCNN } from './smallcnn';
export type { SmallCNNOptions, ActName } from './smallcnn';
export { VGG, VGG_CFG } from './vgg';
export type { VGGOptions } from './vgg';
export { ResNetCifar, BasicBlock } from './resnet';
export type { ResNetCifarOptions } from './resnet';
export { WideResNet, WideBlock } from './wrn';
export type { WideResNetOptions } from './wrn';

export interface BuildOptions {
  /** Output classes (default 10). */
  numClasses?: number;
  /** Input channels (default: that of the model's dataset, see modelInfo().inputShape). */
  inChannels?: number;
  /** smallcnn, smallcnn-cifar: 'relu' (default) or 'tanh'. */
  act?: ActName;
  /** smallcnn, smallcnn-cifar: BatchNorm2d after each convolution. */
  batchNorm?: boolean;
  /** vgg*: channel multiplier (default 1). */
  width?: number;
  /** Source of the initial weights (default: the global generator). */
  generator?: Generator;
}

type OptionName = keyof BuildOptions;

export interface ModelInfo {
  name: string;
  /** Input shape of one example [C, H, W] with the default inChannels. */
  inputShape: [number, number, number];
  description: string;
  /** The options buildModel accepts for this model. */
  options: readonly OptionName[];
}

interface Entry extends ModelInfo {
  build(o: BuildOptions): Module;
}

const COMMON: OptionName[] = ['numClasses', 'inChannels', 'generator'];
const MNIST: [number, number, number] = [1, 28, 28];
const CIFAR: [number, number, number] = [3, 32, 32];

const ENTRIES: Entry[] = [
  {
    name: 'lenet300', inputShape: MNIST, options: COMMON,
    description: 'LeNet-300-100 MLP (Han et al. 2015), 266,610 parameters',
    build: (o) => new LeNet300({ numClasses: o.numClasses, inFeatures: o.inChannels === undefined ? undefined : o.inChannels * 28 * 28, generator: o.generator }),
  },
  {
    name: 'lenet5', inputShape: MNIST, options: COMMON,
    description: "Caffe's LeNet-5 (Han et al. 2015), no activation after the convolutions, 431,080 parameters",
    build: (o) => new LeNet5(o),
  },
  {
    name: 'smallcnn', inputShape: MNIST, options: [...COMMON, 'act', 'batchNorm'],
    description: "The thesis' small CNN for MNIST (conv 8, conv 16, fc 64), 20,522 parameters",
    build: (o) => new SmallCNN({ ...o, imageSize: 28 }),
  },
  {
    name: 'smallcnn-cifar', inputShape: CIFAR, options: [...COMMON, 'act', 'batchNorm'],
    description: "The thesis' small CNN for CIFAR-sized 3x32x32 inputs, 30,138 parameters",
    build: (o) => new SmallCNN({ ...o, inChannels: o.inChannels ?? 3, imageSize: 32 }),
  },
  ...([11, 16, 19] as const).map((d): Entry => ({
    name: `vgg${d}`, inputShape: CIFAR, options: [...COMMON, 'width'],
    description: `VGG-${d} with BatchNorm for 32x32 inputs, one Linear classifier`,
    build: (o) => new VGG(d, o),
  })),
  ...([20, 56, 110] as const).map((d): Entry => ({
    name: `resnet${d}`, inputShape: CIFAR, options: COMMON,
    description: `CIFAR ResNet-${d} (He et al. 2016), option A shortcuts`,
    build: (o) => new ResNetCifar(d, o),
  })),
  {
    name: 'wrn-28-2', inputShape: CIFAR, options: COMMON,
    description: 'Wide ResNet 28-2 (Zagoruyko & Komodakis 2016), pre-activation blocks',
    build: (o) => new WideResNet(28, 2, o),
  },
];

const BY_NAME = new Map(ENTRIES.map((e) => [e.name, e]));

/** Every zoo name, in a fixed order. */
export function modelNames(): string[] {
  return ENTRIES.map((e) => e.name);
}

function entry(name: string): Entry {
  const e = BY_NAME.get(name);
  if (!e) throw new SparsetrainError('ERR_ARGUMENT', `unknown model ${JSON.stringify(name)}; known models: ${modelNames().join(', ')}`);
  return e;
}

/** Input shape, description and accepted options of a zoo model. */
export function modelInfo(name: string): ModelInfo {
  const { build: _build, ...info } = entry(name);
  return { ...info, inputShape: [...info.inputShape] as [number, number, number] };
}

/** Input shape [C, H, W] of one example for this model (inChannels overrides C). */
export function inputShape(name: string, opts: { inChannels?: number } = {}): [number, number, number] {
  const s = modelInfo(name).inputShape;
  if (opts.inChannels !== undefined) s[0] = opts.inChannels;
  return s;
}

/** Builds a zoo model; an option the model does not take (other than undefined) is an error. */
export function buildModel(name: string, opts: BuildOptions = {}): Module {
  const e = entry(name);
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    if (!(e.options as string[]).includes(k)) {
      throw new SparsetrainError('ERR_ARGUMENT', `buildModel("${name}"): option ${k} is not supported; ${name} takes: ${e.options.join(', ')}`);
    }
  }
  if (opts.numClasses !== undefined && !(Number.isInteger(opts.numClasses) && opts.numClasses >= 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `buildModel("${name}"): numClasses must be a positive integer, got ${opts.numClasses}`);
  }
  if (opts.inChannels !== undefined && !(Number.isInteger(opts.inChannels) && opts.inChannels >= 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `buildModel("${name}"): inChannels must be a positive integer, got ${opts.inChannels}`);
  }
  if (opts.act !== undefined && opts.act !== 'relu' && opts.act !== 'tanh') {
    throw new SparsetrainError('ERR_ARGUMENT', `buildModel("${name}"): act must be 'relu' or 'tanh', got ${JSON.stringify(opts.act)}`);
  }
  return e.build(opts);
}
