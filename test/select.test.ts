import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend, type Backend } from '../src/backend';
import { loadAddon } from '../src/backend/native';
import { seededArray } from './util';

const ref = referenceBackend;
const addon = loadAddon();
const nat = addon as unknown as Backend;
const both: [string, Backend][] = [['reference', ref], ['native', nat]];

/** Test data with the awkward values: duplicates, signed zeros, infinities, subnormals, a narrow range. */
function dataset(kind: string, n: number, seed: number): Float32Array {
  const u = seededArray(n, seed, 0, 1);
  switch (kind) {
    case 'uniform': return seededArray(n, seed, -1, 1);
    case 'duplicates': return u.map((x) => Math.floor(x * 7) - 3);
    case 'constant': return new Float32Array(n).fill(2.5);
    case 'narrow': return u.map((x) => 1 + x * 1e-4); // one top radix bucket
    case 'wide': return u.map((x, i) => (i % 2 ? -1 : 1) * Math.exp(x * 160 - 80));
    case 'special': {
      const specials = [0, -0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 1, -1];
      return u.map((x, i) => (i % 3 === 0 ? specials[Math.floor(x * specials.length)] : x * 2 - 1));
    }
    default: throw new Error(kind);
  }
}
const KINDS = ['uniform', 'duplicates', 'constant', 'narrow', 'wide', 'special'];
const BIG_KINDS = ['duplicates', 'special']; // the large sizes (parallel and radix paths) run on these only

test('addon loads (the native side of these tests needs it)', () => {
  assert.ok(addon, 'build the addon with npm install');
});

test('kthValue equals the sorted array element, native and reference, all k kinds', () => {
  for (const kind of KINDS) {
    for (const n of [1, 2, 3, 10, 1000, 100_003, 300_000]) {
      const x = dataset(kind, n, n + kind.length);
      const copy = x.slice();
      const sorted = x.slice().sort();
      const ks = new Set([1, n, Math.ceil(n / 2), Math.max(1, Math.floor(n * 0.9)), 1 + ((n * 7919) % n)]);
      for (const k of ks) {
        for (const [name, b] of both) {
          if (name === 'reference' && n > 1000 && k !== n) continue; // the reference sorts; once per size is enough
          const got = b.kthValue(x, n, k);
          assert.ok(Object.is(got, sorted[k - 1]), `${name} ${kind} n=${n} k=${k}: ${got} vs ${sorted[k - 1]}`);
        }
      }
      assert.deepEqual(x, copy, 'x is not modified');
    }
  }
  // n smaller than the buffer: only x[0..n) counts
  const x = Float32Array.from([5, 4, 3, -100]);
  for (const [, b] of both) assert.equal(b.kthValue(x, 3, 1), 3);
});

test('kthValue: reference against hand-computed values', () => {
  const x = Float32Array.from([3, -1, 2, 2, 0, -0, 7]);
  const want = [-1, -0, 0, 2, 2, 3, 7];
  for (let k = 1; k <= 7; k++) assert.ok(Object.is(ref.kthValue(x, 7, k), want[k - 1]), `k=${k}`);
});

test('kthValue on 20M values (timed informally)', (t) => {
  const n = 20_000_000;
  const x = new Float32Array(n);
  const s = new Uint32Array(4);
  nat.rngSeed(s, 20);
  nat.rngNormal(s, x, n, 0, 0.05);
  const k = Math.floor(n * 0.9); // a 90% sparsity threshold on |w| would look like this
  const t0 = performance.now();
  const v = nat.kthValue(x, n, k);
  const ms = performance.now() - t0;
  let below = 0, atOrBelow = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] < v) below++;
    if (x[i] <= v) atOrBelow++;
  }
  assert.ok(below < k && k <= atOrBelow, `value ${v}: ${below} below, ${atOrBelow} at or below, k ${k}`);
  t.diagnostic(`kthValue n=20M: ${ms.toFixed(1)} ms with ${addon!.getThreads()} threads`);
});

test('kthValue rejects NaN (naming the position), bad k, short or wrong buffers', () => {
  for (const [name, b] of both) {
    const x = Float32Array.from([1, 2, NaN, 4]);
    assert.throws(() => b.kthValue(x, 4, 1), /kthValue: x\[2\] is NaN/, name);
    assert.equal(b.kthValue(x, 2, 2), 2, `${name}: the NaN beyond n is not read`);
    const big = new Float32Array(300_000);
    big[299_999] = NaN;
    assert.throws(() => b.kthValue(big, big.length, 5), /x\[299999\] is NaN/, `${name} big`);
    const y = Float32Array.from([1, 2, 3]);
    for (const [what, fn] of [
      ['k 0', () => b.kthValue(y, 3, 0)],
      ['k > n', () => b.kthValue(y, 3, 4)],
      ['k fraction', () => b.kthValue(y, 3, 1.5)],
      ['n 0', () => b.kthValue(y, 0, 1)],
      ['n > length', () => b.kthValue(y, 4, 1)],
      ['type', () => b.kthValue(Int32Array.from([1, 2, 3]) as unknown as Float32Array, 3, 1)],
    ] as [string, () => void][]) assert.throws(fn, /kthValue/, `${name}: ${what}`);
  }
});

/** Checks an order result (values, indices of one row) against the definition: sorted, ties by index. */
function checkOrder(x: Float32Array, vals: Float32Array, idx: Int32Array, desc: boolean, msg: string): void {
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v); // NaN above +Inf; NaNs tie
  const rank = (v: number) => (Number.isNaN(v) ? 1 : 0);
  for (let j = 0; j < idx.length; j++) assert.ok(Object.is(vals[j], x[idx[j]]), `${msg}: values[${j}] = x[indices[${j}]]`);
  for (let j = 1; j < idx.length; j++) {
    const a = vals[j - 1], b = vals[j];
    const cmp = key(a) === key(b) ? rank(a) - rank(b) : key(a) < key(b) ? -1 : 1;
    const ordered = desc ? cmp > 0 : cmp < 0;
    assert.ok(ordered || (cmp === 0 && idx[j - 1] < idx[j]), `${msg}: positions ${j - 1}, ${j}: ${a}@${idx[j - 1]} then ${b}@${idx[j]}`);
  }
}

test('sortRows: stable, native equals reference, both directions, both native paths', () => {
  for (const kind of KINDS) {
    for (const [rows, cols] of [[1, 1], [3, 1], [1, 2], [4, 7], [2, 100], [40, 1000], [3, 1024], [2, 5000], [1, 70_000]]) {
      if (rows * cols > 10_000 && !BIG_KINDS.includes(kind)) continue;
      const x = dataset(kind, rows * cols, rows * 31 + cols);
      for (const desc of [false, true]) {
        const out: [Float32Array, Int32Array][] = [];
        for (const [, b] of both) {
          const v = new Float32Array(rows * cols), i = new Int32Array(rows * cols);
          b.sortRows(x, rows, cols, desc, v, i);
          out.push([v, i]);
        }
        const msg = `${kind} ${rows}x${cols} desc ${desc}`;
        assert.deepEqual(out[1][1], out[0][1], `${msg}: indices`);
        assert.deepEqual(out[1][0], out[0][0], `${msg}: values`);
        for (let r = 0; r < rows; r++) {
          const idx = out[1][1].subarray(r * cols, (r + 1) * cols);
          assert.deepEqual(Array.from(idx).sort((a, b) => a - b), Array.from({ length: cols }, (_, j) => j), `${msg}: a permutation`);
          checkOrder(x.subarray(r * cols, (r + 1) * cols), out[1][0].subarray(r * cols, (r + 1) * cols), idx, desc, `${msg} row ${r}`);
        }
      }
    }
  }
});

test('sortRows and topk with NaN: NaN above +Infinity, stable among NaNs', () => {
  const x = Float32Array.from([1, NaN, -Infinity, Infinity, NaN, -0, 0, 1]);
  for (const [name, b] of both) {
    const v = new Float32Array(8), i = new Int32Array(8);
    b.sortRows(x, 1, 8, false, v, i);
    assert.deepEqual(Array.from(i), [2, 5, 6, 0, 7, 3, 1, 4], `${name} ascending`);
    b.sortRows(x, 1, 8, true, v, i);
    assert.deepEqual(Array.from(i), [1, 4, 3, 0, 7, 5, 6, 2], `${name} descending`);
    const tv = new Float32Array(3), ti = new Int32Array(3);
    b.topk(x, 1, 8, 3, true, tv, ti);
    assert.deepEqual(Array.from(ti), [1, 4, 3], `${name} topk largest`);
    b.topk(x, 1, 8, 3, false, tv, ti);
    assert.deepEqual(Array.from(ti), [2, 5, 6], `${name} topk smallest`);
    assert.ok(Object.is(tv[1], -0) && Object.is(tv[2], 0), `${name}: values keep their sign`);
  }
});

test('topk: native equals reference and the stable-sort prefix, all k regimes', () => {
  for (const kind of KINDS) {
    for (const [rows, cols] of [[1, 1], [2, 5], [5, 64], [3, 1000], [50, 700], [1, 100_000]]) {
      if (rows * cols > 10_000 && !BIG_KINDS.includes(kind)) continue;
      const x = dataset(kind, rows * cols, rows * 17 + cols);
      for (const k of new Set([0, 1, 3, Math.floor(cols / 8), Math.floor(cols / 2), cols - 1, cols].filter((v) => v >= 0 && v <= cols))) {
        for (const largest of [true, false]) {
          const msg = `${kind} ${rows}x${cols} k=${k} largest ${largest}`;
          const out: [Float32Array, Int32Array][] = [];
          for (const [name, b] of both) {
            if (name === 'reference' && cols > 1000 && k !== 3) continue;
            const v = new Float32Array(rows * k), i = new Int32Array(rows * k);
            b.topk(x, rows, cols, k, largest, v, i);
            out.push([v, i]);
          }
          const [v, i] = out[out.length - 1];
          if (out.length === 2) {
            assert.deepEqual(i, out[0][1], `${msg}: indices`);
            assert.deepEqual(v, out[0][0], `${msg}: values`);
          }
          // the stable sort of the row (JS Array sort is stable), first k entries
          const sv = new Float32Array(rows * cols), si = new Int32Array(rows * cols);
          nat.sortRows(x, rows, cols, largest, sv, si);
          for (let r = 0; r < rows; r++) {
            assert.deepEqual(i.subarray(r * k, (r + 1) * k), si.subarray(r * cols, r * cols + k), `${msg} row ${r}`);
          }
        }
      }
    }
  }
});

test('topk / sortRows reject bad k and short or wrong buffers', () => {
  for (const [name, b] of both) {
    const x = seededArray(12, 1);
    const v = new Float32Array(12), i = new Int32Array(12);
    const bad: [string, () => void][] = [
      ['k > cols', () => b.topk(x, 3, 4, 5, true, v, i)],
      ['k fraction', () => b.topk(x, 3, 4, 1.5, true, v, i)],
      ['k negative', () => b.topk(x, 3, 4, -1, true, v, i)],
      ['x short', () => b.topk(x, 4, 4, 2, true, v, i)],
      ['values short', () => b.topk(x, 3, 4, 2, true, new Float32Array(5), i)],
      ['indices short', () => b.topk(x, 3, 4, 2, true, v, new Int32Array(5))],
      ['indices type', () => b.topk(x, 3, 4, 2, true, v, new Float32Array(12) as unknown as Int32Array)],
      ['sort x short', () => b.sortRows(x, 13, 1, false, new Float32Array(13), new Int32Array(13))],
      ['sort values short', () => b.sortRows(x, 3, 4, false, new Float32Array(11), i)],
      ['sort indices short', () => b.sortRows(x, 3, 4, false, v, new Int32Array(11))],
      ['sort x type', () => b.sortRows(new Float64Array(12) as unknown as Float32Array, 3, 4, false, v, i)],
    ];
    for (const [what, fn] of bad) assert.throws(fn, /topk|sortRows/, `${name}: ${what}`);
    assert.ok(v.every((z) => z === 0) && i.every((z) => z === 0), `${name}: outputs untouched`);
  }
});
