/**
 * An image classification dataset held in memory as uint8 pixels: 60000 MNIST
 * images are 47 MB, 50000 CIFAR images 154 MB. Pixels are normalised to float32
 * only per batch, by the loader.
 */
import { SparsetrainError } from '../errors';

/** Per-channel normalisation: x = (pixel/255 - mean[c]) / std[c]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export type Split = 'train' | 'test';

export interface ImageDatasetInit {
  name: string;
  split: Split;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** [N, C, H, W] pixels, channel planes per image (CHW). */
  images: Uint8Array;
  labels: Uint8Array | Int32Array;
  normalization: Normalization;
  classNames?: string[];
}

export class ImageDataset {
  readonly name: string;
  readonly split: Split;
  readonly length: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly normalization: Normalization;
  readonly classNames?: string[];

  constructor(init: ImageDatasetInit) {
    const { channels: C, height: H, width: W } = init;
    for (const [k, v] of [['channels', C], ['height', H], ['width', W], ['numClasses', init.numClasses]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new SparsetrainError('ERR_ARGUMENT', `ImageDataset ${init.name}: ${k} must be a positive integer, got ${v}`);
    }
    const n = init.labels.length;
    if (init.images.length !== n * C * H * W) {
      throw new SparsetrainError('ERR_ARGUMENT', `ImageDataset ${init.name}: ${init.images.length} pixel bytes for ${n} labels, expected ${n} x ${C} x ${H} x ${W} = ${n * C * H * W}`);
    }
    const { mean, std } = init.normalization;
    if (mean.length !== C || std.length !== C) {
      throw new SparsetrainError('ERR_ARGUMENT', `ImageDataset ${init.name}: normalization needs ${C} means and stds, got ${mean.length} and ${std.length}`);
    }
    if (std.some((s) => !(s > 0)) || mean.some((m) => !Number.isFinite(m))) {
      throw new SparsetrainError('ERR_ARGUMENT', `ImageDataset ${init.name}: normalization means must be finite and stds positive, got mean [${mean}], std [${std}]`);
    }
    const labels = init.labels instanceof Int32Array ? init.labels : Int32Array.from(init.labels);
    for (let i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= init.numClasses) {
        throw new SparsetrainError('ERR_ARGUMENT', `ImageDataset ${init.name}: label ${labels[i]} at index ${i} is out of range 0..${init.numClasses - 1}`);
      }
    }
    this.name = init.name;
    this.split = init.split;
    this.length = n;
    this.channels = C;
    this.height = H;
    this.width = W;
    this.numClasses = init.numClasses;
    this.images = init.images;
    this.labels = labels;
    this.normalization = { mean: [...mean], std: [...std] };
    this.classNames = init.classNames;
  }

  /** Bytes per image, C*H*W. */
  get sampleSize(): number {
    return this.channels * this.height * this.width;
  }

  /** [C, H, W]. */
  get shape(): [number, number, number] {
    return [this.channels, this.height, this.width];
  }

  /** The raw pixels of example i, [C, H, W] (a view, no copy). */
  image(i: number): Uint8Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new SparsetrainError('ERR_ARGUMENT', `${this.name}: example index ${i} out of range 0..${this.length - 1}`);
    const s = this.sampleSize;
    return this.images.subarray(i * s, (i + 1) * s);
  }
}
