/**
 * A synthetic MNIST-shaped dataset (1x28x28, uint8, 10 classes by default),
 * deterministic from a seed, needing no files: for smoke tests and examples.
 *
 * Each class has a prototype made of three Gaussian blobs at positions drawn from
 * the seed. An example of class k is its prototype shifted by up to 2 pixels in
 * each direction, scaled by an intensity in [0.6, 1], plus uniform noise of
 * +-0.15 (on a 0..1 scale), rounded to uint8. A small model learns it to high
 * accuracy within an epoch, but not instantly (shifts and noise).
 *
 * The prototypes depend only on (seed, numClasses); the train and test splits
 * draw their examples from separate streams, so they never coincide.
 * All random numbers come from the backend's integer and uniform kernels, which
 * are bit-identical across backends, so the bytes are the same everywhere.
 */
import { backend } from '../backend';
import { SparsetrainError } from '../errors';
import { ImageDataset, Normalization, Split } from './dataset';
import { derivedGenerator } from './seed';

export interface SyntheticOptions {
  seed?: number;
  /** Examples in the split (defaults: train 6000, test 1000). */
  size?: number;
  numClasses?: number;
}

export const SYNTHETIC_DEFAULTS = { seed: 0, trainSize: 6000, testSize: 1000, numClasses: 10 };
export const SYNTHETIC_SIZE = 28;
const BLOBS = 3;
const MAX_SHIFT = 2;

/** Measured on the default train split (seed 0): pixel mean and std on the 0..1 scale. */
export const SYNTHETIC_NORMALIZATION: Normalization = { mean: [0.1048], std: [0.1588] };

/** The class prototypes: Float32Array(numClasses * 28 * 28), values in [0, 1], each with maximum 1. */
export function syntheticPrototypes(seed: number, numClasses: number): Float32Array {
  const S = SYNTHETIC_SIZE;
  const gen = derivedGenerator(seed, 'synthetic-prototypes', numClasses);
  const params = new Float32Array(numClasses * BLOBS * 3);
  backend().rngUniform(gen.state, params, params.length, 0, 1);
  const protos = new Float32Array(numClasses * S * S);
  for (let k = 0; k < numClasses; k++) {
    const p = protos.subarray(k * S * S, (k + 1) * S * S);
    for (let j = 0; j < BLOBS; j++) {
      const q = (k * BLOBS + j) * 3;
      const cy = 6 + 16 * params[q];
      const cx = 6 + 16 * params[q + 1];
      const sigma = 1.5 + 2 * params[q + 2];
      const inv = 1 / (2 * sigma * sigma);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) p[y * S + x] += Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) * inv);
      }
    }
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, p[i]);
    for (let i = 0; i < p.length; i++) p[i] /= max;
  }
  return protos;
}

export function loadSynthetic(split: Split, opts: SyntheticOptions = {}): ImageDataset {
  const seed = opts.seed ?? SYNTHETIC_DEFAULTS.seed;
  const numClasses = opts.numClasses ?? SYNTHETIC_DEFAULTS.numClasses;
  const n = opts.size ?? (split === 'train' ? SYNTHETIC_DEFAULTS.trainSize : SYNTHETIC_DEFAULTS.testSize);
  if (!Number.isSafeInteger(seed)) throw new SparsetrainError('ERR_ARGUMENT', `synthetic: seed must be a safe integer, got ${seed}`);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new SparsetrainError('ERR_ARGUMENT', `synthetic: size must be an integer in 1..10000000, got ${n}`);
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 256) throw new SparsetrainError('ERR_ARGUMENT', `synthetic: number of classes must be an integer in 2..256, got ${numClasses}`);
  const S = SYNTHETIC_SIZE;
  const P = S * S;
  const protos = syntheticPrototypes(seed, numClasses);
  const k = backend();
  const gen = derivedGenerator(seed, 'synthetic-examples', split, numClasses);
  const labels = new Int32Array(n);
  k.rngInt(gen.state, labels, n, 0, numClasses);
  const shifts = new Int32Array(2 * n);
  k.rngInt(gen.state, shifts, 2 * n, -MAX_SHIFT, MAX_SHIFT + 1);
  const intensity = new Float32Array(n);
  k.rngUniform(gen.state, intensity, n, 0.6, 1);
  const images = new Uint8Array(n * P);
  const noise = new Float32Array(P);
  for (let i = 0; i < n; i++) {
    k.rngUniform(gen.state, noise, P, -0.15, 0.15);
    const proto = labels[i] * P;
    const dy = shifts[2 * i];
    const dx = shifts[2 * i + 1];
    const a = intensity[i];
    const o = i * P;
    for (let y = 0; y < S; y++) {
      const sy = y - dy;
      for (let x = 0; x < S; x++) {
        const sx = x - dx;
        const v = sy >= 0 && sy < S && sx >= 0 && sx < S ? a * protos[proto + sy * S + sx] : 0;
        const u = Math.round(255 * (v + noise[y * S + x]));
        images[o + y * S + x] = u < 0 ? 0 : u > 255 ? 255 : u;
      }
    }
  }
  return new ImageDataset({
    name: 'synthetic',
    split,
    channels: 1,
    height: S,
    width: S,
    numClasses,
    images,
    labels,
    normalization: SYNTHETIC_NORMALIZATION,
    classNames: Array.from({ length: numClasses }, (_, c) => `class ${c}`),
  });
}
