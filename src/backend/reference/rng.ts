/**
 * Reference (plain TypeScript) kernels: rng. Naive and obviously correct; see ../backend.ts.
 *
 * xoshiro128** (Blackman & Vigna) on a Uint32Array(4) state, seeded by splitmix64.
 * 32-bit unsigned arithmetic is spelled out with Math.imul and `>>> 0` so that every
 * integer and uniform stream is bit-identical to native/src/misc/rng.cc.
 */
import type { Backend, F32, I32 } from '../backend';
import { SparsetrainError } from '../../errors';

function fail(op: string, msg: string): never {
  throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}

function checkState(op: string, state: Uint32Array, seeding = false): void {
  if (!(state instanceof Uint32Array) || state.length !== 4) fail(op, 'state must be a Uint32Array of length 4');
  if (!seeding && (state[0] | state[1] | state[2] | state[3]) === 0) {
    fail(op, 'state is all zero (not a valid xoshiro128** state); seed it with rngSeed');
  }
}

function checkOut(op: string, out: ArrayLike<number>, n: number, type: 'F32' | 'I32'): void {
  const ok = type === 'F32' ? out instanceof Float32Array : out instanceof Int32Array;
  if (!ok) fail(op, `out must be a ${type === 'F32' ? 'Float32Array' : 'Int32Array'}`);
  if (!Number.isInteger(n) || n < 0 || n > 2147483647) fail(op, `n must be a non-negative integer, got ${n}`);
  if (out.length < n) fail(op, `out has ${out.length} elements, needs at least ${n}`);
}

function finite(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be finite, got ${v}`);
  return v;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** One xoshiro128** step: returns the next 32-bit output and advances s in place. */
export function xoshiroNext(s: Uint32Array): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

const MASK64 = (1n << 64n) - 1n;

/** splitmix64 step on a 64-bit counter held as a BigInt: [output, new counter]. */
export function splitmix64(x: bigint): [bigint, bigint] {
  const next = (x + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [z ^ (z >> 31n), next];
}

/** Uniform in [0, 1) from the top 24 bits. */
const uniform24 = (s: Uint32Array): number => (xoshiroNext(s) >>> 8) * 2 ** -24;

/** The high and low 32 bits of the 64-bit product of two uint32 (via 16-bit halves, all exact). */
function mul32(a: number, b: number): [hi: number, lo: number] {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const ll = aLo * bLo;
  const mid = aHi * bLo + aLo * bHi + (ll >>> 16); // < 2^33 + 2^16, exact in a double
  const hi = aHi * bHi + Math.floor(mid / 65536);
  const lo = Math.imul(a, b) >>> 0;
  return [hi, lo];
}

/** Uniform integer in [0, range), 1 <= range <= 2^32: Lemire's multiply-and-reject, unbiased. */
export function boundedInt(s: Uint32Array, range: number): number {
  if (range === 2 ** 32) return xoshiroNext(s);
  let [hi, lo] = mul32(xoshiroNext(s), range);
  if (lo < range) {
    const threshold = (2 ** 32 - range) % range; // 2^32 mod range
    while (lo < threshold) [hi, lo] = mul32(xoshiroNext(s), range);
  }
  return hi;
}

export const rngKernels: Partial<Backend> = {
  /** state = two splitmix64 outputs of the seed (a safe integer, as a 64-bit two's complement value). */
  rngSeed(state: Uint32Array, seed: number): void {
    checkState('rngSeed', state, true);
    if (!Number.isSafeInteger(seed)) fail('rngSeed', `seed must be a safe integer (|seed| <= 2^53 - 1), got ${seed}`);
    let x = BigInt.asUintN(64, BigInt(seed));
    let a: bigint, b: bigint;
    [a, x] = splitmix64(x);
    [b, x] = splitmix64(x);
    state[0] = Number(a & 0xffffffffn);
    state[1] = Number(a >> 32n);
    state[2] = Number(b & 0xffffffffn);
    state[3] = Number(b >> 32n);
    if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // never the all-zero state
  },

  rngUniform(state: Uint32Array, out: F32, n: number, low: number, high: number): void {
    checkState('rngUniform', state);
    checkOut('rngUniform', out, n, 'F32');
    finite('rngUniform', 'low', low);
    finite('rngUniform', 'high', high);
    if (!(low <= high)) fail('rngUniform', `low must be <= high, got low ${low}, high ${high}`);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * uniform24(state); // rounded to float32 on store
  },

  rngNormal(state: Uint32Array, out: F32, n: number, mean: number, std: number): void {
    checkState('rngNormal', state);
    checkOut('rngNormal', out, n, 'F32');
    finite('rngNormal', 'mean', mean);
    finite('rngNormal', 'std', std);
    if (std < 0) fail('rngNormal', `std must be >= 0, got ${std}`);
    for (let i = 0; i < n; i += 2) {
      const u1 = xoshiroNext(state) * 2 ** -32;
      const u2 = xoshiroNext(state) * 2 ** -32;
      const r = Math.sqrt(-2 * Math.log(1 - u1));
      const theta = 6.283185307179586 * u2;
      out[i] = mean + std * (r * Math.cos(theta));
      if (i + 1 < n) out[i + 1] = mean + std * (r * Math.sin(theta)); // odd n: the last sine is dropped
    }
  },

  rngBernoulli(state: Uint32Array, out: F32, n: number, p: number): void {
    checkState('rngBernoulli', state);
    checkOut('rngBernoulli', out, n, 'F32');
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('rngBernoulli', `p must be in [0, 1], got ${p}`);
    for (let i = 0; i < n; i++) out[i] = uniform24(state) < p ? 1 : 0;
  },

  rngInt(state: Uint32Array, out: I32, n: number, low: number, high: number): void {
    checkState('rngInt', state);
    checkOut('rngInt', out, n, 'I32');
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < -(2 ** 31) || high > 2 ** 31 || !(low < high)) {
      fail('rngInt', `need integers -2^31 <= low < high <= 2^31, got low ${low}, high ${high}`);
    }
    const range = high - low;
    for (let i = 0; i < n; i++) out[i] = low + boundedInt(state, range);
  },

  rngPermutation(state: Uint32Array, out: I32, n: number): void {
    checkState('rngPermutation', state);
    checkOut('rngPermutation', out, n, 'I32');
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = boundedInt(state, i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
  },
};
