/**
 * uint8 -> normalised float32 through a 256-entry lookup table per channel:
 * lut[c*256 + p] = fround((p/255 - mean[c]) / std[c]), the formula evaluated in
 * double precision and rounded once, so the table is exact and a batch costs one
 * load per pixel.
 *
 * Batches are gathered from the uint8 rows and normalised in the same pass (the
 * backend's gatherRows works on float32 rows, which would need a float copy of the
 * whole dataset: 4x the memory).
 */
import type { Normalization } from './dataset';
import { SparsetrainError } from '../errors';

/** The lookup table for C channels: Float32Array(C*256). */
export function normalizationLut(norm: Normalization, channels: number): Float32Array {
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    throw new SparsetrainError('ERR_ARGUMENT', `normalizationLut: ${channels} channels need ${channels} means and stds, got ${norm.mean.length} and ${norm.std.length}`);
  }
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const m = norm.mean[c];
    const s = norm.std[c];
    for (let p = 0; p < 256; p++) lut[c * 256 + p] = (p / 255 - m) / s;
  }
  return lut;
}

/** The identity-scaled table (pixel/255), for callers that want [0, 1] floats. */
export function unitLut(channels: number): Float32Array {
  return normalizationLut({ mean: new Array(channels).fill(0), std: new Array(channels).fill(1) }, channels);
}

/**
 * out[b] = lut(images[index[b]]) for b < count: rows of C*plane bytes, each
 * channel plane (plane = H*W pixels) through its own 256-entry table.
 */
export function gatherNormalize(
  images: Uint8Array, rows: number, channels: number, plane: number,
  index: ArrayLike<number>, count: number, lut: Float32Array, out: Float32Array,
): void {
  const rowLen = channels * plane;
  if (out.length < count * rowLen) throw new SparsetrainError('ERR_ARGUMENT', `gatherNormalize: out has ${out.length} elements, needs ${count * rowLen}`);
  if (lut.length < channels * 256) throw new SparsetrainError('ERR_ARGUMENT', `gatherNormalize: lut has ${lut.length} entries, needs ${channels * 256}`);
  for (let b = 0; b < count; b++) {
    const r = index[b];
    if (!(r >= 0 && r < rows) || !Number.isInteger(r)) throw new SparsetrainError('ERR_ARGUMENT', `gatherNormalize: index ${r} at position ${b} out of range 0..${rows - 1}`);
    let src = r * rowLen;
    let dst = b * rowLen;
    for (let c = 0; c < channels; c++) {
      const l = c * 256;
      const end = src + plane;
      if (channels === 1) {
        for (; src < end; src++, dst++) out[dst] = lut[images[src]];
      } else {
        for (; src < end; src++, dst++) out[dst] = lut[l + images[src]];
      }
    }
  }
}
