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
  N: number; C: number; H: number; W: number; O: number; KH: number; KW: number;
  SH?: number; SW?: number; PH?: number; PW?: number; DH?: number; DW?: number; G?: number; bias?: boolean;
}

function geometry(s: Spec): Int32Array {
  const SH = s.SH ?? 1, SW = s.SW ?? SH, PH = s.PH ?? 0, PW = s.PW ?? PH, DH = s.DH ?? 1, DW = s.DW ?? DH, G = s.G ?? 1;
  const OH = Math.floor((s.H + 2 * PH - DH * (s.KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((s.W + 2 * PW - DW * (s.KW - 1) - 1) / SW) + 1;
  return Int32Array.from([s.N, s.C, s.H, s.W, s.O, s.KH, s.KW, OH, OW, SH, SW, PH, PW, DH, DW, G]);
}

function sizes(g: Int32Array) {
  const [N, C, H, W, O, KH, KW, OH, OW, , , , , , , G] = g;
  return { x: N * C * H * W, w: (O * C * KH * KW) / G, y: N * O * OH * OW, O };
}

const eachConfig = (fn: (label: string) => void): void => forEachIsaAndThreads((label) => fn(label));

const SPECS: Spec[] = [
  { N: 2, C: 3, H: 5, W: 6, O: 4, KH: 3, KW: 3, PH: 1, bias: true },
  { N: 5, C: 4, H: 9, W: 7, O: 6, KH: 3, KW: 3, SH: 2, PH: 1 },
  { N: 1, C: 2, H: 11, W: 10, O: 3, KH: 4, KW: 4, SH: 3, PH: 2, bias: true },
  { N: 2, C: 3, H: 9, W: 8, O: 2, KH: 3, KW: 3, PH: 2, DH: 2 },
  { N: 2, C: 3, H: 7, W: 6, O: 2, KH: 3, KW: 3, PH: 0, PW: 1, bias: true }, // OW == W, OH < H
  { N: 2, C: 2, H: 7, W: 6, O: 3, KH: 3, KW: 1 }, // OW == W without padding
  { N: 2, C: 4, H: 6, W: 5, O: 6, KH: 3, KW: 3, PH: 1, G: 2, bias: true },
  { N: 5, C: 8, H: 7, W: 7, O: 4, KH: 3, KW: 3, SH: 2, PH: 1, G: 4 },
  { N: 2, C: 5, H: 6, W: 6, O: 5, KH: 3, KW: 3, PH: 1, G: 5, bias: true }, // depthwise
  { N: 1, C: 3, H: 8, W: 7, O: 6, KH: 5, KW: 5, PH: 2, G: 3 }, // depthwise, multiplier 2
  { N: 3, C: 6, H: 5, W: 7, O: 5, KH: 1, KW: 1, bias: true }, // 1x1 direct
  { N: 2, C: 4, H: 7, W: 6, O: 3, KH: 1, KW: 1, SH: 2 }, // 1x1 strided
  { N: 2, C: 4, H: 4, W: 5, O: 6, KH: 1, KW: 1, G: 2, bias: true }, // 1x1 direct, grouped
  { N: 2, C: 3, H: 4, W: 4, O: 2, KH: 1, KW: 1, PH: 1 }, // 1x1 padded
  { N: 2, C: 2, H: 7, W: 12, O: 3, KH: 2, KW: 5, SH: 1, SW: 2, PH: 0, PW: 2, DH: 2, DW: 1, bias: true }, // non-square
  { N: 1, C: 2, H: 3, W: 3, O: 2, KH: 5, KW: 5, PH: 2 }, // kernel larger than the input
  { N: 1, C: 3, H: 5, W: 5, O: 4, KH: 5, KW: 5, bias: true }, // 1x1 output
  { N: 4, C: 1, H: 12, W: 12, O: 6, KH: 5, KW: 5, bias: true }, // lenet-like
  { N: 5, C: 4, H: 8, W: 8, O: 8, KH: 3, KW: 3, SH: 2, PH: 1 }, // resnet downsampling
  { N: 3, C: 8, H: 12, W: 12, O: 8, KH: 3, KW: 3, PH: 1, bias: true }, // threaded GEMM path (N % 2 = 1)
  { N: 4, C: 8, H: 10, W: 10, O: 8, KH: 3, KW: 3, PH: 1, G: 2 }, // images over threads, grouped
  { N: 4, C: 16, H: 16, W: 16, O: 16, KH: 1, KW: 1, bias: true }, // images over threads, 1x1 direct
  { N: 1, C: 4, H: 80, W: 101, O: 3, KH: 3, KW: 3, PH: 1, bias: true }, // col in chunks, threaded GEMM + im2col
  { N: 2, C: 4, H: 80, W: 101, O: 2, KH: 3, KW: 3, SH: 1, SW: 2, PH: 1 }, // col in chunks, images over threads
  { N: 0, C: 2, H: 4, W: 4, O: 3, KH: 3, KW: 3, bias: true }, // empty batch
  // Stride 1: implicit GEMM over a padded image (forward; backward input through the flipped kernel)
  { N: 3, C: 16, H: 10, W: 10, O: 20, KH: 3, KW: 3, PH: 1, bias: true }, // several row panels, partial last panel
  { N: 2, C: 5, H: 9, W: 40, O: 9, KH: 3, KW: 3, PH: 1 }, // wide rows
  { N: 2, C: 3, H: 12, W: 30, O: 10, KH: 3, KW: 3, PH: 2, DH: 2, bias: true }, // dilated
  { N: 2, C: 4, H: 9, W: 26, O: 17, KH: 3, KW: 5, PH: 1, PW: 2 }, // non-square kernel and padding
  { N: 2, C: 4, H: 9, W: 26, O: 7, KH: 2, KW: 4, PH: 1, PW: 2, DW: 2 }, // even kernel, padded output larger
  { N: 4, C: 8, H: 10, W: 20, O: 12, KH: 3, KW: 3, PH: 1, G: 2, bias: true }, // grouped
  { N: 4, C: 1, H: 28, W: 28, O: 6, KH: 5, KW: 5, bias: true }, // unpadded: input gradient via col2im (dy padded by 4)
  { N: 2, C: 3, H: 20, W: 20, O: 4, KH: 3, KW: 3, PH: 3 }, // padding past the kernel: input gradient via col2im
  { N: 1, C: 128, H: 6, W: 6, O: 8, KH: 3, KW: 3, PH: 1, bias: true }, // deep K: split-K GEMM on 2 threads
  { N: 3, C: 2, H: 1, W: 30, O: 3, KH: 1, KW: 3, PW: 1 }, // one row
  // Channel-vector kernels (output channels a multiple of 32, images over threads or one thread)
  { N: 4, C: 32, H: 8, W: 8, O: 64, KH: 3, KW: 3, PH: 1 }, // ResNet's last stage: input gradient too
  { N: 3, C: 5, H: 7, W: 11, O: 32, KH: 3, KW: 3, PH: 1, bias: true }, // partial position tiles, odd batch
  { N: 4, C: 64, H: 6, W: 5, O: 32, KH: 3, KW: 3, PH: 1, G: 2, bias: true }, // grouped
  { N: 20, C: 32, H: 5, W: 6, O: 32, KH: 3, KW: 2, PH: 1, PW: 0, DH: 2 }, // dilated
  { N: 37, C: 8, H: 3, W: 4, O: 32, KH: 3, KW: 3, PH: 1 }, // over 8 images per chunk at 1 thread: accumulated
  { N: 2, C: 3, H: 6, W: 9, O: 48, KH: 2, KW: 3, PH: 0, PW: 1 }, // 48 channels: 16-lane blocks only
  // Weight gradient by dot products along output rows (OW >= 16, channels not a multiple of 32)
  { N: 34, C: 2, H: 4, W: 17, O: 5, KH: 3, KW: 3, PH: 1 }, // partial channel and tap tiles, 1-lane row tail, accumulated chunks
  { N: 4, C: 16, H: 6, W: 32, O: 16, KH: 3, KW: 3, PH: 1, bias: true }, // ResNet's first stage, full tiles
  // Strided and heavily padded convolutions on the channel-vector and dot-product kernels (column-phase layout)
  { N: 4, C: 16, H: 16, W: 16, O: 32, KH: 3, KW: 3, SH: 2, PH: 1 }, // ResNet's downsampling conv
  { N: 3, C: 5, H: 11, W: 13, O: 64, KH: 3, KW: 4, SH: 2, SW: 3, PH: 2, PW: 1, DW: 2, bias: true }, // odd sizes, 3 phases, dilated
  { N: 2, C: 4, H: 9, W: 40, O: 6, KH: 3, KW: 3, SH: 1, SW: 2, PH: 1 }, // dot-product weight gradient, stride 2
  { N: 2, C: 3, H: 5, W: 18, O: 32, KH: 3, KW: 3, PH: 3, bias: true }, // padding past the kernel
];

function label(s: Spec): string {
  return JSON.stringify(s).replace(/"/g, '');
}

test('conv2d: native matches reference (forward, backward input, backward weight) on all ISAs and 1/2 threads', () => {
  SPECS.forEach((s, k) => {
    const g = geometry(s);
    const n = sizes(g);
    const x = seededArray(n.x, 100 + k);
    const w = seededArray(n.w, 200 + k);
    const b = s.bias ? seededArray(n.O, 300 + k) : null;
    const dy = seededArray(n.y, 400 + k);
    const yRef = new Float32Array(n.y);
    const dxRef = new Float32Array(n.x);
    const dwRef = new Float32Array(n.w);
    const dbRef = new Float32Array(n.O);
    ref.conv2dForward(x, w, b, yRef, g);
    ref.conv2dBackwardInput(dy, w, dxRef, g);
    ref.conv2dBackwardWeight(dy, x, dwRef, s.bias ? dbRef : null, g);
    eachConfig((cfg) => {
      const msg = `${label(s)} ${cfg}`;
      const y = new Float32Array(n.y).fill(NaN);
      const dx = new Float32Array(n.x).fill(NaN);
      const dw = new Float32Array(n.w).fill(NaN);
      const db = new Float32Array(n.O).fill(NaN);
      nat.conv2dForward(x, w, b, y, g);
      nat.conv2dBackwardInput(dy, w, dx, g);
      nat.conv2dBackwardWeight(dy, x, dw, s.bias ? db : null, g);
      assertClose(y, yRef, { rtol: 1e-4, atol: 1e-4, msg: `forward ${msg}` });
      assertClose(dx, dxRef, { rtol: 1e-4, atol: 1e-4, msg: `backward input ${msg}` });
      assertClose(dw, dwRef, { rtol: 1e-4, atol: 2e-4, msg: `backward weight ${msg}` });
      if (s.bias) assertClose(db, dbRef, { rtol: 1e-4, atol: 1e-4, msg: `backward bias ${msg}` });
    });
  });
});

test('conv2d: native results are reproducible bit for bit (scratch reuse, NaN-filled outputs, 2 threads)', () => {
  const t0 = addon!.getThreads();
  addon!.setThreads(2);
  const s: Spec = { N: 4, C: 8, H: 10, W: 10, O: 8, KH: 3, KW: 3, PH: 1 };
  const g = geometry(s);
  const n = sizes(g);
  const x = seededArray(n.x, 1);
  const w = seededArray(n.w, 2);
  const dy = seededArray(n.y, 3);
  const dw1 = new Float32Array(n.w);
  nat.conv2dBackwardWeight(dy, x, dw1, null, g);
  // a call with a larger column matrix in between, then the same call again
  const big = geometry({ N: 1, C: 4, H: 40, W: 40, O: 2, KH: 5, KW: 5, PH: 2 });
  const nb = sizes(big);
  nat.conv2dForward(seededArray(nb.x, 4), seededArray(nb.w, 5), null, new Float32Array(nb.y), big);
  const dw2 = new Float32Array(n.w).fill(NaN);
  nat.conv2dBackwardWeight(dy, x, dw2, null, g);
  addon!.setThreads(t0);
  assert.deepEqual(dw2, dw1);
});

test('conv2d reference: hand-computed values', () => {
  // x = 1..9 in a 3x3 plane, w = [[1, 0], [0, -1]]: y[i][j] = x[i][j] - x[i+1][j+1] = -4; bias 0.5.
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = Float32Array.from([1, 0, 0, -1]);
  const y = new Float32Array(4);
  ref.conv2dForward(x, w, Float32Array.of(0.5), y, geometry({ N: 1, C: 1, H: 3, W: 3, O: 1, KH: 2, KW: 2 }));
  assert.deepEqual(Array.from(y), [-3.5, -3.5, -3.5, -3.5]);
  // padding 1, stride 2: windows centred on (0,0), (0,2), (2,0), (2,2) of a 3x3 all-ones kernel
  const y2 = new Float32Array(4);
  ref.conv2dForward(x, new Float32Array(9).fill(1), null, y2, geometry({ N: 1, C: 1, H: 3, W: 3, O: 1, KH: 3, KW: 3, SH: 2, PH: 1 }));
  assert.deepEqual(Array.from(y2), [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  // dilation 2 on a 3x3 input with a 2x2 kernel of ones: the four corners
  const y3 = new Float32Array(1);
  ref.conv2dForward(x, new Float32Array(4).fill(1), null, y3, geometry({ N: 1, C: 1, H: 3, W: 3, O: 1, KH: 2, KW: 2, DH: 2 }));
  assert.deepEqual(Array.from(y3), [1 + 3 + 7 + 9]);
  // groups 2: output channel 0 sees input channel 0 only, channel 1 sees channel 1
  const y4 = new Float32Array(2);
  ref.conv2dForward(Float32Array.of(3, 5), Float32Array.of(2, 10), null, y4, geometry({ N: 1, C: 2, H: 1, W: 1, O: 2, KH: 1, KW: 1, G: 2 }));
  assert.deepEqual(Array.from(y4), [6, 50]);
});

/** L = sum(y * r) in float64 for the reference forward. */
function projection(x: Float32Array, w: Float32Array, b: Float32Array | null, r: Float32Array, g: Int32Array): number {
  const y = new Float32Array(r.length);
  ref.conv2dForward(x, w, b, y, g);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

/** Central differences of L with respect to every element of v (perturbed in place). */
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
    out[i] = (lp - lm) / (hi - lo); // the difference actually stored in float32
  }
  return out;
}

test('conv2d reference: backward kernels match finite differences of the forward', () => {
  const specs: Spec[] = [
    { N: 2, C: 2, H: 5, W: 4, O: 3, KH: 3, KW: 2, SH: 2, SW: 1, PH: 1, PW: 0, bias: true },
    { N: 1, C: 4, H: 5, W: 5, O: 2, KH: 2, KW: 2, PH: 1, DH: 2, G: 2, bias: true },
    { N: 1, C: 3, H: 4, W: 4, O: 3, KH: 3, KW: 3, PH: 1, G: 3 },
  ];
  specs.forEach((s, k) => {
    const g = geometry(s);
    const n = sizes(g);
    const x = seededArray(n.x, 10 + k);
    const w = seededArray(n.w, 20 + k);
    const b = s.bias ? seededArray(n.O, 30 + k) : null;
    const r = seededArray(n.y, 40 + k);
    const L = () => projection(x, w, b, r, g);
    const dx = new Float32Array(n.x);
    const dw = new Float32Array(n.w);
    const db = new Float32Array(n.O);
    ref.conv2dBackwardInput(r, w, dx, g);
    ref.conv2dBackwardWeight(r, x, dw, b ? db : null, g);
    // L is linear in x, w and b, so a large step only reduces the float32 rounding noise.
    assertClose(dx, numericGrad(x, L, 0.25), { rtol: 1e-3, atol: 1e-4, msg: `dx ${label(s)}` });
    assertClose(dw, numericGrad(w, L, 0.25), { rtol: 1e-3, atol: 1e-4, msg: `dw ${label(s)}` });
    if (b) assertClose(db, numericGrad(b, L, 0.25), { rtol: 1e-3, atol: 1e-4, msg: `dbias ${label(s)}` });
  });
});

test('conv2d: bad geometry and short or mistyped buffers throw on both backends', () => {
  const good = geometry({ N: 2, C: 4, H: 6, W: 6, O: 4, KH: 3, KW: 3, PH: 1, G: 2 });
  const n = sizes(good);
  const x = new Float32Array(n.x);
  const w = new Float32Array(n.w);
  const y = new Float32Array(n.y);
  const b = new Float32Array(n.O);
  const edit = (i: number, v: number) => {
    const g = good.slice();
    g[i] = v;
    return g;
  };
  const badGeoms: [Int32Array, RegExp][] = [
    [good.subarray(0, 15), /16 entries/],
    [Int32Array.from([...good, 1]), /16 entries/],
    [edit(1, -1), /C must be >= 1/],
    [edit(9, 0), /SH must be >= 1/],
    [edit(13, 0), /DH must be >= 1/],
    [edit(15, 0), /G must be >= 1/],
    [edit(15, 3), /C = 4 is not divisible by G = 3/],
    [(() => { const g = edit(4, 6); g[15] = 4; return g; })(), /O = 6 is not divisible by G = 4/],
    [edit(7, 5), /OH = 5/],
    [edit(8, 7), /OW = 7/],
    [(() => { const g = edit(5, 9); return g; })(), /kernel spans 9 cells/],
  ];
  for (const be of [nat, ref]) {
    for (const [g, re] of badGeoms) {
      assert.throws(() => be.conv2dForward(x, w, b, y, g), (e: Error) => /conv2dForward/.test(e.message) && re.test(e.message), `${be.name} ${re}`);
      assert.throws(() => be.conv2dBackwardInput(y, w, x, g), (e: Error) => /conv2dBackwardInput/.test(e.message) && re.test(e.message));
      assert.throws(() => be.conv2dBackwardWeight(y, x, w, b, g), (e: Error) => /conv2dBackwardWeight/.test(e.message) && re.test(e.message));
    }
    const short = (a: Float32Array) => a.subarray(0, a.length - 1);
    assert.throws(() => be.conv2dForward(short(x), w, b, y, good), /conv2dForward: x has/);
    assert.throws(() => be.conv2dForward(x, short(w), b, y, good), /conv2dForward: w has/);
    assert.throws(() => be.conv2dForward(x, w, short(b), y, good), /conv2dForward: bias has/);
    assert.throws(() => be.conv2dForward(x, w, b, short(y), good), /conv2dForward: y has/);
    assert.throws(() => be.conv2dBackwardInput(short(y), w, x, good), /conv2dBackwardInput: dy has/);
    assert.throws(() => be.conv2dBackwardInput(y, short(w), x, good), /conv2dBackwardInput: w has/);
    assert.throws(() => be.conv2dBackwardInput(y, w, short(x), good), /conv2dBackwardInput: dx has/);
    assert.throws(() => be.conv2dBackwardWeight(short(y), x, w, b, good), /conv2dBackwardWeight: dy has/);
    assert.throws(() => be.conv2dBackwardWeight(y, short(x), w, b, good), /conv2dBackwardWeight: x has/);
    assert.throws(() => be.conv2dBackwardWeight(y, x, short(w), b, good), /conv2dBackwardWeight: dw has/);
    assert.throws(() => be.conv2dBackwardWeight(y, x, w, short(b), good), /conv2dBackwardWeight: dbias has/);
    const f64 = new Float64Array(n.x) as unknown as Float32Array;
    assert.throws(() => be.conv2dForward(f64, w, b, y, good), /conv2dForward: x must be a Float32Array/);
    assert.throws(() => be.conv2dForward(x, w, b, y, Float32Array.from(good) as unknown as Int32Array), /conv2dForward: geom must be a.*Int32Array/);
  }
  const f = addon!.conv2dForward as (...a: unknown[]) => void;
  assert.throws(() => f(x, w, b, y), /conv2dForward: expected 5 arguments, got 4/);
  assert.throws(() => f(x, w, 5, y, good), /conv2dForward: bias must be a Float32Array/);
});
