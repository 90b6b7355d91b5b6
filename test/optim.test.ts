/**
 * Optimizers against step-by-step simulations of the torch.optim formulas
 * (in double precision), masks, lr multipliers, param groups, state dicts.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor, SGD, Adam, AdamW, Optimizer } from '../src';
import { assertClose, seededArray } from './util';
import { throwsST, arr } from './ops-helpers';

interface SgdHyper { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
interface AdamHyper { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean }

/** torch.optim.SGD, element by element, in double precision. Returns p after each step and the final buffer. */
function simSgd(p0: ArrayLike<number>, grads: ArrayLike<number>[], h: SgdHyper): { ps: number[][]; buf: number[] | null } {
  const mom = h.momentum ?? 0, damp = h.dampening ?? 0, wd = h.weightDecay ?? 0, nest = h.nesterov ?? false;
  const p = Array.from(p0);
  let buf: number[] | null = null;
  const ps: number[][] = [];
  for (const g of grads) {
    const d = p.map((pi, i) => g[i] + wd * pi);
    let step = d;
    if (mom !== 0) {
      buf = buf === null ? [...d] : buf.map((b, i) => mom * b + (1 - damp) * d[i]);
      step = nest ? d.map((di, i) => di + mom * buf![i]) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= h.lr * step[i];
    ps.push([...p]);
  }
  return { ps, buf };
}

/** torch.optim.Adam / AdamW in double precision. */
function simAdam(p0: ArrayLike<number>, grads: ArrayLike<number>[], h: AdamHyper, decoupled: boolean) {
  const [b1, b2] = h.betas ?? [0.9, 0.999];
  const eps = h.eps ?? 1e-8, wd = h.weightDecay ?? (decoupled ? 1e-2 : 0), ams = h.amsgrad ?? false;
  const p = Array.from(p0);
  const n = p.length;
  const m = new Array(n).fill(0), v = new Array(n).fill(0), vmax = new Array(n).fill(0);
  const ps: number[][] = [];
  grads.forEach((g, t0) => {
    const t = t0 + 1;
    for (let i = 0; i < n; i++) {
      let gi = g[i];
      if (decoupled) p[i] *= 1 - h.lr * wd;
      else gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      vmax[i] = Math.max(vmax[i], v[i]);
      const denom = Math.sqrt(ams ? vmax[i] : v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      p[i] -= (h.lr / (1 - b1 ** t)) * (m[i] / denom);
    }
    ps.push([...p]);
  });
  return { ps, m, v, vmax };
}

const N = 37; // not a multiple of any SIMD width
const P0 = seededArray(N, 1);
const GRADS = [1, 0.5, 2, 0.1, 0.7].map((s, k) => seededArray(N, 10 + k).map((x) => x * s));

function param(data: ArrayLike<number> = P0, shape = [N]): Tensor {
  return new Tensor(Float32Array.from(data), shape, 'float32', true);
}
function setGrad(p: Tensor, g: ArrayLike<number>): void {
  p.grad = new Tensor(Float32Array.from(g), p.shape, 'float32');
}
function run(opt: Optimizer<object>, p: Tensor, grads: ArrayLike<number>[]): number[][] {
  return grads.map((g) => {
    setGrad(p, g);
    opt.step();
    return arr(p);
  });
}

const SGD_CASES: SgdHyper[] = [
  { lr: 0.1 },
  { lr: 0.1, momentum: 0.9 },
  { lr: 0.05, momentum: 0.9, dampening: 0.3 },
  { lr: 0.1, momentum: 0.9, nesterov: true },
  { lr: 0.1, momentum: 0.8, weightDecay: 0.01 },
  { lr: 0.1, weightDecay: 0.05 },
  { lr: 0.02, momentum: 0.5, weightDecay: 0.1, nesterov: true },
  { lr: 0 , momentum: 0.9 },
];

for (const h of SGD_CASES) {
  test(`SGD ${JSON.stringify(h)} follows torch's formulas step by step`, () => {
    const p = param();
    const opt = new SGD([p], h);
    const got = run(opt, p, GRADS);
    const want = simSgd(P0, GRADS, h);
    got.forEach((g, s) => assertClose(g, want.ps[s], { rtol: 1e-5, atol: 1e-6, msg: `step ${s + 1}` }));
    const buf = opt.state.get(p)?.momentumBuffer;
    if ((h.momentum ?? 0) !== 0) assertClose(Array.from(buf as Float32Array), want.buf!, { rtol: 1e-5, atol: 1e-6, msg: 'momentum buffer' });
    else assert.equal(buf, undefined);
  });
}

const ADAM_CASES: [string, AdamHyper, boolean][] = [
  ['Adam', { lr: 0.01 }, false],
  ['Adam', { lr: 0.01, weightDecay: 0.1 }, false],
  ['Adam', { lr: 0.01, amsgrad: true }, false],
  ['Adam', { lr: 0.05, betas: [0.5, 0.9], eps: 1e-3, weightDecay: 0.01, amsgrad: true }, false],
  ['AdamW', { lr: 0.01, weightDecay: 0.1 }, true],
  ['AdamW', { lr: 0.01 }, true],
  ['AdamW', { lr: 0.01, weightDecay: 0.1, amsgrad: true }, true],
];

for (const [name, h, decoupled] of ADAM_CASES) {
  test(`${name} ${JSON.stringify(h)} follows torch's formulas step by step`, () => {
    const p = param();
    const opt = decoupled ? new AdamW([p], h) : new Adam([p], h);
    const got = run(opt, p, GRADS);
    const want = simAdam(P0, GRADS, h, decoupled);
    got.forEach((g, s) => assertClose(g, want.ps[s], { rtol: 1e-5, atol: 1e-6, msg: `step ${s + 1}` }));
    const state = opt.state.get(p)!;
    assert.equal(state.step, GRADS.length);
    assertClose(Array.from(state.expAvg as Float32Array), want.m, { rtol: 1e-5, atol: 1e-7, msg: 'expAvg' });
    assertClose(Array.from(state.expAvgSq as Float32Array), want.v, { rtol: 1e-5, atol: 1e-9, msg: 'expAvgSq' });
    if (h.amsgrad) assertClose(Array.from(state.maxExpAvgSq as Float32Array), want.vmax, { rtol: 1e-5, atol: 1e-9, msg: 'maxExpAvgSq' });
    else assert.equal(state.maxExpAvgSq, undefined);
  });
}

test('amsgrad differs from plain Adam once the second moment shrinks', () => {
  const a = param();
  const b = param();
  const oa = new Adam([a], { lr: 0.01 });
  const ob = new Adam([b], { lr: 0.01, amsgrad: true });
  run(oa, a, GRADS);
  run(ob, b, GRADS);
  assert.notDeepEqual(arr(a), arr(b));
});

// ---- masks ---------------------------------------------------------------------------

const MASK = Float32Array.from(seededArray(N, 99), (v) => (v > 0 ? 1 : 0));
type Make = (ps: Tensor[]) => Optimizer<object>;
const MASK_CASES: [string, Make][] = [
  ['SGD momentum', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['SGD nesterov + weight decay', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 })],
  ['SGD dampening + weight decay', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1 })],
  ['SGD plain', (ps) => new SGD(ps, { lr: 0.1 })],
  ['Adam L2', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 })],
  ['AdamW amsgrad', (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
  ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true })],
];

for (const [name, make] of MASK_CASES) {
  test(`mask (${name}): masked weights and state stay exactly zero, the rest is unaffected`, () => {
    const p = param();
    const q = param();
    const opt = make([p]);
    const ref = make([q]);
    opt.setMask(p, new Tensor(MASK.slice(), [N], 'float32'));
    for (let i = 0; i < N; i++) if (MASK[i] === 0) assert.equal(p.data[i], 0, 'setMask zeroes the weights at once');
    run(opt, p, GRADS);
    run(ref, q, GRADS);
    const state = opt.state.get(p)!;
    const refState = ref.state.get(q)!;
    for (let i = 0; i < N; i++) {
      if (MASK[i] === 0) {
        assert.ok(Object.is(p.data[i], 0) || p.data[i] === 0, `weight ${i} is ${p.data[i]}`);
        for (const [k, v] of Object.entries(state)) if (v instanceof Float32Array) assert.equal(v[i], 0, `${k}[${i}]`);
      } else {
        assert.equal(p.data[i], q.data[i], `unmasked weight ${i}`);
        for (const [k, v] of Object.entries(state)) if (v instanceof Float32Array) assert.equal(v[i], (refState[k] as Float32Array)[i], `${k}[${i}]`);
      }
    }
  });
}

test('setMask zeroes existing state; removing the mask lets weights move again; invalid masks throw', () => {
  const p = param();
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  run(opt, p, GRADS.slice(0, 2));
  const mask = new Tensor(MASK.slice(), [N], 'float32');
  opt.setMask(p, mask);
  const buf = opt.state.get(p)!.momentumBuffer as Float32Array;
  for (let i = 0; i < N; i++) if (MASK[i] === 0) assert.equal(buf[i], 0);
  assert.deepEqual(Array.from(opt.getMask(p)!), Array.from(MASK));
  mask.data.fill(1);
  assert.deepEqual(Array.from(opt.getMask(p)!), Array.from(MASK), 'the optimizer keeps its own copy');
  opt.setMask(p, null);
  assert.equal(opt.getMask(p), null);
  run(opt, p, GRADS.slice(2, 3));
  assert.ok(Array.from(MASK).some((m, i) => m === 0 && p.data[i] !== 0));
  throwsST(() => opt.setMask(p, new Tensor(new Float32Array(N).fill(0.5), [N], 'float32')), 'ERR_ARGUMENT', 'setMask', '0 or 1', '0.5');
  throwsST(() => opt.setMask(p, st.ones([N, 1])), 'ERR_SHAPE', 'setMask', `[${N},1]`, `[${N}]`);
  throwsST(() => opt.setMask(p, st.ones([N], { dtype: 'int32' })), 'ERR_DTYPE', 'setMask', 'int32');
  throwsST(() => opt.setMask(param(), st.ones([N])), 'ERR_ARGUMENT', 'setMask', 'not a parameter of this optimizer');
});

// ---- lr multipliers ----------------------------------------------------------------------

const W0 = seededArray(12, 5);
const WGRADS = [1, 2, 0.5, 1].map((s, k) => seededArray(12, 50 + k).map((x) => x * s));
const MULT_CASES: [string, (ps: Tensor[], lr: number) => Optimizer<object>][] = [
  ['SGD momentum + weight decay', (ps, lr) => new SGD(ps, { lr, momentum: 0.9, weightDecay: 0.1 })],
  ['SGD nesterov', (ps, lr) => new SGD(ps, { lr, momentum: 0.9, nesterov: true })],
  ['Adam L2 amsgrad', (ps, lr) => new Adam(ps, { lr, weightDecay: 0.1, amsgrad: true })],
  ['AdamW', (ps, lr) => new AdamW(ps, { lr, weightDecay: 0.2 })],
];

for (const [name, make] of MULT_CASES) {
  test(`lr multiplier per output unit (${name}): row r is updated with lr * m[r]`, () => {
    const lr = 0.05;
    const factors = [0, 0.5, 1];
    const w = param(W0, [3, 4]);
    const opt = make([w], lr);
    opt.setLrMultiplier(w, new Tensor(Float32Array.from(factors), [3, 1], 'float32'));
    assert.deepEqual(Array.from(opt.getLrMultiplier(w)!), [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1]);
    run(opt, w, WGRADS);
    factors.forEach((m, r) => {
      // The same optimizer with lr * m on its own.
      const q = param(W0, [3, 4]);
      const o = make([q], lr * m);
      run(o, q, WGRADS);
      const got = arr(w).slice(r * 4, r * 4 + 4);
      const want = arr(q).slice(r * 4, r * 4 + 4);
      if (m === 0) assert.deepEqual(got, Array.from(W0.slice(r * 4, r * 4 + 4)), 'multiplier 0 freezes the unit');
      else if (m === 1) assert.deepEqual(got, want, 'multiplier 1 is exactly the plain update');
      else assertClose(got, want, { rtol: 1e-5, atol: 1e-7, msg: `row ${r}` });
      // State buffers do not depend on lr, so they are those of the plain run.
      for (const [k, v] of Object.entries(opt.state.get(w)!)) {
        if (v instanceof Float32Array) assertClose(Array.from(v.slice(r * 4, r * 4 + 4)), Array.from((o.state.get(q)![k] as Float32Array).slice(r * 4, r * 4 + 4)), { rtol: 1e-5, atol: 1e-9, msg: `${k} row ${r}` });
      }
    });
  });
}

test('lr multiplier: scalar and full-shape multipliers, with a mask, removal and validation', () => {
  const w = param(W0, [3, 4]);
  const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
  opt.setLrMultiplier(w, st.tensor(2));
  const q = param(W0, [3, 4]);
  run(new SGD([q], { lr: 0.2, momentum: 0.9 }), q, WGRADS);
  run(opt, w, WGRADS);
  assertClose(arr(w), arr(q), { rtol: 1e-5, atol: 1e-7 });
  // Full shape plus a mask: masked entries stay zero whatever the multiplier.
  const u = param(W0, [3, 4]);
  const o2 = new Adam([u], { lr: 0.01 });
  o2.setLrMultiplier(u, new Tensor(seededArray(12, 3, 0, 3), [3, 4], 'float32'));
  const mask = new Tensor(Float32Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0]), [3, 4], 'float32');
  o2.setMask(u, mask);
  run(o2, u, WGRADS);
  mask.data.forEach((m, i) => {
    if (m === 0) assert.equal(u.data[i], 0);
  });
  o2.setLrMultiplier(u, null);
  assert.equal(o2.getLrMultiplier(u), null);
  throwsST(() => opt.setLrMultiplier(w, st.ones([4, 1])), 'ERR_SHAPE', 'setLrMultiplier', '[4,1]', '[3,4]');
  throwsST(() => opt.setLrMultiplier(w, st.ones([2, 3, 4])), 'ERR_SHAPE', 'setLrMultiplier');
  throwsST(() => opt.setLrMultiplier(w, st.tensor([-1])), 'ERR_ARGUMENT', 'setLrMultiplier', '-1');
  throwsST(() => opt.setLrMultiplier(w, st.tensor([NaN])), 'ERR_ARGUMENT', 'setLrMultiplier');
  throwsST(() => opt.setLrMultiplier(w, st.ones([1], { dtype: 'int32' })), 'ERR_DTYPE', 'setLrMultiplier');
  throwsST(() => opt.setLrMultiplier(param(), st.tensor(1)), 'ERR_ARGUMENT', 'not a parameter');
});

// ---- param groups, zeroGrad, skipping ----------------------------------------------------

test('param groups: each group has its own options over the defaults; addParamGroup', () => {
  const a = param();
  const b = param();
  const c = param();
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01, momentum: 0.5 }], { lr: 0.1, momentum: 0.9 });
  assert.equal(opt.paramGroups[0].lr, 0.1);
  assert.equal(opt.paramGroups[1].lr, 0.01);
  assert.equal(opt.paramGroups[1].momentum, 0.5);
  assert.equal(opt.paramGroups[1].dampening, 0);
  opt.addParamGroup({ params: [c], nesterov: true });
  assert.equal(opt.paramGroups.length, 3);
  assert.deepEqual(opt.params, [a, b, c]);
  for (let s = 0; s < 3; s++) {
    for (const p of [a, b, c]) setGrad(p, GRADS[s]);
    opt.step();
  }
  const g3 = GRADS.slice(0, 3);
  assertClose(arr(a), simSgd(P0, g3, { lr: 0.1, momentum: 0.9 }).ps[2], { rtol: 1e-5, atol: 1e-6 });
  assertClose(arr(b), simSgd(P0, g3, { lr: 0.01, momentum: 0.5 }).ps[2], { rtol: 1e-5, atol: 1e-6 });
  assertClose(arr(c), simSgd(P0, g3, { lr: 0.1, momentum: 0.9, nesterov: true }).ps[2], { rtol: 1e-5, atol: 1e-6 });
  throwsST(() => opt.addParamGroup({ params: [a] }), 'ERR_ARGUMENT', 'already belongs to another parameter group');
  throwsST(() => opt.addParamGroup({ params: [] }), 'ERR_ARGUMENT', 'no parameters');
  throwsST(() => opt.addParamGroup({ params: [param(), param()], nesterov: true, momentum: 0 }), 'ERR_ARGUMENT', 'Nesterov');
  const adam = new Adam([{ params: [param()], betas: [0.5, 0.6] }, { params: [param()] }], { lr: 0.1 });
  assert.deepEqual(adam.paramGroups[0].betas, [0.5, 0.6]);
  assert.deepEqual(adam.paramGroups[1].betas, [0.9, 0.999]);
});

test('zeroGrad: to null by default, or zeros in place; parameters without a gradient are skipped', () => {
  const a = param();
  const b = param();
  const opt = new Adam([a, b], { lr: 0.1 });
  setGrad(a, GRADS[0]);
  opt.step();
  assert.notDeepEqual(arr(a), Array.from(P0));
  assert.deepEqual(arr(b), Array.from(P0), 'b has no gradient: untouched');
  assert.equal(opt.state.has(b), false, 'and no state');
  const g = a.grad!;
  opt.zeroGrad(false);
  assert.equal(a.grad, g);
  assert.ok(arr(g).every((v) => v === 0));
  opt.zeroGrad();
  assert.equal(a.grad, null);
  // A parameter whose gradient is zero still counts a step (as torch).
  setGrad(a, new Float32Array(N));
  opt.step();
  assert.equal(opt.state.get(a)!.step, 2);
});

test('step(closure) evaluates the closure with grad enabled and returns its loss', () => {
  const p = param([1, 2], [2]);
  const opt = new SGD([p], { lr: 0.5 });
  const loss = st.noGrad(() => opt.step(() => {
    opt.zeroGrad();
    const l = st.sum(st.square(p));
    l.backward();
    return l;
  }));
  assert.equal(loss, 5);
  assert.deepEqual(arr(p), [0, 0]);
  assert.equal(opt.step(), undefined);
});

test('gradient of the wrong shape or dtype is an error naming the shapes', () => {
  const p = param();
  const opt = new SGD([p], { lr: 0.1 });
  p.grad = st.ones([N + 1]);
  throwsST(() => opt.step(), 'ERR_SHAPE', 'SGD.step', `[${N}]`, `[${N + 1}]`);
});

test('hyper-parameter validation gives clear errors', () => {
  const p = () => [param()];
  throwsST(() => new SGD(p(), { lr: -0.1 }), 'ERR_ARGUMENT', 'SGD', 'learning rate', '-0.1');
  throwsST(() => new SGD(p(), {} as { lr: number }), 'ERR_ARGUMENT', 'SGD', 'lr');
  throwsST(() => new SGD(p(), { lr: NaN }), 'ERR_ARGUMENT', 'SGD');
  throwsST(() => new SGD(p(), { lr: 0.1, momentum: -1 }), 'ERR_ARGUMENT', 'SGD', 'momentum');
  throwsST(() => new SGD(p(), { lr: 0.1, weightDecay: -1 }), 'ERR_ARGUMENT', 'SGD', 'weightDecay');
  throwsST(() => new SGD(p(), { lr: 0.1, nesterov: true }), 'ERR_ARGUMENT', 'SGD', 'Nesterov momentum requires momentum > 0 and dampening 0');
  throwsST(() => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), 'ERR_ARGUMENT', 'Nesterov', 'dampening 0.1');
  throwsST(() => new Adam(p(), { lr: -1 }), 'ERR_ARGUMENT', 'Adam', 'learning rate');
  throwsST(() => new Adam(p(), { betas: [1, 0.999] }), 'ERR_ARGUMENT', 'Adam', 'beta1');
  throwsST(() => new Adam(p(), { betas: [0.9, -0.1] }), 'ERR_ARGUMENT', 'Adam', 'beta2');
  throwsST(() => new Adam(p(), { betas: [0.9] as unknown as [number, number] }), 'ERR_ARGUMENT', 'Adam', 'betas');
  throwsST(() => new Adam(p(), { eps: -1e-8 }), 'ERR_ARGUMENT', 'Adam', 'eps');
  throwsST(() => new AdamW(p(), { weightDecay: -0.01 }), 'ERR_ARGUMENT', 'AdamW', 'weightDecay');
  throwsST(() => new SGD([], { lr: 0.1 }), 'ERR_ARGUMENT', 'SGD', 'empty parameter list');
  const x = param();
  throwsST(() => new SGD([x, x], { lr: 0.1 }), 'ERR_ARGUMENT', 'twice');
  throwsST(() => new SGD([st.mul(x, 2)], { lr: 0.1 }), 'ERR_ARGUMENT', 'not a leaf');
  throwsST(() => new SGD([st.ones([2], { dtype: 'int32' })], { lr: 0.1 }), 'ERR_DTYPE', 'float32');
  assert.equal(new AdamW(p()).defaults.weightDecay, 1e-2);
  assert.equal(new Adam(p()).defaults.lr, 1e-3);
});

// ---- state dicts -------------------------------------------------------------------------

const SD_CASES: [string, Make][] = [
  ['SGD momentum', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })],
  ['SGD plain', (ps) => new SGD(ps, { lr: 0.1 })],
  ['Adam amsgrad', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
];

for (const [name, make] of SD_CASES) {
  test(`stateDict round trip (${name}): the restored optimizer takes identical steps`, () => {
    const a1 = param();
    const a2 = param(seededArray(6, 7), [2, 3]);
    const g2 = [0, 1, 2, 3, 4].map((k) => seededArray(6, 70 + k));
    const A = make([a1, a2]);
    A.setMask(a1, new Tensor(MASK.slice(), [N], 'float32'));
    A.setLrMultiplier(a2, st.tensor([[0.5], [2]]));
    const stepA = (k: number) => {
      setGrad(a1, GRADS[k]);
      setGrad(a2, g2[k]);
      A.step();
    };
    stepA(0);
    stepA(1);
    const sd = A.stateDict();
    // JSON-able apart from the Float32Array buffers.
    const json = JSON.stringify(sd, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
    assert.ok(json.includes('"paramGroups"'));
    const frozen = JSON.stringify(sd, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v));
    const b1 = param(arr(a1));
    const b2 = param(arr(a2), [2, 3]);
    const B = make([b1, b2]);
    B.paramGroups[0].lr = 123;
    B.loadStateDict(sd);
    assert.equal(B.paramGroups[0].lr, A.paramGroups[0].lr);
    for (let k = 2; k < 5; k++) {
      stepA(k);
      setGrad(b1, GRADS[k]);
      setGrad(b2, g2[k]);
      B.step();
      assert.deepEqual(arr(b1), arr(a1), `step ${k + 1}`);
      assert.deepEqual(arr(b2), arr(a2), `step ${k + 1}`);
    }
    assert.equal(JSON.stringify(sd, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)), frozen, 'the state dict is a copy');
    assert.deepEqual(Array.from(B.getMask(b1)!), Array.from(MASK));
    assert.deepEqual(Array.from(B.getLrMultiplier(b2)!), [0.5, 0.5, 0.5, 2, 2, 2]);
  });
}

test('loadStateDict rejects mismatched checkpoints without changing the optimizer', () => {
  const a = param();
  const A = new Adam([a], { lr: 0.01 });
  setGrad(a, GRADS[0]);
  A.step();
  const sd = A.stateDict();
  const two = new Adam([{ params: [param()] }, { params: [param()] }]);
  throwsST(() => two.loadStateDict(sd), 'ERR_ARGUMENT', 'Adam.loadStateDict', '1 parameter groups', '2');
  const more = new Adam([param(), param()]);
  throwsST(() => more.loadStateDict(sd), 'ERR_ARGUMENT', 'loadStateDict', 'group 0', '1 parameters', '2');
  const small = new Adam([param([1, 2], [2])]);
  throwsST(() => small.loadStateDict(sd), 'ERR_SHAPE', 'loadStateDict', `${N} values`, '[2]');
  const bad = { ...sd, state: { 0: { ...sd.state[0], expAvg: [1, 2, 3] as unknown as Float32Array } } };
  const C = new Adam([param()], { lr: 0.5 });
  throwsST(() => C.loadStateDict(bad), 'ERR_DTYPE', 'loadStateDict', 'expAvg');
  assert.equal(C.paramGroups[0].lr, 0.5, 'unchanged after a failed load');
  throwsST(() => C.loadStateDict({ ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] }), 'ERR_ARGUMENT', 'learning rate');
  throwsST(() => C.loadStateDict(null as never), 'ERR_ARGUMENT', 'loadStateDict');
});
