/** Shared test helpers: closeness checks with informative messages, seeded data. */
import * as assert from 'node:assert/strict';

/** Asserts |a - b| <= atol + rtol * |b| elementwise; reports the worst element. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, opts: { rtol?: number; atol?: number; msg?: string } = {},
): void {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const msg = opts.msg ? `${opts.msg}: ` : '';
  assert.equal(actual.length, expected.length, `${msg}length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      assert.fail(`${msg}element ${i}: ${a} vs ${b}`);
    }
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(`${msg}element ${worst}: ${actual[worst]} vs expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Deterministic pseudo-random floats in [lo, hi) (mulberry32), for test inputs. */
export function seededArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

/**
 * Runs fn under every SIMD level this CPU has (avx512, avx2, scalar) with 1 and
 * 2 threads, restoring the addon's settings afterwards. `index` counts the
 * configurations run (tests use one of them for their largest sizes).
 */
export function forEachIsaAndThreads(fn: (label: string, index: number) => void): void {
  // Loaded lazily so that tests not touching the addon do not load it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = (require('../src/backend/native') as typeof import('../src/backend/native')).loadAddon();
  assert.ok(addon, 'the native addon must be built');
  const isa0 = addon.getIsa();
  const threads0 = addon.getThreads();
  let index = 0;
  try {
    for (const isa of ['avx512', 'avx2', 'scalar']) {
      try {
        addon.setIsa(isa);
      } catch {
        continue; // this CPU lacks it
      }
      for (const threads of [1, 2]) {
        addon.setThreads(threads);
        fn(`${isa}/${threads}t`, index++);
      }
    }
  } finally {
    addon.setIsa(isa0);
    addon.setThreads(threads0);
  }
}
