import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BinaryOp, UnaryOp, referenceBackend as ref } from '../src/backend';
import type { Backend, I32 } from '../src/backend';
import { createNativeBackend, loadAddon } from '../src/backend/native';
import { assertClose, seededArray } from './util';

const addon = loadAddon();
const nat = createNativeBackend() as Backend;

/** ISAs this CPU runs, each tried with 1 and 2 threads. */
function configs(): Array<{ isa: string; threads: number }> {
  assert.ok(addon, 'the native addon must be built');
  const orig = addon.getIsa();
  const out: Array<{ isa: string; threads: number }> = [];
  for (const isa of ['avx512', 'avx2', 'scalar']) {
    try {
      addon.setIsa(isa);
    } catch {
      continue;
    }
    for (const threads of [1, 2]) out.push({ isa, threads });
  }
  addon.setIsa(orig);
  return out;
}
/** Runs fn under every config; `full` is true for one of them (best ISA, 2 threads), where the largest sizes run. */
function forEachConfig(fn: (label: string, full: boolean) => void): void {
  const isa0 = addon!.getIsa();
  const th0 = addon!.getThreads();
  try {
    for (const [i, c] of configs().entries()) {
      addon!.setIsa(c.isa);
      addon!.setThreads(c.threads);
      fn(`${c.isa}/${c.threads}t`, i === 1);
    }
  } finally {
    addon!.setIsa(isa0);
    addon!.setThreads(th0);
  }
}

const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e-40, -1e-40, 20, -20, 88, 88.7, 88.8, -87, -100, -104, -110,
  1e30, -1e30, Infinity, -Infinity, NaN, 0.6249, 0.6251, -0.6251, 9, -9];

/** Random values in [lo, hi) with the special values sprinkled in. */
function inputs(n: number, seed: number, lo: number, hi: number): Float32Array {
  const x = seededArray(n, seed, lo, hi);
  for (let i = 0; i < Math.min(n, SPECIALS.length); i++) x[(i * 7919) % n] = SPECIALS[i];
  return x;
}

type Tol = { rtol: number; atol: number };
const EXACT: Tol = { rtol: 0, atol: 0 };
const UNARY_CASES: Array<{ op: UnaryOp; alpha: number; lo: number; hi: number; tol: Tol }> = [
  { op: UnaryOp.Neg, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Exp, alpha: 0, lo: -90, hi: 90, tol: { rtol: 3e-7, atol: 1e-44 } },
  { op: UnaryOp.Log, alpha: 0, lo: 0, hi: 100, tol: { rtol: 3e-7, atol: 0 } },
  { op: UnaryOp.Sqrt, alpha: 0, lo: -1, hi: 100, tol: EXACT },
  { op: UnaryOp.Rsqrt, alpha: 0, lo: 0, hi: 100, tol: { rtol: 2.5e-7, atol: 0 } },
  { op: UnaryOp.Abs, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Sign, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Relu, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Sigmoid, alpha: 0, lo: -30, hi: 30, tol: { rtol: 3e-7, atol: 1e-44 } },
  { op: UnaryOp.Tanh, alpha: 0, lo: -5, hi: 5, tol: { rtol: 3e-7, atol: 0 } },
  { op: UnaryOp.Square, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Reciprocal, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.LeakyRelu, alpha: Math.fround(0.01), lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.PowScalar, alpha: Math.fround(1.7), lo: 0, hi: 5, tol: { rtol: 2e-7, atol: 0 } },
  { op: UnaryOp.PowScalar, alpha: 2, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.PowScalar, alpha: -3, lo: -5, hi: 5, tol: { rtol: 2e-7, atol: 0 } },
  { op: UnaryOp.PowScalar, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.AddScalar, alpha: Math.fround(0.3), lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.MulScalar, alpha: Math.fround(-1.7), lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Step, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.LeakyReluStep, alpha: Math.fround(0.2), lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Log1p, alpha: 0, lo: -1, hi: 10, tol: { rtol: 2e-7, atol: 0 } },
  { op: UnaryOp.Expm1, alpha: 0, lo: -10, hi: 10, tol: { rtol: 2e-7, atol: 0 } },
  { op: UnaryOp.Floor, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Ceil, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.Round, alpha: 0, lo: -5, hi: 5, tol: EXACT },
  { op: UnaryOp.RSubScalar, alpha: Math.fround(2.5), lo: -5, hi: 5, tol: EXACT },
];

test('reference unary agrees with Math.* on chosen values', () => {
  const f = (op: UnaryOp, v: number, alpha = 0) => {
    const y = new Float32Array(1);
    ref.unary(op, Float32Array.of(v), y, 1, alpha);
    return y[0];
  };
  const fr = Math.fround;
  assert.equal(f(UnaryOp.Exp, 1), fr(Math.E));
  assert.equal(f(UnaryOp.Exp, -Infinity), 0);
  assert.equal(f(UnaryOp.Log, 0), -Infinity);
  assert.ok(Number.isNaN(f(UnaryOp.Log, -1)));
  assert.equal(f(UnaryOp.Log, fr(Math.E)), fr(Math.log(fr(Math.E))));
  assert.equal(f(UnaryOp.Sqrt, 2), fr(Math.SQRT2));
  assert.equal(f(UnaryOp.Rsqrt, 4), 0.5);
  assert.equal(f(UnaryOp.Sigmoid, 0), 0.5);
  assert.equal(f(UnaryOp.Sigmoid, 2), fr(1 / (1 + Math.exp(-2))));
  assert.equal(f(UnaryOp.Sigmoid, -100), fr(Math.exp(-100) / (1 + Math.exp(-100))));
  assert.equal(f(UnaryOp.Tanh, 0.3), fr(Math.tanh(fr(0.3))));
  assert.equal(f(UnaryOp.Tanh, 50), 1);
  assert.equal(f(UnaryOp.Sign, -3), -1);
  assert.ok(Number.isNaN(f(UnaryOp.Sign, NaN)));
  assert.equal(f(UnaryOp.Relu, -2), 0);
  assert.ok(Number.isNaN(f(UnaryOp.Relu, NaN)));
  assert.equal(f(UnaryOp.LeakyRelu, -2, 0.5), -1);
  assert.equal(f(UnaryOp.LeakyReluStep, -2, 0.5), 0.5);
  assert.equal(f(UnaryOp.Step, 0), 0);
  assert.equal(f(UnaryOp.PowScalar, 3, 2), 9);
  assert.equal(f(UnaryOp.PowScalar, 1, NaN), 1); // C pow, as torch
  assert.equal(f(UnaryOp.PowScalar, NaN, 0), 1);
  assert.equal(f(UnaryOp.PowScalar, -1, Infinity), 1);
  assert.equal(f(UnaryOp.Reciprocal, 0), Infinity);
  assert.equal(f(UnaryOp.Log1p, 1e-10), fr(1e-10));
  assert.equal(f(UnaryOp.Expm1, 1e-10), fr(1e-10));
  assert.equal(f(UnaryOp.RSubScalar, 1, 3), 2);
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map((v) => f(UnaryOp.Round, v)), [0, 2, 2, -0, -2, -2, 2, -3]);
  assert.deepEqual([1.5, -1.5].map((v) => f(UnaryOp.Floor, v)), [1, -2]);
  assert.deepEqual([1.5, -1.5].map((v) => f(UnaryOp.Ceil, v)), [2, -1]);
});

test('unary: native matches reference for every op, size, ISA and thread count', () => {
  const sizes = [0, 1, 15, 17, 1000, 100003, 1000003];
  const cache = new Map<string, { x: Float32Array; y: Float32Array }>();
  for (const c of UNARY_CASES) {
    for (const n of sizes) {
      const x = inputs(n, 17 + n + c.op, c.lo, c.hi);
      const y = new Float32Array(n);
      ref.unary(c.op, x, y, n, c.alpha);
      cache.set(`${c.op}/${c.alpha}/${n}`, { x, y });
    }
  }
  forEachConfig((cfg, full) => {
    for (const c of UNARY_CASES) {
      for (const n of sizes) {
        if (n > 100003 && !full) continue;
        const { x, y: want } = cache.get(`${c.op}/${c.alpha}/${n}`)!;
        const got = new Float32Array(n).fill(7);
        nat.unary(c.op, x, got, n, c.alpha);
        assertClose(got, want, { ...c.tol, msg: `${cfg} ${UnaryOp[c.op]}(alpha ${c.alpha}) n=${n}` });
        if (n === 17) {
          // in place, and the buffer past n untouched
          const buf = new Float32Array(n + 3).fill(9);
          buf.set(x);
          nat.unary(c.op, buf, buf, n, c.alpha);
          assertClose(buf.subarray(0, n), want, { ...c.tol, msg: `${cfg} in place ${UnaryOp[c.op]}` });
          assert.deepEqual(Array.from(buf.subarray(n)), [9, 9, 9]);
        }
      }
    }
  });
});

test('unary: saturation and special values of exp / sigmoid / tanh / log', () => {
  forEachConfig((cfg) => {
    const run = (op: UnaryOp, vals: number[]) => {
      const y = new Float32Array(vals.length);
      nat.unary(op, Float32Array.from(vals), y, vals.length, 0);
      return Array.from(y);
    };
    assert.deepEqual(run(UnaryOp.Exp, [0, -Infinity, Infinity, 100, -200]), [1, 0, Infinity, Infinity, 0], cfg);
    assert.ok(Number.isNaN(run(UnaryOp.Exp, [NaN])[0]));
    assert.deepEqual(run(UnaryOp.Sigmoid, [0, 100, Infinity, -Infinity]), [0.5, 1, 1, 0], cfg);
    assert.ok(Number.isNaN(run(UnaryOp.Sigmoid, [NaN])[0]));
    assert.deepEqual(run(UnaryOp.Tanh, [0, 20, -20, Infinity, -Infinity]), [0, 1, -1, 1, -1], cfg);
    assert.ok(Object.is(run(UnaryOp.Tanh, [-0])[0], -0));
    assert.ok(Number.isNaN(run(UnaryOp.Tanh, [NaN])[0]));
    const lg = run(UnaryOp.Log, [0, -0, 1, Infinity, -1, NaN]);
    assert.deepEqual(lg.slice(0, 4), [-Infinity, -Infinity, 0, Infinity], cfg);
    assert.ok(Number.isNaN(lg[4]) && Number.isNaN(lg[5]));
    assert.ok(Number.isNaN(run(UnaryOp.Relu, [NaN])[0]));
  });
});

// ---- binary ----

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = shape[d] === 1 ? 0 : acc;
    acc *= shape[d];
  }
  return s;
}

/** A broadcasting pattern: out shape and each operand's strides (0 on broadcast axes) and buffer size. */
interface Pattern { name: string; shape: number[]; as: number[]; bs: number[]; na: number; nb: number }

function pattern(name: string, shape: number[], ashape: number[], bshape: number[]): Pattern {
  const size = (s: number[]) => s.reduce((p, v) => p * v, 1);
  return { name, shape, as: contiguousStrides(ashape), bs: contiguousStrides(bshape), na: size(ashape), nb: size(bshape) };
}

function randomPatterns(count: number, seed: number): Pattern[] {
  const r = seededArray(count * 20, seed, 0, 1);
  let k = 0;
  const dims = [1, 2, 3, 5, 17];
  const out: Pattern[] = [];
  for (let c = 0; c < count; c++) {
    const nd = 1 + Math.floor(r[k++] * 5);
    const shape: number[] = [];
    for (let d = 0; d < nd; d++) shape.push(dims[Math.floor(r[k++] * dims.length)]);
    const ash = shape.map((v) => (r[k++] < 0.3 ? 1 : v));
    const bsh = shape.map((v) => (r[k++] < 0.3 ? 1 : v));
    out.push(pattern(`random ${shape}/${ash}/${bsh}`, shape, ash, bsh));
  }
  return out;
}

const PATTERNS: Pattern[] = [
  pattern('contiguous 1000003', [1000003], [1000003], [1000003]),
  pattern('contiguous 70001', [70001], [70001], [70001]),
  pattern('contiguous 17', [17], [17], [17]),
  pattern('scalar b', [37, 17], [37, 17], [1, 1]),
  pattern('scalar a', [37, 17], [1, 1], [37, 17]),
  pattern('both scalar', [5, 3], [1, 1], [1, 1]),
  pattern('row (bias over last axis)', [64, 300], [64, 300], [1, 300]),
  pattern('row, large', [4000, 33], [4000, 33], [1, 33]),
  pattern('column', [300, 15], [300, 15], [300, 1]),
  pattern('middle axis', [3, 5, 7], [3, 5, 7], [3, 1, 7]),
  pattern('both sides', [33, 65], [33, 1], [1, 65]),
  pattern('both sides large', [300, 257], [300, 1], [1, 257]),
  pattern('5-d', [2, 3, 1, 4, 5], [2, 1, 1, 4, 1], [1, 3, 1, 1, 5]),
  pattern('0-d', [], [], []),
  pattern('empty', [0, 5], [0, 5], [1, 5]),
  ...randomPatterns(25, 99),
];
// transposed a: a stored [N, M], read as [M, N]
PATTERNS.push({ name: 'transposed a', shape: [19, 23], as: [1, 19], bs: [23, 1], na: 19 * 23, nb: 19 * 23 });

function binaryInputs(op: BinaryOp, n: number, seed: number, isA: boolean): Float32Array {
  if (op === BinaryOp.Pow) return isA ? inputs(n, seed, 0, 3) : inputs(n, seed, -3, 3);
  if (op === BinaryOp.TanhBackward || op === BinaryOp.SigmoidBackward) return seededArray(n, seed, isA ? -1 : -2, isA ? 1 : 2);
  const x = inputs(n, seed, -3, 3);
  // repeated values so the comparisons see ties
  if (op >= BinaryOp.Eq && op <= BinaryOp.Ge) for (let i = 0; i < n; i++) x[i] = Math.round(x[i]);
  return x;
}

function binaryTol(op: BinaryOp): Tol {
  if (op === BinaryOp.Pow) return { rtol: 2e-7, atol: 0 };
  if (op === BinaryOp.TanhBackward || op === BinaryOp.SigmoidBackward) return { rtol: 6e-7, atol: 1e-30 };
  return EXACT;
}

const isCmp = (op: BinaryOp) => op >= BinaryOp.Eq && op <= BinaryOp.Ge;
const ALL_BINARY = Object.values(BinaryOp).filter((v): v is BinaryOp => typeof v === 'number');
const I = (a: number[]) => Int32Array.from(a);

test('binary: native matches reference for every op and broadcasting pattern', () => {
  const cases: Array<{ op: BinaryOp; p: Pattern; a: Float32Array; b: Float32Array; want: Float32Array | Uint8Array }> = [];
  for (const op of ALL_BINARY) {
    for (const [pi, p] of PATTERNS.entries()) {
      if (p.na > 100000 && ![BinaryOp.Add, BinaryOp.Mul, BinaryOp.Sub, BinaryOp.Max, BinaryOp.ReluBackward, BinaryOp.Lt].includes(op)) continue;
      const a = binaryInputs(op, p.na, 1000 * op + pi, true);
      const b = binaryInputs(op, p.nb, 1000 * op + pi + 500, false);
      const total = p.shape.reduce((q, v) => q * v, 1);
      const want = isCmp(op) ? new Uint8Array(total) : new Float32Array(total);
      ref.binary(op, a, I(p.as), b, I(p.bs), want, I(p.shape));
      cases.push({ op, p, a, b, want });
    }
  }
  forEachConfig((cfg, full) => {
    for (const { op, p, a, b, want } of cases) {
      if (p.na > 100000 && !full) continue;
      const got = isCmp(op) ? new Uint8Array(want.length).fill(7) : new Float32Array(want.length).fill(7);
      nat.binary(op, a, I(p.as), b, I(p.bs), got, I(p.shape));
      assertClose(got, want, { ...binaryTol(op), msg: `${cfg} ${BinaryOp[op]} ${p.name}` });
    }
  });
});

test('reference binary agrees with hand-computed broadcasting', () => {
  // a [2, 3] + b [3] (row), a [2, 3] * b [2, 1] (column)
  const a = Float32Array.of(1, 2, 3, 4, 5, 6);
  const out = new Float32Array(6);
  ref.binary(BinaryOp.Add, a, I([3, 1]), Float32Array.of(10, 20, 30), I([0, 1]), out, I([2, 3]));
  assert.deepEqual(Array.from(out), [11, 22, 33, 14, 25, 36]);
  ref.binary(BinaryOp.Mul, a, I([3, 1]), Float32Array.of(2, -1), I([1, 0]), out, I([2, 3]));
  assert.deepEqual(Array.from(out), [2, 4, 6, -4, -5, -6]);
  const u = new Uint8Array(3);
  ref.binary(BinaryOp.Ge, Float32Array.of(1, 2, NaN), I([1]), Float32Array.of(2), I([0]), u, I([3]));
  assert.deepEqual(Array.from(u), [0, 1, 0]);
  ref.binary(BinaryOp.Ne, Float32Array.of(1, 2, NaN), I([1]), Float32Array.of(2), I([0]), u, I([3]));
  assert.deepEqual(Array.from(u), [1, 0, 1]);
  ref.binary(BinaryOp.Max, Float32Array.of(1, NaN, 3), I([1]), Float32Array.of(2, 0, NaN), I([1]), out, I([3]));
  assert.deepEqual(Array.from(out.subarray(0, 3)), [2, NaN, NaN]);
  ref.binary(BinaryOp.ReluBackward, Float32Array.of(1, 0, -1, NaN), I([1]), Float32Array.of(5, 5, 5, 5), I([1]), out, I([4]));
  assert.deepEqual(Array.from(out.subarray(0, 4)), [5, 0, 0, 0]);
  ref.binary(BinaryOp.TanhBackward, Float32Array.of(0.5), I([1]), Float32Array.of(2), I([1]), out, I([1]));
  assert.equal(out[0], 1.5);
  ref.binary(BinaryOp.SigmoidBackward, Float32Array.of(0.5), I([1]), Float32Array.of(2), I([1]), out, I([1]));
  assert.equal(out[0], 0.5);
});

test('binary: NaN propagation and accuracy of the backward helpers near |a| = 1', () => {
  forEachConfig((cfg) => {
    const out = new Float32Array(40);
    const a = Float32Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? NaN : i - 20));
    const b = Float32Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? NaN : 20 - i));
    for (const op of [BinaryOp.Max, BinaryOp.Min, BinaryOp.Add]) {
      nat.binary(op, a, I([1]), b, I([1]), out, I([40]));
      for (let i = 0; i < 40; i++) assert.equal(Number.isNaN(out[i]), i % 3 === 0 || i % 5 === 0, `${cfg} ${BinaryOp[op]} ${i}`);
    }
    // 1 - a^2 for a = tanh(x) near 1 must not cancel: exact answer from double arithmetic
    const t = Float32Array.of(0.99999994, -0.99999994, 0.9999, 0.5);
    const g = Float32Array.of(1, 1, 3, 2);
    nat.binary(BinaryOp.TanhBackward, t, I([1]), g, I([1]), out, I([4]));
    for (let i = 0; i < 4; i++) assertClose([out[i]], [Math.fround(g[i] * (1 - t[i] * t[i]))], { rtol: 3e-7, atol: 0, msg: cfg });
  });
});

test('binary: out may alias a or b', () => {
  forEachConfig((cfg) => {
    for (const n of [17, 70000]) {
      const a = seededArray(n, 3), b = seededArray(n, 4);
      const want = new Float32Array(n);
      ref.binary(BinaryOp.Sub, a, I([1]), b, I([1]), want, I([n]));
      const a2 = a.slice();
      nat.binary(BinaryOp.Sub, a2, I([1]), b, I([1]), a2, I([n]));
      assertClose(a2, want, { ...EXACT, msg: `${cfg} out = a` });
      const b2 = b.slice();
      nat.binary(BinaryOp.Sub, a, I([1]), b2, I([1]), b2, I([n]));
      assertClose(b2, want, { ...EXACT, msg: `${cfg} out = b` });
    }
    // out = a with b a broadcast row
    const m = 300, k = 257;
    const a = seededArray(m * k, 5), row = seededArray(k, 6);
    const want = new Float32Array(m * k);
    ref.binary(BinaryOp.Add, a, I([k, 1]), row, I([0, 1]), want, I([m, k]));
    nat.binary(BinaryOp.Add, a, I([k, 1]), row, I([0, 1]), a, I([m, k]));
    assertClose(a, want, { ...EXACT, msg: `${cfg} bias add in place` });
  });
});

// ---- where, clamp, axpy ----

test('where: native matches reference with broadcasting', () => {
  const pats = [...PATTERNS.filter((p) => p.na < 100000), ...randomPatterns(10, 7)];
  forEachConfig((cfg) => {
    for (const [pi, p] of pats.entries()) {
      // cond broadcast like b, rotated: use b's strides for cond, a's for a, a contiguous b
      const c = Uint8Array.from(seededArray(p.nb, pi + 1), (v) => (v > 0 ? 1 : 0));
      const a = seededArray(p.na, pi + 2), bshape = p.shape;
      const total = bshape.reduce((q, v) => q * v, 1);
      const b = seededArray(total, pi + 3);
      const bs = contiguousStrides(bshape);
      const want = new Float32Array(total), got = new Float32Array(total).fill(7);
      ref.where(c, I(p.bs), a, I(p.as), b, I(bs), want, I(p.shape));
      nat.where(c, I(p.bs), a, I(p.as), b, I(bs), got, I(p.shape));
      assertClose(got, want, { ...EXACT, msg: `${cfg} where ${p.name}` });
    }
  });
  const out = new Float32Array(4);
  ref.where(Uint8Array.of(1, 0), I([0, 1]), Float32Array.of(1, 2), I([1, 0]), Float32Array.of(-1), I([0, 0]), out, I([2, 2]));
  assert.deepEqual(Array.from(out), [1, -1, 2, -1]);
});

test('clamp and axpy: native matches reference, hand values', () => {
  const y = new Float32Array(6);
  ref.clamp(Float32Array.of(-2, 0.5, 3, NaN, -Infinity, Infinity), y, 6, -1, 1);
  assert.deepEqual(Array.from(y), [-1, 0.5, 1, NaN, -1, 1]);
  ref.clamp(Float32Array.of(-2, 0.5, 3), y, 3, 2, 1); // lo > hi gives hi, as torch.clamp
  assert.deepEqual(Array.from(y.subarray(0, 3)), [1, 1, 1]);
  const acc = Float32Array.of(1, 2, 3);
  ref.axpy(3, 2, Float32Array.of(1, -1, 0.5), acc);
  assert.deepEqual(Array.from(acc), [3, 0, 4]);
  forEachConfig((cfg, full) => {
    for (const n of [0, 1, 15, 17, 70001, ...(full ? [1000003] : [])]) {
      const x = inputs(n, n + 5, -3, 3);
      for (const [lo, hi] of [[-1, 1], [-Infinity, 0.5], [0, Infinity], [2, 1], [NaN, 1]]) {
        const want = new Float32Array(n), got = new Float32Array(n);
        ref.clamp(x, want, n, lo, hi);
        nat.clamp(x, got, n, lo, hi);
        assertClose(got, want, { ...EXACT, msg: `${cfg} clamp [${lo}, ${hi}] n=${n}` });
      }
      const inplace = x.slice();
      nat.clamp(inplace, inplace, n, -1, 1);
      const want = new Float32Array(n);
      ref.clamp(x, want, n, -1, 1);
      assertClose(inplace, want, { ...EXACT, msg: `${cfg} clamp in place` });
      const y0 = seededArray(n, n + 6);
      const yr = y0.slice(), yn = y0.slice();
      ref.axpy(n, 0.37, x, yr);
      nat.axpy(n, 0.37, x, yn);
      assertClose(yn, yr, { rtol: 1e-6, atol: 1e-6, msg: `${cfg} axpy n=${n}` });
    }
  });
});

// ---- argument checking ----

function throwsBoth(fn: (b: Backend) => void, re: RegExp): void {
  for (const b of [nat, ref]) assert.throws(() => fn(b), re, `${b.name} must throw ${re}`);
}

test('elementwise kernels reject bad arguments with an error, never a crash', () => {
  const f = new Float32Array(10), u = new Uint8Array(10);
  const bad = (v: unknown) => v as Float32Array;
  throwsBoth((b) => b.unary(UnaryOp.Exp, f, new Float32Array(5), 10, 0), /unary.*y/);
  throwsBoth((b) => b.unary(UnaryOp.Exp, f.subarray(3), f, 10, 0), /unary.*x/);
  throwsBoth((b) => b.unary(UnaryOp.Exp, bad(new Float64Array(10)), f, 10, 0), /unary.*Float32Array/);
  throwsBoth((b) => b.unary(UnaryOp.Exp, bad([1, 2, 3]), f, 3, 0), /unary.*Float32Array/);
  throwsBoth((b) => b.unary(24 as UnaryOp, f, f, 10, 0), /unary.*op/);
  throwsBoth((b) => b.unary(-1 as UnaryOp, f, f, 10, 0), /unary.*op/);
  throwsBoth((b) => b.unary(1.5 as UnaryOp, f, f, 10, 0), /unary.*op/);
  throwsBoth((b) => b.unary(UnaryOp.Exp, f, f, -1, 0), /unary.*n/);
  throwsBoth((b) => b.unary(UnaryOp.Exp, f, f, 2.5, 0), /unary.*n/);
  // binary
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([1]), f, I([1]), f, I([11])), /binary/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([1]), f, I([1, 0]), f, I([2, 2])), /binary.*aStrides/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([1]), f, I([-1]), f, I([2])), /binary.*bStrides/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([1]), f, I([0]), f, I([-2])), /binary.*outShape/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([3, 1]), f, I([0, 1]), f, I([4, 3])), /binary.*a /); // reaches index 11
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I([1]), f, I([0]), u as unknown as Float32Array, I([10])), /binary.*Float32Array/);
  throwsBoth((b) => b.binary(BinaryOp.Lt, f, I([1]), f, I([0]), f, I([10])), /binary.*Uint8Array/);
  throwsBoth((b) => b.binary(16 as BinaryOp, f, I([1]), f, I([0]), f, I([10])), /binary.*op/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, I(new Array(17).fill(0)), f, I(new Array(17).fill(0)), f, I(new Array(17).fill(1))), /binary.*dimensions/);
  throwsBoth((b) => b.binary(BinaryOp.Add, f, bad(new Float32Array(1)) as unknown as I32, f, I([0]), f, I([1])), /binary.*Int32Array/);
  // where, clamp, axpy
  throwsBoth((b) => b.where(u, I([1]), f, I([1]), f, I([1]), f, I([11])), /where/);
  throwsBoth((b) => b.where(f as unknown as Uint8Array, I([1]), f, I([1]), f, I([1]), f, I([10])), /where.*Uint8Array/);
  throwsBoth((b) => b.clamp(f, new Float32Array(9), 10, 0, 1), /clamp.*y/);
  throwsBoth((b) => b.axpy(11, 1, f, f), /axpy.*x/);
  throwsBoth((b) => b.axpy(10, 1, f, bad(new Int32Array(10))), /axpy.*Float32Array/);
  // a zero-size broadcast reads nothing, so empty buffers are fine
  for (const b of [nat, ref]) b.binary(BinaryOp.Add, new Float32Array(0), I([0, 1]), new Float32Array(0), I([0, 1]), new Float32Array(0), I([0, 4]));
});
