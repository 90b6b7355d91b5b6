/**
 * Normalisation tables, the DataLoader (batches, determinism, resume, dropLast),
 * CIFAR crop+flip augmentation and the validation split.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ImageDataset } from '../src/data/dataset';
import { normalizationLut, gatherNormalize } from '../src/data/normalize';
import { DataLoader, evalBatches, type Batch } from '../src/data/loader';
import { RandomCropFlip } from '../src/data/augment';
import { validationSplit } from '../src/data/split';
import { deriveSeed } from '../src/data/seed';
import { listDatasets } from '../src/data/datasets';
import { Generator } from '../src/tensor/random';
import { SparsetrainError } from '../src/errors';

/** A small dataset with distinct, formula-defined pixels and labels. */
function toyDataset(n: number, C: number, H: number, W: number, numClasses = 10): ImageDataset {
  const images = Uint8Array.from({ length: n * C * H * W }, (_, i) => (i * 29 + 3) % 256);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % numClasses);
  const norm = C === 3
    ? { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] }
    : { mean: Array(C).fill(0.1307), std: Array(C).fill(0.3081) };
  return new ImageDataset({ name: 'toy', split: 'train', channels: C, height: H, width: W, numClasses, images, labels, normalization: norm });
}

const formula = (p: number, m: number, s: number): number => Math.fround((p / 255 - m) / s);

function collect(it: Iterable<Batch>): Batch[] {
  return [...it];
}
function sameBatches(a: Batch[], b: Batch[]): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    assert.deepEqual(x.indices, b[i].indices, `batch ${i} indices`);
    assert.deepEqual(x.x.data, b[i].x.data, `batch ${i} x`);
    assert.deepEqual(x.y.data, b[i].y.data, `batch ${i} y`);
  });
}

// ---- normalisation -----------------------------------------------------------------

test('lookup tables equal (p/255 - mean)/std for every byte, channel and dataset', () => {
  for (const d of listDatasets()) {
    const C = d.inputShape[0];
    const lut = normalizationLut(d.normalization, C);
    assert.equal(lut.length, 256 * C);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < 256; p++) assert.equal(lut[c * 256 + p], formula(p, d.normalization.mean[c], d.normalization.std[c]), `${d.name} c${c} p${p}`);
    }
  }
  assert.throws(() => normalizationLut({ mean: [0.5], std: [0.5] }, 3), SparsetrainError);
});

test('gatherNormalize: rows gathered in index order, each channel through its table', () => {
  const ds = toyDataset(5, 3, 2, 3);
  const lut = normalizationLut(ds.normalization, 3);
  const idx = [4, 0, 4];
  const out = new Float32Array(3 * 18);
  gatherNormalize(ds.images, 5, 3, 6, idx, 3, lut, out);
  for (let b = 0; b < 3; b++) {
    for (let c = 0; c < 3; c++) {
      for (let j = 0; j < 6; j++) {
        const p = ds.images[idx[b] * 18 + c * 6 + j];
        assert.equal(out[b * 18 + c * 6 + j], formula(p, ds.normalization.mean[c], ds.normalization.std[c]));
      }
    }
  }
  assert.throws(() => gatherNormalize(ds.images, 5, 3, 6, [5], 1, lut, out), /index 5 at position 0 out of range 0..4/);
  assert.throws(() => gatherNormalize(ds.images, 5, 3, 6, [0, 1, 2, 3], 4, lut, out), /out has 54 elements, needs 72/);
});

// ---- loader ------------------------------------------------------------------------

test('unshuffled loader: batches in order, normalised, labels, last partial batch kept', () => {
  const ds = toyDataset(10, 1, 4, 4);
  const dl = new DataLoader(ds, { batchSize: 4 });
  assert.equal(dl.numBatches, 3);
  const bs = collect(dl);
  assert.deepEqual(bs.map((b) => b.x.shape), [[4, 1, 4, 4], [4, 1, 4, 4], [2, 1, 4, 4]]);
  assert.deepEqual(bs.map((b) => b.y.shape), [[4], [4], [2]]);
  assert.equal(bs[0].x.dtype, 'float32');
  assert.equal(bs[0].y.dtype, 'int32');
  assert.deepEqual(bs.flatMap((b) => Array.from(b.indices)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(bs.flatMap((b) => Array.from(b.y.data)), Array.from(ds.labels));
  const x = bs[2].x.data;
  for (let j = 0; j < 32; j++) assert.equal(x[j], formula(ds.images[8 * 16 + j], 0.1307, 0.3081));
});

test('dropLast drops the short final batch; exact multiples are unaffected', () => {
  const ds = toyDataset(10, 1, 2, 2);
  const dl = new DataLoader(ds, { batchSize: 4, dropLast: true, shuffle: true, seed: 5 });
  assert.equal(dl.numBatches, 2);
  const bs = collect(dl.epoch(0));
  assert.deepEqual(bs.map((b) => b.y.shape[0]), [4, 4]);
  assert.equal(new Set(bs.flatMap((b) => Array.from(b.indices))).size, 8);
  assert.equal(new DataLoader(ds, { batchSize: 5, dropLast: true }).numBatches, 2);
  assert.equal(new DataLoader(ds, { batchSize: 11, dropLast: true }).numBatches, 0);
  assert.equal(collect(new DataLoader(ds, { batchSize: 11, dropLast: true })).length, 0);
  assert.equal(collect(new DataLoader(ds, { batchSize: 11 }))[0].y.shape[0], 10);
});

test('shuffle: same seed -> same batches; epochs differ; every epoch is a permutation', () => {
  const ds = toyDataset(50, 1, 3, 3);
  const a = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 42 });
  const b = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 42 });
  const a0 = collect(a);
  const a1 = collect(a);
  sameBatches(a0, collect(b));
  sameBatches(a1, collect(b));
  const o0 = a0.flatMap((x) => Array.from(x.indices));
  const o1 = a1.flatMap((x) => Array.from(x.indices));
  assert.notDeepEqual(o0, o1);
  for (const o of [o0, o1]) assert.deepEqual([...o].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(o0, Array.from({ length: 50 }, (_, i) => i));
  // labels and pixels follow their examples
  for (const bt of a0) {
    bt.indices.forEach((e, i) => {
      assert.equal(bt.y.data[i], ds.labels[e]);
      assert.equal(bt.x.data[i * 9 + 4], formula(ds.images[e * 9 + 4], 0.1307, 0.3081));
    });
  }
  const c = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 43 });
  assert.notDeepEqual(Array.from(c.order(0)), o0);
});

test('the order of epoch e depends only on (seed, e): resume by state, by setEpoch, mid-epoch', () => {
  const ds = toyDataset(30, 1, 2, 2);
  const opts = { batchSize: 7, shuffle: true, seed: 7, augment: new RandomCropFlip(1) };
  const run = new DataLoader(ds, opts);
  const epochs = [collect(run), collect(run), collect(run)];
  const saved = { seed: 7, epoch: 2 };
  const resumed = new DataLoader(ds, opts);
  resumed.loadState(saved);
  assert.deepEqual(resumed.state(), saved);
  sameBatches(collect(resumed), epochs[2]);
  assert.deepEqual(resumed.state(), { seed: 7, epoch: 3 });
  const jumped = new DataLoader(ds, opts);
  sameBatches(collect(jumped.epoch(1)), epochs[1]); // explicit epoch, in any order
  sameBatches(collect(jumped.epoch(1, 3)), epochs[1].slice(3)); // from batch 3 of epoch 1
  assert.throws(() => resumed.loadState({ seed: 8, epoch: 0 }), /seed 8 differs from this loader's seed 7/);
  assert.throws(() => jumped.epoch(0, 9).next(), /start batch must be in 0..5/);
});

test('a loader seeded from a Generator: same generator state -> same seed and batches', () => {
  const ds = toyDataset(20, 1, 2, 2);
  const g1 = new Generator(11);
  const g2 = new Generator(11);
  const before = g1.getState();
  const a = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: g1 });
  const b = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: g2 });
  assert.notDeepEqual(g1.getState(), before, 'drawing the seed advances the generator');
  assert.equal(a.seed, b.seed);
  sameBatches(collect(a), collect(b));
  const c = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: g1 }); // advanced state
  assert.notEqual(c.seed, a.seed);
});

test('a loader over an index subset covers exactly those examples', () => {
  const ds = toyDataset(40, 1, 2, 2);
  const { train, val } = validationSplit(40, 10, { mode: 'random', seed: 3 });
  const seen = collect(new DataLoader(ds, { batchSize: 9, shuffle: true, seed: 1, indices: train })).flatMap((b) => Array.from(b.indices));
  assert.deepEqual([...seen].sort((p, q) => p - q), Array.from(train));
  const ev = collect(evalBatches(ds, 4, val));
  assert.deepEqual(ev.flatMap((b) => Array.from(b.indices)), Array.from(val));
  assert.deepEqual(ev.map((b) => b.y.shape[0]), [4, 4, 2]);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, indices: [0, 40] }), /index 40 at position 1 is not an example of toy/);
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /batch size must be a positive integer/);
});

test('evalBatches: every example once, in order, no augmentation', () => {
  const ds = toyDataset(11, 3, 2, 2);
  const bs = collect(evalBatches(ds, 5));
  assert.deepEqual(bs.map((b) => b.x.shape), [[5, 3, 2, 2], [5, 3, 2, 2], [1, 3, 2, 2]]);
  const x = bs[2].x.data; // example 10
  for (let c = 0; c < 3; c++) for (let j = 0; j < 4; j++) {
    assert.equal(x[c * 4 + j], formula(ds.images[10 * 12 + c * 4 + j], ds.normalization.mean[c], ds.normalization.std[c]));
  }
});

// ---- augmentation ------------------------------------------------------------------

/** Naive reference: pad with 0 on every side, crop at (dy, dx), then flip. Raw pixel values. */
function cropFlipRef(img: Uint8Array, C: number, H: number, W: number, pad: number, dy: number, dx: number, flip: boolean): number[] {
  const PH = H + 2 * pad;
  const PW = W + 2 * pad;
  const padded = new Array(C * PH * PW).fill(0);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) padded[(c * PH + y + pad) * PW + x + pad] = img[(c * H + y) * W + x];
  const out: number[] = [];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const xx = flip ? W - 1 - x : x;
    out.push(padded[(c * PH + y + dy) * PW + xx + dx]);
  }
  return out;
}

/** The identity table: byte p -> p, per channel, so outputs are raw pixel values. */
const identityLut = (C: number): Float32Array => Float32Array.from({ length: 256 * C }, (_, i) => i % 256);

test('crop+flip on a hand-made 3x3 image: padded corners and flips by hand', () => {
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const aug = new RandomCropFlip(1);
  const out = new Float32Array(9);
  const run = (dy: number, dx: number, f: number): number[] => {
    aug.applyParams(img, 1, 1, 3, 3, [0], 1, identityLut(1), out, Int32Array.from([dy, dx, f]));
    return Array.from(out);
  };
  assert.deepEqual(run(1, 1, 0), [1, 2, 3, 4, 5, 6, 7, 8, 9]); // centre crop = identity
  assert.deepEqual(run(1, 1, 1), [3, 2, 1, 6, 5, 4, 9, 8, 7]); // pure flip
  assert.deepEqual(run(0, 0, 0), [0, 0, 0, 0, 1, 2, 0, 4, 5]); // top-left crop
  assert.deepEqual(run(2, 2, 0), [5, 6, 0, 8, 9, 0, 0, 0, 0]); // bottom-right crop
  assert.deepEqual(run(2, 2, 1), [0, 6, 5, 0, 9, 8, 0, 0, 0]); // bottom-right, then flipped
  assert.deepEqual(run(0, 2, 1), [0, 0, 0, 0, 3, 2, 0, 6, 5]);
});

test('crop+flip equals pad-crop-flip for every offset and flip (2 channels, 3x5, pad 2)', () => {
  const C = 2;
  const H = 3;
  const W = 5;
  const pad = 2;
  const imgs = Uint8Array.from({ length: 2 * C * H * W }, (_, i) => 1 + ((i * 17) % 250));
  const aug = new RandomCropFlip(pad);
  const out = new Float32Array(C * H * W);
  for (let dy = 0; dy <= 2 * pad; dy++) for (let dx = 0; dx <= 2 * pad; dx++) for (const f of [0, 1]) {
    aug.applyParams(imgs, 2, C, H, W, [1], 1, identityLut(C), out, Int32Array.from([dy, dx, f]));
    assert.deepEqual(Array.from(out), cropFlipRef(imgs.subarray(C * H * W), C, H, W, pad, dy, dx, f === 1), `dy ${dy} dx ${dx} flip ${f}`);
  }
  assert.throws(() => aug.applyParams(imgs, 2, C, H, W, [0], 1, identityLut(C), out, Int32Array.from([5, 0, 0])), /crop offset \(5, 0\) outside 0..4/);
});

test('padding is pixel value 0 before normalisation: padded cells are -mean/std per channel', () => {
  const ds = toyDataset(1, 3, 4, 4);
  const lut = normalizationLut(ds.normalization, 3);
  const out = new Float32Array(48);
  new RandomCropFlip(4).applyParams(ds.images, 1, 3, 4, 4, [0], 1, lut, out, Int32Array.from([0, 0, 0]));
  // offset (0, 0) with pad 4 on a 4x4 image: the whole crop is padding
  for (let c = 0; c < 3; c++) {
    const v = formula(0, ds.normalization.mean[c], ds.normalization.std[c]);
    assert.ok(v < 0);
    for (let j = 0; j < 16; j++) assert.equal(out[c * 16 + j], v);
  }
});

test('augmentation parameters: deterministic per generator state, in range, both flips occur', () => {
  const aug = new RandomCropFlip(4);
  const p1 = aug.drawParams(new Generator(9), 500);
  const p2 = aug.drawParams(new Generator(9), 500);
  assert.deepEqual(p1, p2);
  const seenOff = new Set<number>();
  let flips = 0;
  for (let b = 0; b < 500; b++) {
    for (const o of [p1[3 * b], p1[3 * b + 1]]) {
      assert.ok(o >= 0 && o <= 8);
      seenOff.add(o);
    }
    assert.ok(p1[3 * b + 2] === 0 || p1[3 * b + 2] === 1);
    flips += p1[3 * b + 2];
  }
  assert.equal(seenOff.size, 9);
  assert.ok(flips > 200 && flips < 300, `${flips} flips of 500`);
  const noFlip = new RandomCropFlip(2, false).drawParams(new Generator(9), 50);
  for (let b = 0; b < 50; b++) assert.equal(noFlip[3 * b + 2], 0);
});

test('loader with augmentation: each sample is a crop/flip of its own image; pad 0 no flip = identity', () => {
  const ds = toyDataset(12, 3, 6, 6);
  const lut = normalizationLut(ds.normalization, 3);
  const bs = collect(new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 2, augment: new RandomCropFlip(2) }));
  const one = new Float32Array(108);
  let changed = 0;
  for (const b of bs) {
    b.indices.forEach((e, i) => {
      const got = Array.from(b.x.data.subarray(i * 108, (i + 1) * 108));
      // some (dy, dx, flip) must reproduce this output
      let match = false;
      for (let dy = 0; dy <= 4 && !match; dy++) for (let dx = 0; dx <= 4 && !match; dx++) for (const f of [0, 1]) {
        new RandomCropFlip(2).applyParams(ds.images, 12, 3, 6, 6, [e], 1, lut, one, Int32Array.from([dy, dx, f]));
        if (got.every((v, j) => v === one[j])) {
          match = true;
          if (dy !== 2 || dx !== 2 || f !== 0) changed++;
          break;
        }
      }
      assert.ok(match, `example ${e} is not a crop/flip of its image`);
    });
  }
  assert.ok(changed >= 8, `only ${changed} of 12 samples were augmented`);
  const plain = collect(new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 2 }));
  const ident = collect(new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 2, augment: new RandomCropFlip(0, false) }));
  sameBatches(ident, plain);
});

test('augmentation draws fresh parameters for every batch of an epoch', () => {
  // identical images: two batches can only differ through their augmentation
  const img = Uint8Array.from({ length: 16 }, (_, i) => 10 + i * 15);
  const images = new Uint8Array(20 * 16);
  for (let i = 0; i < 20; i++) images.set(img, i * 16);
  const ds = new ImageDataset({
    name: 'same', split: 'train', channels: 1, height: 4, width: 4, numClasses: 2,
    images, labels: new Int32Array(20), normalization: { mean: [0.5], std: [0.5] },
  });
  const [b0, b1] = collect(new DataLoader(ds, { batchSize: 10, seed: 4, augment: new RandomCropFlip(2) }));
  assert.notDeepEqual(b0.x.data, b1.x.data);
});

// ---- validation split --------------------------------------------------------------

test('validation split: last K, and seeded random K; disjoint, complete, deterministic', () => {
  const last = validationSplit(10, 3);
  assert.deepEqual(Array.from(last.train), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(last.val), [7, 8, 9]);
  const r1 = validationSplit(1000, 100, { mode: 'random', seed: 5 });
  const r2 = validationSplit(1000, 100, { mode: 'random', seed: 5 });
  const r3 = validationSplit(1000, 100, { mode: 'random', seed: 6 });
  assert.deepEqual(r1, r2);
  assert.notDeepEqual(r1.val, r3.val);
  assert.equal(r1.val.length, 100);
  assert.equal(r1.train.length, 900);
  const all = [...r1.train, ...r1.val].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i));
  for (const s of [r1.train, r1.val]) for (let i = 1; i < s.length; i++) assert.ok(s[i] > s[i - 1], 'sorted');
  assert.ok(r1.val[99] < 990 || r1.val[0] > 0, 'random, not the last 100');
  assert.deepEqual(Array.from(validationSplit(5, 0).train), [0, 1, 2, 3, 4]);
  assert.throws(() => validationSplit(10, 10), /validation set size must be an integer in 0..9/);
  assert.throws(() => validationSplit(10, -1), SparsetrainError);
  assert.throws(() => validationSplit(10, 2.5), SparsetrainError);
});

test('deriveSeed: stable, tag-sensitive, in [0, 2^53)', () => {
  const s = deriveSeed(1, 'shuffle', 0);
  assert.equal(s, deriveSeed(1, 'shuffle', 0));
  const seen = new Set([s, deriveSeed(1, 'shuffle', 1), deriveSeed(2, 'shuffle', 0), deriveSeed(1, 'augment', 0), deriveSeed(1, 'shuffle', 0, 0), deriveSeed(-1, 'shuffle', 0)]);
  assert.equal(seen.size, 6);
  for (const v of seen) assert.ok(Number.isSafeInteger(v) && v >= 0);
  assert.throws(() => deriveSeed(0.5), SparsetrainError);
});
