import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { referenceBackend, type Backend } from '../src/backend';
import { loadAddon } from '../src/backend/native';
import { assertClose, seededArray } from './util';

const ref = referenceBackend;
const addon = loadAddon();
const nat = addon as unknown as Backend;
const ISAS = ['scalar', 'avx2', 'avx512'];

/** Runs fn once per ISA the CPU supports, restoring the ISA afterwards. */
function forEachIsa(fn: (isa: string) => void): void {
  const saved = addon!.getIsa();
  try {
    for (const isa of ISAS) {
      try {
        addon!.setIsa(isa);
      } catch {
        continue; // not supported by this CPU
      }
      fn(isa);
    }
  } finally {
    addon!.setIsa(saved);
  }
}

function makeMask(n: number, seed: number): Float32Array {
  const u = seededArray(n, seed, 0, 1);
  return u.map((x) => (x < 0.4 ? 0 : 1));
}

interface SgdCfg { lr: number; momentum: number; dampening: number; wd: number; nesterov: boolean }
const SGD_CFGS: SgdCfg[] = [
  { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false },
  { lr: 0.05, momentum: 0, dampening: 0, wd: 0.01, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0, wd: 0, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0, wd: 5e-4, nesterov: true },
  { lr: 0.02, momentum: 0.8, dampening: 0.1, wd: 0.01, nesterov: false },
  { lr: 0.3, momentum: 0.5, dampening: 0.5, wd: 0.1, nesterov: true },
];

/** torch.optim.SGD.step transliterated, in double precision, one element at a time. */
function simulateSgd(p0: Float32Array, grads: Float32Array[], mask: Float32Array | null, c: SgdCfg): [number[], number[] | null] {
  const p = Array.from(p0);
  let buf: number[] | null = null;
  for (const gt of grads) {
    const d = p.map((pi, i) => (c.wd !== 0 ? gt[i] + c.wd * pi : gt[i]));
    let step = d;
    if (c.momentum !== 0) {
      if (buf === null) buf = d.slice(); // torch.clone(d_p).detach()
      else buf = buf.map((b, i) => c.momentum * b + (1 - c.dampening) * d[i]);
      step = c.nesterov ? d.map((di, i) => di + c.momentum * buf![i]) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= c.lr * step[i];
    if (mask) {
      // pruned weights (and their momentum) are held at zero after every step
      for (let i = 0; i < p.length; i++) if (mask[i] === 0) { p[i] = 0; if (buf) buf[i] = 0; }
    }
  }
  return [p, buf];
}

interface AdamCfg { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; amsgrad: boolean }
const ADAM_CFGS: AdamCfg[] = [
  { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false, amsgrad: false },
  { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: false, amsgrad: false },
  { lr: 1e-2, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.05, decoupled: true, amsgrad: false },
  { lr: 5e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false, amsgrad: true },
  { lr: 1e-2, b1: 0.5, b2: 0.9, eps: 1e-8, wd: 0.1, decoupled: true, amsgrad: true },
];

/** torch.optim.Adam / AdamW single-tensor step transliterated, in double precision. */
function simulateAdam(p0: Float32Array, grads: Float32Array[], mask: Float32Array | null, c: AdamCfg) {
  const n = p0.length;
  const p = Array.from(p0), m = new Array(n).fill(0), v = new Array(n).fill(0), vmax = new Array(n).fill(0);
  let t = 0;
  for (const gt of grads) {
    t++;
    for (let i = 0; i < n; i++) {
      let g = gt[i];
      if (c.wd !== 0) {
        if (c.decoupled) p[i] *= 1 - c.lr * c.wd;
        else g += c.wd * p[i];
      }
      m[i] = c.b1 * m[i] + (1 - c.b1) * g;
      v[i] = c.b2 * v[i] + (1 - c.b2) * g * g;
      let vh = v[i];
      if (c.amsgrad) vh = vmax[i] = Math.max(vmax[i], v[i]);
      const denom = Math.sqrt(vh) / Math.sqrt(1 - c.b2 ** t) + c.eps;
      p[i] -= (c.lr / (1 - c.b1 ** t)) * (m[i] / denom);
      if (mask && mask[i] === 0) p[i] = m[i] = v[i] = vmax[i] = 0;
    }
  }
  return { p, m, v, vmax };
}

function runSgd(b: Backend, p0: Float32Array, grads: Float32Array[], mask: Float32Array | null, c: SgdCfg) {
  const p = p0.slice();
  const buf = c.momentum !== 0 ? new Float32Array(p.length).fill(NaN) : null; // must not be read on step 1
  grads.forEach((g, t) => b.sgdUpdate(p, g, buf, mask, p.length, c.lr, c.momentum, c.dampening, c.wd, c.nesterov, t === 0));
  return { p, buf };
}

function runAdam(b: Backend, p0: Float32Array, grads: Float32Array[], mask: Float32Array | null, c: AdamCfg) {
  const n = p0.length;
  const p = p0.slice(), m = new Float32Array(n), v = new Float32Array(n);
  const vmax = c.amsgrad ? new Float32Array(n) : null;
  grads.forEach((g, t) => b.adamUpdate(p, g, m, v, vmax, mask, n, c.lr, c.b1, c.b2, c.eps, c.wd, c.decoupled, c.amsgrad, t + 1));
  return { p, m, v, vmax };
}

function zeroAtMask(a: Float32Array, mask: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (mask[i] === 0) assert.ok(Object.is(a[i], 0), `${what}[${i}] = ${a[i]} at a masked entry, expected +0`);
  }
}

test('addon loads (the native side of these tests needs it)', () => {
  assert.ok(addon, 'build the addon with npm install');
});

test('hand-computed single steps (reference)', () => {
  // SGD momentum 0.9: step 1 buf = g; step 2 buf = 0.9*0.5 + 0.5 = 0.95.
  const p = new Float32Array([1]), buf = new Float32Array(1), g = new Float32Array([0.5]);
  ref.sgdUpdate(p, g, buf, null, 1, 0.1, 0.9, 0, 0, false, true);
  assert.equal(p[0], Math.fround(0.95));
  ref.sgdUpdate(p, g, buf, null, 1, 0.1, 0.9, 0, 0, false, false);
  assert.equal(buf[0], Math.fround(0.95));
  assert.ok(Math.abs(p[0] - 0.855) < 1e-7);
  // Adam step 1: m^ = g, v^ = g^2, so the update is lr * g / (|g| + eps) ~ lr.
  const q = new Float32Array([1]), m = new Float32Array(1), v = new Float32Array(1);
  ref.adamUpdate(q, g, m, v, null, null, 1, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 1);
  assert.ok(Math.abs(q[0] - 0.999) < 1e-7, `${q[0]}`);
  assert.ok(Math.abs(m[0] - 0.05) < 1e-8 && Math.abs(v[0] - 0.00025) < 1e-10);
});

const SIZES = [1, 3, 17, 100, 1000, 40_000];
const STEPS = 5;

test('sgdUpdate: several steps match a double-precision torch simulation; masks hold zeros', () => {
  const n = 1000;
  const p0 = seededArray(n, 1);
  const grads = Array.from({ length: STEPS }, (_, t) => seededArray(n, 100 + t));
  const mask = makeMask(n, 7);
  for (const c of SGD_CFGS) {
    for (const mk of [null, mask]) {
      const [sp, sbuf] = simulateSgd(p0, grads, mk, c);
      for (const [name, b] of [['reference', ref], ['native', nat]] as const) {
        const { p, buf } = runSgd(b, p0, grads, mk, c);
        const msg = `${name} ${JSON.stringify(c)} mask ${!!mk}`;
        assertClose(p, sp, { rtol: 1e-5, atol: 1e-6, msg });
        if (sbuf) assertClose(buf!, sbuf, { rtol: 1e-5, atol: 1e-6, msg: `${msg} buf` });
        if (mk) {
          zeroAtMask(p, mk, `${msg} p`);
          if (buf) zeroAtMask(buf, mk, `${msg} buf`);
        }
      }
    }
  }
});

test('sgdUpdate: native bit-identical to reference on every ISA and size', () => {
  for (const n of SIZES) {
    const p0 = seededArray(n, n), mask = makeMask(n, n + 1);
    const grads = Array.from({ length: 3 }, (_, t) => seededArray(n, 10 * n + t, -2, 2));
    for (const c of SGD_CFGS) {
      for (const mk of [null, mask]) {
        const want = runSgd(ref, p0, grads, mk, c);
        forEachIsa((isa) => {
          const got = runSgd(nat, p0, grads, mk, c);
          const msg = `${isa} n=${n} ${JSON.stringify(c)} mask ${!!mk}`;
          assert.deepEqual(got.p, want.p, msg);
          assert.deepEqual(got.buf, want.buf, msg);
        });
      }
    }
  }
});

test('adamUpdate: several steps match a double-precision torch simulation (Adam, AdamW, amsgrad); masks hold zeros', () => {
  const n = 1000;
  const p0 = seededArray(n, 3);
  // gradients of varied scale, some tiny, so eps and the bias corrections matter
  const grads = Array.from({ length: STEPS }, (_, t) => seededArray(n, 200 + t).map((x, i) => x * (i % 3 === 0 ? 1e-3 : 1)));
  const mask = makeMask(n, 9);
  for (const c of ADAM_CFGS) {
    for (const mk of [null, mask]) {
      const s = simulateAdam(p0, grads, mk, c);
      for (const [name, b] of [['reference', ref], ['native', nat]] as const) {
        const r = runAdam(b, p0, grads, mk, c);
        const msg = `${name} ${JSON.stringify(c)} mask ${!!mk}`;
        assertClose(r.p, s.p, { rtol: 1e-5, atol: 2e-6, msg: `${msg} p` });
        assertClose(r.m, s.m, { rtol: 1e-5, atol: 1e-7, msg: `${msg} m` }); // m cancels: absolute error ~ eps * |g|
        assertClose(r.v, s.v, { rtol: 1e-5, atol: 1e-10, msg: `${msg} v` });
        if (c.amsgrad) assertClose(r.vmax!, s.vmax, { rtol: 1e-5, atol: 1e-10, msg: `${msg} vmax` });
        if (mk) for (const [w, a] of [['p', r.p], ['m', r.m], ['v', r.v], ['vmax', r.vmax]] as const) if (a) zeroAtMask(a, mk, `${msg} ${w}`);
      }
    }
  }
});

test('adamUpdate: native matches reference on every ISA and size', () => {
  for (const n of SIZES) {
    const p0 = seededArray(n, n + 5), mask = makeMask(n, n + 6);
    const grads = Array.from({ length: 3 }, (_, t) => seededArray(n, 20 * n + t, -2, 2));
    for (const c of ADAM_CFGS) {
      for (const mk of [null, mask]) {
        const want = runAdam(ref, p0, grads, mk, c);
        forEachIsa((isa) => {
          const got = runAdam(nat, p0, grads, mk, c);
          const msg = `${isa} n=${n} ${JSON.stringify(c)} mask ${!!mk}`;
          // The float32 arithmetic is op-for-op the same; only the double-precision
          // bias-correction scalars go through two pow() implementations.
          assertClose(got.p, want.p, { rtol: 1e-6, atol: 1e-7, msg: `${msg} p` });
          assert.deepEqual(got.m, want.m, `${msg} m`);
          assert.deepEqual(got.v, want.v, `${msg} v`);
          assert.deepEqual(got.vmax, want.vmax, `${msg} vmax`);
        });
      }
    }
  }
});

test('optimizer results do not depend on the thread count', () => {
  const n = 100_000;
  const p0 = seededArray(n, 1), g = seededArray(n, 2), mask = makeMask(n, 3);
  const t0 = addon!.getThreads();
  const out: Float32Array[] = [];
  for (const t of [1, 2, 3]) {
    addon!.setThreads(t);
    const a = runAdam(nat, p0, [g, g], mask, ADAM_CFGS[4]);
    const s = runSgd(nat, p0, [g, g], mask, SGD_CFGS[3]);
    out.push(Float32Array.from([...a.p, ...s.p]));
  }
  addon!.setThreads(t0);
  assert.deepEqual(out[1], out[0]);
  assert.deepEqual(out[2], out[0]);
});

test('optimizer kernels reject bad arguments in both backends', () => {
  for (const [name, b] of [['reference', ref], ['native', nat]] as const) {
    const f = () => new Float32Array(4);
    const p = f();
    const bad: [string, () => void][] = [
      ['sgd p short', () => b.sgdUpdate(new Float32Array(3), f(), null, null, 4, 0.1, 0, 0, 0, false, true)],
      ['sgd g short', () => b.sgdUpdate(p, new Float32Array(3), null, null, 4, 0.1, 0, 0, 0, false, true)],
      ['sgd buf short', () => b.sgdUpdate(p, f(), new Float32Array(3), null, 4, 0.1, 0.9, 0, 0, false, true)],
      ['sgd buf missing', () => b.sgdUpdate(p, f(), null, null, 4, 0.1, 0.9, 0, 0, false, true)],
      ['sgd mask short', () => b.sgdUpdate(p, f(), null, new Float32Array(3), 4, 0.1, 0, 0, 0, false, true)],
      ['sgd p type', () => b.sgdUpdate(new Float64Array(4) as unknown as Float32Array, f(), null, null, 4, 0.1, 0, 0, 0, false, true)],
      ['sgd lr NaN', () => b.sgdUpdate(p, f(), null, null, 4, NaN, 0, 0, 0, false, true)],
      ['adam m short', () => b.adamUpdate(p, f(), new Float32Array(3), f(), null, null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 1)],
      ['adam v short', () => b.adamUpdate(p, f(), f(), new Float32Array(3), null, null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 1)],
      ['adam vmax missing', () => b.adamUpdate(p, f(), f(), f(), null, null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, true, 1)],
      ['adam vmax short', () => b.adamUpdate(p, f(), f(), f(), new Float32Array(3), null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, true, 1)],
      ['adam step 0', () => b.adamUpdate(p, f(), f(), f(), null, null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 0)],
      ['adam step 1.5', () => b.adamUpdate(p, f(), f(), f(), null, null, 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 1.5)],
      ['adam beta1 = 1', () => b.adamUpdate(p, f(), f(), f(), null, null, 4, 1e-3, 1, 0.999, 1e-8, 0, false, false, 1)],
      ['adam mask short', () => b.adamUpdate(p, f(), f(), f(), null, new Float32Array(2), 4, 1e-3, 0.9, 0.999, 1e-8, 0, false, false, 1)],
    ];
    for (const [what, fn] of bad) assert.throws(fn, /sgdUpdate|adamUpdate/, `${name}: ${what}`);
    assert.deepEqual(Array.from(p), [0, 0, 0, 0], `${name}: p untouched`);
  }
});
