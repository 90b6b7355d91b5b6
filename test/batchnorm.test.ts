import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend } from '../src/backend';
import { loadAddon, createNativeBackend } from '../src/backend/native';
import type { Backend } from '../src/backend/backend';
import { assertClose, seededArray, forEachIsaAndThreads } from './util';

const ref = referenceBackend;
const nat = createNativeBackend() as Backend;

const eachConfig = (fn: (label: string) => void): void => forEachIsaAndThreads((label) => fn(label));

interface Out {
  y: Float32Array; mean: Float32Array; invStd: Float32Array; rm: Float32Array | null; rv: Float32Array | null;
  yEval: Float32Array; dx: Float32Array; dgamma: Float32Array | null; dbeta: Float32Array | null; gOut: Float32Array | null;
}

/**
 * Runs train forward, eval forward (with the updated running stats) and backward on one backend.
 * relu: the fused BatchNorm+ReLU; its backward masks by `reluMask` (default: this run's own y), so
 * that two backends can be compared with one mask (values within rounding of 0 could flip it).
 * residual: a shortcut added before the ReLU (y = relu(bn(x) + residual)).
 */
function runAll(be: Backend, N: number, C: number, S: number, affine: boolean, running: boolean, seed: number,
  relu = false, reluMask?: Float32Array, residual = false): Out {
  const n = N * C * S;
  const x = seededArray(n, seed, -2, 3);
  const dy = seededArray(n, seed + 1);
  const gamma = affine ? seededArray(C, seed + 2, 0.5, 1.5) : null;
  const beta = affine ? seededArray(C, seed + 3) : null;
  const rm = running ? seededArray(C, seed + 4) : null;
  const rv = running ? seededArray(C, seed + 5, 0.5, 2) : null;
  const y = new Float32Array(n).fill(NaN);
  const mean = new Float32Array(C).fill(NaN);
  const invStd = new Float32Array(C).fill(NaN);
  const res = residual ? seededArray(n, seed + 6) : null;
  be.batchNormForwardTrain(x, gamma, beta, y, N, C, S, 1e-5, mean, invStd, rm, rv, 0.1, relu, res);
  const yEval = new Float32Array(n).fill(NaN);
  be.batchNormForwardEval(x, gamma, beta, rm ?? mean, rv ?? invStd, yEval, N, C, S, 1e-3, relu, res);
  const dx = new Float32Array(n).fill(NaN);
  const dgamma = affine ? new Float32Array(C).fill(NaN) : null;
  const dbeta = affine ? new Float32Array(C).fill(NaN) : null;
  // With the shortcut, the masked gradient (the shortcut's) is written out too.
  const gOut = relu && residual ? new Float32Array(n).fill(NaN) : null;
  be.batchNormBackward(dy, x, gamma, mean, invStd, dx, dgamma, dbeta, N, C, S, relu ? reluMask ?? y : null, gOut);
  return { y, mean, invStd, rm, rv, yEval, dx, dgamma, dbeta, gOut };
}

const CASES: [number, number, number][] = [
  [4, 3, 50], // rows of S values
  [2, 5, 33],
  [3, 2, 4096 + 17], // crosses the 4096-element block of the row sums
  [64, 16, 64], // threads over channels
  [5, 3, 1], // BatchNorm1d
  [1000, 8, 1], // BatchNorm1d, threads over the batch
  [7, 4, 6], // small feature maps
  [1, 3, 2], // two values per channel
  [0, 3, 4], // empty batch
];

test('batchnorm: native matches reference (train, eval, backward, running stats, fused ReLU and shortcut) on all ISAs and 1/2 threads', () => {
  CASES.forEach(([N, C, S], k) => {
    for (const [affine, running, relu, residual] of [[true, true, false, false], [false, false, false, false], [true, false, false, false],
      [true, true, true, false], [false, false, true, false], [true, true, true, true], [false, false, false, true]]) {
      const r = runAll(ref, N, C, S, affine, running, 10 * k, relu, undefined, residual);
      eachConfig((cfg) => {
        const msg = `N=${N} C=${C} S=${S} affine=${affine} running=${running} relu=${relu} residual=${residual} ${cfg}`;
        const o = runAll(nat, N, C, S, affine, running, 10 * k, relu, r.y, residual);
        assertClose(o.mean, r.mean, { rtol: 1e-5, atol: 1e-6, msg: `saveMean ${msg}` });
        assertClose(o.invStd, r.invStd, { rtol: 1e-5, msg: `saveInvStd ${msg}` });
        assertClose(o.y, r.y, { rtol: 1e-4, atol: 1e-5, msg: `y ${msg}` });
        if (running) {
          assertClose(o.rm!, r.rm!, { rtol: 1e-5, atol: 1e-6, msg: `runningMean ${msg}` });
          assertClose(o.rv!, r.rv!, { rtol: 1e-5, atol: 1e-6, msg: `runningVar ${msg}` });
        }
        assertClose(o.yEval, r.yEval, { rtol: 1e-4, atol: 1e-5, msg: `eval y ${msg}` });
        assertClose(o.dx, r.dx, { rtol: 1e-3, atol: 1e-4, msg: `dx ${msg}` });
        if (r.gOut) assert.deepEqual(Array.from(o.gOut!), Array.from(r.gOut), `gradOut ${msg}`); // a mask: exact
        if (affine) {
          assertClose(o.dgamma!, r.dgamma!, { rtol: 1e-4, atol: 1e-4, msg: `dgamma ${msg}` });
          assertClose(o.dbeta!, r.dbeta!, { rtol: 1e-4, atol: 1e-4, msg: `dbeta ${msg}` });
        }
      });
    }
  });
});

test('batchnorm: statistics stay accurate for large N*S and a large mean (native)', () => {
  const N = 16, C = 2, S = 65536;
  const x = seededArray(N * C * S, 99, -1, 1);
  for (let i = 0; i < x.length; i++) x[i] += 1000;
  for (const [n, s] of [[N, S], [N * S, 1]]) {
    // exact statistics in float64 (the same data viewed as [N, C, S] and as [N*S, C, 1] rows)
    const c = C;
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    const idx = (a: number, ch: number, b: number) => (a * c + ch) * s + b;
    for (let a = 0; a < n; a++) for (let ch = 0; ch < c; ch++) for (let b = 0; b < s; b++) mean[ch] += x[idx(a, ch, b)];
    for (let ch = 0; ch < c; ch++) mean[ch] /= n * s;
    for (let a = 0; a < n; a++) for (let ch = 0; ch < c; ch++) for (let b = 0; b < s; b++) v[ch] += (x[idx(a, ch, b)] - mean[ch]) ** 2;
    const inv = Array.from(v, (q) => 1 / Math.sqrt(q / (n * s) + 1e-5));
    const saveMean = new Float32Array(c);
    const saveInv = new Float32Array(c);
    const rv = new Float32Array(c);
    nat.batchNormForwardTrain(x, null, null, new Float32Array(x.length), n, c, s, 1e-5, saveMean, saveInv, null, rv, 1, false, null);
    assertClose(saveMean, mean, { rtol: 1e-7, msg: `mean S=${s}` });
    assertClose(saveInv, inv, { rtol: 1e-5, msg: `invStd S=${s}` });
    assertClose(rv, Array.from(v, (q) => q / (n * s - 1)), { rtol: 1e-5, msg: `running var S=${s}` });
  }
});

test('batchnorm reference: hand-computed statistics and running-stat update', () => {
  // one channel, values 1, 2, 3, 6 (N=2, S=2): mean 3, biased var 3.5, unbiased 14/3
  const x = Float32Array.of(1, 2, 3, 6);
  const y = new Float32Array(4);
  const mean = new Float32Array(1);
  const inv = new Float32Array(1);
  const rm = Float32Array.of(1);
  const rv = Float32Array.of(2);
  ref.batchNormForwardTrain(x, Float32Array.of(2), Float32Array.of(0.5), y, 2, 1, 2, 0, mean, inv, rm, rv, 0.25, false, null);
  assert.equal(mean[0], 3);
  assert.equal(inv[0], Math.fround(1 / Math.sqrt(3.5)));
  assert.equal(rm[0], 0.75 * 1 + 0.25 * 3);
  assert.equal(rv[0], Math.fround(0.75 * 2 + 0.25 * (14 / 3)));
  assertClose(y, [1, 2, 3, 6].map((v) => ((v - 3) / Math.sqrt(3.5)) * 2 + 0.5));
  const ye = new Float32Array(4);
  ref.batchNormForwardEval(x, null, Float32Array.of(1), Float32Array.of(2), Float32Array.of(3), ye, 2, 1, 2, 1, false, null);
  assertClose(ye, [1, 2, 3, 6].map((v) => (v - 2) / 2 + 1));
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

test('batchnorm reference: backward matches finite differences of the training forward', () => {
  for (const [N, C, S] of [[3, 2, 4], [5, 3, 1]]) {
    const n = N * C * S;
    const x = seededArray(n, 1, -1, 1);
    const gamma = seededArray(C, 2, 0.5, 1.5);
    const beta = seededArray(C, 3);
    const r = seededArray(n, 4);
    const y = new Float32Array(n);
    const mean = new Float32Array(C);
    const inv = new Float32Array(C);
    const L = () => {
      ref.batchNormForwardTrain(x, gamma, beta, y, N, C, S, 1e-5, mean, inv, null, null, 0.1, false, null);
      let s = 0;
      for (let i = 0; i < n; i++) s += y[i] * r[i];
      return s;
    };
    L();
    const dx = new Float32Array(n);
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    ref.batchNormBackward(r, x, gamma, mean, inv, dx, dgamma, dbeta, N, C, S, null, null);
    const msg = `N=${N} C=${C} S=${S}`;
    assertClose(dx, numericGrad(x, L, 1e-2), { rtol: 1e-2, atol: 2e-3, msg: `dx ${msg}` });
    assertClose(dgamma, numericGrad(gamma, L, 1e-2), { rtol: 1e-3, atol: 1e-3, msg: `dgamma ${msg}` });
    assertClose(dbeta, numericGrad(beta, L, 0.25), { rtol: 1e-3, atol: 1e-3, msg: `dbeta ${msg}` });
  }
});

test('batchnorm: one value per channel, empty batch, bad sizes and short buffers', () => {
  const x = seededArray(24, 1);
  const c4 = () => new Float32Array(4);
  for (const be of [nat, ref]) {
    // N*S = 1 cannot give a variance in training mode
    assert.throws(() => be.batchNormForwardTrain(x, null, null, c4(), 1, 4, 1, 1e-5, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: expected more than 1 value per channel/);
    // empty batch: save stats are mean 0, invStd 1/sqrt(eps), running stats untouched
    const mean = c4().fill(NaN);
    const inv = c4().fill(NaN);
    const rm = c4().fill(0.5);
    be.batchNormForwardTrain(new Float32Array(0), null, null, new Float32Array(0), 0, 4, 3, 0.25, mean, inv, rm, null, 0.1, false, null);
    assert.deepEqual(Array.from(mean), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(inv), [2, 2, 2, 2]);
    assert.deepEqual(Array.from(rm), [0.5, 0.5, 0.5, 0.5]);
    const dg = c4().fill(NaN);
    be.batchNormBackward(new Float32Array(0), new Float32Array(0), null, mean, inv, new Float32Array(0), dg, null, 0, 4, 3, null, null);
    assert.deepEqual(Array.from(dg), [0, 0, 0, 0]);
    const y = new Float32Array(24);
    const sh = (a: Float32Array) => a.subarray(0, a.length - 1);
    assert.throws(() => be.batchNormForwardTrain(sh(x), null, null, y, 2, 4, 3, 1e-5, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: x has/);
    assert.throws(() => be.batchNormForwardTrain(x, sh(c4()), null, y, 2, 4, 3, 1e-5, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: gamma has/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, sh(y), 2, 4, 3, 1e-5, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: y has/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, y, 2, 4, 3, 1e-5, c4(), sh(c4()), null, null, 0.1, false, null), /batchNormForwardTrain: saveInvStd has/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, y, 2, 4, 3, 1e-5, c4(), c4(), null, sh(c4()), 0.1, false, null), /batchNormForwardTrain: runningVar has/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, y, 2, 4, 3, -1, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: eps must be/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, y, 2, 4, 3, 1e-5, c4(), c4(), null, null, NaN, false, null), /batchNormForwardTrain: momentum must be/);
    assert.throws(() => be.batchNormForwardTrain(x, null, null, y, 2.5, 4, 3, 1e-5, c4(), c4(), null, null, 0.1, false, null), /batchNormForwardTrain: N must be/);
    assert.throws(() => be.batchNormForwardEval(x, null, null, c4(), sh(c4()), y, 2, 4, 3, 1e-5, false, null), /batchNormForwardEval: runningVar has/);
    assert.throws(() => be.batchNormForwardEval(x, null, null, c4(), c4(), sh(y), 2, 4, 3, 1e-5, false, null), /batchNormForwardEval: y has/);
    assert.throws(() => be.batchNormForwardEval(x, null, null, c4(), c4(), y, -2, 4, 3, 1e-5, false, null), /batchNormForwardEval: N must be/);
    assert.throws(() => be.batchNormBackward(sh(x), x, null, c4(), c4(), y, null, null, 2, 4, 3, null, null), /batchNormBackward: dy has/);
    assert.throws(() => be.batchNormBackward(x, x, null, c4(), c4(), y, null, null, 2, 4, 3, null, new Float32Array(24)), /batchNormBackward: gradOut needs reluOut/);
    assert.throws(() => be.batchNormBackward(x, x, null, c4(), c4(), sh(y), null, null, 2, 4, 3, null, null), /batchNormBackward: dx has/);
    assert.throws(() => be.batchNormBackward(x, x, null, sh(c4()), c4(), y, null, null, 2, 4, 3, null, null), /batchNormBackward: saveMean has/);
    assert.throws(() => be.batchNormBackward(x, x, null, c4(), c4(), y, c4(), sh(c4()), 2, 4, 3, null, null), /batchNormBackward: dbeta has/);
    assert.throws(() => be.batchNormBackward(x, x, null, c4(), c4(), new Float64Array(24) as unknown as Float32Array, null, null, 2, 4, 3, null, null), /batchNormBackward: dx must be a Float32Array/);
  }
});
