/**
 * Training-time augmentation, fused with the gather and normalisation of a batch.
 *
 * RandomCropFlip is torchvision's CIFAR recipe
 *   RandomCrop(size, padding=p) -> RandomHorizontalFlip(0.5) -> ToTensor -> Normalize.
 * The padding is applied to the raw image with pixel value 0, before
 * normalisation (as torchvision does: RandomCrop pads the PIL image), so a padded
 * cell comes out as (0 - mean[c]) / std[c], not 0.
 *
 * With crop offsets (dy, dx) in [0, 2p] and flip f in {0, 1}, output pixel (y, x)
 * of an H x W image is the padded image at (y + dy, x' + dx) with
 * x' = f ? W-1-x : x, i.e. the source pixel (y + dy - p, x' + dx - p), or 0 when
 * that is outside the image. (The output size equals the input size.)
 */
import type { Generator } from '../tensor/random';
import { backend } from '../backend';
import { SparsetrainError } from '../errors';

/** A hook that writes a batch of normalised (and augmented) images. */
export interface Augmentation {
  readonly name: string;
  /**
   * out[b] (each [C, H, W]) = augmented, normalised images[index[b]] for b < count,
   * with the random choices drawn from gen (same gen state, same output).
   * lut is the per-channel uint8 -> float table (normalize.ts).
   */
  apply(
    images: Uint8Array, rows: number, C: number, H: number, W: number,
    index: ArrayLike<number>, count: number, lut: Float32Array, out: Float32Array, gen: Generator,
  ): void;
}

export class RandomCropFlip implements Augmentation {
  readonly name: string;
  constructor(readonly padding = 4, readonly flip = true) {
    if (!Number.isInteger(padding) || padding < 0) throw new SparsetrainError('ERR_ARGUMENT', `RandomCropFlip: padding must be a non-negative integer, got ${padding}`);
    this.name = `random-crop(pad ${padding})${flip ? '+hflip' : ''}`;
  }

  /**
   * Draws the parameters of count samples: Int32Array(3*count) holding, per
   * sample, [dy, dx, flip]. Offsets first (one rngInt call of 2*count values in
   * [0, 2p]), then flips (one call of count values in {0, 1}).
   */
  drawParams(gen: Generator, count: number): Int32Array {
    const params = new Int32Array(3 * count);
    if (count === 0) return params;
    const k = backend();
    const offs = new Int32Array(2 * count);
    k.rngInt(gen.state, offs, 2 * count, 0, 2 * this.padding + 1);
    const flips = new Int32Array(count);
    if (this.flip) k.rngInt(gen.state, flips, count, 0, 2);
    for (let b = 0; b < count; b++) {
      params[3 * b] = offs[2 * b];
      params[3 * b + 1] = offs[2 * b + 1];
      params[3 * b + 2] = flips[b];
    }
    return params;
  }

  apply(
    images: Uint8Array, rows: number, C: number, H: number, W: number,
    index: ArrayLike<number>, count: number, lut: Float32Array, out: Float32Array, gen: Generator,
  ): void {
    this.applyParams(images, rows, C, H, W, index, count, lut, out, this.drawParams(gen, count));
  }

  /** apply() with explicit parameters (from drawParams). */
  applyParams(
    images: Uint8Array, rows: number, C: number, H: number, W: number,
    index: ArrayLike<number>, count: number, lut: Float32Array, out: Float32Array, params: Int32Array,
  ): void {
    const plane = H * W;
    const rowLen = C * plane;
    const p = this.padding;
    if (out.length < count * rowLen) throw new SparsetrainError('ERR_ARGUMENT', `${this.name}: out has ${out.length} elements, needs ${count * rowLen}`);
    if (params.length < 3 * count) throw new SparsetrainError('ERR_ARGUMENT', `${this.name}: params has ${params.length} entries, needs ${3 * count}`);
    for (let b = 0; b < count; b++) {
      const r = index[b];
      if (!(r >= 0 && r < rows) || !Number.isInteger(r)) throw new SparsetrainError('ERR_ARGUMENT', `${this.name}: index ${r} at position ${b} out of range 0..${rows - 1}`);
      const sy = params[3 * b] - p; // source row of output row 0
      const sx = params[3 * b + 1] - p; // source column shift
      const f = params[3 * b + 2] !== 0;
      if (sy < -p || sy > p || sx < -p || sx > p) throw new SparsetrainError('ERR_ARGUMENT', `${this.name}: crop offset (${sy + p}, ${sx + p}) outside 0..${2 * p}`);
      // Output columns whose source column lies inside the image: x in [x0, x1).
      const x0 = Math.max(0, -sx);
      const x1 = Math.min(W, W - sx);
      for (let c = 0; c < C; c++) {
        const l = c * 256;
        const zero = lut[l];
        const src = r * rowLen + c * plane;
        const dst = b * rowLen + c * plane;
        for (let y = 0; y < H; y++) {
          const o = dst + y * W;
          const yy = y + sy;
          if (yy < 0 || yy >= H) {
            out.fill(zero, o, o + W);
            continue;
          }
          const srow = src + yy * W;
          if (!f) {
            // out[o + x] = img[srow + x + sx]
            for (let x = 0; x < x0; x++) out[o + x] = zero;
            for (let x = x0; x < x1; x++) out[o + x] = lut[l + images[srow + x + sx]];
            for (let x = x1; x < W; x++) out[o + x] = zero;
          } else {
            // flipped: out[o + x] = padded column (W-1-x) + dx, i.e. img[srow + W-1-x + sx];
            // in range for W-1-x in [x0, x1), i.e. x in (W-1-x1, W-1-x0].
            const a = W - x1;
            const e = W - x0;
            for (let x = 0; x < a; x++) out[o + x] = zero;
            for (let x = a; x < e; x++) out[o + x] = lut[l + images[srow + W - 1 - x + sx]];
            for (let x = e; x < W; x++) out[o + x] = zero;
          }
        }
      }
    }
  }
}
