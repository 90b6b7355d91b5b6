/** Reductions (dims/keepdim variants) and selection ops (kthvalue, quantile, topk, sort) against naive JS. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor } from '../src';
import { assertClose } from './util';
import { rnd, distinct, gradcheck, checkBackends, throwsST, arr, leaf } from './ops-helpers';

/** Groups the elements of x by output position when reducing `axes`; returns kept shape and groups. */
function groups(x: Tensor, axes: number[]): { kept: number[]; lists: number[][] } {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outN = kept.reduce((p, d) => p * d, 1);
  const lists: number[][] = Array.from({ length: outN }, () => []);
  const n = x.numel;
  for (let k = 0; k < n; k++) {
    let r = k;
    const idx: number[] = [];
    for (let i = x.ndim - 1; i >= 0; i--) {
      idx[i] = r % x.shape[i];
      r = Math.floor(r / x.shape[i]);
    }
    let o = 0;
    for (let i = 0; i < x.ndim; i++) o = o * kept[i] + (axes.includes(i) ? 0 : idx[i]);
    lists[o].push(x.data[k]);
  }
  return { kept, lists };
}

function reduceRef(x: Tensor, dims: number | number[] | undefined, keepdim: boolean, f: (v: number[]) => number): { shape: number[]; data: number[] } {
  const axes = dims === undefined ? x.shape.map((_, i) => i) : (Array.isArray(dims) ? dims : [dims]).map((d) => (d < 0 ? d + x.ndim : d));
  const { kept, lists } = groups(x, axes);
  const shape = keepdim ? kept : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, data: lists.map(f) };
}

const sumF = (v: number[]) => v.reduce((p, a) => p + a, 0);
const meanF = (v: number[]) => sumF(v) / v.length;
const varF = (unbiased: boolean) => (v: number[]) => {
  const m = meanF(v);
  return v.reduce((p, a) => p + (a - m) ** 2, 0) / (v.length - (unbiased ? 1 : 0));
};

const DIMS: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 2], [1, 2], [0, 1, 2], [2, 0], [-3, -1]];

test('sum / mean over every dims variant, keepdim or not, with gradients', () => {
  const x = rnd([3, 4, 5], 1);
  for (const dims of DIMS) {
    for (const keepdim of [false, true]) {
      const msg = `dims ${JSON.stringify(dims)} keepdim ${keepdim}`;
      for (const [name, fn, ref] of [['sum', st.sum, sumF], ['mean', st.mean, meanF]] as const) {
        const y = fn(x, dims, keepdim);
        const r = reduceRef(x, dims, keepdim, ref);
        assert.deepEqual(y.shape, r.shape, `${name} ${msg}`);
        assertClose(arr(y), r.data, { rtol: 1e-5, atol: 1e-6, msg: `${name} ${msg}` });
        checkBackends((t) => fn(t, dims, keepdim), [x], { msg: `${name} ${msg}` });
      }
    }
  }
  gradcheck((t) => st.sum(t, [0, 2], true), [x]);
  gradcheck((t) => st.mean(t, 1), [x]);
  gradcheck((t) => st.mean(t), [x]);
  // Tensor methods and a repeated dim.
  assert.deepEqual(x.sum(1, true).shape, [3, 1, 5]);
  assert.deepEqual(st.sum(x, [1, 1, -2]).shape, [3, 5]);
});

test('sum / mean of empty tensors and 0-d tensors, as torch', () => {
  assert.equal(st.sum(st.zeros([0])).item(), 0);
  assert.ok(Number.isNaN(st.mean(st.zeros([0])).item()));
  assert.deepEqual(arr(st.sum(st.zeros([0, 3]), 0)), [0, 0, 0]);
  assert.deepEqual(st.sum(st.zeros([3, 0]), 0).shape, [0]);
  const s = st.tensor(2.5);
  assert.equal(st.sum(s).item(), 2.5);
  assert.equal(st.mean(s).item(), 2.5);
  assert.deepEqual(st.sum(s).shape, []);
});

test('max / min: values, dims, keepdim, tie-splitting gradient as torch.amax', () => {
  const x = distinct([3, 4, 5], 3);
  for (const dim of [undefined, 0, 1, 2, -1]) {
    for (const keepdim of [false, true]) {
      const msg = `dim ${dim} keepdim ${keepdim}`;
      const ymax = st.max(x, dim, keepdim);
      const ymin = st.min(x, dim, keepdim);
      const rmax = reduceRef(x, dim, keepdim, (v) => Math.max(...v));
      const rmin = reduceRef(x, dim, keepdim, (v) => Math.min(...v));
      assert.deepEqual(ymax.shape, rmax.shape, msg);
      assert.deepEqual(arr(ymax), rmax.data, msg);
      assert.deepEqual(arr(ymin), rmin.data, msg);
      checkBackends((t) => st.max(t, dim, keepdim), [x], { msg });
      checkBackends((t) => st.min(t, dim, keepdim), [x], { msg });
    }
  }
  gradcheck((t) => st.max(t, 1), [x], { msg: 'max' });
  gradcheck((t) => st.min(t, -1, true), [x], { msg: 'min' });
  const t = st.tensor([[1, 3, 3], [2, 0, -1]], { requiresGrad: true });
  st.sum(st.max(t, 1)).backward();
  assert.deepEqual(arr(t.grad!), [0, 0.5, 0.5, 1, 0, 0]);
  t.grad = null;
  st.max(t).backward();
  assert.deepEqual(arr(t.grad!), [0, 0.5, 0.5, 0, 0, 0]);
  throwsST(() => st.max(st.zeros([0])), 'ERR_SHAPE', 'max', '[0]');
  throwsST(() => st.min(st.zeros([2, 0]), 1), 'ERR_SHAPE', 'min', '[2,0]');
});

test('argmax / argmin: int32 indices of the first extremum, dims and keepdim', () => {
  const x = st.tensor([[1, 5, 5, 0], [7, 7, -1, -1], [2, 3, 4, 1]]);
  assert.deepEqual(arr(st.argmax(x, 1)), [1, 0, 2]);
  assert.deepEqual(arr(st.argmin(x, 1)), [3, 2, 3]);
  assert.deepEqual(arr(st.argmax(x, 0)), [1, 1, 0, 2]);
  assert.deepEqual(arr(st.argmin(x, 0)), [0, 2, 1, 1]);
  assert.deepEqual(st.argmax(x, 0, true).shape, [1, 4]);
  assert.equal(st.argmax(x).item(), 4);
  assert.equal(st.argmin(x).item(), 6);
  assert.equal(st.argmax(x).dtype, 'int32');
  assert.deepEqual(st.argmax(x, undefined, true).shape, [1, 1]);
  const y = rnd([4, 6, 3], 8);
  for (const dim of [0, 1, 2]) {
    const r = reduceRef(y, dim, false, (v) => v.indexOf(Math.max(...v)));
    assert.deepEqual(arr(st.argmax(y, dim)), r.data, `dim ${dim}`);
    checkBackends((t) => st.argmax(t, dim).to('float32'), [y]);
  }
  assert.deepEqual(arr(st.argmax(st.tensor([1, 3, 2], { dtype: 'int32' }))), [1]);
  throwsST(() => st.argmax(st.zeros([0])), 'ERR_SHAPE', 'argmax');
});

test('var / std: unbiased and biased, dims, gradients', () => {
  const x = rnd([4, 5, 3], 2);
  for (const dims of [undefined, 0, [0, 2], -1]) {
    for (const unbiased of [true, false]) {
      for (const keepdim of [false, true]) {
        const r = reduceRef(x, dims, keepdim, varF(unbiased));
        const v = st.variance(x, dims, unbiased, keepdim);
        assert.deepEqual(v.shape, r.shape);
        assertClose(arr(v), r.data, { rtol: 1e-5, atol: 1e-6 });
        assertClose(arr(x.std(dims, unbiased, keepdim)), r.data.map(Math.sqrt), { rtol: 1e-5, atol: 1e-6 });
      }
    }
  }
  gradcheck((t) => st.variance(t, 1), [x]);
  gradcheck((t) => st.std(t, [0, 2], false), [x]);
  checkBackends((t) => st.std(t, 0), [x]);
});

test('norm (p = 1, 2), countNonzero, sumAll', () => {
  const x = rnd([3, 7], 4, -2, 2);
  assertClose([st.norm(x).item()], [Math.sqrt(arr(x).reduce((p, v) => p + v * v, 0))], { rtol: 1e-6 });
  assertClose([st.norm(x, 1).item()], [arr(x).reduce((p, v) => p + Math.abs(v), 0)], { rtol: 1e-6 });
  gradcheck((t) => st.norm(t), [x]);
  gradcheck((t) => st.norm(t, 1), [x]);
  checkBackends((t) => st.norm(t), [x]);
  throwsST(() => st.norm(x, 3 as 1), 'ERR_ARGUMENT', 'norm');
  assert.equal(st.countNonzero(st.tensor([0, 1, -2, 0, 0.5])), 3);
  assert.equal(st.countNonzero(st.tensor([0, 3], { dtype: 'int32' })), 1);
  assert.equal(st.countNonzero(st.zeros([0])), 0);
  assert.equal(x.countNonzero(), 21);
  const big = rnd([1001], 5);
  assertClose([st.sumAll(big)], [arr(big).reduce((p, v) => p + v, 0)], { rtol: 1e-12, atol: 1e-12 });
  assert.equal(st.sumAll(st.zeros([0])), 0);
});

test('sumToShape sums broadcast axes back', () => {
  const g = rnd([2, 3, 4], 6);
  const r = st.sumToShape(g, [3, 1]);
  assert.deepEqual(r.shape, [3, 1]);
  assertClose(arr(r), reduceRef(g, [0, 2], false, sumF).data, { rtol: 1e-6 });
  assert.equal(st.sumToShape(g, [2, 3, 4]), g);
  assert.deepEqual(st.sumToShape(g, []).shape, []);
});

// ---- selection ---------------------------------------------------------------

test('kthvalue and quantile against a JS sort', () => {
  for (const n of [1, 2, 7, 100, 1001]) {
    const x = rnd([n], 10 + n, -5, 5);
    const sorted = arr(x).sort((a, b) => a - b);
    for (const k of [1, Math.ceil(n / 3), n]) assert.equal(st.kthvalue(x, k), sorted[k - 1], `n ${n} k ${k}`);
    for (const q of [0, 0.1, 0.5, 0.9, 1]) {
      const pos = q * (n - 1);
      const lo = Math.floor(pos);
      const want = lo + 1 < n ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo) : sorted[lo];
      assertClose([st.quantile(x, q)], [want], { rtol: 1e-6, atol: 1e-7, msg: `quantile n ${n} q ${q}` });
    }
  }
  // Duplicates, and a 2-d tensor is taken as a whole.
  assert.equal(st.kthvalue(st.tensor([[3, 1], [3, 2]]), 3), 3);
  assert.equal(st.quantile(st.tensor([1, 2, 3, 4]), 0.5), 2.5);
  throwsST(() => st.kthvalue(st.tensor([1, 2]), 3), 'ERR_ARGUMENT', 'kthvalue', '1..2');
  throwsST(() => st.kthvalue(st.tensor([1, 2]), 0), 'ERR_ARGUMENT', 'kthvalue');
  throwsST(() => st.kthvalue(st.zeros([0]), 1), 'ERR_SHAPE', 'kthvalue', '[0]', 'empty');
  throwsST(() => st.quantile(st.tensor([1]), 1.5), 'ERR_ARGUMENT', 'quantile');
  throwsST(() => st.quantile(st.zeros([0]), 0.5), 'ERR_SHAPE', 'quantile', 'empty');
});

/** Sorted (value, index) pairs of a row, ties by index as a stable sort. */
function sortRow(row: number[], descending: boolean): { v: number[]; i: number[] } {
  const idx = row.map((_, i) => i).sort((a, b) => (descending ? row[b] - row[a] : row[a] - row[b]) || a - b);
  return { v: idx.map((i) => row[i]), i: idx };
}

test('sort: ascending and descending, stable indices, along any dim', () => {
  const x = st.tensor([[3, 1, 2, 1], [0, -1, 5, 5]]);
  const a = st.sort(x);
  assert.deepEqual(a.values.tolist(), [[1, 1, 2, 3], [-1, 0, 5, 5]]);
  assert.deepEqual(a.indices.tolist(), [[1, 3, 2, 0], [1, 0, 2, 3]]);
  assert.equal(a.indices.dtype, 'int32');
  const d = st.sort(x, -1, true);
  assert.deepEqual(d.values.tolist(), [[3, 2, 1, 1], [5, 5, 0, -1]]);
  assert.deepEqual(d.indices.tolist(), [[0, 2, 1, 3], [2, 3, 0, 1]]);
  const y = rnd([5, 9, 4], 12);
  for (const dim of [0, 1, 2]) {
    for (const desc of [false, true]) {
      const r = st.sort(y, dim, desc);
      assert.deepEqual(r.values.shape, y.shape);
      const yt = st.transpose(y, dim, -1);
      const rv = st.transpose(r.values, dim, -1);
      const ri = st.transpose(r.indices, dim, -1);
      const cols = yt.shape[2];
      for (let row = 0; row < yt.numel / cols; row++) {
        const want = sortRow(arr(yt).slice(row * cols, (row + 1) * cols), desc);
        assert.deepEqual(arr(rv).slice(row * cols, (row + 1) * cols), want.v);
        assert.deepEqual(arr(ri).slice(row * cols, (row + 1) * cols), want.i);
      }
      checkBackends((t) => [st.sort(t, dim, desc).values, st.sort(t, dim, desc).indices.to('float32')], [y]);
    }
  }
  assert.deepEqual(st.sort(st.zeros([0])).values.shape, [0]);
  assert.deepEqual(st.sort(st.zeros([3, 0])).values.shape, [3, 0]);
});

test('topk: largest and smallest, sorted, along any dim, k = 0 and k = size', () => {
  const x = distinct([4, 10], 20);
  for (const k of [0, 1, 3, 10]) {
    for (const largest of [true, false]) {
      const r = st.topk(x, k, -1, largest);
      assert.deepEqual(r.values.shape, [4, k]);
      for (let row = 0; row < 4; row++) {
        const want = sortRow(arr(x).slice(row * 10, row * 10 + 10), largest);
        assert.deepEqual(arr(r.values).slice(row * k, row * k + k), want.v.slice(0, k));
        assert.deepEqual(arr(r.indices).slice(row * k, row * k + k), want.i.slice(0, k));
      }
    }
  }
  const y = distinct([6, 3, 5], 21);
  const r = st.topk(y, 2, 0);
  assert.deepEqual(r.values.shape, [2, 3, 5]);
  for (let j = 0; j < 15; j++) {
    const col = Array.from({ length: 6 }, (_, i) => y.data[i * 15 + j]);
    const want = sortRow(col, true);
    assert.deepEqual([r.values.data[j], r.values.data[15 + j]], want.v.slice(0, 2));
    assert.deepEqual([r.indices.data[j], r.indices.data[15 + j]], want.i.slice(0, 2));
  }
  checkBackends((t) => st.topk(t, 3, 1, false).values, [y]);
  throwsST(() => st.topk(x, 11), 'ERR_ARGUMENT', 'topk', '0..10');
  throwsST(() => st.topk(x, -1), 'ERR_ARGUMENT', 'topk');
  throwsST(() => st.topk(x, 1, 2), 'ERR_ARGUMENT', 'topk', 'dimension 2');
  assert.deepEqual(st.topk(st.zeros([0, 4]), 2).values.shape, [0, 2]);
  // Not differentiable: no graph is recorded.
  assert.equal(st.topk(leaf(x), 2).values.requiresGrad, false);
});
