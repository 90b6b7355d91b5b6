/** IDX reader: round trips (plain and .gz) and every corruption case with its error. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  encodeIdx, parseIdx, readIdxImages, readIdxLabels, readIdxPair, writeIdx,
} from '../src/data/idx';
import { SparsetrainError } from '../src/errors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'st-data-idx-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function images(n: number, rows: number, cols: number): Uint8Array {
  return Uint8Array.from({ length: n * rows * cols }, (_, i) => (i * 37 + 11) % 256);
}
const labels = (n: number, k = 10): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 3) % k);

/** Asserts fn throws an ERR_IO SparsetrainError whose message contains every part. */
function throwsIo(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SparsetrainError, `expected a SparsetrainError, got ${e}`);
    assert.equal(e.code, 'ERR_IO');
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" lacks "${p}"`);
    return true;
  });
}

test('encodeIdx writes the big-endian header: magic 0x00000803 and dims', () => {
  const b = encodeIdx([2, 3, 4], images(2, 3, 4));
  assert.deepEqual(Array.from(b.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
  assert.equal(b.length, 16 + 24);
  const l = encodeIdx([5], labels(5));
  assert.deepEqual(Array.from(l.subarray(0, 8)), [0, 0, 8, 1, 0, 0, 0, 5]);
});

for (const gz of [false, true]) {
  test(`images and labels round-trip through ${gz ? 'gzip-compressed' : 'plain'} files`, () => {
    const suffix = gz ? '.gz' : '';
    const img = images(7, 5, 3);
    const lab = labels(7);
    const fi = path.join(tmp, `rt-images${suffix}`);
    const fl = path.join(tmp, `rt-labels${suffix}`);
    writeIdx(fi, [7, 5, 3], img);
    writeIdx(fl, [7], lab);
    const raw = fs.readFileSync(fi);
    assert.equal(raw[0] === 0x1f && raw[1] === 0x8b, gz, 'gzip magic iff .gz');
    const r = readIdxImages(fi);
    assert.deepEqual([r.count, r.rows, r.cols], [7, 5, 3]);
    assert.deepEqual(Array.from(r.pixels), Array.from(img));
    assert.deepEqual(Array.from(readIdxLabels(fl, 10)), Array.from(lab));
    const pair = readIdxPair(fi, fl, 10);
    assert.equal(pair.images.count, pair.labels.length);
  });
}

test('a gzip file is recognised by its content, not its name', () => {
  const f = path.join(tmp, 'noext-labels');
  fs.writeFileSync(f, zlib.gzipSync(encodeIdx([4], labels(4))));
  assert.deepEqual(Array.from(readIdxLabels(f, 10)), Array.from(labels(4)));
});

test('an empty IDX (0 examples) parses', () => {
  const r = parseIdx(encodeIdx([0, 28, 28], new Uint8Array(0)), 'x', 0x803);
  assert.deepEqual(r.dims, [0, 28, 28]);
  assert.equal(r.data.length, 0);
});

test('wrong magic: labels where images are expected, and the reverse', () => {
  const fl = path.join(tmp, 'train-labels-idx1-ubyte');
  writeIdx(fl, [3], labels(3));
  throwsIo(() => readIdxImages(fl), 'train-labels-idx1-ubyte', 'wrong magic number 0x00000801, expected 0x00000803 (IDX images)');
  const fi = path.join(tmp, 'train-images-idx3-ubyte');
  writeIdx(fi, [3, 2, 2], images(3, 2, 2));
  throwsIo(() => readIdxLabels(fi, 10), 'train-images-idx3-ubyte', 'wrong magic number 0x00000803, expected 0x00000801 (IDX labels)');
  throwsIo(() => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), 'junk'), 'junk', 'wrong magic number 0x01020801');
});

test('element types other than unsigned byte are rejected', () => {
  const b = encodeIdx([2], Uint8Array.from([1, 2]));
  b[2] = 0x0d; // float
  throwsIo(() => parseIdx(b, 'floats.idx'), 'floats.idx', 'element type 0x0d', 'expected 0x08 (unsigned byte)');
});

test('truncated files: short header, short data; extra trailing bytes', () => {
  throwsIo(() => parseIdx(Uint8Array.from([0, 0, 8]), 'tiny'), 'tiny', 'truncated');
  throwsIo(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'hdr'), 'hdr', 'truncated', 'needs 16');
  const full = encodeIdx([3, 4, 4], images(3, 4, 4));
  const f = path.join(tmp, 'cut-images-idx3-ubyte');
  fs.writeFileSync(f, full.subarray(0, full.length - 5));
  throwsIo(() => readIdxImages(f), 'cut-images-idx3-ubyte', 'truncated', '3 x 4 x 4 = 48 bytes', 'only 43 follow');
  // truncated inside a .gz: the gzip stream itself is cut
  const g = path.join(tmp, 'cut-images.gz');
  const z = zlib.gzipSync(full);
  fs.writeFileSync(g, z.subarray(0, z.length - 10));
  throwsIo(() => readIdxImages(g), 'cut-images.gz', 'corrupt gzip data');
  // a complete gzip stream of a truncated IDX file
  const g2 = path.join(tmp, 'short-images.gz');
  fs.writeFileSync(g2, zlib.gzipSync(full.subarray(0, 30)));
  throwsIo(() => readIdxImages(g2), 'short-images.gz', 'truncated', 'only 14 follow');
  const extra = new Uint8Array(full.length + 2);
  extra.set(full);
  throwsIo(() => parseIdx(extra, 'long'), 'long', '2 unexpected trailing bytes');
});

test('labels out of range name the label, its index and the class count', () => {
  const lab = labels(6);
  lab[4] = 10;
  const f = path.join(tmp, 'bad-labels-idx1-ubyte.gz');
  writeIdx(f, [6], lab);
  throwsIo(() => readIdxLabels(f, 10), 'bad-labels-idx1-ubyte.gz', 'label 10 at index 4 is out of range, expected 0..9');
  assert.equal(readIdxLabels(f, 11)[4], 10);
});

test('image and label counts must agree', () => {
  const fi = path.join(tmp, 'n5-images');
  const fl = path.join(tmp, 'n4-labels');
  writeIdx(fi, [5, 2, 2], images(5, 2, 2));
  writeIdx(fl, [4], labels(4));
  throwsIo(() => readIdxPair(fi, fl, 10), 'n4-labels', 'holds 4 labels', 'n5-images holds 5 images', 'same count');
});

test('a missing file is an ERR_IO naming it', () => {
  throwsIo(() => readIdxImages(path.join(tmp, 'nope-images')), 'nope-images', 'file not found');
});
