/**
 * Helpers for the op-layer tests: seeded tensors, running an op on both
 * backends, and gradient checks by central finite differences on a random
 * projection of the output.
 */
import * as assert from 'node:assert/strict';
import { Tensor, backend, setBackend, nativeAvailable, grad, noGrad, SparsetrainError } from '../src';
import { assertClose, seededArray } from './util';

/** A float32 tensor of seeded uniform values in [lo, hi). */
export function rnd(shape: number[], seed: number, lo = -1, hi = 1, requiresGrad = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return new Tensor(seededArray(n, seed, lo, hi), shape, 'float32', requiresGrad);
}

/** Distinct values (spaced by >= 1/n of the range) in a seeded order: no ties, no near-ties. */
export function distinct(shape: number[], seed: number, requiresGrad = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const keys = seededArray(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const out = new Float32Array(n);
  order.forEach((pos, rank) => (out[pos] = -1 + (2 * rank) / Math.max(1, n)));
  return new Tensor(out, shape, 'float32', requiresGrad);
}

/** A leaf copy of t that requires grad. */
export function leaf(t: Tensor): Tensor {
  return new Tensor(Float32Array.from(t.data as Float32Array), t.shape, 'float32', true);
}

export const haveNative = nativeAvailable();

/** Runs fn with the given backend, restoring the previous one. */
export function withBackend<T>(name: 'native' | 'reference', fn: () => T): T {
  const prev = backend().name;
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}

export interface Result {
  out: Tensor[];
  grads: (Tensor | null)[];
}

/** Forward of f on fresh leaf copies of inputs, and the gradients of <out, R> (R seeded). */
export function forwardBackward(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], seed = 99): Result {
  const xs = inputs.map((t) => (t.dtype === 'float32' ? leaf(t) : t));
  const r = f(...xs);
  const out = Array.isArray(r) ? r : [r];
  const diff = xs.filter((x) => x.requiresGrad);
  const idx = out.map((_, i) => i).filter((i) => out[i].requiresGrad);
  const outs = idx.map((i) => out[i]);
  let grads: (Tensor | null)[] = xs.map(() => null);
  if (outs.length && diff.length) {
    const projections = idx.map((i) => rnd([...out[i].shape], seed + i));
    const g = grad(outs, diff, projections, { allowUnused: true });
    let k = 0;
    grads = xs.map((x) => (x.requiresGrad ? g[k++] : null));
  }
  return { out: out.map((o) => o.detach()), grads };
}

/**
 * The op on the native and on the reference backend: outputs and gradients
 * agree within tolerance. (Without the addon both runs use the reference.)
 */
export function checkBackends(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], opts: { rtol?: number; atol?: number; msg?: string } = {}): Result {
  const nat = withBackend(haveNative ? 'native' : 'reference', () => forwardBackward(f, inputs));
  const ref = withBackend('reference', () => forwardBackward(f, inputs));
  const tol = { rtol: opts.rtol ?? 1e-4, atol: opts.atol ?? 1e-5 };
  const msg = opts.msg ?? 'op';
  assert.equal(nat.out.length, ref.out.length);
  nat.out.forEach((o, i) => {
    assert.deepEqual(o.shape, ref.out[i].shape, `${msg}: output ${i} shape`);
    assert.equal(o.dtype, ref.out[i].dtype, `${msg}: output ${i} dtype`);
    assertClose(o.data as ArrayLike<number>, ref.out[i].data as ArrayLike<number>, { ...tol, msg: `${msg}: output ${i} native vs reference` });
  });
  nat.grads.forEach((g, i) => {
    const r = ref.grads[i];
    assert.equal(g === null, r === null, `${msg}: gradient ${i} presence`);
    if (g && r) assertClose(g.data as Float32Array, r.data as Float32Array, { ...tol, msg: `${msg}: gradient ${i} native vs reference` });
  });
  return nat;
}

/** sum(out * R) in double precision for each output, summed. */
function projected(f: (...xs: Tensor[]) => Tensor | Tensor[], xs: Tensor[], seed: number): number {
  return noGrad(() => {
    const r = f(...xs);
    const outs = (Array.isArray(r) ? r : [r]);
    let s = 0;
    outs.forEach((o, k) => {
      if (o.dtype !== 'float32') return;
      const R = seededArray(o.numel, seed + k);
      const d = o.data as Float32Array;
      for (let i = 0; i < d.length; i++) s += d[i] * R[i];
    });
    return s;
  });
}

export interface GradcheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** At most this many single elements per input are perturbed (the rest by random directions). */
  maxElems?: number;
  /** Random directions checked per input. */
  directions?: number;
  msg?: string;
}

/**
 * Analytic gradients of L = <f(x), R> against central differences of L, per
 * element (up to maxElems of each input) and along random directions.
 * Inputs are used as given (float32 ones are copied into leaves).
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], o: GradcheckOptions = {}): void {
  const eps = o.eps ?? 1e-3;
  const rtol = o.rtol ?? 1e-2;
  const atol = o.atol ?? 2e-3;
  const maxElems = o.maxElems ?? 12;
  const directions = o.directions ?? 2;
  const msg = o.msg ?? 'gradcheck';
  const seed = 4242;
  const { grads } = forwardBackward(f, inputs, seed);
  const xs = inputs.map((t) => (t.dtype === 'float32' ? new Tensor(Float32Array.from(t.data as Float32Array), t.shape, 'float32') : t));
  xs.forEach((x, xi) => {
    if (x.dtype !== 'float32') return;
    const g = grads[xi];
    const gd = g ? (g.data as Float32Array) : new Float32Array(x.numel);
    const d = x.data as Float32Array;
    const check = (num: number, ana: number, what: string) => {
      const ok = Math.abs(num - ana) <= atol + rtol * Math.max(Math.abs(num), Math.abs(ana));
      assert.ok(ok, `${msg}: input ${xi} ${what}: analytic ${ana} vs numeric ${num}`);
    };
    const n = d.length;
    const idx = n <= maxElems ? Array.from({ length: n }, (_, i) => i) : Array.from(seededArray(maxElems, 7 + xi, 0, n), Math.floor);
    for (const i of idx) {
      const v = d[i];
      d[i] = v + eps;
      const hi = d[i];
      const lp = projected(f, xs, seed);
      d[i] = v - eps;
      const lo = d[i];
      const lm = projected(f, xs, seed);
      d[i] = v;
      check((lp - lm) / (hi - lo), gd[i], `element ${i}`);
    }
    for (let k = 0; k < directions && n > maxElems; k++) {
      const dir = seededArray(n, 1000 + 31 * xi + k);
      const base = Float32Array.from(d);
      let ana = 0;
      for (let i = 0; i < n; i++) ana += gd[i] * dir[i];
      for (let i = 0; i < n; i++) d[i] = base[i] + eps * dir[i];
      const lp = projected(f, xs, seed);
      for (let i = 0; i < n; i++) d[i] = base[i] - eps * dir[i];
      const lm = projected(f, xs, seed);
      d.set(base);
      check((lp - lm) / (2 * eps), ana, `direction ${k}`);
    }
  });
}

/** Asserts fn throws a SparsetrainError with the code and a message matching every pattern. */
export function throwsST(fn: () => unknown, code: string, ...patterns: (RegExp | string)[]): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== null, `expected a SparsetrainError ${code}, nothing was thrown`);
  assert.ok(err instanceof SparsetrainError, `expected a SparsetrainError, got ${String(err)}`);
  assert.equal(err.code, code, `wrong code for: ${err.message}`);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(err.message.includes(p), `message "${err.message}" does not contain "${p}"`);
    else assert.match(err.message, p);
  }
}

/** Plain arrays of a tensor's data. */
export const arr = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);
