/**
 * Second order: Hessian-vector products by double backward, against analytic
 * Hessians of small functions and against finite differences of gradients
 * through conv2d, maxPool2d, batchNorm (training), crossEntropy, relu/tanh/sigmoid.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor } from '../src';
import { assertClose } from './util';
import { rnd, distinct, throwsST, arr, leaf, withBackend, haveNative } from './ops-helpers';

/** (grad(p + eps v) - grad(p - eps v)) / 2 eps, all parameters moved together. */
function fdHvp(fn: () => Tensor, params: Tensor[], v: Tensor[], eps = 1e-3): number[][] {
  const base = params.map((p) => Float32Array.from(p.data as Float32Array));
  const gradsAt = (s: number): Float32Array[] => {
    params.forEach((p, i) => {
      const d = p.data as Float32Array;
      for (let k = 0; k < d.length; k++) d[k] = base[i][k] + s * eps * v[i].data[k];
    });
    const g = st.grad(fn(), params, undefined, { allowUnused: true });
    return g.map((t, i) => (t ? Float32Array.from(t.data as Float32Array) : new Float32Array(params[i].numel)));
  };
  const gp = gradsAt(1);
  const gm = gradsAt(-1);
  params.forEach((p, i) => (p.data as Float32Array).set(base[i]));
  return gp.map((a, i) => Array.from(a, (x, k) => (x - gm[i][k]) / (2 * eps)));
}

function checkHvp(name: string, fn: () => Tensor, params: Tensor[], seed: number, tol = { rtol: 2e-2, atol: 2e-3 }): void {
  const v = params.map((p, i) => rnd([...p.shape], seed + i));
  const hv = st.hvp(fn, params, v);
  const fd = fdHvp(fn, params, v);
  let scale = 0;
  for (const f of fd) for (const x of f) scale = Math.max(scale, Math.abs(x));
  assert.ok(scale > 1e-4, `${name}: the Hessian-vector product is not trivially zero`);
  hv.forEach((h, i) => assertClose(arr(h), fd[i], { rtol: tol.rtol, atol: tol.atol * Math.max(1, scale), msg: `${name}: parameter ${i}` }));
}

test('hvp of sum(x^3) is 6 x v', () => {
  const x = leaf(rnd([7], 1, -2, 2));
  const v = rnd([7], 2);
  const [h] = st.hvp(() => st.sum(st.pow(x, 3)), [x], [v]);
  assertClose(arr(h), arr(x).map((xi, i) => 6 * xi * v.data[i]), { rtol: 1e-5, atol: 1e-6 });
});

test('hvp of x^T A x is (A + A^T) v; of a quadratic in two blocks includes the cross terms', () => {
  const n = 5;
  const A = rnd([n, n], 3);
  const x = leaf(rnd([n], 4));
  const v = rnd([n], 5);
  const [h] = st.hvp(() => st.matmul(x, st.matmul(A, x)), [x], [v]);
  const want = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += (A.data[i * n + j] + A.data[j * n + i]) * v.data[j];
    return s;
  });
  assertClose(arr(h), want, { rtol: 1e-5, atol: 1e-6 });
  // f(a, b) = sum(a^2 * b): H = [[2 diag(b), 2 diag(a)], [2 diag(a), 0]].
  const a = leaf(rnd([4], 6));
  const b = leaf(rnd([4], 7));
  const va = rnd([4], 8);
  const vb = rnd([4], 9);
  const [ha, hb] = st.hvp(() => st.sum(st.mul(st.square(a), b)), [a, b], [va, vb]);
  assertClose(arr(ha), arr(a).map((ai, i) => 2 * b.data[i] * va.data[i] + 2 * ai * vb.data[i]), { rtol: 1e-5, atol: 1e-6 });
  assertClose(arr(hb), arr(a).map((ai, i) => 2 * ai * va.data[i]), { rtol: 1e-5, atol: 1e-6 });
});

test('hvp: linear functions and unused parameters give zeros; argument errors', () => {
  const x = leaf(rnd([3], 1));
  const u = leaf(rnd([2], 2));
  const [hx, hu] = st.hvp(() => st.sum(st.mul(x, 3)), [x, u], [rnd([3], 3), rnd([2], 4)]);
  assert.deepEqual(arr(hx), [0, 0, 0]);
  assert.deepEqual(arr(hu), [0, 0]);
  throwsST(() => st.hvp(() => st.sum(x), [x], []), 'ERR_ARGUMENT', 'hvp', '0 vectors', '1 parameters');
  throwsST(() => st.hvp(() => st.sum(x), [x], [rnd([4], 1)]), 'ERR_SHAPE', 'hvp', '[4]', '[3]');
  throwsST(() => st.hvp(() => st.mul(x, 2), [x], [rnd([3], 1)]), 'ERR_SHAPE', 'hvp', 'scalar', '[3]');
});

test('hvp of a tanh MLP against finite differences of gradients', () => {
  const x = rnd([6, 4], 10);
  const w1 = leaf(rnd([5, 4], 11));
  const b1 = leaf(rnd([5], 12));
  const w2 = leaf(rnd([3, 5], 13));
  const b2 = leaf(rnd([3], 14));
  const target = rnd([6, 3], 15);
  const fn = () => st.mseLoss(st.linear(st.tanh(st.linear(x, w1, b1)), w2, b2), target);
  checkHvp('tanh mlp', fn, [w1, b1, w2, b2], 20);
});

test('hvp through sigmoid and relu layers with cross-entropy', () => {
  const x = rnd([8, 5], 30);
  const labels = st.tensor([0, 1, 2, 3, 0, 1, 2, 3], { dtype: 'int32' });
  const w1 = leaf(rnd([6, 5], 31));
  const b1 = leaf(rnd([6], 32));
  const w2 = leaf(rnd([4, 6], 33));
  const sig = () => st.crossEntropy(st.linear(st.sigmoid(st.linear(x, w1, b1)), w2), labels);
  checkHvp('sigmoid + crossEntropy', sig, [w1, b1, w2], 40);
  const relu = () => st.crossEntropy(st.linear(st.relu(st.linear(x, w1, b1)), w2), labels, { reduction: 'sum' });
  checkHvp('relu + crossEntropy', relu, [w1, b1, w2], 50);
  // With logSoftmax + nll and a softmax over dim 0 in the graph.
  const lsm = () => st.nllLoss(st.logSoftmax(st.linear(st.tanh(st.linear(x, w1, b1)), w2), 1), labels);
  checkHvp('logSoftmax + nll', lsm, [w1, b1, w2], 60);
  const sm0 = () => st.sum(st.mul(st.softmax(st.linear(x, w1, b1), 0), rnd([8, 6], 5)));
  checkHvp('softmax dim 0', sm0, [w1, b1], 70);
});

test('hvp through conv2d, maxPool2d and cross-entropy against finite differences', () => {
  const x = rnd([2, 2, 6, 6], 80);
  const labels = st.tensor([1, 2], { dtype: 'int32' });
  const cw = leaf(rnd([3, 2, 3, 3], 81, -0.5, 0.5));
  const cb = leaf(rnd([3], 82));
  const fw = leaf(rnd([3, 12], 83));
  const fn = () => {
    const h = st.maxPool2d(st.tanh(st.conv2d(x, cw, cb, { padding: 1 })), 3, { stride: 3 });
    return st.crossEntropy(st.linear(st.flatten(h, 1), fw), labels);
  };
  checkHvp('conv + maxPool + crossEntropy', fn, [cw, cb, fw], 90);
  // Strided, grouped conv and average pooling.
  const cw2 = leaf(rnd([4, 1, 2, 2], 84, -0.5, 0.5));
  const fn2 = () => st.sum(st.square(st.avgPool2d(st.sigmoid(st.conv2d(x, cw2, null, { stride: 2, groups: 2 })), 2, { stride: 1 })));
  checkHvp('grouped strided conv + avgPool', fn2, [cw2], 95);
  // Second order in the input itself (conv backward-input's own gradient).
  const xin = leaf(distinct([1, 2, 5, 5], 86));
  const fn3 = () => st.sum(st.pow(st.maxPool2d(st.conv2d(xin, cw, cb), 2, { stride: 1 }), 2));
  checkHvp('input Hessian through conv + maxPool', fn3, [xin, cw], 97);
});

test('hvp through batchNorm in training and evaluation mode', () => {
  const x = rnd([5, 3, 2, 2], 100, -1, 2);
  const gamma = leaf(rnd([3], 101, 0.5, 1.5));
  const beta = leaf(rnd([3], 102));
  const cw = leaf(rnd([3, 3, 1, 1], 103));
  const t = rnd([5, 3, 2, 2], 104);
  const fn = () => st.mseLoss(st.tanh(st.batchNorm(st.conv2d(x, cw), { weight: gamma, bias: beta, training: true })), t);
  checkHvp('batchNorm train', fn, [cw, gamma, beta], 110);
  // Eval mode: the cross terms between the layer's input and its weight.
  const rm = rnd([3], 106);
  const rv = rnd([3], 107, 0.5, 1.5);
  const fnEval = () => st.mseLoss(st.tanh(st.batchNorm(st.conv2d(x, cw), { weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: false })), t);
  checkHvp('batchNorm eval', fnEval, [cw, gamma, beta], 115);
  // batchNorm without affine, 2-d input, Hessian w.r.t. its input.
  const xin = leaf(rnd([6, 4], 105));
  const fn2 = () => st.sum(st.pow(st.batchNorm(xin, { training: true }), 3));
  checkHvp('batchNorm 2-d input', fn2, [xin], 120);
});

test('hvp through indexSelect (embedding-like row gathers) is exact', () => {
  const W = leaf(rnd([4, 3], 140));
  const idx = st.tensor([0, 2, 2, 3], { dtype: 'int32' });
  const v = rnd([4, 3], 141);
  const [h] = st.hvp(() => st.sum(st.square(st.indexSelect(W, idx))), [W], [v]);
  const counts = [1, 0, 2, 1];
  assertClose(arr(h), arr(v).map((vi, k) => 2 * counts[Math.floor(k / 3)] * vi), { rtol: 1e-6 });
  const fn = () => st.sum(st.tanh(st.matmul(st.indexSelect(W, idx), rnd([3, 2], 142))));
  checkHvp('indexSelect + tanh', fn, [W], 143);
});

test('hvp agrees between the native and the reference backend', () => {
  const x = rnd([3, 2, 5, 5], 130);
  const labels = st.tensor([0, 2, 1], { dtype: 'int32' });
  const cw = leaf(rnd([2, 2, 3, 3], 131, -0.5, 0.5));
  const fw = leaf(rnd([3, 8], 132));
  const v = [rnd([2, 2, 3, 3], 133), rnd([3, 8], 134)];
  const fn = () => st.crossEntropy(st.linear(st.flatten(st.maxPool2d(st.relu(st.batchNorm(st.conv2d(x, cw, null, { padding: 1 }), { training: true })), 2), 1), fw), labels);
  const a = withBackend(haveNative ? 'native' : 'reference', () => st.hvp(fn, [cw, fw], v));
  const b = withBackend('reference', () => st.hvp(fn, [cw, fw], v));
  a.forEach((h, i) => assertClose(arr(h), arr(b[i]), { rtol: 1e-3, atol: 1e-4, msg: `parameter ${i}` }));
});
