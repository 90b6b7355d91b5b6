import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ReduceOp, referenceBackend as ref } from '../src/backend';
import type { Backend } from '../src/backend';
import { createNativeBackend } from '../src/backend/native';
import { assertClose, seededArray, forEachIsaAndThreads } from './util';

const nat = createNativeBackend() as Backend;

/** `full` marks the one configuration that also runs the largest sizes. */
const forEachConfig = (fn: (label: string, full: boolean) => void): void => forEachIsaAndThreads((label, i) => fn(label, i === 1));

const ALL_OPS = Object.values(ReduceOp).filter((v): v is ReduceOp => typeof v === 'number');

// [outer, n, inner]: the op layer's cases (bias gradient [1, batch, features], max over classes
// [batch, classes, 1], full sums [1, N, 1]) plus awkward and thread-splitting ones.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 15, 1], [1, 17, 1], [7, 17, 1], [64, 10, 1], [1, 64, 300], [3, 257, 33], [5, 13, 1029],
  [2, 40000, 1], [1, 100003, 1], [1, 20000, 3], [1, 3000, 700], [40000, 3, 1], [1, 1, 70001], [0, 5, 3], [3, 5, 0],
  [1, 1000003, 1],
];
const BIG = 300000;

function data(op: ReduceOp, len: number, seed: number, withNaN: boolean): Float32Array {
  const x = op === ReduceOp.Prod ? seededArray(len, seed, 0.9, 1.1) : seededArray(len, seed, -1, 1);
  if (op === ReduceOp.CountNonzero) for (let i = 0; i < len; i += 3) x[i] = 0;
  if (op === ReduceOp.Max || op === ReduceOp.Min) for (let i = 0; i < len; i += 5) x[i] = Math.round(x[i] * 4) / 4; // ties
  if (withNaN && len > 10) x[Math.floor(len / 2)] = NaN;
  return x;
}

function tol(op: ReduceOp, n: number): { rtol: number; atol: number } {
  switch (op) {
    case ReduceOp.Max: case ReduceOp.Min: case ReduceOp.CountNonzero: return { rtol: 0, atol: 0 };
    case ReduceOp.Prod: return { rtol: 1e-6, atol: 0 };
    // sums: float blocks, double totals; relative to the magnitude of the terms
    case ReduceOp.Mean: return { rtol: 1e-6, atol: 1e-8 };
    default: return { rtol: 1e-6, atol: 1e-8 * Math.sqrt(n) }; // float lanes of <= 32 terms, double totals
  }
}

test('reference reduce agrees with hand-computed values', () => {
  // x [2, 3, 2]
  const x = Float32Array.of(1, -2, 3, 4, -5, 6, 0, 1, 2, 0, -3, 0);
  const out = new Float32Array(4);
  const r = (op: ReduceOp) => {
    ref.reduce(op, x, 2, 3, 2, out);
    return Array.from(out);
  };
  assert.deepEqual(r(ReduceOp.Sum), [-1, 8, -1, 1]);
  assert.deepEqual(r(ReduceOp.Mean), [Math.fround(-1 / 3), Math.fround(8 / 3), Math.fround(-1 / 3), Math.fround(1 / 3)]);
  assert.deepEqual(r(ReduceOp.Max), [3, 6, 2, 1]);
  assert.deepEqual(r(ReduceOp.Min), [-5, -2, -3, 0]);
  assert.deepEqual(r(ReduceOp.Prod), [-15, -48, -0, 0]); // 0 * 2 * -3 = -0
  assert.deepEqual(r(ReduceOp.SumSquares), [35, 56, 13, 1]);
  assert.deepEqual(r(ReduceOp.SumAbs), [9, 12, 5, 1]);
  assert.deepEqual(r(ReduceOp.CountNonzero), [3, 3, 2, 1]);
  const idx = new Int32Array(4);
  ref.argReduce(true, x, 2, 3, 2, idx);
  assert.deepEqual(Array.from(idx), [1, 2, 1, 0]);
  ref.argReduce(false, x, 2, 3, 2, idx);
  assert.deepEqual(Array.from(idx), [2, 0, 2, 1]); // first min of 1, 0, 0 is index 1
  assert.equal(ref.sumAll(x, 12), 7);
});

test('reduce: native matches reference for every op and shape', () => {
  const cases: Array<{ op: ReduceOp; shape: [number, number, number]; x: Float32Array; want: Float32Array; msg: string }> = [];
  for (const op of ALL_OPS) {
    for (const [si, [outer, n, inner]] of SHAPES.entries()) {
      const len = outer * n * inner;
      for (const withNaN of [false, true]) {
        if (withNaN && len > BIG) continue;
        const x = data(op, len, 100 * si + op, withNaN);
        const want = new Float32Array(outer * inner);
        ref.reduce(op, x, outer, n, inner, want);
        cases.push({ op, shape: [outer, n, inner], x, want, msg: `${ReduceOp[op]} [${outer}, ${n}, ${inner}]${withNaN ? ' with NaN' : ''}` });
      }
    }
  }
  forEachConfig((cfg, full) => {
    for (const { op, shape: [outer, n, inner], x, want, msg } of cases) {
      if (x.length > BIG && !full) continue;
      const got = new Float32Array(outer * inner).fill(7);
      nat.reduce(op, x, outer, n, inner, got);
      assertClose(got, want, { ...tol(op, n), msg: `${cfg} ${msg}` });
    }
  });
});

test('reduce: empty axis (n = 0)', () => {
  for (const b of [nat, ref]) {
    const out = new Float32Array(6).fill(7);
    const empty = new Float32Array(0);
    b.reduce(ReduceOp.Sum, empty, 2, 0, 3, out);
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0]);
    b.reduce(ReduceOp.Prod, empty, 2, 0, 3, out);
    assert.deepEqual(Array.from(out), [1, 1, 1, 1, 1, 1]);
    b.reduce(ReduceOp.Mean, empty, 2, 0, 3, out);
    assert.ok(out.every(Number.isNaN), b.name);
    b.reduce(ReduceOp.CountNonzero, empty, 2, 0, 3, out);
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0]);
    assert.throws(() => b.reduce(ReduceOp.Max, empty, 2, 0, 3, out), /reduce.*Max.*empty/);
    assert.throws(() => b.reduce(ReduceOp.Min, empty, 2, 0, 3, out), /reduce.*Min.*empty/);
    assert.throws(() => b.argReduce(true, empty, 2, 0, 3, new Int32Array(6)), /argReduce.*empty/);
  }
});

test('reduce: Max/Min propagate NaN, CountNonzero counts it', () => {
  forEachConfig((cfg) => {
    for (const [outer, n, inner] of [[1, 100, 1], [1, 100, 20], [3, 33, 1]]) {
      const x = seededArray(outer * n * inner, 5);
      x[7] = NaN; // in row/column 0 of the first outer slice
      for (const op of [ReduceOp.Max, ReduceOp.Min, ReduceOp.Sum]) {
        const out = new Float32Array(outer * inner);
        nat.reduce(op, x, outer, n, inner, out);
        const nanAt = inner === 1 ? 0 : 7;
        assert.ok(Number.isNaN(out[nanAt]), `${cfg} ${ReduceOp[op]} [${outer},${n},${inner}]`);
        assert.equal(out.filter(Number.isNaN).length, 1, `${cfg} ${ReduceOp[op]} only one output is NaN`);
      }
      const cnt = new Float32Array(outer * inner);
      nat.reduce(ReduceOp.CountNonzero, x, outer, n, inner, cnt);
      assert.equal(cnt[inner === 1 ? 0 : 7], n, cfg);
    }
  });
});

test('argReduce: native matches reference, ties and NaN', () => {
  forEachConfig((cfg, full) => {
    for (const [si, [outer, n, inner]] of SHAPES.entries()) {
      const len = outer * n * inner;
      if (n === 0 || (len > BIG && !full)) continue;
      const x = seededArray(len, si + 1);
      for (let i = 0; i < len; i++) x[i] = Math.round(x[i] * 8); // many ties
      if (len > 50) x[len - 3] = NaN;
      for (const isMax of [true, false]) {
        const want = new Int32Array(outer * inner), got = new Int32Array(outer * inner).fill(-7);
        ref.argReduce(isMax, x, outer, n, inner, want);
        nat.argReduce(isMax, x, outer, n, inner, got);
        assert.deepEqual(got, want, `${cfg} arg${isMax ? 'max' : 'min'} [${outer}, ${n}, ${inner}]`);
      }
    }
    const idx = new Int32Array(1);
    nat.argReduce(true, Float32Array.of(1, 3, NaN, 3, NaN), 1, 5, 1, idx);
    assert.equal(idx[0], 2, cfg);
    nat.argReduce(false, Float32Array.of(1, 0, 0, 3), 1, 4, 1, idx);
    assert.equal(idx[0], 1, cfg);
  });
});

test('sumAll accumulates in double precision', () => {
  const n = 1000003;
  const x = new Float32Array(n).fill(0.1);
  const exact = n * Math.fround(0.1);
  // float accumulation would be off by about 1e-2 here
  const withBig = seededArray(n, 9);
  withBig[0] = 1e8;
  withBig[1] = -1e8;
  let sumAbs = 0;
  for (let i = 0; i < n; i++) sumAbs += Math.abs(withBig[i]);
  const refBig = ref.sumAll(withBig, n);
  assert.ok(Math.abs(ref.sumAll(x, n) - exact) < 1e-6);
  forEachConfig((cfg) => {
    assert.ok(Math.abs(nat.sumAll(x, n) - exact) < 1e-6, `${cfg}: ${nat.sumAll(x, n)} vs ${exact}`);
    assert.ok(Math.abs(nat.sumAll(withBig, n) - refBig) < 1e-13 * sumAbs, `${cfg}: ${nat.sumAll(withBig, n)} vs ${refBig}`);
    for (const len of [0, 1, 15, 17]) assert.equal(nat.sumAll(withBig.subarray(2), len), ref.sumAll(withBig.subarray(2), len), `${cfg} n=${len}`);
    assert.ok(Number.isNaN(nat.sumAll(Float32Array.of(1, NaN, 2), 3)));
  });
});

test('reduction kernels reject bad arguments with an error, never a crash', () => {
  const f = new Float32Array(12);
  const both = (fn: (b: Backend) => unknown, re: RegExp) => {
    for (const b of [nat, ref]) assert.throws(() => fn(b), re, `${b.name} must throw ${re}`);
  };
  both((b) => b.reduce(ReduceOp.Sum, f, 2, 3, 3, new Float32Array(6)), /reduce.*x/);
  both((b) => b.reduce(ReduceOp.Sum, f, 2, 3, 2, new Float32Array(3)), /reduce.*out/);
  both((b) => b.reduce(8 as ReduceOp, f, 2, 3, 2, new Float32Array(4)), /reduce.*op/);
  both((b) => b.reduce(ReduceOp.Sum, f, -1, 3, 2, new Float32Array(4)), /reduce.*outer/);
  both((b) => b.reduce(ReduceOp.Sum, new Float64Array(12) as unknown as Float32Array, 2, 3, 2, new Float32Array(4)), /reduce.*Float32Array/);
  both((b) => b.reduce(ReduceOp.Sum, f, 65536, 65536, 65536, f), /reduce/);
  both((b) => b.argReduce(true, f, 2, 3, 2, new Float32Array(4) as unknown as Int32Array), /argReduce.*Int32Array/);
  both((b) => b.argReduce(true, f, 2, 3, 2, new Int32Array(3)), /argReduce.*out/);
  both((b) => b.argReduce(1 as unknown as boolean, f, 2, 3, 2, new Int32Array(4)), /argReduce.*isMax/);
  both((b) => b.sumAll(f, 13), /sumAll.*x/);
  both((b) => b.sumAll(f, 1.5), /sumAll.*n/);
});
