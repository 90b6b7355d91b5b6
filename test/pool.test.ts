import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend } from '../src/backend';
import { loadAddon, createNativeBackend } from '../src/backend/native';
import type { Backend } from '../src/backend/backend';
import { assertClose, seededArray, forEachIsaAndThreads } from './util';

const ref = referenceBackend;
const addon = loadAddon();
const nat = createNativeBackend() as Backend;

interface Spec {
  N: number; C: number; H: number; W: number; KH: number; KW: number;
  SH?: number; SW?: number; PH?: number; PW?: number; DH?: number; DW?: number; ceil?: boolean;
}

/** Output size as PyTorch computes it (floor or ceil mode). */
function outSize(L: number, K: number, S: number, P: number, D: number, ceil: boolean): number {
  const num = L + 2 * P - D * (K - 1) - 1;
  let o = (ceil ? Math.ceil(num / S) : Math.floor(num / S)) + 1;
  if (ceil && (o - 1) * S >= L + P) o--; // the last window must start inside the input or left padding
  return o;
}

function geometry(s: Spec): Int32Array {
  const SH = s.SH ?? s.KH, SW = s.SW ?? s.KW, PH = s.PH ?? 0, PW = s.PW ?? PH, DH = s.DH ?? 1, DW = s.DW ?? DH;
  const OH = outSize(s.H, s.KH, SH, PH, DH, !!s.ceil);
  const OW = outSize(s.W, s.KW, SW, PW, DW, !!s.ceil);
  return Int32Array.from([s.N, s.C, s.H, s.W, OH, OW, s.KH, s.KW, SH, SW, PH, PW, DH, DW]);
}

const inLen = (g: Int32Array) => g[0] * g[1] * g[2] * g[3];
const outLen = (g: Int32Array) => g[0] * g[1] * g[4] * g[5];

const eachConfig = (fn: (label: string) => void): void => forEachIsaAndThreads((label) => fn(label));

const SPECS: Spec[] = [
  { N: 2, C: 3, H: 8, W: 8, KH: 2, KW: 2 },
  { N: 2, C: 3, H: 7, W: 9, KH: 2, KW: 2 },
  { N: 2, C: 3, H: 7, W: 9, KH: 2, KW: 2, ceil: true },
  { N: 2, C: 16, H: 20, W: 70, KH: 2, KW: 2 }, // rows longer than a vector, threads over planes
  { N: 1, C: 2, H: 9, W: 9, KH: 3, KW: 3, SH: 2, PH: 1 },
  { N: 1, C: 2, H: 10, W: 9, KH: 3, KW: 3, SH: 2, PH: 1, ceil: true },
  { N: 2, C: 2, H: 6, W: 7, KH: 3, KW: 3, SH: 1, PH: 1 }, // overlapping
  { N: 1, C: 3, H: 5, W: 6, KH: 2, KW: 2, SH: 1 }, // overlapping, no padding
  { N: 2, C: 2, H: 9, W: 8, KH: 3, KW: 2, SH: 2, SW: 1, PH: 1, PW: 0, DH: 1, DW: 2 }, // dilated, non-square
  { N: 1, C: 2, H: 10, W: 11, KH: 3, KW: 3, ceil: true },
  { N: 1, C: 2, H: 11, W: 11, KH: 4, KW: 2, SH: 3, SW: 2, PH: 2, PW: 1, DH: 2, DW: 3, ceil: true },
  { N: 2, C: 3, H: 4, W: 5, KH: 1, KW: 1 },
  { N: 2, C: 3, H: 5, W: 4, KH: 5, KW: 4 }, // global
  { N: 0, C: 3, H: 4, W: 4, KH: 2, KW: 2 },
];

function label(s: Spec): string {
  return JSON.stringify(s).replace(/"/g, '');
}

/** Values with many ties (multiples of 0.25), plus -inf and NaN cells when asked. */
function tiedArray(n: number, seed: number, special: boolean): Float32Array {
  const a = seededArray(n, seed);
  for (let i = 0; i < n; i++) a[i] = Math.round(a[i] * 4) / 4;
  if (special && n > 20) {
    a[3] = -Infinity;
    a[11] = NaN;
    a[12] = NaN;
    a[17] = Infinity;
  }
  return a;
}

test('pooling: native matches reference (max, avg both divisors) on all ISAs and 1/2 threads', () => {
  SPECS.forEach((s, k) => {
    const g = geometry(s);
    for (const special of [false, true]) {
      const x = special ? tiedArray(inLen(g), 50 + k, true) : seededArray(inLen(g), 50 + k);
      const dy = seededArray(outLen(g), 60 + k);
      const yRef = new Float32Array(outLen(g));
      const iRef = new Int32Array(outLen(g));
      const dxRef = new Float32Array(inLen(g));
      ref.maxPool2dForward(x, yRef, iRef, g);
      ref.maxPool2dBackward(dy, iRef, dxRef, g);
      const avgRef = [true, false].map((cip) => {
        const y = new Float32Array(outLen(g));
        const dx = new Float32Array(inLen(g));
        ref.avgPool2dForward(x, y, g, cip);
        ref.avgPool2dBackward(dy, dx, g, cip);
        return { y, dx };
      });
      eachConfig((cfg) => {
        const msg = `${label(s)} special=${special} ${cfg}`;
        const y = new Float32Array(outLen(g)).fill(7);
        const ind = new Int32Array(outLen(g)).fill(-5);
        const dx = new Float32Array(inLen(g)).fill(NaN);
        nat.maxPool2dForward(x, y, ind, g);
        assert.deepEqual(y, yRef, `max forward ${msg}`);
        assert.deepEqual(ind, iRef, `max indices ${msg}`);
        nat.maxPool2dBackward(dy, ind, dx, g);
        assertClose(dx, dxRef, { msg: `max backward ${msg}` });
        [true, false].forEach((cip, j) => {
          const ya = new Float32Array(outLen(g)).fill(NaN);
          const dxa = new Float32Array(inLen(g)).fill(NaN);
          nat.avgPool2dForward(x, ya, g, cip);
          nat.avgPool2dBackward(dy, dxa, g, cip);
          assertClose(ya, avgRef[j].y, { msg: `avg forward cip=${cip} ${msg}` });
          assertClose(dxa, avgRef[j].dx, { msg: `avg backward cip=${cip} ${msg}` });
        });
      });
    }
  });
});

const ADAPTIVE: [number, number, number, number, number][] = [
  [3, 7, 5, 3, 2],
  [2, 5, 5, 5, 5],
  [2, 4, 6, 7, 8], // output larger than the input: overlapping windows
  [2, 10, 10, 1, 1], // global average
  [4, 13, 11, 4, 3],
  [40, 32, 32, 5, 7], // threads over planes
  [0, 3, 3, 2, 2],
];

test('adaptive average pooling: native matches reference on all ISAs and 1/2 threads', () => {
  ADAPTIVE.forEach(([P, H, W, OH, OW], k) => {
    const x = seededArray(P * H * W, 70 + k);
    const dy = seededArray(P * OH * OW, 80 + k);
    const yRef = new Float32Array(P * OH * OW);
    const dxRef = new Float32Array(P * H * W);
    ref.adaptiveAvgPool2dForward(x, yRef, P, H, W, OH, OW);
    ref.adaptiveAvgPool2dBackward(dy, dxRef, P, H, W, OH, OW);
    eachConfig((cfg) => {
      const y = new Float32Array(P * OH * OW).fill(NaN);
      const dx = new Float32Array(P * H * W).fill(NaN);
      nat.adaptiveAvgPool2dForward(x, y, P, H, W, OH, OW);
      nat.adaptiveAvgPool2dBackward(dy, dx, P, H, W, OH, OW);
      assertClose(y, yRef, { msg: `forward ${[P, H, W, OH, OW]} ${cfg}` });
      assertClose(dx, dxRef, { msg: `backward ${[P, H, W, OH, OW]} ${cfg}` });
    });
  });
});

test('pooling reference: hand-computed values', () => {
  const x = Float32Array.from([1, 5, 2, 0, 3, 4, 8, 8, -1, -2, 6, 7, 0, -3, 7, 6]); // 4x4
  const y = new Float32Array(4);
  const ind = new Int32Array(4);
  ref.maxPool2dForward(x, y, ind, geometry({ N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2 }));
  assert.deepEqual(Array.from(y), [5, 8, 0, 7]);
  assert.deepEqual(Array.from(ind), [1, 6, 12, 11]); // the tie 8, 8 keeps the first; 7 at (2,3)
  const dx = new Float32Array(16);
  ref.maxPool2dBackward(Float32Array.of(1, 2, 3, 4), ind, dx, geometry({ N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2 }));
  assert.deepEqual(Array.from(dx), [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 4, 3, 0, 0, 0]);
  // 3x3 average with padding 1 at the top-left corner: 4 input cells, 9 cells of the padded input
  const g = geometry({ N: 1, C: 1, H: 4, W: 4, KH: 3, KW: 3, SH: 3, PH: 1 });
  const ya = new Float32Array(4);
  ref.avgPool2dForward(x, ya, g, true);
  assert.equal(ya[0], Math.fround((1 + 5 + 3 + 4) / 9));
  ref.avgPool2dForward(x, ya, g, false);
  assert.equal(ya[0], (1 + 5 + 3 + 4) / 4);
  // ceil mode: a window hanging over the bottom-right edge divides by the cells inside the padded input
  const gc = geometry({ N: 1, C: 1, H: 3, W: 3, KH: 2, KW: 2, ceil: true }); // OH = OW = 2
  assert.deepEqual(Array.from(gc.subarray(4, 6)), [2, 2]);
  const yc = new Float32Array(4);
  ref.avgPool2dForward(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), yc, gc, true);
  assert.deepEqual(Array.from(yc), [3, 4.5, 7.5, 9]);
  // adaptive: 5 -> 3 uses windows [0,2), [1,4), [3,5)
  const ad = new Float32Array(3);
  ref.adaptiveAvgPool2dForward(Float32Array.from([1, 2, 3, 4, 5]), ad, 1, 1, 5, 1, 3);
  assert.deepEqual(Array.from(ad), [1.5, 3, 4.5]);
});

function numericGrad(v: Float32Array, L: () => number, eps: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const v0 = v[i];
    v[i] = v0 + eps;
    const hi = v[i];
    const lp = L();
    v[i] = v0 - eps;
    const lo = v[i];
    const lm = L();
    v[i] = v0;
    out[i] = (lp - lm) / (hi - lo);
  }
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test('pooling reference: backward kernels match finite differences of the forward', () => {
  const specs: Spec[] = [
    { N: 1, C: 2, H: 5, W: 6, KH: 3, KW: 2, SH: 2, SW: 1, PH: 1, PW: 1, ceil: true },
    { N: 1, C: 1, H: 7, W: 7, KH: 3, KW: 3, SH: 2, PH: 1, DH: 2, DW: 1 },
  ];
  for (const s of specs) {
    const g = geometry(s);
    const n = inLen(g);
    // distinct values 0.1 apart, so a small step never changes which cell is the max
    const perm = Array.from(seededArray(n, 5), (v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
    const x = new Float32Array(n);
    perm.forEach(([, i], rank) => (x[i] = rank * 0.1 - 1));
    const r = seededArray(outLen(g), 6);
    const y = new Float32Array(outLen(g));
    const ind = new Int32Array(outLen(g));
    const dx = new Float32Array(n);
    ref.maxPool2dForward(x, y, ind, g);
    ref.maxPool2dBackward(r, ind, dx, g);
    const Lmax = () => (ref.maxPool2dForward(x, y, ind, g), dot(y, r));
    assertClose(dx, numericGrad(x, Lmax, 0.01), { rtol: 1e-3, atol: 1e-3, msg: `max ${label(s)}` });
    for (const cip of [true, false]) {
      ref.avgPool2dBackward(r, dx, g, cip);
      const Lavg = () => (ref.avgPool2dForward(x, y, g, cip), dot(y, r));
      assertClose(dx, numericGrad(x, Lavg, 0.25), { rtol: 1e-3, atol: 1e-4, msg: `avg cip=${cip} ${label(s)}` });
    }
  }
  for (const [P, H, W, OH, OW] of [[2, 5, 7, 3, 4], [1, 3, 4, 5, 6]]) {
    const x = seededArray(P * H * W, 7);
    const r = seededArray(P * OH * OW, 8);
    const y = new Float32Array(P * OH * OW);
    const dx = new Float32Array(P * H * W);
    ref.adaptiveAvgPool2dBackward(r, dx, P, H, W, OH, OW);
    const L = () => (ref.adaptiveAvgPool2dForward(x, y, P, H, W, OH, OW), dot(y, r));
    assertClose(dx, numericGrad(x, L, 0.25), { rtol: 1e-3, atol: 1e-4, msg: `adaptive ${[P, H, W, OH, OW]}` });
  }
});

test('pooling: bad geometry, bad indices and short or mistyped buffers throw on both backends', () => {
  const good = geometry({ N: 2, C: 3, H: 6, W: 6, KH: 2, KW: 2 });
  const x = new Float32Array(inLen(good));
  const y = new Float32Array(outLen(good));
  const ind = new Int32Array(outLen(good));
  const edit = (i: number, v: number) => {
    const g = good.slice();
    g[i] = v;
    return g;
  };
  const badGeoms: [Int32Array, RegExp][] = [
    [good.subarray(0, 13), /14 entries/],
    [edit(2, 0), /H must be >= 1/],
    [edit(8, 0), /SH must be >= 1/],
    [edit(10, -1), /PH must be >= 0/],
    [edit(4, 4), /OH = 4 is neither the floor-mode \(3\) nor the ceil-mode \(3\)/],
    [edit(5, 2), /OW = 2/],
    [edit(6, 8), /window spans 8 cells/],
    [Int32Array.from([1, 1, 4, 4, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1]), /covers only padding/], // 1x1 window, pad 1
  ];
  const short = <T extends Float32Array | Int32Array>(a: T) => a.subarray(0, a.length - 1) as T;
  for (const be of [nat, ref]) {
    for (const [g, re] of badGeoms) {
      const ok = (k: string) => (e: Error) => e.message.startsWith(`${k}:`) && re.test(e.message);
      assert.throws(() => be.maxPool2dForward(x, y, ind, g), ok('maxPool2dForward'), `${be.name} ${re}`);
      assert.throws(() => be.maxPool2dBackward(y, ind, x, g), ok('maxPool2dBackward'));
      assert.throws(() => be.avgPool2dForward(x, y, g, true), ok('avgPool2dForward'));
      assert.throws(() => be.avgPool2dBackward(y, x, g, false), ok('avgPool2dBackward'));
    }
    assert.throws(() => be.maxPool2dForward(short(x), y, ind, good), /maxPool2dForward: x has/);
    assert.throws(() => be.maxPool2dForward(x, short(y), ind, good), /maxPool2dForward: y has/);
    assert.throws(() => be.maxPool2dForward(x, y, short(ind), good), /maxPool2dForward: indices has/);
    assert.throws(() => be.maxPool2dBackward(short(y), ind, x, good), /maxPool2dBackward: dy has/);
    assert.throws(() => be.maxPool2dBackward(y, short(ind), x, good), /maxPool2dBackward: indices has/);
    assert.throws(() => be.maxPool2dBackward(y, ind, short(x), good), /maxPool2dBackward: dx has/);
    assert.throws(() => be.avgPool2dForward(short(x), y, good, true), /avgPool2dForward: x has/);
    assert.throws(() => be.avgPool2dBackward(y, short(x), good, true), /avgPool2dBackward: dx has/);
    assert.throws(() => be.maxPool2dForward(x, y, new Float32Array(ind.length) as unknown as Int32Array, good), /indices must be an? Int32Array/);
    // indices outside the H*W plane
    for (const v of [-1, 36]) {
      const bad = new Int32Array(ind.length);
      bad[5] = v;
      assert.throws(() => be.maxPool2dBackward(y, bad, x, good), /maxPool2dBackward: indices: 1 entries outside the plane \[0, 36\)/);
    }
    assert.throws(() => be.adaptiveAvgPool2dForward(x, y, 6, 6, 6, 0, 3), /adaptiveAvgPool2dForward: .*OH/);
    assert.throws(() => be.adaptiveAvgPool2dForward(x, y, 6, 6, 6, 4, 4), /adaptiveAvgPool2dForward: y has/);
    assert.throws(() => be.adaptiveAvgPool2dBackward(y, x, 6, 7, 6, 3, 3), /adaptiveAvgPool2dBackward: dx has/);
    assert.throws(() => be.adaptiveAvgPool2dBackward(y, x, 6, 6, 6, 3, 3.5), /adaptiveAvgPool2dBackward: .*OW/);
  }
  const f = addon!.avgPool2dForward as (...a: unknown[]) => void;
  assert.throws(() => f(x, y, good, 1), /avgPool2dForward: countIncludePad must be a boolean/);
});
