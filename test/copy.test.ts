import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend, type Backend } from '../src/backend';
import { loadAddon } from '../src/backend/native';
import { seededArray } from './util';

const ref = referenceBackend;
const addon = loadAddon();
const nat = addon as unknown as Backend;
const both: [string, Backend][] = [['reference', ref], ['native', nat]];

const i32 = (a: number[]) => Int32Array.from(a);
function contiguous(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
  return s;
}
const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

interface Case { name: string; srcLen: number; sOff: number; ss: number[]; dstLen: number; dOff: number; ds: number[]; shape: number[] }

/** Runs one copy case for F32, I32 and U8 in both backends; native must equal reference exactly. */
function checkCase(c: Case, seed: number): Float32Array {
  const src = seededArray(c.srcLen, seed, -100, 100);
  const fill = seededArray(c.dstLen, seed + 1, -100, 100);
  const results: Float32Array[] = [];
  for (const [, b] of both) {
    const dst = fill.slice();
    b.stridedCopy(src, c.sOff, i32(c.ss), dst, c.dOff, i32(c.ds), i32(c.shape));
    results.push(dst);
  }
  assert.deepEqual(results[1], results[0], `${c.name} F32`);
  const srcI = Int32Array.from(src, (x) => Math.round(x * 1e6));
  const srcU = Uint8Array.from(src, (x) => Math.floor(x + 100));
  const outI: Int32Array[] = [], outU: Uint8Array[] = [];
  for (const [, b] of both) {
    const di = Int32Array.from(fill, (x) => Math.round(x));
    b.stridedCopyI32(srcI, c.sOff, i32(c.ss), di, c.dOff, i32(c.ds), i32(c.shape));
    outI.push(di);
    const du = Uint8Array.from(fill, (x) => Math.floor(x + 100));
    b.stridedCopyU8(srcU, c.sOff, i32(c.ss), du, c.dOff, i32(c.ds), i32(c.shape));
    outU.push(du);
  }
  assert.deepEqual(outI[1], outI[0], `${c.name} I32`);
  assert.deepEqual(outU[1], outU[0], `${c.name} U8`);
  return results[1];
}

/** The copy case that materialises src (contiguous `shape`) permuted by perm into a contiguous dst. */
function permuteCase(shape: number[], perm: number[]): Case {
  const cs = contiguous(shape);
  const vshape = perm.map((d) => shape[d]);
  return { name: `permute ${shape} by ${perm}`, srcLen: prod(shape), sOff: 0, ss: perm.map((d) => cs[d]), dstLen: prod(shape), dOff: 0, ds: contiguous(vshape), shape: vshape };
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

test('addon loads (the native side of these tests needs it)', () => {
  assert.ok(addon, 'build the addon with npm install');
});

test('reference stridedCopy against hand-computed results', () => {
  // transpose of [[1,2,3],[4,5,6]]
  const t = new Float32Array(6);
  ref.stridedCopy(Float32Array.from([1, 2, 3, 4, 5, 6]), 0, i32([1, 3]), t, 0, i32([2, 1]), i32([3, 2]));
  assert.deepEqual(Array.from(t), [1, 4, 2, 5, 3, 6]);
  // every other element from offset 1, into a padded window
  const w = new Float32Array(5).fill(-1);
  ref.stridedCopy(Float32Array.from([0, 1, 2, 3, 4, 5, 6]), 1, i32([2]), w, 1, i32([1]), i32([3]));
  assert.deepEqual(Array.from(w), [-1, 1, 3, 5, -1]);
  // broadcast a row
  const bcast = new Float32Array(6);
  ref.stridedCopy(Float32Array.from([7, 8, 9]), 0, i32([0, 1]), bcast, 0, i32([3, 1]), i32([2, 3]));
  assert.deepEqual(Array.from(bcast), [7, 8, 9, 7, 8, 9]);
  // rank 0: one element
  const one = new Int32Array(3);
  ref.stridedCopyI32(Int32Array.from([4, 5, 6]), 2, i32([]), one, 1, i32([]), i32([]));
  assert.deepEqual(Array.from(one), [0, 6, 0]);
});

test('matrix transposes of awkward sizes (blocked path) match reference and the definition', () => {
  for (const [m, n] of [[1, 1], [1, 7], [7, 1], [3, 5], [32, 32], [33, 65], [100, 37], [257, 129], [3, 5000], [5000, 3]]) {
    const c = permuteCase([m, n], [1, 0]);
    const out = checkCase(c, m * 1000 + n);
    const src = seededArray(m * n, m * 1000 + n, -100, 100);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) assert.equal(out[j * m + i], src[i * n + j]);
  }
});

test('every permutation of a 4-d tensor, and NCHW <-> NHWC at a realistic size', () => {
  for (const perm of permutations(4)) checkCase(permuteCase([2, 3, 4, 5], perm), 5);
  for (const perm of permutations(3)) checkCase(permuteCase([7, 1, 9], perm), 6);
  const nchw = [2, 64, 28, 28];
  const out = checkCase(permuteCase(nchw, [0, 2, 3, 1]), 11); // NCHW -> NHWC (parallel path)
  const src = seededArray(prod(nchw), 11, -100, 100);
  const [N, C, H, W] = nchw;
  for (let t = 0; t < 2000; t++) {
    const n = t % N, c = (t * 7) % C, h = (t * 13) % H, w = (t * 17) % W;
    assert.equal(out[((n * H + h) * W + w) * C + c], src[((n * C + c) * H + h) * W + w]);
  }
  checkCase(permuteCase([2, 28, 28, 64], [0, 3, 1, 2]), 12); // NHWC -> NCHW
  checkCase(permuteCase([1, 3, 200, 120], [0, 1, 3, 2]), 13); // batched transpose of the last two dims
});

test('contiguous src into a permuted dst view (dims reordered by dst stride)', () => {
  const shape = [6, 5, 4];
  const perm = [2, 0, 1]; // dst is laid out [4, 6, 5]
  const dshape = perm.map((d) => shape[d]);
  const dcs = contiguous(dshape);
  const ds = shape.map((_, k) => dcs[perm.indexOf(k)]);
  checkCase({ name: 'permuted dst', srcLen: 120, sOff: 0, ss: contiguous(shape), dstLen: 120, dOff: 0, ds, shape }, 21);
});

test('slices with steps, padding windows, cat, broadcast, generic strides', () => {
  const cases: Case[] = [
    // x[1:9:2, 0:12:3] of a [10, 12] tensor
    { name: 'slice step', srcLen: 120, sOff: 12, ss: [24, 3], dstLen: 16, dOff: 0, ds: [4, 1], shape: [4, 4] },
    // [2, 3, 5, 6] into the inner window of a [2, 3, 7, 8] dst (padding 1)
    { name: 'pad', srcLen: 180, sOff: 0, ss: [90, 30, 6, 1], dstLen: 336, dOff: 9, ds: [168, 56, 8, 1], shape: [2, 3, 5, 6] },
    // second half of a cat along dim 1: [3, 4] into columns 5..8 of a [3, 9] dst
    { name: 'cat', srcLen: 12, sOff: 0, ss: [4, 1], dstLen: 27, dOff: 5, ds: [9, 1], shape: [3, 4] },
    { name: 'broadcast row', srcLen: 5, sOff: 0, ss: [0, 1], dstLen: 20, dOff: 0, ds: [5, 1], shape: [4, 5] },
    { name: 'broadcast column', srcLen: 4, sOff: 0, ss: [1, 0], dstLen: 20, dOff: 0, ds: [5, 1], shape: [4, 5] },
    { name: 'broadcast scalar', srcLen: 3, sOff: 2, ss: [0, 0, 0], dstLen: 60, dOff: 0, ds: [20, 5, 1], shape: [3, 4, 5] },
    { name: 'broadcast big', srcLen: 300, sOff: 0, ss: [0, 1], dstLen: 300 * 400, dOff: 0, ds: [300, 1], shape: [400, 300] },
    { name: 'generic strides', srcLen: 200, sOff: 1, ss: [40, 2], dstLen: 200, dOff: 2, ds: [50, 3], shape: [4, 15] },
    { name: 'strided big', srcLen: 2 * 70000 + 1, sOff: 1, ss: [2], dstLen: 3 * 70000, dOff: 0, ds: [3], shape: [70000] },
    { name: 'contiguous big', srcLen: 300000, sOff: 7, ss: [1], dstLen: 300000, dOff: 3, ds: [1], shape: [299990] },
    { name: 'rows big', srcLen: 1000 * 130, sOff: 0, ss: [130, 1], dstLen: 1000 * 128, dOff: 0, ds: [128, 1], shape: [1000, 128] },
    { name: 'unit dims', srcLen: 30, sOff: 0, ss: [30, 1, 5, 1], dstLen: 36, dOff: 0, ds: [30, 30, 6, 1], shape: [1, 1, 6, 5] },
    { name: 'rank 0', srcLen: 4, sOff: 3, ss: [], dstLen: 2, dOff: 1, ds: [], shape: [] },
    { name: 'empty', srcLen: 0, sOff: 0, ss: [4, 1], dstLen: 0, dOff: 0, ds: [4, 1], shape: [0, 4] },
  ];
  cases.forEach((c, i) => checkCase(c, 30 + i));
  // the padding cells are untouched
  const dst = new Float32Array(336).fill(-1);
  nat.stridedCopy(new Float32Array(180).fill(2), 0, i32([90, 30, 6, 1]), dst, 9, i32([168, 56, 8, 1]), i32([2, 3, 5, 6]));
  let twos = 0;
  for (let i = 0; i < 336; i++) {
    const w = i % 8, h = Math.floor(i / 8) % 7;
    const inside = w >= 1 && w <= 6 && h >= 1 && h <= 5;
    assert.equal(dst[i], inside ? 2 : -1, `element ${i}`);
    if (inside) twos++;
  }
  assert.equal(twos, 180);
});

test('strided copies reject bad arguments without writing', () => {
  for (const [name, b] of both) {
    const src = new Float32Array(12).fill(1), dst = new Float32Array(12);
    const bad: [string, () => void][] = [
      ['stride length', () => b.stridedCopy(src, 0, i32([4]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['shape length', () => b.stridedCopy(src, 0, i32([4, 1]), dst, 0, i32([4, 1]), i32([12]))],
      ['negative stride', () => b.stridedCopy(src, 0, i32([-4, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['negative shape', () => b.stridedCopy(src, 0, i32([4, 1]), dst, 0, i32([4, 1]), i32([-3, 4]))],
      ['src short by one', () => b.stridedCopy(src, 1, i32([4, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['dst short by one', () => b.stridedCopy(src, 0, i32([4, 1]), dst, 1, i32([4, 1]), i32([3, 4]))],
      ['src stride too big', () => b.stridedCopy(src, 0, i32([5, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['huge stride', () => b.stridedCopy(src, 0, i32([2 ** 31 - 1, 2 ** 31 - 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['dst stride 0', () => b.stridedCopy(src, 0, i32([4, 1]), dst, 0, i32([0, 1]), i32([3, 4]))],
      ['negative offset', () => b.stridedCopy(src, -1, i32([4, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['fractional offset', () => b.stridedCopy(src, 0.5, i32([4, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['rank 0 out of range', () => b.stridedCopy(src, 12, i32([]), dst, 0, i32([]), i32([]))],
      ['src type', () => b.stridedCopy(new Int32Array(12) as unknown as Float32Array, 0, i32([4, 1]), dst, 0, i32([4, 1]), i32([3, 4]))],
      ['strides type', () => b.stridedCopy(src, 0, [4, 1] as unknown as Int32Array, dst, 0, i32([4, 1]), i32([3, 4]))],
      ['I32 with F32 data', () => b.stridedCopyI32(src as unknown as Int32Array, 0, i32([1]), new Int32Array(12), 0, i32([1]), i32([12]))],
      ['U8 short', () => b.stridedCopyU8(new Uint8Array(11), 0, i32([1]), new Uint8Array(12), 0, i32([1]), i32([12]))],
    ];
    for (const [what, fn] of bad) assert.throws(fn, /stridedCopy/, `${name}: ${what}`);
    assert.ok(dst.every((x) => x === 0), `${name}: dst untouched`);
  }
});

test('gatherRows / scatterAddRows: native equals reference, reference equals the definition', () => {
  for (const [rows, rowLen, count] of [[1, 1, 1], [7, 5, 12], [7, 0, 3], [5, 3, 0], [50, 300, 400], [20, 600, 200], [1000, 64, 3000]]) {
    const x = seededArray(rows * rowLen, rows + rowLen);
    const idx = Int32Array.from(seededArray(count, count + 1, 0, rows), Math.floor);
    const outs: Float32Array[] = [];
    for (const [, b] of both) {
      const out = new Float32Array(count * rowLen).fill(NaN);
      b.gatherRows(x, rows, rowLen, idx, count, out);
      outs.push(out);
    }
    assert.deepEqual(outs[1], outs[0]);
    for (let i = 0; i < count; i++) for (let c = 0; c < rowLen; c++) assert.equal(outs[0][i * rowLen + c], x[idx[i] * rowLen + c]);

    const dout = seededArray(count * rowLen, count * 3 + 1);
    const dx0 = seededArray(rows * rowLen, 99);
    const dxs: Float32Array[] = [];
    for (const [, b] of both) {
      const dx = dx0.slice();
      b.scatterAddRows(dout, idx, count, rowLen, dx, rows);
      dxs.push(dx);
    }
    assert.deepEqual(dxs[1], dxs[0], `scatter rows ${rows} rowLen ${rowLen} count ${count}`);
    // definition: sum in double; float32 accumulation stays close
    const want = Float64Array.from(dx0);
    for (let i = 0; i < count; i++) for (let c = 0; c < rowLen; c++) want[idx[i] * rowLen + c] += dout[i * rowLen + c];
    for (let j = 0; j < want.length; j++) assert.ok(Math.abs(dxs[0][j] - want[j]) < 1e-4 * (1 + Math.abs(want[j])), `dx[${j}]`);
  }
});

test('gatherRows / scatterAddRows: a bad index throws naming position and value, before writing', () => {
  for (const [name, b] of both) {
    const x = new Float32Array(12).fill(1), out = new Float32Array(8), dx = new Float32Array(12);
    assert.throws(() => b.gatherRows(x, 3, 4, i32([0, 2]), 2, new Float32Array(7)), /gatherRows/, `${name} out short`);
    assert.throws(() => b.gatherRows(x, 4, 4, i32([0, 2]), 2, out), /gatherRows/, `${name} x short`);
    assert.throws(() => b.gatherRows(x, 3, 4, i32([0]), 2, out), /gatherRows/, `${name} index short`);
    assert.throws(() => b.gatherRows(x, 3, 4, i32([0, 3]), 2, out), /gatherRows: index\[1\] = 3 is out of range for 3 rows/, name);
    assert.throws(() => b.gatherRows(x, 3, 4, i32([1, -1]), 2, out), /index\[1\] = -1/, name);
    assert.ok(out.every((v) => v === 0), `${name}: out untouched`);
    assert.throws(() => b.scatterAddRows(new Float32Array(7), i32([2, 0]), 2, 4, dx, 3), /scatterAddRows/, `${name} dout short`);
    assert.throws(() => b.scatterAddRows(out, i32([2, 5]), 2, 4, dx, 3), /scatterAddRows: index\[1\] = 5 is out of range for 3 rows/, name);
    assert.throws(() => b.scatterAddRows(out, i32([2, 0]), 2, 4, new Float32Array(11), 3), /scatterAddRows/, `${name} dx short`);
    assert.throws(() => b.scatterAddRows(out, new Float32Array(2) as unknown as Int32Array, 2, 4, dx, 3), /scatterAddRows/, `${name} index type`);
    assert.ok(dx.every((v) => v === 0), `${name}: dx untouched`);
  }
});
