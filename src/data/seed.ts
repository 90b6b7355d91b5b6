/**
 * Seed derivation for the data layer. A loader's randomness for epoch e (and
 * batch b) comes from a fresh Generator seeded with deriveSeed(seed, tag, e, b),
 * so it depends only on the base seed and those numbers: a run resumed at any
 * epoch or batch sees exactly the batches it would have seen.
 */
import { Generator } from '../tensor/random';
import { backend } from '../backend';
import { SparsetrainError } from '../errors';

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string's UTF-16 code units, for domain-separation tags. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The low and high 32-bit words of a safe integer (two's complement for negatives). */
function words(v: number): [number, number] {
  const lo = Number(BigInt.asUintN(32, BigInt(v)));
  const hi = Number(BigInt.asUintN(32, BigInt(v) >> 32n));
  return [lo, hi];
}

/**
 * A seed in [0, 2^53) derived from a base seed and a list of tags (safe integers
 * or strings). Different tag lists give unrelated seeds; the same list always
 * gives the same seed.
 */
export function deriveSeed(seed: number, ...tags: (number | string)[]): number {
  if (!Number.isSafeInteger(seed)) throw new SparsetrainError('ERR_ARGUMENT', `deriveSeed: seed must be a safe integer, got ${seed}`);
  // Two independent 32-bit lanes absorb every word of the input.
  let a = 0x9e3779b9;
  let b = 0x7f4a7c15;
  const absorb = (w: number): void => {
    a = fmix32((a ^ w) + 0x6a09e667);
    b = fmix32((Math.imul(b, 0x2c1b3c6d) ^ w) + 0xbb67ae85);
  };
  const [lo, hi] = words(seed);
  absorb(lo);
  absorb(hi);
  for (const t of tags) {
    if (typeof t === 'string') {
      absorb(0x53545200); // marks a string tag, so 'x' and its hash as a number differ
      absorb(hashString(t));
      absorb(t.length);
    } else {
      if (!Number.isSafeInteger(t)) throw new SparsetrainError('ERR_ARGUMENT', `deriveSeed: tags must be safe integers or strings, got ${t}`);
      const [tl, th] = words(t);
      absorb(tl);
      absorb(th);
    }
  }
  return (a & 0x1fffff) * 2 ** 32 + b;
}

/** A fresh Generator seeded with deriveSeed(seed, ...tags). */
export function derivedGenerator(seed: number, ...tags: (number | string)[]): Generator {
  return new Generator(deriveSeed(seed, ...tags));
}

/** A base seed in [0, 2^53) drawn from a generator (advances it by two 32-bit draws). */
export function seedFromGenerator(gen: Generator): number {
  const w = new Int32Array(2);
  backend().rngInt(gen.state, w, 2, -(2 ** 31), 2 ** 31);
  return ((w[0] >>> 0) & 0x1fffff) * 2 ** 32 + (w[1] >>> 0);
}
