/**
 * CIFAR-10 and CIFAR-100, binary versions.
 *
 * CIFAR-10 (cifar-10-binary.tar.gz -> cifar-10-batches-bin/): data_batch_1..5.bin
 * (train) and test_batch.bin, records of 1 label byte + 3072 pixel bytes.
 * CIFAR-100 (cifar-100-binary.tar.gz -> cifar-100-binary/): train.bin and test.bin,
 * records of 2 label bytes (coarse, fine) + 3072 pixel bytes; we use the fine label.
 * Pixels are 1024 red, 1024 green, 1024 blue, each plane row-major 32x32: already
 * CHW. --data DIR may name the directory holding the .bin files or its parent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { ImageDataset, Normalization, Split } from './dataset';

export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
export const CIFAR100_NORMALIZATION: Normalization = { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR_PIXELS = 3 * 32 * 32;
const URL = 'https://www.cs.toronto.edu/~kriz/cifar.html';

export type CifarVariant = 'cifar10' | 'cifar100';

interface Layout {
  title: string;
  subdir: string;
  archive: string;
  train: string[];
  test: string[];
  labelBytes: number;
  /** Which label byte is the class. */
  labelByte: number;
  numClasses: number;
  normalization: Normalization;
}

const LAYOUTS: Record<CifarVariant, Layout> = {
  cifar10: {
    title: 'CIFAR-10',
    subdir: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    labelBytes: 1,
    labelByte: 0,
    numClasses: 10,
    normalization: CIFAR10_NORMALIZATION,
  },
  cifar100: {
    title: 'CIFAR-100',
    subdir: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    labelByte: 1, // [coarse, fine]
    numClasses: 100,
    normalization: CIFAR100_NORMALIZATION,
  },
};

/** The directory holding the .bin files: dataDir itself or dataDir/<subdir>. */
export function cifarDir(variant: CifarVariant, dataDir: string | undefined): string {
  const L = LAYOUTS[variant];
  const get = `download ${L.archive} (the binary version) from ${URL}, extract it and pass --data DIR`;
  if (!dataDir) throw new SparsetrainError('ERR_IO', `${variant}: no data directory given; ${get}`);
  if (!fs.existsSync(dataDir)) throw new SparsetrainError('ERR_IO', `${variant}: directory ${dataDir} does not exist; ${get}`);
  const probe = L.train[0];
  for (const d of [dataDir, path.join(dataDir, L.subdir)]) {
    if (fs.existsSync(path.join(d, probe))) return d;
  }
  const pyHint = [dataDir, path.join(dataDir, variant === 'cifar10' ? 'cifar-10-batches-py' : 'cifar-100-python')]
    .some((d) => fs.existsSync(path.join(d, variant === 'cifar10' ? 'data_batch_1' : 'train')))
    ? ' (found the Python pickle version; the binary version is needed)'
    : '';
  throw new SparsetrainError('ERR_IO', `${variant}: ${probe} not found in ${dataDir} or ${path.join(dataDir, L.subdir)}${pyHint}; ${get}`);
}

function recordSize(variant: CifarVariant): number {
  return LAYOUTS[variant].labelBytes + CIFAR_PIXELS;
}

function checkSize(size: number, file: string, variant: CifarVariant): number {
  const L = LAYOUTS[variant];
  const rec = recordSize(variant);
  if (size === 0 || size % rec !== 0) {
    throw new SparsetrainError('ERR_IO', `${file}: size ${size} bytes is not a positive multiple of the ${L.title} record size ${rec} (${L.labelBytes} label byte${L.labelBytes > 1 ? 's' : ''} + ${CIFAR_PIXELS} pixels); truncated or not a ${L.title} binary file`);
  }
  return size / rec;
}

/**
 * Parses the CIFAR binary records of one file into images [n, 3, 32, 32] and labels
 * [n], written from example `at` on (or into new arrays when none are given).
 */
export function parseCifarFile(
  bytes: Uint8Array, file: string, variant: CifarVariant,
  into?: { images: Uint8Array; labels: Uint8Array; at: number },
): { images: Uint8Array; labels: Uint8Array } {
  const L = LAYOUTS[variant];
  const rec = recordSize(variant);
  const n = checkSize(bytes.length, file, variant);
  const images = into?.images ?? new Uint8Array(n * CIFAR_PIXELS);
  const labels = into?.labels ?? new Uint8Array(n);
  const at = into?.at ?? 0;
  if (labels.length < at + n || images.length < (at + n) * CIFAR_PIXELS) {
    throw new SparsetrainError('ERR_ARGUMENT', `parseCifarFile: ${file} holds ${n} records, the destination has room for ${labels.length - at}`);
  }
  for (let i = 0; i < n; i++) {
    const off = i * rec;
    if (variant === 'cifar100' && bytes[off] >= 20) {
      throw new SparsetrainError('ERR_IO', `${file}: coarse label ${bytes[off]} of record ${i} is out of range, expected 0..19; not a CIFAR-100 binary file?`);
    }
    const y = bytes[off + L.labelByte];
    if (y >= L.numClasses) {
      throw new SparsetrainError('ERR_IO', `${file}: label ${y} of record ${i} is out of range, expected 0..${L.numClasses - 1}; not a ${L.title} binary file?`);
    }
    labels[at + i] = y;
    images.set(bytes.subarray(off + L.labelBytes, off + rec), (at + i) * CIFAR_PIXELS);
  }
  return { images, labels };
}

function readLabelNames(file: string): string[] | undefined {
  if (!fs.existsSync(file)) return undefined;
  const names = fs.readFileSync(file, 'utf8').split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
  return names;
}

export function loadCifar(variant: CifarVariant, split: Split, dataDir?: string): ImageDataset {
  const L = LAYOUTS[variant];
  const dir = cifarDir(variant, dataDir);
  const files = (split === 'train' ? L.train : L.test).map((name) => path.join(dir, name));
  const fail = (file: string, e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SparsetrainError('ERR_IO', `${file}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`}; expected the ${L.title} binary files ${[...L.train, ...L.test].join(', ')} in ${dir}`);
  };
  // Sizes first, so the pixels are allocated once and each file is read, parsed and dropped in turn.
  const counts = files.map((file) => {
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch (e) {
      fail(file, e);
    }
    return checkSize(size, file, variant);
  });
  const n = counts.reduce((a, c) => a + c, 0);
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  files.forEach((file, i) => {
    let buf: Buffer | undefined;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      fail(file, e);
    }
    parseCifarFile(new Uint8Array(buf!.buffer, buf!.byteOffset, buf!.byteLength), file, variant, { images, labels, at });
    at += counts[i];
  });
  let classNames = variant === 'cifar10' ? CIFAR10_CLASSES : readLabelNames(path.join(dir, 'fine_label_names.txt'));
  if (classNames && classNames.length !== L.numClasses) classNames = undefined;
  return new ImageDataset({
    name: variant,
    split,
    channels: 3,
    height: 32,
    width: 32,
    numClasses: L.numClasses,
    images,
    labels,
    normalization: L.normalization,
    classNames,
  });
}
