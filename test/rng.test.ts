import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend, type Backend } from '../src/backend';
import { loadAddon } from '../src/backend/native';
import { xoshiroNext, splitmix64 } from '../src/backend/reference/rng';
import { assertClose } from './util';

const ref = referenceBackend;
const addon = loadAddon();
const nat = addon as unknown as Backend;
const both: [string, Backend][] = [['reference', ref], ['native', nat]];

function seeded(b: Backend, seed: number): Uint32Array {
  const s = new Uint32Array(4);
  b.rngSeed(s, seed);
  return s;
}

test('addon loads (the native side of these tests needs it)', () => {
  assert.ok(addon, 'build the addon with npm install');
});

test('reference xoshiro128** matches the published algorithm (state 1,2,3,4)', () => {
  // Values from the reference C code of Blackman & Vigna, compiled independently.
  const s = new Uint32Array([1, 2, 3, 4]);
  const got = Array.from({ length: 8 }, () => xoshiroNext(s));
  assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  assert.deepEqual(Array.from(s), [857776784, 3957087773, 2428778008, 3837013768]);
});

test('splitmix64 matches its published first outputs for seed 0', () => {
  const [a, x] = splitmix64(0n);
  const [b] = splitmix64(x);
  assert.equal(a, 0xe220a8397b1dcdafn);
  assert.equal(b, 0x6e789e6aa1b965f4n);
});

test('rngSeed: known states, identical in both backends', () => {
  const expect: [number, number[]][] = [
    [0, [0x7b1dcdaf, 0xe220a839, 0xa1b965f4, 0x6e789e6a]],
    [42, [803958421, 3184996902, 2993090819, 686809907]],
    [-1, [459615264, 3839455607, 3690365641, 3919575143]],
  ];
  for (const [name, b] of both) {
    for (const [seed, st] of expect) assert.deepEqual(Array.from(seeded(b, seed)), st, `${name} seed ${seed}`);
    for (const seed of [1, 2, 12345, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), -7]) {
      assert.deepEqual(Array.from(seeded(b, seed)), Array.from(seeded(ref, seed)), `${name} seed ${seed}`);
    }
  }
});

test('rngSeed: nearby seeds give unrelated states and streams', () => {
  const states = new Set<string>();
  const popcount = (x: number) => { let c = 0; for (; x; x &= x - 1) c++; return c; };
  for (let seed = 0; seed < 200; seed++) {
    const a = seeded(nat, seed), b = seeded(nat, seed + 1);
    states.add(Array.from(a).join(','));
    let bits = 0;
    for (let i = 0; i < 4; i++) bits += popcount((a[i] ^ b[i]) >>> 0);
    assert.ok(bits > 30 && bits < 98, `seeds ${seed}, ${seed + 1} differ in ${bits} of 128 state bits`);
  }
  assert.equal(states.size, 200);
  // Streams of consecutive seeds are uncorrelated.
  const n = 4000;
  for (const seed of [0, 1, 100, 1000]) {
    const x = new Float32Array(n), y = new Float32Array(n);
    nat.rngUniform(seeded(nat, seed), x, n, -1, 1);
    nat.rngUniform(seeded(nat, seed + 1), y, n, -1, 1);
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) { sxy += x[i] * y[i]; sxx += x[i] * x[i]; syy += y[i] * y[i]; }
    const corr = sxy / Math.sqrt(sxx * syy);
    assert.ok(Math.abs(corr) < 0.08, `seed ${seed} vs ${seed + 1}: correlation ${corr}`);
  }
});

const SIZES = [0, 1, 2, 3, 7, 16, 17, 1000, 4097];

test('rngUniform / rngBernoulli / rngInt / rngPermutation: native bit-identical to reference, state too', () => {
  let seed = 1;
  for (const n of SIZES) {
    const cases: [string, (b: Backend, s: Uint32Array) => ArrayLike<number>][] = [
      ['uniform01', (b, s) => { const o = new Float32Array(n); b.rngUniform(s, o, n, 0, 1); return o; }],
      ['uniform', (b, s) => { const o = new Float32Array(n); b.rngUniform(s, o, n, -3.5, 0.25); return o; }],
      ['bernoulli', (b, s) => { const o = new Float32Array(n); b.rngBernoulli(s, o, n, 0.3); return o; }],
      ['int small', (b, s) => { const o = new Int32Array(n); b.rngInt(s, o, n, -5, 6); return o; }],
      ['int 1', (b, s) => { const o = new Int32Array(n); b.rngInt(s, o, n, 7, 8); return o; }],
      ['int 3e9 (rejections)', (b, s) => { const o = new Int32Array(n); b.rngInt(s, o, n, -(2 ** 31), 3e9 - 2 ** 31); return o; }],
      ['int full', (b, s) => { const o = new Int32Array(n); b.rngInt(s, o, n, -(2 ** 31), 2 ** 31); return o; }],
      ['int 2^31', (b, s) => { const o = new Int32Array(n); b.rngInt(s, o, n, 0, 2 ** 31); return o; }],
      ['permutation', (b, s) => { const o = new Int32Array(n); b.rngPermutation(s, o, n); return o; }],
    ];
    for (const [name, run] of cases) {
      const sr = seeded(ref, seed), sn = seeded(nat, seed);
      seed++;
      const a = run(ref, sr), b = run(nat, sn);
      assert.deepEqual(Array.from(b), Array.from(a), `${name} n=${n}`);
      assert.deepEqual(Array.from(sn), Array.from(sr), `${name} n=${n}: state after`);
    }
  }
});

test('rngNormal: native matches reference (last-ulp tolerance), state identical, odd tail drops z1', () => {
  for (const n of SIZES) {
    const sr = seeded(ref, 99 + n), sn = seeded(nat, 99 + n);
    const a = new Float32Array(n), b = new Float32Array(n);
    ref.rngNormal(sr, a, n, 0.5, 2);
    nat.rngNormal(sn, b, n, 0.5, 2);
    assertClose(b, a, { rtol: 1e-6, atol: 1e-6, msg: `n=${n}` });
    assert.deepEqual(Array.from(sn), Array.from(sr), `n=${n}: state after`);
  }
  for (const [name, b] of both) {
    // n values consume 2*ceil(n/2) outputs, and the first n of n+1 values agree.
    const s3 = seeded(b, 5), s4 = seeded(b, 5), sRaw = seeded(b, 5);
    const o3 = new Float32Array(3), o4 = new Float32Array(4);
    b.rngNormal(s3, o3, 3, 0, 1);
    b.rngNormal(s4, o4, 4, 0, 1);
    for (let i = 0; i < 4; i++) xoshiroNext(sRaw);
    assert.deepEqual(Array.from(s3), Array.from(sRaw), name);
    assert.deepEqual(Array.from(s4), Array.from(sRaw), name);
    assert.deepEqual(Array.from(o3), Array.from(o4.subarray(0, 3)), name);
  }
});

test('rngNormal: reference equals Box-Muller computed by hand', () => {
  const s = seeded(ref, 3), raw = seeded(ref, 3);
  const o = new Float32Array(2);
  ref.rngNormal(s, o, 2, 1, 3);
  const u1 = xoshiroNext(raw) / 2 ** 32, u2 = xoshiroNext(raw) / 2 ** 32;
  const r = Math.sqrt(-2 * Math.log(1 - u1));
  assert.equal(o[0], Math.fround(1 + 3 * (r * Math.cos(2 * Math.PI * u2))));
  assert.equal(o[1], Math.fround(1 + 3 * (r * Math.sin(2 * Math.PI * u2))));
});

test('statistics of 1e6 draws (native)', () => {
  const n = 1_000_000;
  const s = seeded(nat, 2024);
  const x = new Float32Array(n);
  const moments = (a: Float32Array) => {
    let m = 0;
    for (const v of a) m += v;
    m /= a.length;
    let v2 = 0;
    for (const v of a) v2 += (v - m) ** 2;
    return [m, Math.sqrt(v2 / a.length)];
  };
  nat.rngNormal(s, x, n, 0, 1);
  let [m, sd] = moments(x);
  assert.ok(Math.abs(m) < 0.005 && Math.abs(sd - 1) < 0.005, `normal mean ${m}, std ${sd}`);
  let within = 0;
  for (const v of x) if (Math.abs(v) < 1) within++;
  assert.ok(Math.abs(within / n - 0.682689) < 0.003, `P(|z|<1) = ${within / n}`);
  nat.rngNormal(s, x, n, 2, 3);
  [m, sd] = moments(x);
  assert.ok(Math.abs(m - 2) < 0.015 && Math.abs(sd - 3) < 0.015, `normal(2,3) mean ${m}, std ${sd}`);

  nat.rngUniform(s, x, n, -2, 6);
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  [m, sd] = moments(x);
  assert.ok(lo >= -2 && hi < 6 && lo < -1.99 && hi > 5.99, `uniform range [${lo}, ${hi}]`);
  assert.ok(Math.abs(m - 2) < 0.02 && Math.abs(sd - 8 / Math.sqrt(12)) < 0.01, `uniform mean ${m}, std ${sd}`);

  nat.rngBernoulli(s, x, n, 0.3);
  let ones = 0;
  for (const v of x) { assert.ok(v === 0 || v === 1); ones += v; }
  assert.ok(Math.abs(ones / n - 0.3) < 0.003, `bernoulli frequency ${ones / n}`);
  const o = new Float32Array(1000);
  nat.rngBernoulli(s, o, 1000, 0);
  assert.ok(o.every((v) => v === 0));
  nat.rngBernoulli(s, o, 1000, 1);
  assert.ok(o.every((v) => v === 1));
});

test('rngInt covers its range uniformly, no modulo bias', () => {
  const n = 200_000;
  const out = new Int32Array(n);
  const s = seeded(nat, 77);
  nat.rngInt(s, out, n, -3, 7);
  const counts = new Array(10).fill(0);
  for (const v of out) { assert.ok(v >= -3 && v < 7, `value ${v}`); counts[v + 3]++; }
  const e = n / 10;
  const chi2 = counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 33.7, `chi-square ${chi2} (df 9), counts ${counts}`); // p = 1e-4
  // range 3e9: 2^32 mod 3e9 = 1.29e9, so a modulo draw would make the low third twice as
  // likely as the top third; unbiased draws put ~1/3 in each third.
  nat.rngInt(s, out, n, 0, 2 ** 31 - 1);
  const r = 3e9;
  const lo = -(2 ** 31);
  nat.rngInt(s, out, n, lo, lo + r);
  const thirds = [0, 0, 0];
  for (const v of out) thirds[Math.floor(((v - lo) / r) * 3)]++;
  for (const t of thirds) assert.ok(Math.abs(t / n - 1 / 3) < 0.01, `thirds ${thirds}`);
});

test('rngPermutation is a permutation, uniformly distributed', () => {
  for (const [name, b] of both) {
    for (const n of [0, 1, 2, 5, 1000]) {
      const out = new Int32Array(n);
      b.rngPermutation(seeded(b, n), out, n);
      assert.deepEqual(Array.from(out).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i), `${name} n=${n}`);
    }
  }
  // Where element 0 lands in a permutation of 5: uniform over the 5 places.
  const s = seeded(nat, 8);
  const out = new Int32Array(5);
  const where = new Array(5).fill(0);
  const trials = 50_000;
  for (let t = 0; t < trials; t++) {
    nat.rngPermutation(s, out, 5);
    where[out.indexOf(0)]++;
  }
  for (const c of where) assert.ok(Math.abs(c / trials - 0.2) < 0.01, `positions ${where}`);
});

test('rng results do not depend on the thread count', () => {
  const t0 = addon!.getThreads();
  const run = () => { const o = new Float32Array(100_000); nat.rngNormal(seeded(nat, 4), o, o.length, 0, 1); return o; };
  addon!.setThreads(1);
  const a = run();
  addon!.setThreads(2);
  const b = run();
  addon!.setThreads(t0);
  assert.deepEqual(b, a);
});

test('rng kernels reject bad arguments in both backends', () => {
  for (const [name, b] of both) {
    const s = seeded(b, 1);
    const f = new Float32Array(4), i = new Int32Array(4);
    const bad: [string, () => void][] = [
      ['short state', () => b.rngUniform(new Uint32Array(3), f, 4, 0, 1)],
      ['long state', () => b.rngUniform(new Uint32Array(5).fill(1), f, 4, 0, 1)],
      ['state type', () => b.rngUniform(new Int32Array(4).fill(1) as unknown as Uint32Array, f, 4, 0, 1)],
      ['zero state', () => b.rngUniform(new Uint32Array(4), f, 4, 0, 1)],
      ['seed type', () => b.rngSeed(new Float32Array(4) as unknown as Uint32Array, 1)],
      ['seed fraction', () => b.rngSeed(new Uint32Array(4), 1.5)],
      ['seed too large', () => b.rngSeed(new Uint32Array(4), 2 ** 60)],
      ['out short', () => b.rngUniform(s, f, 5, 0, 1)],
      ['out type', () => b.rngUniform(s, i as unknown as Float32Array, 4, 0, 1)],
      ['negative n', () => b.rngUniform(s, f, -1, 0, 1)],
      ['low > high', () => b.rngUniform(s, f, 4, 1, 0)],
      ['infinite', () => b.rngUniform(s, f, 4, 0, Infinity)],
      ['normal short', () => b.rngNormal(s, f, 5, 0, 1)],
      ['normal std', () => b.rngNormal(s, f, 4, 0, -1)],
      ['bernoulli p', () => b.rngBernoulli(s, f, 4, 1.5)],
      ['bernoulli NaN', () => b.rngBernoulli(s, f, 4, NaN)],
      ['int short', () => b.rngInt(s, i, 5, 0, 3)],
      ['int type', () => b.rngInt(s, f as unknown as Int32Array, 4, 0, 3)],
      ['int empty range', () => b.rngInt(s, i, 4, 3, 3)],
      ['int fraction', () => b.rngInt(s, i, 4, 0, 2.5)],
      ['int too wide', () => b.rngInt(s, i, 4, -(2 ** 31) - 1, 0)],
      ['perm short', () => b.rngPermutation(s, i, 5)],
    ];
    for (const [what, fn] of bad) assert.throws(fn, /rng/, `${name}: ${what}`);
    assert.deepEqual(Array.from(f), [0, 0, 0, 0], `${name}: nothing written`);
  }
});
