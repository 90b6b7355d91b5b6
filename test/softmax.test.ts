import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend as ref } from '../src/backend';
import type { Backend } from '../src/backend';
import { createNativeBackend } from '../src/backend/native';
import { assertClose, seededArray, forEachIsaAndThreads } from './util';

const nat = createNativeBackend() as Backend;

/** `full` marks the one configuration that also runs the largest sizes. */
const forEachConfig = (fn: (label: string, full: boolean) => void): void => forEachIsaAndThreads((label, i) => fn(label, i === 1));

// [rows, cols]: awkward widths around the vector sizes, classes, wide rows, many rows (threads)
const SHAPES: Array<[number, number]> = [
  [1, 1], [0, 5], [3, 0], [1, 15], [1, 16], [1, 17], [3, 31], [64, 10], [7, 1000], [5000, 10], [1, 100003],
];
const BIG = 200000;

function logits(rows: number, cols: number, seed: number, scale: number): Float32Array {
  const x = seededArray(rows * cols, seed, -scale, scale);
  if (rows * cols > 40) {
    x[5] = -Infinity; // a masked logit is legal: probability 0
    x[17] = x[18]; // a tie
  }
  return x;
}

/** Double-precision cross-entropy of one row, for finite differences. */
function ceRow(x: ArrayLike<number>, off: number, cols: number, label: number): number {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) m = Math.max(m, x[off + c]);
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(x[off + c] - m);
  return Math.log(s) + m - x[off + label];
}

test('reference softmax, log-softmax and cross-entropy agree with hand computation', () => {
  const x = Float32Array.of(1, 2, 3);
  const y = new Float32Array(3);
  ref.softmax(x, y, 1, 3, false);
  assertClose(y, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], { rtol: 1e-7, atol: 0 });
  ref.softmax(x, y, 1, 3, true);
  assertClose(y, [-2.4076059644443806, -1.4076059644443806, -0.40760596444438013], { rtol: 1e-7, atol: 0 });
  // large logits stay finite
  ref.softmax(Float32Array.of(1000, 999, -1000), y, 1, 3, true);
  assertClose(y, [-0.31326168751822286, -1.3132616875182228, -2000.3132616875182], { rtol: 1e-7, atol: 0 });
  ref.softmax(Float32Array.of(1000, 999, -1000), y, 1, 3, false);
  assertClose(y, [0.7310585786300049, 0.2689414213699951, 0], { rtol: 1e-7, atol: 0 });
  // one dominant class: log-softmax = -log1p(2 e^-20) to full relative precision
  ref.softmax(Float32Array.of(20, 0, 0), y, 1, 3, true);
  assertClose([y[0]], [-Math.log1p(2 * Math.exp(-20))], { rtol: 1e-7, atol: 0 });
  for (const row of [[-Infinity, -Infinity, -Infinity], [1, NaN, 2], [1, Infinity, 2]]) {
    ref.softmax(Float32Array.from(row), y, 1, 3, true);
    assert.ok(y.every(Number.isNaN), `log-softmax of ${row} is NaN`);
  }
  // cross-entropy: row 0 label 2, row 1 ignored
  const loss = new Float32Array(2), probs = new Float32Array(6);
  ref.crossEntropyForward(Float32Array.of(1, 2, 3, 1, 2, 3), Int32Array.of(2, -100), 2, 3, -100, loss, probs);
  assertClose(loss, [0.40760596444438013, 0], { rtol: 1e-7, atol: 0 });
  assertClose(probs.subarray(3), [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], { rtol: 1e-7, atol: 0 });
  const d = new Float32Array(6);
  ref.crossEntropyBackward(probs, Int32Array.of(2, -100), Float32Array.of(2, 5), 2, 3, -100, d);
  assertClose(d, [2 * 0.09003057317038046, 2 * 0.24472847105479764, 2 * (0.6652409557748219 - 1), 0, 0, 0], { rtol: 1e-6, atol: 0 });
});

test('softmax / log-softmax: native matches reference; rows sum to 1; in place', () => {
  const cases: Array<{ rows: number; cols: number; x: Float32Array; want: Float32Array; log: boolean; scale: number }> = [];
  for (const [si, [rows, cols]] of SHAPES.entries()) {
    for (const log of [false, true]) {
      for (const scale of [1, 30]) {
        const x = logits(rows, cols, si * 10 + scale, scale);
        const want = new Float32Array(rows * cols);
        ref.softmax(x, want, rows, cols, log);
        cases.push({ rows, cols, x, want, log, scale });
      }
    }
  }
  forEachConfig((cfg, full) => {
    for (const { rows, cols, x, want, log, scale } of cases) {
      if (rows * cols > BIG && !full) continue;
      const msg = `${cfg} ${log ? 'log-' : ''}softmax [${rows}, ${cols}] scale ${scale}`;
      const got = new Float32Array(rows * cols).fill(7);
      nat.softmax(x, got, rows, cols, log);
      // x - max is rounded to float: exp(x - max) is off by up to |x - max| * 2^-24 relative (as in PyTorch)
      const rtol = 1e-6 + 2 * scale * 1.2e-7;
      assertClose(got, want, { rtol, atol: 1e-37, msg });
      for (let r = 0; r < Math.min(rows, 50); r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += log ? Math.exp(got[r * cols + c]) : got[r * cols + c];
        if (cols > 0) assert.ok(Math.abs(s - 1) < 1e-5, `${msg}: row ${r} sums to ${s}`);
      }
      const inplace = x.slice();
      nat.softmax(inplace, inplace, rows, cols, log);
      assertClose(inplace, want, { rtol, atol: 1e-37, msg: `${msg} in place` });
    }
  });
});

test('softmax: large logits, masked entries, NaN and +Infinity rows', () => {
  forEachConfig((cfg) => {
    const y = new Float32Array(3);
    nat.softmax(Float32Array.of(1000, 999, -1000), y, 1, 3, true);
    assertClose(y, [-0.31326168751822286, -1.3132616875182228, -2000.3132616875182], { rtol: 1e-6, atol: 0, msg: cfg });
    nat.softmax(Float32Array.of(-1000, -1000, -Infinity), y, 1, 3, false);
    assert.deepEqual(Array.from(y), [0.5, 0.5, 0], cfg);
    nat.softmax(Float32Array.of(-1000, -1000, -Infinity), y, 1, 3, true);
    assertClose(y, [-Math.LN2, -Math.LN2, -Infinity], { rtol: 1e-7, atol: 0, msg: cfg });
    // the dominant class keeps full relative accuracy: log-softmax = -log1p(2 e^-20)
    nat.softmax(Float32Array.of(20, 0, 0), y, 1, 3, true);
    assertClose([y[0]], [-Math.log1p(2 * Math.exp(-20))], { rtol: 1e-6, atol: 0, msg: cfg });
    nat.softmax(Float32Array.of(-Infinity, -Infinity, -Infinity), y, 1, 3, false);
    assert.ok(y.every(Number.isNaN), `${cfg} softmax of an all -inf row is NaN`);
    for (const bad of [NaN, Infinity]) {
      for (const log of [false, true]) {
        const x = Float32Array.of(1, 2, 3, bad, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0);
        const want = new Float32Array(22), got = new Float32Array(22);
        ref.softmax(x, want, 1, 22, log);
        nat.softmax(x, got, 1, 22, log);
        assert.ok(want.every(Number.isNaN) && got.every(Number.isNaN), `${cfg} ${bad} row is all NaN (log ${log})`);
      }
    }
  });
});

test('softmaxBackward: native matches reference; reference matches finite differences', () => {
  // finite differences of L(x) = sum(w * f(x)), f = softmax or log-softmax, in double
  const rows = 2, cols = 5;
  const x = seededArray(rows * cols, 3, -2, 2), w = seededArray(rows * cols, 4, -1, 1);
  for (const log of [false, true]) {
    const f = (xs: Float64Array) => {
      let L = 0;
      for (let r = 0; r < rows; r++) {
        let m = -Infinity, s = 0;
        for (let c = 0; c < cols; c++) m = Math.max(m, xs[r * cols + c]);
        for (let c = 0; c < cols; c++) s += Math.exp(xs[r * cols + c] - m);
        for (let c = 0; c < cols; c++) {
          const ls = xs[r * cols + c] - m - Math.log(s);
          L += w[r * cols + c] * (log ? ls : Math.exp(ls));
        }
      }
      return L;
    };
    const y = new Float32Array(rows * cols), dx = new Float32Array(rows * cols);
    ref.softmax(x, y, rows, cols, log);
    ref.softmaxBackward(y, w, dx, rows, cols, log);
    const h = 1e-5;
    for (let i = 0; i < rows * cols; i++) {
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[i] += h;
      xm[i] -= h;
      const fd = (f(xp) - f(xm)) / (2 * h);
      assert.ok(Math.abs(dx[i] - fd) < 1e-5, `log ${log} i ${i}: ${dx[i]} vs ${fd}`);
    }
  }
  const cases: Array<{ rows: number; cols: number; y: Float32Array; dy: Float32Array; want: Float32Array; log: boolean }> = [];
  for (const [si, [r, c]] of SHAPES.entries()) {
    for (const log of [false, true]) {
      const y = new Float32Array(r * c);
      ref.softmax(logits(r, c, si, 3).map((v) => (Number.isFinite(v) ? v : 0)), y, r, c, log);
      const dy = seededArray(r * c, si + 50);
      const want = new Float32Array(r * c);
      ref.softmaxBackward(y, dy, want, r, c, log);
      cases.push({ rows: r, cols: c, y, dy, want, log });
    }
  }
  forEachConfig((cfg, full) => {
    for (const { rows: r, cols: c, y, dy, want, log } of cases) {
      if (r * c > BIG && !full) continue;
      const msg = `${cfg} ${log ? 'log-' : ''}softmaxBackward [${r}, ${c}]`;
      const got = new Float32Array(r * c).fill(7);
      nat.softmaxBackward(y, dy, got, r, c, log);
      // dx = y (dy - s) cancels when dy ~ s: tolerance relative to the terms
      assertClose(got, want, { rtol: 1e-5, atol: 1e-6, msg });
      const inplace = dy.slice();
      nat.softmaxBackward(y, inplace, inplace, r, c, log);
      assertClose(inplace, want, { rtol: 1e-5, atol: 1e-6, msg: `${msg} in place` });
    }
  });
});

test('crossEntropyForward: native matches reference and hand values; ignored rows', () => {
  forEachConfig((cfg) => {
    const loss = new Float32Array(2), probs = new Float32Array(6);
    nat.crossEntropyForward(Float32Array.of(1, 2, 3, 1, 2, 3), Int32Array.of(2, -100), 2, 3, -100, loss, probs);
    assertClose(loss, [0.40760596444438013, 0], { rtol: 1e-6, atol: 0, msg: cfg });
    assertClose(probs.subarray(3), [0.09003057317038046, 0.24472847105479764, 0.6652409557748219], { rtol: 1e-6, atol: 0, msg: cfg });
    // a confident correct prediction: the loss keeps its relative accuracy
    nat.crossEntropyForward(Float32Array.of(20, 0, 0, 1000, 0, 0), Int32Array.of(0, 1), 2, 3, -100, loss, probs);
    assertClose(loss, [Math.log1p(2 * Math.exp(-20)), 1000], { rtol: 1e-6, atol: 0, msg: cfg });
    assert.deepEqual(Array.from(probs.subarray(3)), [1, 0, 0], cfg);
  });
  const cases: Array<{ rows: number; cols: number; x: Float32Array; labels: Int32Array; ignore: number; loss: Float32Array; probs: Float32Array }> = [];
  for (const [si, [rows, cols]] of SHAPES.entries()) {
    for (const ignore of [-100, 0]) {
      if (cols === 0 && ignore !== 0) continue; // with no classes every row must be ignored
      const x = logits(rows, cols, si + 7, 5);
      const u = seededArray(rows, si + 8, 0, 1);
      const labels = Int32Array.from(u, (v, r) => (r % 10 === 3 ? ignore : Math.min(cols - 1, Math.floor(v * cols))));
      if (cols === 0) labels.fill(ignore);
      for (let r = 0; r < rows; r++) if (labels[r] === 5 % cols && r === 0) labels[r] = ignore; // never the -inf logit
      const loss = new Float32Array(rows), probs = new Float32Array(rows * cols);
      ref.crossEntropyForward(x, labels, rows, cols, ignore, loss, probs);
      cases.push({ rows, cols, x, labels, ignore, loss, probs });
    }
  }
  forEachConfig((cfg, full) => {
    for (const c of cases) {
      if (c.rows * c.cols > BIG && !full) continue;
      const msg = `${cfg} CE [${c.rows}, ${c.cols}] ignore ${c.ignore}`;
      const loss = new Float32Array(c.rows).fill(7), probs = new Float32Array(c.rows * c.cols).fill(7);
      nat.crossEntropyForward(c.x, c.labels, c.rows, c.cols, c.ignore, loss, probs);
      assertClose(loss, c.loss, { rtol: 1e-6, atol: 1e-7, msg: `${msg} loss` });
      assertClose(probs, c.probs, { rtol: 1e-6 + 10 * 1.2e-7, atol: 1e-37, msg: `${msg} probs` }); // logits in [-5, 5]
    }
  });
});

test('crossEntropyBackward: native matches reference; reference matches finite differences; in place', () => {
  const rows = 3, cols = 4, ignore = -1;
  const x = seededArray(rows * cols, 11, -2, 2);
  const labels = Int32Array.of(2, ignore, 0);
  const g = Float32Array.of(0.5, 3, -2);
  const loss = new Float32Array(rows), probs = new Float32Array(rows * cols), d = new Float32Array(rows * cols);
  ref.crossEntropyForward(x, labels, rows, cols, ignore, loss, probs);
  ref.crossEntropyBackward(probs, labels, g, rows, cols, ignore, d);
  const L = (xs: Float64Array) => {
    let s = 0;
    for (let r = 0; r < rows; r++) if (labels[r] !== ignore) s += g[r] * ceRow(xs, r * cols, cols, labels[r]);
    return s;
  };
  const h = 1e-5;
  for (let i = 0; i < rows * cols; i++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[i] += h;
    xm[i] -= h;
    const fd = (L(xp) - L(xm)) / (2 * h);
    assert.ok(Math.abs(d[i] - fd) < 1e-5, `i ${i}: ${d[i]} vs ${fd}`);
  }
  const cases: Array<{ rows: number; cols: number; probs: Float32Array; labels: Int32Array; g: Float32Array; want: Float32Array }> = [];
  for (const [si, [r, c]] of SHAPES.entries()) {
    if (c === 0) continue;
    const lab = Int32Array.from(seededArray(r, si, 0, 1), (v, i) => (i % 7 === 2 ? -100 : Math.min(c - 1, Math.floor(v * c))));
    const p = new Float32Array(r * c);
    ref.softmax(seededArray(r * c, si + 1, -3, 3), p, r, c, false);
    const gg = seededArray(r, si + 2);
    const want = new Float32Array(r * c);
    ref.crossEntropyBackward(p, lab, gg, r, c, -100, want);
    cases.push({ rows: r, cols: c, probs: p, labels: lab, g: gg, want });
  }
  forEachConfig((cfg, full) => {
    for (const c of cases) {
      if (c.rows * c.cols > BIG && !full) continue;
      const msg = `${cfg} CE backward [${c.rows}, ${c.cols}]`;
      const got = new Float32Array(c.rows * c.cols).fill(7);
      nat.crossEntropyBackward(c.probs, c.labels, c.g, c.rows, c.cols, -100, got);
      assertClose(got, c.want, { rtol: 1e-6, atol: 1e-12, msg });
      const inplace = c.probs.slice();
      nat.crossEntropyBackward(inplace, c.labels, c.g, c.rows, c.cols, -100, inplace);
      assertClose(inplace, c.want, { rtol: 1e-6, atol: 1e-12, msg: `${msg} in place` });
    }
  });
});

test('softmax and cross-entropy kernels reject bad arguments with an error, never a crash', () => {
  const both = (fn: (b: Backend) => unknown, re: RegExp) => {
    for (const b of [nat, ref]) assert.throws(() => fn(b), re, `${b.name} must throw ${re}`);
  };
  const f = new Float32Array(12), loss = new Float32Array(4), lab = Int32Array.of(0, 1, 2, 1);
  both((b) => b.crossEntropyForward(f, Int32Array.of(0, 1, 10, 1), 4, 3, -100, loss, f), /crossEntropyForward.*label 10 at row 2/);
  both((b) => b.crossEntropyForward(f, Int32Array.of(0, -1, 1, 1), 4, 3, -100, loss, f), /crossEntropyForward.*label -1 at row 1/);
  both((b) => b.crossEntropyBackward(f, Int32Array.of(0, 1, 2, 3), loss, 4, 3, -100, f), /crossEntropyBackward.*label 3 at row 3/);
  both((b) => b.crossEntropyForward(f, lab, 4, 3, -100, loss, new Float32Array(11)), /crossEntropyForward.*probs/);
  both((b) => b.crossEntropyForward(f, Int32Array.of(0, 1, 2), 4, 3, -100, loss, f), /crossEntropyForward.*labels/);
  both((b) => b.crossEntropyForward(f, new Float32Array(4) as unknown as Int32Array, 4, 3, -100, loss, f), /crossEntropyForward.*Int32Array/);
  both((b) => b.crossEntropyForward(f, lab, 4, 3, -100, new Float32Array(3), f), /crossEntropyForward.*lossPerRow/);
  both((b) => b.crossEntropyForward(f, lab, 4, 3, 0.5, loss, f), /crossEntropyForward.*ignoreIndex/);
  both((b) => b.crossEntropyBackward(f, lab, new Float32Array(3), 4, 3, -100, f), /crossEntropyBackward.*dlossPerRow/);
  both((b) => b.crossEntropyBackward(f, lab, loss, 4, 3, -100, new Float32Array(11)), /crossEntropyBackward.*dlogits/);
  both((b) => b.softmax(f, new Float32Array(11), 4, 3, false), /softmax.*y/);
  both((b) => b.softmax(f, f, 4, 4, false), /softmax.*x/);
  both((b) => b.softmax(f, f, 4, 3, 1 as unknown as boolean), /softmax.*log/);
  both((b) => b.softmax(new Float64Array(12) as unknown as Float32Array, f, 4, 3, false), /softmax.*Float32Array/);
  both((b) => b.softmaxBackward(f, f, new Float32Array(11), 4, 3, true), /softmaxBackward.*dx/);
  both((b) => b.softmaxBackward(f, f, f, -4, 3, true), /softmaxBackward.*rows/);
  // an in-range ignoreIndex is honoured
  for (const b of [nat, ref]) {
    const l = new Float32Array(4).fill(7);
    b.crossEntropyForward(f, lab, 4, 3, 1, l, new Float32Array(12));
    assert.equal(l[1], 0);
    assert.equal(l[3], 0);
    assert.ok(l[0] > 0 && l[2] > 0);
  }
});
