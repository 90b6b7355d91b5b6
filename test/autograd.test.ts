/** The autograd engine: accumulation, retainGrad, hooks, noGrad, detach, grad(), errors. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor } from '../src';
import { assertClose } from './util';
import { rnd, throwsST, arr, leaf } from './ops-helpers';

test('gradients accumulate across two backward calls', () => {
  const x = st.tensor([1, 2, 3], { requiresGrad: true });
  const f = () => st.sum(st.mul(x, x));
  f().backward();
  assert.deepEqual(arr(x.grad!), [2, 4, 6]);
  const first = x.grad!;
  f().backward();
  assert.deepEqual(arr(x.grad!), [4, 8, 12]);
  assert.deepEqual(arr(first), [4, 8, 12], 'accumulated in place, as torch');
  x.grad = null;
  f().backward();
  assert.deepEqual(arr(x.grad!), [2, 4, 6]);
});

test('the same gradient reaching two leaves is not shared between their .grad', () => {
  const a = st.tensor([1, 2], { requiresGrad: true });
  const b = st.tensor([3, 4], { requiresGrad: true });
  st.sum(st.add(a, b)).backward();
  assert.notEqual(a.grad!.data, b.grad!.data);
  st.sum(st.mul(a, 2)).backward();
  assert.deepEqual(arr(a.grad!), [3, 3]);
  assert.deepEqual(arr(b.grad!), [1, 1]);
  // A user-provided gradient is not mutated by later accumulation.
  const x = st.tensor([1, 2], { requiresGrad: true });
  const g = st.tensor([5, 6]);
  x.backward(g);
  st.sum(x).backward();
  assert.deepEqual(arr(g), [5, 6]);
  assert.deepEqual(arr(x.grad!), [6, 7]);
});

test('retainGrad keeps the gradient of a non-leaf; others stay null', () => {
  const x = st.tensor([1, -2, 3], { requiresGrad: true });
  const y = st.mul(x, 2);
  const z = st.add(y, 1);
  y.retainGrad();
  st.sum(st.square(z)).backward();
  assert.deepEqual(arr(y.grad!), arr(z).map((v) => 2 * v));
  assert.equal(z.grad, null);
  assert.deepEqual(arr(x.grad!), arr(z).map((v) => 4 * v));
  throwsST(() => st.tensor([1]).retainGrad(), 'ERR_AUTOGRAD', 'retainGrad');
});

test('registerHook: observing, replacing a gradient (leaf and non-leaf), removal', () => {
  const x = st.tensor([1, 2], { requiresGrad: true });
  const seen: number[][] = [];
  const h1 = x.registerHook((g) => {
    seen.push(arr(g));
  });
  const h2 = x.registerHook((g) => st.mul(g, 10));
  st.sum(st.mul(x, 3)).backward();
  assert.deepEqual(seen, [[3, 3]]);
  assert.deepEqual(arr(x.grad!), [30, 30]);
  h2.remove();
  x.grad = null;
  st.sum(st.mul(x, 3)).backward();
  assert.deepEqual(arr(x.grad!), [3, 3]);
  h1.remove();
  assert.equal(x.hooks.length, 0);
  // A hook on an intermediate tensor changes what flows to the leaves.
  const a = st.tensor([1, 2, 3], { requiresGrad: true });
  const b = st.mul(a, a);
  b.registerHook((g) => st.mul(g, st.tensor([0, 1, 2])));
  st.sum(b).backward();
  assert.deepEqual(arr(a.grad!), [0, 4, 12]);
  // Hooks also apply in grad().
  const c = st.tensor([1, 1], { requiresGrad: true });
  c.registerHook((g) => st.neg(g));
  assert.deepEqual(arr(st.grad(st.sum(c), [c])[0]!), [-1, -1]);
  // A hook returning the wrong shape is an error.
  const d = st.tensor([1, 2], { requiresGrad: true });
  d.registerHook(() => st.tensor([1, 2, 3]));
  throwsST(() => st.sum(d).backward(), 'ERR_AUTOGRAD', 'hook', '[3]', '[2]');
  throwsST(() => st.tensor([1]).registerHook(() => undefined), 'ERR_AUTOGRAD', 'registerHook');
});

test('noGrad records nothing; enableGrad re-enables; the mode is restored after errors', () => {
  const x = st.tensor([1, 2], { requiresGrad: true });
  const y = st.noGrad(() => {
    assert.equal(st.isGradEnabled(), false);
    const inner = st.enableGrad(() => st.mul(x, 2));
    assert.equal(inner.requiresGrad, true);
    return st.mul(x, 2);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.equal(st.isGradEnabled(), true);
  assert.throws(() => st.noGrad(() => {
    throw new Error('boom');
  }));
  assert.equal(st.isGradEnabled(), true);
  throwsST(() => st.sum(y).backward(), 'ERR_AUTOGRAD', 'does not require grad');
});

test('detach shares data and cuts the graph', () => {
  const x = st.tensor([1, 2, 3], { requiresGrad: true });
  const y = st.mul(x, 2);
  const d = y.detach();
  assert.equal(d.data, y.data);
  assert.equal(d.requiresGrad, false);
  assert.equal(d.gradFn, null);
  // z = x * stopgrad(2x): dz/dx = 2x only.
  st.sum(st.mul(x, d)).backward();
  assert.deepEqual(arr(x.grad!), [2, 4, 6]);
});

test('grad(): returns gradients without touching .grad; allowUnused; several outputs with gradOutputs', () => {
  const x = st.tensor([1, 2], { requiresGrad: true });
  const u = st.tensor([5], { requiresGrad: true });
  const y = st.sum(st.pow(x, 3));
  const [gx] = st.grad(y, [x]);
  assert.deepEqual(arr(gx!), [3, 12]);
  assert.equal(x.grad, null);
  throwsST(() => st.grad(st.sum(st.pow(x, 3)), [x, u]), 'ERR_AUTOGRAD', 'input 1', '[1]', 'allowUnused');
  const r = st.grad(st.sum(st.pow(x, 3)), [x, u], undefined, { allowUnused: true });
  assert.equal(r[1], null);
  const o1 = st.mul(x, 2);
  const o2 = st.mul(x, x);
  const [g] = st.grad([o1, o2], [x], [st.tensor([1, 10]), st.tensor([1, 1])]);
  assert.deepEqual(arr(g!), [2 + 2, 20 + 4]);
  throwsST(() => st.grad(st.sum(x), [st.tensor([1])]), 'ERR_AUTOGRAD', 'grad', 'does not require grad');
  throwsST(() => st.grad(o1, [x]), 'ERR_AUTOGRAD', 'grad', 'scalar', '[2]');
});

test('shared subexpressions: x used twice, diamonds, a tensor used by many ops', () => {
  const x = st.tensor([0.5, -1, 2], { requiresGrad: true });
  // y = x*x + x -> 2x + 1
  st.sum(st.add(st.mul(x, x), x)).backward();
  assertClose(arr(x.grad!), arr(x).map((v) => 2 * v + 1));
  x.grad = null;
  // Diamond: a = exp(x); b = a*a; c = a + b; dc/dx = a + 2a^2.
  const a = st.exp(x);
  st.sum(st.add(a, st.mul(a, a))).backward();
  assertClose(arr(x.grad!), arr(x).map((v) => Math.exp(v) + 2 * Math.exp(2 * v)), { rtol: 1e-6 });
  x.grad = null;
  // x feeds 5 branches.
  const parts = [st.mul(x, 1), st.mul(x, 2), st.square(x), st.sum(x, 0, true), st.tanh(x)];
  st.sum(st.add(st.add(st.add(st.add(parts[0], parts[1]), parts[2]), parts[3]), parts[4])).backward();
  assertClose(arr(x.grad!), arr(x).map((v) => 1 + 2 + 2 * v + 3 + (1 - Math.tanh(v) ** 2)), { rtol: 1e-6 });
});

test('errors: backward on a non-scalar without gradient, on a tensor not requiring grad, wrong gradient shape', () => {
  const x = st.tensor([1, 2], { requiresGrad: true });
  const y = st.mul(x, 2);
  throwsST(() => y.backward(), 'ERR_AUTOGRAD', 'backward', 'scalar', '[2]');
  throwsST(() => st.sum(st.tensor([1, 2])).backward(), 'ERR_AUTOGRAD', 'backward', 'does not require grad');
  throwsST(() => y.backward(st.tensor([1, 2, 3])), 'ERR_AUTOGRAD', 'backward', '[3]', '[2]');
  y.backward(st.tensor([1, 0.5]));
  assert.deepEqual(arr(x.grad!), [2, 1]);
  throwsST(() => st.tensor([1], { dtype: 'int32' }).requiresGrad_(), 'ERR_DTYPE', 'requiresGrad_', 'int32');
  throwsST(() => y.requiresGrad_(false), 'ERR_AUTOGRAD', 'requiresGrad_', 'detach');
  throwsST(() => new Tensor(new Int32Array(2), [2], 'int32', true), 'ERR_DTYPE', 'float32');
});

test('createGraph: .grad is differentiable (gradient of a gradient)', () => {
  const x = st.tensor([1, 2, -1], { requiresGrad: true });
  st.sum(st.pow(x, 3)).backward(undefined, { createGraph: true });
  assert.ok(x.grad!.requiresGrad);
  const g = x.grad!;
  x.grad = null;
  st.sum(g).backward();
  assert.deepEqual(arr(x.grad!), arr(x).map((v) => 6 * v));
  // Third order through grad().
  const [g1] = st.grad(st.sum(st.pow(x, 4)), [x], undefined, { createGraph: true });
  const [g2] = st.grad(st.sum(g1!), [x], undefined, { createGraph: true });
  const [g3] = st.grad(st.sum(g2!), [x]);
  assert.deepEqual(arr(g3!), arr(x).map((v) => 24 * v));
});

test('a graph can be backpropagated twice, and leaves hold correct gradients when one backward only reaches some', () => {
  const w = leaf(rnd([3, 2], 1));
  const b = leaf(rnd([2], 2));
  const xin = rnd([4, 3], 3);
  const loss = st.sum(st.square(st.add(st.matmul(xin, w), b)));
  loss.backward();
  const g1 = arr(w.grad!);
  loss.backward();
  assertClose(arr(w.grad!), g1.map((v) => 2 * v), { rtol: 1e-6 });
  w.grad = null;
  b.grad = null;
  st.sum(st.mul(b, 2)).backward();
  assert.equal(w.grad, null);
  assert.deepEqual(arr(b.grad!), [2, 2]);
});
