/** Shape ops (reshape, permute, expand, slice with steps, pad, cat, ...) and matrix products, forward and backward. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor } from '../src';
import { assertClose } from './util';
import { rnd, gradcheck, checkBackends, throwsST, arr } from './ops-helpers';

/** Multi-index of flat position k in shape. */
function unflat(k: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = k % shape[i];
    k = Math.floor(k / shape[i]);
  }
  return idx;
}
function flat(idx: number[], shape: readonly number[]): number {
  return idx.reduce((p, v, i) => p * shape[i] + v, 0);
}

test('reshape / view / flatten / squeeze / unsqueeze: shapes, shared data, errors, gradients', () => {
  const x = rnd([2, 3, 4], 1);
  const r = st.reshape(x, [4, -1]);
  assert.deepEqual(r.shape, [4, 6]);
  assert.equal(r.data, x.data, 'reshape shares the buffer');
  assert.deepEqual(x.view(6, 4).shape, [6, 4]);
  assert.deepEqual(x.reshape([-1]).shape, [24]);
  assert.equal(st.reshape(x, [2, 3, 4]), x);
  throwsST(() => st.reshape(x, [5, -1]), 'ERR_SHAPE', 'reshape', '[2,3,4]', '[5,-1]');
  throwsST(() => st.reshape(x, [-1, -1]), 'ERR_SHAPE', 'reshape');
  throwsST(() => st.reshape(x, [5, 5]), 'ERR_SHAPE', 'reshape', '[5,5]');
  assert.deepEqual(st.reshape(st.zeros([0, 3]), [3, 0]).shape, [3, 0]);
  throwsST(() => st.reshape(st.zeros([0, 3]), [-1, 0]), 'ERR_SHAPE', 'reshape');
  assert.deepEqual(st.flatten(x).shape, [24]);
  assert.deepEqual(st.flatten(x, 1).shape, [2, 12]);
  assert.deepEqual(x.flatten(0, 1).shape, [6, 4]);
  assert.deepEqual(st.flatten(st.tensor(3)).shape, [1]);
  throwsST(() => st.flatten(x, 2, 1), 'ERR_ARGUMENT', 'flatten');
  const y = rnd([1, 3, 1, 2], 2);
  assert.deepEqual(st.squeeze(y).shape, [3, 2]);
  assert.deepEqual(st.squeeze(y, 2).shape, [1, 3, 2]);
  assert.deepEqual(st.squeeze(y, 1).shape, [1, 3, 1, 2]);
  assert.deepEqual(st.unsqueeze(x, 0).shape, [1, 2, 3, 4]);
  assert.deepEqual(st.unsqueeze(x, -1).shape, [2, 3, 4, 1]);
  assert.deepEqual(st.unsqueeze(x, 3).shape, [2, 3, 4, 1]);
  throwsST(() => st.unsqueeze(x, 4), 'ERR_ARGUMENT', 'unsqueeze', 'dimension 4');
  gradcheck((t) => st.mul(st.reshape(t, [4, 6]), rnd([4, 6], 9)), [x]);
  gradcheck((t) => st.squeeze(st.unsqueeze(t, 1), 1), [x]);
});

test('permute / transpose: against index arithmetic, inverse gradient', () => {
  const x = rnd([2, 3, 4, 5], 3);
  for (const p of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [0, 2, 3, 1], [-1, 0, 1, 2]]) {
    const y = st.permute(x, p);
    const pp = p.map((d) => (d < 0 ? d + 4 : d));
    const shape = pp.map((d) => x.shape[d]);
    assert.deepEqual(y.shape, shape);
    for (let k = 0; k < y.numel; k++) {
      const oi = unflat(k, shape);
      const ii: number[] = [];
      pp.forEach((d, i) => (ii[d] = oi[i]));
      assert.equal(y.data[k], x.data[flat(ii, x.shape)]);
    }
    checkBackends((t) => st.permute(t, p), [x]);
  }
  gradcheck((t) => st.permute(t, [2, 0, 3, 1]), [x]);
  assert.deepEqual(st.transpose(x, 1, -1).shape, [2, 5, 4, 3]);
  assert.deepEqual(rnd([3, 2], 1).T.shape, [2, 3]);
  assert.deepEqual(st.transpose(rnd([3, 2], 1), 0, 1).tolist(), (() => {
    const a = rnd([3, 2], 1);
    return [[0, 1, 2].map((i) => a.data[i * 2]), [0, 1, 2].map((i) => a.data[i * 2 + 1])];
  })());
  throwsST(() => st.permute(x, [0, 1, 2]), 'ERR_ARGUMENT', 'permute', '[2,3,4,5]');
  throwsST(() => st.permute(x, [0, 1, 1, 2]), 'ERR_ARGUMENT', 'permute', 'repeated');
  throwsST(() => st.permute(x, [0, 1, 2, 4]), 'ERR_ARGUMENT', 'permute');
  // int and bool tensors are permuted too.
  assert.deepEqual(st.permute(st.tensor([[1, 2], [3, 4]], { dtype: 'int32' }), [1, 0]).tolist(), [[1, 3], [2, 4]]);
  assert.deepEqual(st.permute(st.tensor([[1, 0], [0, 0]], { dtype: 'bool' }), [1, 0]).tolist(), [[1, 0], [0, 0]]);
});

test('expand: broadcast copies, -1 keeps a dim, new leading dims, gradient sums back', () => {
  const x = rnd([3, 1], 4);
  const y = st.expand(x, [2, 3, 4]);
  assert.deepEqual(y.shape, [2, 3, 4]);
  for (let k = 0; k < y.numel; k++) assert.equal(y.data[k], x.data[unflat(k, y.shape)[1]]);
  assert.deepEqual(x.expand(-1, 5).shape, [3, 5]);
  assert.equal(st.expand(x, [3, 1]), x);
  gradcheck((t) => st.expand(t, [2, 3, 4]), [x]);
  checkBackends((t) => st.expand(t, [2, 3, 4]), [x]);
  throwsST(() => st.expand(x, [3, 2, 2]), 'ERR_SHAPE', 'expand', '[3,1]', '[3,2,2]');
  throwsST(() => st.expand(x, [4]), 'ERR_SHAPE', 'expand');
  assert.deepEqual(st.expand(st.zeros([1, 2]), [0, 2]).shape, [0, 2]);
});

test('slice with steps, negative and out-of-range bounds, select, narrow; gradients scatter back', () => {
  const x = rnd([5, 7, 3], 5);
  const cases: [number, number | undefined, number | undefined, number][] = [
    [0, undefined, undefined, 1], [0, 1, 4, 1], [1, 0, 7, 2], [1, 1, undefined, 3], [2, -2, undefined, 1],
    [1, -5, -1, 2], [0, 3, 100, 1], [1, -100, 3, 1], [0, 4, 2, 1], [1, 6, 7, 5],
  ];
  for (const [dim, s, e, step] of cases) {
    const y = st.slice(x, dim, s, e, step);
    const n = x.shape[dim];
    const py = (v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      const w = v < 0 ? v + n : v;
      return Math.min(Math.max(w, 0), n);
    };
    const lo = py(s, 0);
    const hi = Math.max(py(e, n), lo);
    const picks: number[] = [];
    for (let i = lo; i < hi; i += step) picks.push(i);
    const shape = [...x.shape];
    shape[dim] = picks.length;
    assert.deepEqual(y.shape, shape, `slice ${[dim, s, e, step]}`);
    for (let k = 0; k < y.numel; k++) {
      const idx = unflat(k, shape);
      idx[dim] = picks[idx[dim]];
      assert.equal(y.data[k], x.data[flat(idx, x.shape)]);
    }
    checkBackends((t) => st.slice(t, dim, s, e, step), [x]);
    if (y.numel > 0) gradcheck((t) => st.slice(t, dim, s, e, step), [x], { msg: `slice ${[dim, s, e, step]}` });
  }
  throwsST(() => st.slice(x, 0, 0, 3, 0), 'ERR_ARGUMENT', 'slice', 'step');
  throwsST(() => st.slice(x, 3), 'ERR_ARGUMENT', 'slice', 'dimension 3');
  const s1 = st.select(x, 1, -1);
  assert.deepEqual(s1.shape, [5, 3]);
  assert.deepEqual(arr(s1), arr(st.reshape(st.slice(x, 1, 6, 7), [5, 3])));
  gradcheck((t) => st.select(t, 0, 2), [x]);
  throwsST(() => st.select(x, 1, 7), 'ERR_ARGUMENT', 'select', 'index 7', 'size 7');
  assert.deepEqual(arr(x.narrow(1, 2, 3)), arr(st.slice(x, 1, 2, 5)));
  // The gradient of slice is itself differentiable (second order).
  const w = st.tensor([1, 2, 3, 4, 5], { requiresGrad: true });
  const [g] = st.grad(st.sum(st.mul(st.slice(w, 0, 0, 5, 2), st.slice(w, 0, 0, 5, 2))), [w], undefined, { createGraph: true });
  assert.deepEqual(arr(g!), [2, 0, 6, 0, 10]);
  const [h] = st.grad(st.sum(g!), [w]);
  assert.deepEqual(arr(h!), [2, 0, 2, 0, 2]);
});

test('cat / stack / split / chunk: values, dims, empty parts, dtypes, gradients', () => {
  const a = rnd([2, 3, 4], 6);
  const b = rnd([2, 1, 4], 7);
  const c = rnd([2, 0, 4], 8);
  const y = st.cat([a, c, b], 1);
  assert.deepEqual(y.shape, [2, 4, 4]);
  for (let k = 0; k < y.numel; k++) {
    const [i, j, l] = unflat(k, y.shape);
    assert.equal(y.data[k], j < 3 ? a.data[flat([i, j, l], a.shape)] : b.data[flat([i, 0, l], b.shape)]);
  }
  gradcheck((p, q) => st.cat([p, q], 1), [a, b]);
  checkBackends((p, q) => st.cat([q, p, q], -2), [a, b]);
  assert.deepEqual(arr(st.cat([st.tensor([1, 2]), st.tensor([3])])), [1, 2, 3]);
  assert.deepEqual(st.cat([a, a], 2).shape, [2, 3, 8]);
  assert.equal(st.cat([st.tensor([1], { dtype: 'int32' }), st.tensor([2], { dtype: 'int32' })]).dtype, 'int32');
  throwsST(() => st.cat([a, b], 0), 'ERR_SHAPE', 'cat', '[2,1,4]', '[2,3,4]');
  throwsST(() => st.cat([st.tensor([1]), st.tensor([1], { dtype: 'int32' })]), 'ERR_DTYPE', 'cat', 'int32');
  throwsST(() => st.cat([]), 'ERR_ARGUMENT', 'cat');
  throwsST(() => st.cat([a, rnd([2, 3], 1)], 0), 'ERR_SHAPE', 'cat');
  const s = st.stack([a, a, a], 1);
  assert.deepEqual(s.shape, [2, 3, 3, 4]);
  assert.deepEqual(arr(st.select(s, 1, 2)), arr(a));
  assert.deepEqual(st.stack([a, a], -1).shape, [2, 3, 4, 2]);
  gradcheck((p) => st.stack([p, st.mul(p, 2)], 0), [a]);
  const parts = st.split(rnd([7, 2], 9), 3);
  assert.deepEqual(parts.map((p) => p.shape[0]), [3, 3, 1]);
  assert.deepEqual(arr(st.cat(parts)), arr(rnd([7, 2], 9)));
  assert.deepEqual(st.chunk(rnd([2, 10], 1), 3, 1).map((p) => p.shape[1]), [4, 4, 2]);
  throwsST(() => st.split(a, 0), 'ERR_ARGUMENT', 'split');
});

test('pad: constant padding of the last dims as F.pad, gradient slices back', () => {
  const x = rnd([2, 3, 4], 10);
  const y = st.pad(x, [1, 2, 0, 1], 0.5);
  assert.deepEqual(y.shape, [2, 4, 7]);
  for (let k = 0; k < y.numel; k++) {
    const [i, j, l] = unflat(k, y.shape);
    const inside = j < 3 && l >= 1 && l < 5;
    assert.equal(y.data[k], inside ? x.data[flat([i, j, l - 1], x.shape)] : 0.5);
  }
  assert.deepEqual(st.pad(x, [1, 1, 1, 1, 1, 1]).shape, [4, 5, 6]);
  assert.deepEqual(st.pad(x, []).shape, [2, 3, 4]);
  gradcheck((t) => st.pad(t, [2, 0, 1, 3]), [x]);
  checkBackends((t) => st.pad(t, [0, 3, 2, 0], -1), [x]);
  throwsST(() => st.pad(x, [1]), 'ERR_ARGUMENT', 'pad');
  throwsST(() => st.pad(x, [1, 1, 1, 1, 1, 1, 1, 1]), 'ERR_ARGUMENT', 'pad', '[2,3,4]');
  throwsST(() => st.pad(x, [-1, 0]), 'ERR_ARGUMENT', 'pad', 'non-negative');
  assert.deepEqual(arr(st.pad(st.zeros([0]), [1, 1], 2)), [2, 2]);
});

test('indexSelect: rows gathered, repeated indices accumulate in the gradient', () => {
  const x = rnd([5, 3], 11);
  const idx = st.tensor([4, 0, 4, 2], { dtype: 'int32' });
  const y = st.indexSelect(x, idx);
  assert.deepEqual(y.shape, [4, 3]);
  assert.deepEqual(arr(y), [4, 0, 4, 2].flatMap((r) => arr(x).slice(r * 3, r * 3 + 3)));
  gradcheck((t) => st.indexSelect(t, idx), [x]);
  checkBackends((t) => st.indexSelect(t, idx), [x]);
  const xi = st.tensor([[1, 2], [3, 4]], { dtype: 'int32' });
  assert.deepEqual(st.indexSelect(xi, st.tensor([1, 1], { dtype: 'int32' })).tolist(), [[3, 4], [3, 4]]);
  assert.deepEqual(st.indexSelect(x, st.tensor(new Int32Array(0))).shape, [0, 3]);
  throwsST(() => st.indexSelect(x, st.tensor([0, 1])), 'ERR_DTYPE', 'indexSelect', 'int32');
  throwsST(() => st.indexSelect(xi, st.tensor([2], { dtype: 'int32' })), 'ERR_ARGUMENT', 'indexSelect', 'index 2');
  assert.throws(() => st.indexSelect(x, st.tensor([5], { dtype: 'int32' })));
  assert.throws(() => st.indexSelect(x, st.tensor([-1], { dtype: 'int32' })));
});

// ---- matrix products ------------------------------------------------------------

function matmulRef(a: number[], b: number[], M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
    out.push(s);
  }
  return out;
}
const T = (t: Tensor) => arr(st.transpose(t, 0, 1));

test('mm with every transpose combination and awkward sizes', () => {
  for (const [M, K, N] of [[1, 1, 1], [3, 5, 2], [17, 9, 13], [4, 1, 7], [2, 33, 3]]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = rnd(ta ? [K, M] : [M, K], M * 100 + K);
        const b = rnd(tb ? [N, K] : [K, N], N * 100 + K);
        const y = st.mm(a, b, ta, tb);
        assert.deepEqual(y.shape, [M, N]);
        const A = ta ? T(a) : arr(a);
        const B = tb ? T(b) : arr(b);
        assertClose(arr(y), matmulRef(A, B, M, K, N), { rtol: 1e-5, atol: 1e-5, msg: `mm ${[M, K, N, ta, tb]}` });
        checkBackends((p, q) => st.mm(p, q, ta, tb), [a, b]);
        if (M * N * K < 300) gradcheck((p, q) => st.mm(p, q, ta, tb), [a, b], { msg: `mm ${[M, K, N, ta, tb]}` });
      }
    }
  }
  // Empty operands: K = 0 gives zeros, M = 0 an empty result.
  assert.deepEqual(arr(st.mm(st.zeros([2, 0]), st.zeros([0, 3]))), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(st.mm(st.zeros([0, 4]), st.zeros([4, 3])).shape, [0, 3]);
});

test('matmul: 1-d, 2-d, batched 3-d and 3-d @ 2-d, with gradients', () => {
  const v = rnd([4], 1);
  const w = rnd([4], 2);
  const A = rnd([3, 4], 3);
  const B = rnd([4, 5], 4);
  assertClose([st.matmul(v, w).item()], [arr(v).reduce((p, x, i) => p + x * w.data[i], 0)], { rtol: 1e-6 });
  assert.deepEqual(st.matmul(v, w).shape, []);
  assert.deepEqual(st.matmul(A, v).shape, [3]);
  assertClose(arr(st.matmul(A, v)), matmulRef(arr(A), arr(v), 3, 4, 1), { rtol: 1e-6 });
  assert.deepEqual(st.matmul(v, B).shape, [5]);
  assertClose(arr(st.matmul(v, B)), matmulRef(arr(v), arr(B), 1, 4, 5), { rtol: 1e-6 });
  assertClose(arr(A.matmul(B)), matmulRef(arr(A), arr(B), 3, 4, 5), { rtol: 1e-6 });
  const X = rnd([2, 3, 4], 5);
  const Y = rnd([2, 4, 5], 6);
  const Z = st.matmul(X, Y);
  assert.deepEqual(Z.shape, [2, 3, 5]);
  for (let i = 0; i < 2; i++) {
    assertClose(arr(Z).slice(i * 15, i * 15 + 15), matmulRef(arr(X).slice(i * 12, i * 12 + 12), arr(Y).slice(i * 20, i * 20 + 20), 3, 4, 5), { rtol: 1e-6, atol: 1e-6 });
  }
  assert.deepEqual(st.matmul(X, B).shape, [2, 3, 5]);
  gradcheck((p, q) => st.matmul(p, q), [v, w]);
  gradcheck((p, q) => st.matmul(p, q), [A, v]);
  gradcheck((p, q) => st.matmul(p, q), [v, B]);
  gradcheck((p, q) => st.matmul(p, q), [X, Y]);
  gradcheck((p, q) => st.matmul(p, q), [X, B]);
  checkBackends((p, q) => st.matmul(p, q), [X, Y]);
  throwsST(() => st.matmul(rnd([64, 784], 1), rnd([300, 785], 1)), 'ERR_SHAPE', 'matmul: [64,784] @ [300,785]: inner dimensions differ');
  throwsST(() => st.matmul(X, rnd([3, 4, 5], 1)), 'ERR_SHAPE', 'matmul', '[2,3,4]', '[3,4,5]');
  throwsST(() => st.matmul(st.tensor(1), v), 'ERR_SHAPE', 'matmul');
  throwsST(() => st.matmul(rnd([2, 2, 2, 2], 1), rnd([2, 2], 1)), 'ERR_SHAPE', 'matmul', 'supported');
});

test('linear: with and without bias, 3-d input, zero in-features, gradients', () => {
  const x = rnd([5, 7], 1);
  const w = rnd([3, 7], 2);
  const b = rnd([3], 3);
  const y = st.linear(x, w, b);
  const ref = matmulRef(arr(x), T(w), 5, 7, 3).map((v, i) => v + b.data[i % 3]);
  assertClose(arr(y), ref, { rtol: 1e-5, atol: 1e-6 });
  assertClose(arr(st.linear(x, w)), matmulRef(arr(x), T(w), 5, 7, 3), { rtol: 1e-5, atol: 1e-6 });
  gradcheck((p, q, r) => st.linear(p, q, r), [x, w, b]);
  gradcheck((p, q) => st.linear(p, q), [x, w]);
  checkBackends((p, q, r) => st.linear(p, q, r), [x, w, b]);
  const x3 = rnd([2, 4, 7], 4);
  const y3 = st.linear(x3, w, b);
  assert.deepEqual(y3.shape, [2, 4, 3]);
  assertClose(arr(y3), arr(st.linear(st.reshape(x3, [8, 7]), w, b)));
  gradcheck((p, q, r) => st.linear(p, q, r), [x3, w, b]);
  assert.deepEqual(arr(st.linear(st.zeros([2, 0]), st.zeros([3, 0]), st.tensor([1, 2, 3]))), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(st.linear(st.zeros([0, 7]), w, b).shape, [0, 3]);
  throwsST(() => st.linear(rnd([64, 784], 1), rnd([300, 785], 1)), 'ERR_SHAPE', 'linear', '[64,784]', '[300,785]', 'inner dimensions differ');
  throwsST(() => st.linear(x, w, rnd([4], 1)), 'ERR_SHAPE', 'linear', 'bias must be [3]', '[4]');
  throwsST(() => st.linear(x, rnd([7], 1)), 'ERR_SHAPE', 'linear', 'weight must be 2-d');
});
