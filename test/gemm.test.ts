import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Act } from '../src/backend/backend';
import { referenceBackend } from '../src/backend/reference';
import { loadAddon, type NativeAddon } from '../src/backend/native';
import { assertClose, seededArray } from './util';

type Sgemm = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number, C: Float32Array, ldc: number,
  bias: Float32Array | null, biasAxis: 0 | 1, act: Act,
) => void;

const ref: Sgemm = referenceBackend.sgemm.bind(referenceBackend);
const addon = loadAddon();
const nativeSgemm = addon ? (addon.sgemm as Sgemm) : null;
const ISAS = ['avx512', 'avx2', 'scalar'];

/** ISAs this CPU runs (setIsa throws for the others). */
function supportedIsas(a: NativeAddon): string[] {
  const saved = a.getIsa();
  const ok = ISAS.filter((isa) => {
    try {
      a.setIsa(isa);
      return true;
    } catch {
      return false;
    }
  });
  a.setIsa(saved);
  return ok;
}

/** Runs body for each supported ISA and thread count, restoring the addon's settings after. */
function forEachConfig(a: NativeAddon, threads: number[], body: (isa: string, t: number) => void): void {
  const savedIsa = a.getIsa();
  const savedThreads = a.getThreads();
  try {
    for (const isa of supportedIsas(a)) {
      a.setIsa(isa);
      for (const t of threads) {
        a.setThreads(t);
        body(isa, t);
      }
    }
  } finally {
    a.setIsa(savedIsa);
    a.setThreads(savedThreads);
  }
}

interface Case {
  M: number; N: number; K: number; ta: boolean; tb: boolean;
  alpha: number; beta: number; biasAxis: 0 | 1 | null; act: Act; pad: number;
}

function describe(c: Case): string {
  return `M=${c.M} N=${c.N} K=${c.K} tA=${c.ta} tB=${c.tb} alpha=${c.alpha} beta=${c.beta} ` +
    `bias=${c.biasAxis} act=${c.act} pad=${c.pad}`;
}

/** Inputs of a case: stored shapes with row strides padded by c.pad; C starts with values (or NaN when beta = 0). */
function inputs(c: Case, seed: number) {
  const lda = (c.ta ? c.M : c.K) + c.pad, ldb = (c.tb ? c.K : c.N) + c.pad, ldc = c.N + c.pad;
  const aRows = c.ta ? c.K : c.M, bRows = c.tb ? c.N : c.K;
  const A = seededArray(Math.max(aRows * lda, 1), seed);
  const B = seededArray(Math.max(bRows * ldb, 1), seed + 1);
  const C0 = c.beta === 0 ? new Float32Array(c.M * ldc).fill(NaN) : seededArray(c.M * ldc, seed + 2);
  const bias = c.biasAxis === null ? null : seededArray(c.biasAxis === 1 ? c.N : c.M, seed + 3);
  return { lda, ldb, ldc, A, B, C0, bias };
}

function run(f: Sgemm, c: Case, x: ReturnType<typeof inputs>): Float32Array {
  const C = x.C0.slice();
  f(c.ta, c.tb, c.M, c.N, c.K, c.alpha, x.A, x.lda, x.B, x.ldb, c.beta, C, x.ldc, x.bias, c.biasAxis ?? 1, c.act);
  return C;
}

/** Native (float32 accumulation) vs reference (float64): |terms| <= 1, so the error grows with K. */
function tolerance(c: Case): { rtol: number; atol: number } {
  return { rtol: 1e-5, atol: 5e-7 * (c.K + 1) * (Math.abs(c.alpha) + 1) + 1e-6 };
}

// ---- the reference itself ------------------------------------------------------------------------

test('reference sgemm: hand-computed product with alpha, beta, bias per column, relu', () => {
  // A [2,3], B [3,2]: A@B = [[58, 64], [139, 154]]
  const A = new Float32Array([1, 2, 3, 4, 5, 6]);
  const B = new Float32Array([7, 8, 9, 10, 11, 12]);
  const C = new Float32Array([1, -1000, 2, 3]);
  ref(false, false, 2, 2, 3, 0.5, A, 3, B, 2, 2, C, 2, new Float32Array([10, 20]), 1, Act.Relu);
  // 0.5*58 + 2*1 + 10 = 41; 0.5*64 - 2000 + 20 < 0 -> 0; 0.5*139 + 4 + 10 = 83.5; 0.5*154 + 6 + 20 = 103
  assert.deepEqual(Array.from(C), [41, 0, 83.5, 103]);
});

test('reference sgemm: transposes and row strides address the same product', () => {
  // op(A) = [[1, 2], [3, 4]], op(B) = [[5, 6], [7, 8]]; product [[19, 22], [43, 50]]
  const At = new Float32Array([1, 3, -9, 2, 4, -9]); // stored [K=2, M=2] with lda 3
  const Bt = new Float32Array([5, 7, 6, 8]); // stored [N=2, K=2]
  const C = new Float32Array(6).fill(-7);
  ref(true, true, 2, 2, 2, 1, At, 3, Bt, 2, 0, C, 3, new Float32Array([100, 200]), 0, Act.None);
  assert.deepEqual(Array.from(C), [119, 122, -7, 243, 250, -7]); // bias per row; C[*, 2] untouched
});

test('reference sgemm: beta = 0 ignores NaN in C; K = 0 gives beta*C + bias', () => {
  const C = new Float32Array([NaN, NaN]);
  ref(false, false, 1, 2, 1, 1, new Float32Array([2]), 1, new Float32Array([3, -4]), 2, 0, C, 2, null, 1, Act.Relu);
  assert.deepEqual(Array.from(C), [6, 0]);
  const D = new Float32Array([1, 2]);
  ref(false, false, 1, 2, 0, 1, new Float32Array(0), 0, new Float32Array(0), 2, 3, D, 2, new Float32Array([1, 1]), 1, Act.None);
  assert.deepEqual(Array.from(D), [4, 7]);
});

// ---- native against reference ---------------------------------------------------------------------

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 17, 3], [5, 1, 9], [2, 3, 1], [3, 7, 5], [7, 15, 16], [8, 48, 8], [9, 49, 17], [17, 33, 65],
  [6, 200, 25], [20, 130, 25], [16, 97, 150], [50, 70, 300], [33, 10, 100], [13, 300, 2],
];

test('native sgemm matches the reference: shapes x transposes x ISAs x threads', { skip: !nativeSgemm }, () => {
  const cases: Case[] = [];
  let i = 0;
  for (const [M, N, K] of SHAPES)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        // Vary the epilogue and padding from case to case so every combination shows up.
        const alpha = [1, 0.5, -1.5][i % 3];
        const beta = [0, 1, 0.25][(i >> 1) % 3];
        const biasAxis = ([null, 0, 1] as const)[(i >> 2) % 3];
        const act = i % 2 === 0 ? Act.None : Act.Relu;
        cases.push({ M, N, K, ta, tb, alpha, beta, biasAxis, act, pad: i % 4 === 0 ? 0 : 1 + (i % 5) });
        i++;
      }
  const prepared = cases.map((c, k) => {
    const x = inputs(c, 100 + 10 * k);
    return { c, x, want: run(ref, c, x) };
  });
  forEachConfig(addon!, [1, 2], (isa, t) => {
    for (const { c, x, want } of prepared)
      assertClose(run(nativeSgemm!, c, x), want, { ...tolerance(c), msg: `${isa} threads=${t} ${describe(c)}` });
  });
});

test('native sgemm: large shapes on the parallel paths (panel split, row split, split-K, K slabs)', { skip: !nativeSgemm }, () => {
  const cases: Case[] = [
    // narrow convolution forward, N split across threads
    { M: 6, N: 2500, K: 25, ta: false, tb: false, alpha: 1, beta: 0, biasAxis: 0, act: Act.Relu, pad: 0 },
    { M: 50, N: 400, K: 500, ta: false, tb: false, alpha: 1, beta: 0, biasAxis: 0, act: Act.None, pad: 3 },
    // Linear forward / weight gradient
    { M: 64, N: 300, K: 784, ta: false, tb: true, alpha: 1, beta: 0, biasAxis: 1, act: Act.Relu, pad: 0 },
    { M: 300, N: 100, K: 64, ta: true, tb: false, alpha: 1, beta: 1, biasAxis: null, act: Act.None, pad: 0 },
    { M: 64, N: 100, K: 300, ta: false, tb: true, alpha: 1, beta: 0, biasAxis: 1, act: Act.Relu, pad: 2 },
    // tiny C, deep K: split-K with 2 threads (weight gradient of a 5x5 convolution)
    { M: 6, N: 25, K: 3000, ta: false, tb: true, alpha: 1, beta: 0.5, biasAxis: 1, act: Act.None, pad: 2 },
    { M: 3, N: 5, K: 40000, ta: true, tb: false, alpha: -0.5, beta: 0, biasAxis: 0, act: Act.Relu, pad: 0 },
    // several A blocks (rows * K above the per-block budget) and several K blocks
    { M: 130, N: 70, K: 2100, ta: false, tb: false, alpha: 1, beta: 0, biasAxis: null, act: Act.None, pad: 1 },
    // K beyond one slab (64K): accumulated through C, bias and relu once at the end
    { M: 2, N: 3, K: 70000, ta: true, tb: true, alpha: 0.5, beta: 0.5, biasAxis: 1, act: Act.Relu, pad: 0 },
    { M: 48, N: 1, K: 70000, ta: false, tb: false, alpha: 1, beta: 2, biasAxis: 0, act: Act.Relu, pad: 1 },
  ];
  const prepared = cases.map((c, k) => {
    const x = inputs(c, 900 + 10 * k);
    return { c, x, want: run(ref, c, x) };
  });
  forEachConfig(addon!, [1, 2], (isa, t) => {
    for (const { c, x, want } of prepared)
      assertClose(run(nativeSgemm!, c, x), want, { ...tolerance(c), msg: `${isa} threads=${t} ${describe(c)}` });
  });
});

test('native sgemm: beta = 0 never reads C (NaN stays out), K = 0, empty M or N', { skip: !nativeSgemm }, () => {
  forEachConfig(addon!, [1, 2], (isa) => {
    const c: Case = { M: 9, N: 50, K: 7, ta: false, tb: false, alpha: 1, beta: 0, biasAxis: 1, act: Act.None, pad: 1 };
    const x = inputs(c, 7); // C0 is all NaN
    const got = run(nativeSgemm!, c, x);
    assert.ok(got.every((v, k) => k % x.ldc >= c.N || Number.isFinite(v)), `${isa}: NaN leaked from C`);
    assertClose(got, run(ref, c, x), { ...tolerance(c), msg: isa });

    const k0: Case = { M: 4, N: 20, K: 0, ta: false, tb: true, alpha: 2, beta: 0.5, biasAxis: 0, act: Act.Relu, pad: 0 };
    const y = inputs(k0, 8);
    assertClose(run(nativeSgemm!, k0, y), run(ref, k0, y), { msg: `${isa} K=0` });

    const C = new Float32Array([5]);
    nativeSgemm!(false, false, 0, 3, 2, 1, new Float32Array(0), 2, new Float32Array(6), 3, 0, new Float32Array(0), 3, null, 1, Act.None);
    nativeSgemm!(false, false, 1, 0, 2, 1, new Float32Array(2), 2, new Float32Array(0), 0, 0, C, 0, null, 1, Act.None);
    assert.equal(C[0], 5);
  });
});

test('native sgemm: relu keeps NaN and writes nothing outside the C window', { skip: !nativeSgemm }, () => {
  const A = new Float32Array([NaN, 1, 2, 1]);
  const B = new Float32Array([1, -1, 1, -1, 1, -1]);
  for (const f of [ref, nativeSgemm!]) {
    const C = new Float32Array(8).fill(42); // [2, 3] window with ldc 4
    f(false, false, 2, 3, 2, 1, A, 2, B, 3, 0, C, 4, null, 1, Act.Relu);
    assert.ok(Number.isNaN(C[0]) && Number.isNaN(C[1]) && Number.isNaN(C[2]));
    assert.deepEqual(Array.from(C.subarray(3)), [42, 1, 0, 1, 42]);
  }
});

// ---- argument checking ----------------------------------------------------------------------------

test('sgemm rejects bad arguments with an error naming the kernel and the argument', () => {
  const impls: Array<[string, Sgemm]> = [['reference', ref]];
  if (nativeSgemm) impls.push(['native', nativeSgemm]);
  const M = 3, N = 4, K = 5;
  const good = () => ({
    ta: false, tb: false, A: new Float32Array(M * K), lda: K, B: new Float32Array(K * N), ldb: N,
    C: new Float32Array(M * N), ldc: N, bias: null as Float32Array | null, axis: 1 as 0 | 1, act: Act.None as Act,
  });
  type G = ReturnType<typeof good>;
  const bad: Array<[string, (g: G) => unknown[], RegExp]> = [
    ['short A', (g) => [g.ta, g.tb, M, N, K, 1, g.A.subarray(1), g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bA\b/],
    ['short B', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B.subarray(0, K * N - 1), g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bB\b/],
    ['short C', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C.subarray(2), g.ldc, g.bias, g.axis, g.act], /sgemm.*\bC\b/],
    ['A too short for lda', (g) => [g.ta, g.tb, M, N, K, 1, g.A, K + 1, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bA\b/],
    ['A too short for transA', (g) => [true, g.tb, M, N, K, 1, new Float32Array(M * K - 1), M, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bA\b/],
    ['B too short for transB', (g) => [g.ta, true, M, N, K, 1, g.A, g.lda, new Float32Array((N - 1) * 7 + K - 1), 7, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bB\b/],
    ['lda below K', (g) => [g.ta, g.tb, M, N, K, 1, g.A, K - 1, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*lda/],
    ['lda below M with transA', (g) => [true, g.tb, M, N, K, 1, g.A, M - 1, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*lda/],
    ['ldb below K with transB', (g) => [g.ta, true, M, N, K, 1, g.A, g.lda, g.B, K - 1, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*ldb/],
    ['ldc below N', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, N - 1, g.bias, g.axis, g.act], /sgemm.*ldc/],
    ['short bias per column', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, new Float32Array(N - 1), 1, g.act], /sgemm.*bias/],
    ['short bias per row', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, new Float32Array(M - 1), 0, g.act], /sgemm.*bias/],
    ['Float64Array A', (g) => [g.ta, g.tb, M, N, K, 1, new Float64Array(M * K), g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bA\b.*Float32Array/],
    ['plain array C', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, Array.from(g.C), g.ldc, g.bias, g.axis, g.act], /sgemm.*\bC\b.*Float32Array/],
    ['Int32Array bias', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, new Int32Array(N), 1, g.act], /sgemm.*bias.*Float32Array/],
    ['biasAxis 2', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, 2, g.act], /sgemm.*biasAxis/],
    ['act 2', (g) => [g.ta, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, 2], /sgemm.*act/],
    ['transA a number', (g) => [1, g.tb, M, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*transA/],
    ['negative M', (g) => [g.ta, g.tb, -1, N, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bM\b/],
    ['fractional K', (g) => [g.ta, g.tb, M, N, 2.5, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bK\b/],
    ['NaN N', (g) => [g.ta, g.tb, M, NaN, K, 1, g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*\bN\b/],
    ['alpha a string', (g) => [g.ta, g.tb, M, N, K, '1', g.A, g.lda, g.B, g.ldb, 0, g.C, g.ldc, g.bias, g.axis, g.act], /sgemm.*alpha/],
    ['C overlapping A', (g) => {
      const buf = new Float32Array(M * K + M * N);
      return [g.ta, g.tb, M, N, K, 1, buf.subarray(0, M * K), g.lda, g.B, g.ldb, 0, buf.subarray(M * K - 1), g.ldc, g.bias, g.axis, g.act];
    }, /sgemm.*overlap/],
  ];
  for (const [name, f] of impls) {
    for (const [what, args, re] of bad) {
      const a = args(good());
      assert.throws(() => (f as (...x: unknown[]) => void)(...a), (e: Error) => re.test(e.message), `${name}: ${what}`);
    }
    assert.throws(() => (f as (...x: unknown[]) => void)(false, false, 1, 1, 1), /sgemm/, `${name}: too few arguments`);
    // The exact minimum lengths are accepted: (rows-1)*ld + cols.
    const A = new Float32Array((M - 1) * (K + 2) + K), B = new Float32Array((K - 1) * (N + 1) + N);
    const C = new Float32Array((M - 1) * (N + 3) + N);
    f(false, false, M, N, K, 1, A, K + 2, B, N + 1, 0, C, N + 3, new Float32Array(M), 0, Act.None);
  }
});

test('native sgemm: errors leave the addon usable', { skip: !nativeSgemm }, () => {
  assert.throws(() => nativeSgemm!(false, false, 2, 2, 2, 1, new Float32Array(3), 2, new Float32Array(4), 2, 0, new Float32Array(4), 2, null, 1, Act.None));
  const C = new Float32Array(4);
  nativeSgemm!(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), 2, new Float32Array([1, 0, 0, 1]), 2, 0, C, 2, null, 1, Act.None);
  assert.deepEqual(Array.from(C), [1, 2, 3, 4]);
});
