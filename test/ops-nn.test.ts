/** conv2d, pooling, batchNorm, softmax/logSoftmax, losses and dropout: forward against naive loops, backward by finite differences. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor } from '../src';
import { assertClose } from './util';
import { rnd, distinct, gradcheck, checkBackends, throwsST, arr, leaf } from './ops-helpers';
import { loadAddon } from '../src/backend/native';

// ---- conv2d ---------------------------------------------------------------------

interface ConvCase {
  x: number[];
  w: number[];
  bias: boolean;
  o: st.Conv2dOptions;
}
const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

function conv2dRef(x: Tensor, w: Tensor, b: Tensor | null, o: st.Conv2dOptions): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  const [SH, SW] = pair(o.stride, 1);
  const [PH, PW] = pair(o.padding, 0);
  const [DH, DW] = pair(o.dilation, 1);
  const G = o.groups ?? 1;
  const OH = Math.floor((H + 2 * PH - DH * (KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - DW * (KW - 1) - 1) / SW) + 1;
  const data: number[] = [];
  for (let n = 0; n < N; n++) for (let oc = 0; oc < O; oc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const g = Math.floor(oc / (O / G));
    let s = b ? b.data[oc] : 0;
    for (let c = 0; c < Cg; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * SH - PH + kh * DH;
      const iw = ow * SW - PW + kw * DW;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x.data[((n * C + g * Cg + c) * H + ih) * W + iw] * w.data[((oc * Cg + c) * KH + kh) * KW + kw];
    }
    data.push(s);
  }
  void C;
  return { shape: [N, O, OH, OW], data };
}

const CONV: ConvCase[] = [
  { x: [2, 3, 6, 5], w: [4, 3, 3, 3], bias: true, o: {} },
  { x: [1, 2, 7, 7], w: [3, 2, 3, 3], bias: true, o: { stride: 2, padding: 1 } },
  { x: [2, 4, 5, 6], w: [4, 2, 3, 2], bias: false, o: { groups: 2, padding: [1, 0] } },
  { x: [1, 3, 5, 5], w: [3, 1, 3, 3], bias: true, o: { groups: 3, padding: 1 } },
  { x: [2, 2, 7, 6], w: [2, 2, 3, 3], bias: true, o: { dilation: 2, padding: 2 } },
  { x: [1, 5, 4, 3], w: [7, 5, 1, 1], bias: false, o: {} },
  { x: [1, 1, 9, 4], w: [2, 1, 2, 3], bias: true, o: { stride: [3, 1], padding: [0, 1] } },
  { x: [3, 1, 1, 1], w: [2, 1, 1, 1], bias: true, o: {} },
];

test('conv2d: stride, padding, dilation, groups, depthwise, 1x1 against a naive loop; gradients of x, w, b', () => {
  for (const [i, c] of CONV.entries()) {
    const x = rnd(c.x, 10 + i);
    const w = rnd(c.w, 20 + i);
    const b = c.bias ? rnd([c.w[0]], 30 + i) : null;
    const y = st.conv2d(x, w, b, c.o);
    const r = conv2dRef(x, w, b, c.o);
    const msg = `conv case ${i}`;
    assert.deepEqual(y.shape, r.shape, msg);
    assertClose(arr(y), r.data, { rtol: 1e-5, atol: 1e-5, msg });
    const inputs = b ? [x, w, b] : [x, w];
    const f = (p: Tensor, q: Tensor, s?: Tensor) => st.conv2d(p, q, s ?? null, c.o);
    checkBackends(f, inputs, { msg });
    gradcheck(f, inputs, { msg, maxElems: 6 });
  }
});

test('conv2d: empty batch gives an empty output; bad geometry throws naming conv2d', () => {
  assert.deepEqual(st.conv2d(st.zeros([0, 3, 5, 5]), rnd([2, 3, 3, 3], 1)).shape, [0, 2, 3, 3]);
  throwsST(() => st.conv2d(rnd([1, 3, 2, 2], 1), rnd([2, 3, 3, 3], 1)), 'ERR_SHAPE', 'conv2d', 'does not fit');
  throwsST(() => st.conv2d(rnd([1, 4, 5, 5], 1), rnd([2, 3, 3, 3], 1)), 'ERR_SHAPE', 'conv2d', '[1,4,5,5]', '[2,3,3,3]');
  throwsST(() => st.conv2d(rnd([1, 4, 5, 5], 1), rnd([3, 2, 3, 3], 1), null, { groups: 2 }), 'ERR_SHAPE', 'conv2d', 'divisible by groups');
  throwsST(() => st.conv2d(rnd([1, 3, 5, 5], 1), rnd([2, 3, 3, 3], 1), null, { stride: 0 }), 'ERR_ARGUMENT', 'conv2d', 'stride');
  throwsST(() => st.conv2d(rnd([1, 3, 5, 5], 1), rnd([2, 3, 3, 3], 1), rnd([3], 1)), 'ERR_SHAPE', 'conv2d', 'bias must be [2]');
});

// ---- pooling -----------------------------------------------------------------------

function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

function maxPoolRef(x: Tensor, k: number[], s: number[], p: number[], d: number[], ceil: boolean): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const OH = poolOut(H, k[0], s[0], p[0], d[0], ceil);
  const OW = poolOut(W, k[1], s[1], p[1], d[1], ceil);
  const data: number[] = [];
  for (let nc = 0; nc < N * C; nc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let m = -Infinity;
    for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) {
      const ih = oh * s[0] - p[0] + i * d[0];
      const iw = ow * s[1] - p[1] + j * d[1];
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) m = Math.max(m, x.data[(nc * H + ih) * W + iw]);
    }
    data.push(m);
  }
  return { shape: [N, C, OH, OW], data };
}

/** Average pooling with torch's divisor rules (window clipped to input + padding, then to the input). */
function avgPoolRef(x: Tensor, k: number[], s: number[], p: number[], ceil: boolean, include: boolean): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const OH = poolOut(H, k[0], s[0], p[0], 1, ceil);
  const OW = poolOut(W, k[1], s[1], p[1], 1, ceil);
  const data: number[] = [];
  for (let nc = 0; nc < N * C; nc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let h0 = oh * s[0] - p[0];
    let w0 = ow * s[1] - p[1];
    let h1 = Math.min(h0 + k[0], H + p[0]);
    let w1 = Math.min(w0 + k[1], W + p[1]);
    const poolSize = (h1 - h0) * (w1 - w0);
    h0 = Math.max(h0, 0);
    w0 = Math.max(w0, 0);
    h1 = Math.min(h1, H);
    w1 = Math.min(w1, W);
    let sum = 0;
    for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) sum += x.data[(nc * H + i) * W + j];
    data.push(sum / (include ? poolSize : (h1 - h0) * (w1 - w0)));
  }
  return { shape: [N, C, OH, OW], data };
}

const POOL: { x: number[]; k: number | [number, number]; o: st.Pool2dOptions }[] = [
  { x: [2, 3, 6, 6], k: 2, o: {} },
  { x: [1, 2, 7, 5], k: 3, o: { stride: 2, padding: 1 } },
  { x: [1, 2, 5, 5], k: 2, o: { stride: 2, ceilMode: true } },
  { x: [2, 1, 6, 7], k: [3, 2], o: { stride: [2, 1], padding: [1, 0], ceilMode: true } },
  { x: [1, 1, 4, 4], k: 4, o: {} },
  { x: [1, 3, 5, 6], k: 3, o: { stride: 1, padding: 1 } },
];

test('maxPool2d: windows, stride, padding, dilation, ceil mode against a naive loop; gradient', () => {
  const cases = [...POOL, { x: [1, 2, 7, 7], k: 2 as number, o: { dilation: 2 } as st.Pool2dOptions }, { x: [1, 1, 8, 8], k: 3 as number, o: { dilation: 2, padding: 1, stride: 2, ceilMode: true } }];
  for (const [i, c] of cases.entries()) {
    const x = distinct(c.x, 40 + i);
    const k = pair(c.k, 1);
    const s = c.o.stride === undefined ? k : pair(c.o.stride, 1);
    const y = st.maxPool2d(x, c.k, c.o);
    const r = maxPoolRef(x, k, s, pair(c.o.padding, 0), pair(c.o.dilation, 1), !!c.o.ceilMode);
    const msg = `maxPool case ${i}`;
    assert.deepEqual(y.shape, r.shape, msg);
    assert.deepEqual(arr(y), r.data, msg);
    checkBackends((t) => st.maxPool2d(t, c.k, c.o), [x], { msg });
    gradcheck((t) => st.maxPool2d(t, c.k, c.o), [x], { msg, eps: 1e-4 });
  }
  // Overlapping windows send the gradient of every window to its maximum.
  const x = st.tensor([[[[1, 2, 3], [4, 9, 5], [6, 7, 8]]]], { requiresGrad: true });
  st.sum(st.maxPool2d(x, 2, { stride: 1 })).backward();
  assert.deepEqual(arr(x.grad!), [0, 0, 0, 0, 4, 0, 0, 0, 0]);
  throwsST(() => st.maxPool2d(rnd([1, 1, 2, 2], 1), 3), 'ERR_SHAPE', 'maxPool2d', 'does not fit');
  throwsST(() => st.maxPool2d(rnd([1, 1, 4, 4], 1), 2, { padding: 2 }), 'ERR_ARGUMENT', 'maxPool2d', 'padding');
  throwsST(() => st.maxPool2d(rnd([1, 4, 4], 1), 2), 'ERR_SHAPE', 'maxPool2d', '[1,4,4]');
  assert.deepEqual(st.maxPool2d(st.zeros([0, 2, 4, 4]), 2).shape, [0, 2, 2, 2]);
});

test('avgPool2d: countIncludePad both ways and ceil mode with torch divisors; gradient', () => {
  for (const [i, c] of POOL.entries()) {
    for (const include of [true, false]) {
      const x = rnd(c.x, 60 + i);
      const k = pair(c.k, 1);
      const s = c.o.stride === undefined ? k : pair(c.o.stride, 1);
      const o = { ...c.o, countIncludePad: include };
      const y = st.avgPool2d(x, c.k, o);
      const r = avgPoolRef(x, k, s, pair(c.o.padding, 0), !!c.o.ceilMode, include);
      const msg = `avgPool case ${i} include ${include}`;
      assert.deepEqual(y.shape, r.shape, msg);
      assertClose(arr(y), r.data, { rtol: 1e-5, atol: 1e-6, msg });
      checkBackends((t) => st.avgPool2d(t, c.k, o), [x], { msg });
      gradcheck((t) => st.avgPool2d(t, c.k, o), [x], { msg });
    }
  }
});

test('adaptiveAvgPool2d: torch windows for down- and up-sampling; gradient', () => {
  for (const [i, [H, W, OH, OW]] of [[7, 7, 3, 3], [7, 5, 1, 1], [5, 6, 2, 4], [4, 4, 4, 4], [3, 2, 5, 3]].entries()) {
    const x = rnd([2, 2, H, W], 70 + i);
    const y = st.adaptiveAvgPool2d(x, [OH, OW]);
    assert.deepEqual(y.shape, [2, 2, OH, OW]);
    const want: number[] = [];
    for (let p = 0; p < 4; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const h0 = Math.floor((oh * H) / OH), h1 = Math.ceil(((oh + 1) * H) / OH);
      const w0 = Math.floor((ow * W) / OW), w1 = Math.ceil(((ow + 1) * W) / OW);
      let s = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x.data[(p * H + h) * W + w];
      want.push(s / ((h1 - h0) * (w1 - w0)));
    }
    assertClose(arr(y), want, { rtol: 1e-5, atol: 1e-6 });
    checkBackends((t) => st.adaptiveAvgPool2d(t, [OH, OW]), [x]);
    gradcheck((t) => st.adaptiveAvgPool2d(t, [OH, OW]), [x]);
  }
  assert.deepEqual(st.adaptiveAvgPool2d(rnd([1, 2, 5, 5], 1), 1).shape, [1, 2, 1, 1]);
  throwsST(() => st.adaptiveAvgPool2d(rnd([1, 2, 5, 5], 1), 0), 'ERR_ARGUMENT', 'adaptiveAvgPool2d');
  throwsST(() => st.adaptiveAvgPool2d(rnd([2, 5, 5], 1), 1), 'ERR_SHAPE', 'adaptiveAvgPool2d', '[2,5,5]');
});

// ---- batch norm ----------------------------------------------------------------------

function bnRef(x: Tensor, gamma: Tensor | null, beta: Tensor | null, mean: number[], varr: number[], eps: number): number[] {
  const [N, C] = x.shape;
  const S = x.numel / (N * C);
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
    const v = x.data[(n * C + c) * S + s];
    out.push(((v - mean[c]) / Math.sqrt(varr[c] + eps)) * (gamma ? gamma.data[c] : 1) + (beta ? beta.data[c] : 0));
  }
  return out;
}

function channelStats(x: Tensor): { mean: number[]; biased: number[]; unbiased: number[] } {
  const [N, C] = x.shape;
  const S = x.numel / (N * C);
  const mean: number[] = [], biased: number[] = [], unbiased: number[] = [];
  for (let c = 0; c < C; c++) {
    const v: number[] = [];
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) v.push(x.data[(n * C + c) * S + s]);
    const m = v.reduce((p, a) => p + a, 0) / v.length;
    const ss = v.reduce((p, a) => p + (a - m) ** 2, 0);
    mean.push(m);
    biased.push(ss / v.length);
    unbiased.push(ss / (v.length - 1));
  }
  return { mean, biased, unbiased };
}

test('batchNorm training mode: batch statistics, running stats update (unbiased var), gradients of x, weight, bias', () => {
  for (const [i, shape] of [[4, 3], [2, 3, 5], [3, 2, 4, 3], [2, 1, 1, 2]].entries()) {
    const x = rnd(shape, 80 + i, -2, 3);
    const C = shape[1];
    const w = rnd([C], 90 + i, 0.5, 1.5);
    const b = rnd([C], 95 + i);
    const rm = rnd([C], 5);
    const rv = rnd([C], 6, 0.5, 2);
    const rm0 = arr(rm);
    const rv0 = arr(rv);
    const y = st.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: true, momentum: 0.2, eps: 1e-5 });
    const s = channelStats(x);
    const msg = `batchNorm train ${JSON.stringify(shape)}`;
    assertClose(arr(y), bnRef(x, w, b, s.mean, s.biased, 1e-5), { rtol: 1e-4, atol: 1e-5, msg });
    assertClose(arr(rm), rm0.map((r, c) => 0.8 * r + 0.2 * s.mean[c]), { rtol: 1e-5, atol: 1e-6, msg: `${msg} running mean` });
    assertClose(arr(rv), rv0.map((r, c) => 0.8 * r + 0.2 * s.unbiased[c]), { rtol: 1e-5, atol: 1e-6, msg: `${msg} running var` });
    const f = (p: Tensor, q: Tensor, r: Tensor) => st.batchNorm(p, { weight: q, bias: r, training: true });
    checkBackends(f, [x, w, b], { msg, rtol: 2e-4, atol: 2e-5 });
    gradcheck(f, [x, w, b], { msg });
    // Without affine parameters.
    const y2 = st.batchNorm(x, { training: true });
    assertClose(arr(y2), bnRef(x, null, null, s.mean, s.biased, 1e-5), { rtol: 1e-4, atol: 1e-5, msg });
    gradcheck((p) => st.batchNorm(p, { training: true }), [x], { msg });
  }
  throwsST(() => st.batchNorm(rnd([1, 3], 1), { training: true }), 'ERR_SHAPE', 'batchNorm', 'more than 1 value per channel', '[1,3]');
  throwsST(() => st.batchNorm(rnd([4, 3], 1), { weight: rnd([4], 1) }), 'ERR_SHAPE', 'batchNorm', 'weight must be [3]', '[4]');
  throwsST(() => st.batchNorm(rnd([4], 1)), 'ERR_SHAPE', 'batchNorm', '[4]');
});

test('batchNorm with relu: equals relu(batchNorm(x)) in value, gradients, double backward and running stats; eval mode too', () => {
  for (const [i, shape] of [[6, 3], [2, 3, 5], [3, 2, 6, 7], [2, 4, 8, 8]].entries()) {
    const x = rnd(shape, 180 + i, -2, 3);
    const C = shape[1];
    const w = rnd([C], 190 + i, 0.5, 1.5);
    const b = rnd([C], 195 + i);
    const msg = `batchNorm relu ${JSON.stringify(shape)}`;
    const fused = (p: Tensor, q: Tensor, r: Tensor) => st.batchNorm(p, { weight: q, bias: r, training: true, relu: true });
    const plain = (p: Tensor, q: Tensor, r: Tensor) => st.relu(st.batchNorm(p, { weight: q, bias: r, training: true }));
    const rmA = rnd([C], 5), rvA = rnd([C], 6, 0.5, 2), rmB = rnd([C], 5), rvB = rnd([C], 6, 0.5, 2);
    const yf = st.batchNorm(x, { weight: w, bias: b, runningMean: rmA, runningVar: rvA, training: true, relu: true });
    const yp = st.relu(st.batchNorm(x, { weight: w, bias: b, runningMean: rmB, runningVar: rvB, training: true }));
    assertClose(arr(yf), arr(yp), { rtol: 1e-6, atol: 1e-7, msg });
    assert.deepEqual(arr(rmA), arr(rmB), `${msg} running mean`);
    assert.deepEqual(arr(rvA), arr(rvB), `${msg} running var`);
    // Gradients against the unfused composite (same seeds, same output gradient) on both backends.
    const r = checkBackends(fused, [x, w, b], { msg, rtol: 2e-4, atol: 2e-5 });
    const q = checkBackends(plain, [x, w, b], { msg, rtol: 2e-4, atol: 2e-5 });
    r.grads.forEach((g, k) => assertClose(arr(g!), arr(q.grads[k]!), { rtol: 1e-4, atol: 1e-5, msg: `${msg} grad ${k} vs unfused` }));
    gradcheck(fused, [x, w, b], { msg });
    // Double backward: Hessian-vector products equal those of the composite.
    const v = [rnd(shape, 7), rnd([C], 8), rnd([C], 9)];
    const R = rnd(shape, 10);
    const params = [leaf(x), leaf(w), leaf(b)];
    const loss = (f: typeof fused) => () => st.sum(st.mul(f(params[0], params[1], params[2]), R));
    const hf = st.hvp(loss(fused), params, v);
    const hp = st.hvp(loss(plain), params, v);
    hf.forEach((h, k) => assertClose(arr(h!), arr(hp[k]!), { rtol: 1e-4, atol: 1e-5, msg: `${msg} hvp ${k}` }));
    // Eval mode: relu of the eval-mode normalisation.
    const rm = rnd([C], 11), rv = rnd([C], 12, 0.5, 2);
    const ye = st.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, relu: true });
    assertClose(arr(ye), arr(st.relu(st.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false }))), { rtol: 1e-6, atol: 1e-7, msg });
  }
});

test('batchNorm with a residual (and relu): equals relu(batchNorm(x) + r) in value, gradients of all four inputs, double backward; eval mode too', () => {
  for (const [i, shape] of [[6, 3], [3, 2, 6, 7], [2, 4, 8, 8]].entries()) {
    const x = rnd(shape, 280 + i, -2, 3);
    const r = rnd(shape, 285 + i, -1, 1);
    const C = shape[1];
    const w = rnd([C], 290 + i, 0.5, 1.5);
    const b = rnd([C], 295 + i);
    for (const relu of [true, false]) {
      const msg = `batchNorm residual relu=${relu} ${JSON.stringify(shape)}`;
      const fused = (p: Tensor, q: Tensor, s: Tensor, t: Tensor) => st.batchNorm(p, { weight: q, bias: s, training: true, relu, residual: t });
      const plain = (p: Tensor, q: Tensor, s: Tensor, t: Tensor) => {
        const sum = st.add(st.batchNorm(p, { weight: q, bias: s, training: true }), t);
        return relu ? st.relu(sum) : sum;
      };
      assertClose(arr(fused(x, w, b, r)), arr(plain(x, w, b, r)), { rtol: 1e-6, atol: 1e-6, msg });
      const fr = checkBackends(fused, [x, w, b, r], { msg, rtol: 2e-4, atol: 2e-5 });
      const pr = checkBackends(plain, [x, w, b, r], { msg, rtol: 2e-4, atol: 2e-5 });
      fr.grads.forEach((g, k) => assertClose(arr(g!), arr(pr.grads[k]!), { rtol: 1e-4, atol: 1e-5, msg: `${msg} grad ${k} vs unfused` }));
      // With the ReLU, finite differences along a random direction of hundreds of values step across its kink;
      // there the gradients are checked against the unfused composite above.
      if (!relu || i === 0) gradcheck(fused, [x, w, b, r], { msg });
      // Only the residual (or only x) needing a gradient takes the other branches of the backward.
      const lx = leaf(x);
      st.sum(st.mul(fused(lx, w, b, r), r)).backward();
      const lx2 = leaf(x);
      st.sum(st.mul(plain(lx2, w, b, r), r)).backward();
      assertClose(arr(lx.grad!), arr(lx2.grad!), { rtol: 1e-4, atol: 1e-5, msg: `${msg} x only` });
      const v = [rnd(shape, 17), rnd([C], 18), rnd([C], 19), rnd(shape, 20)];
      const R = rnd(shape, 21);
      const params = [leaf(x), leaf(w), leaf(b), leaf(r)];
      const loss = (f: typeof fused) => () => st.sum(st.mul(f(params[0], params[1], params[2], params[3]), R));
      const hf = st.hvp(loss(fused), params, v);
      const hp = st.hvp(loss(plain), params, v);
      hf.forEach((h, k) => assertClose(arr(h!), arr(hp[k]!), { rtol: 1e-4, atol: 1e-5, msg: `${msg} hvp ${k}` }));
      const rm = rnd([C], 11), rv = rnd([C], 12, 0.5, 2);
      const ye = st.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, relu, residual: r });
      const sumE = st.add(st.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false }), r);
      assertClose(arr(ye), arr(relu ? st.relu(sumE) : sumE), { rtol: 1e-6, atol: 1e-7, msg: `${msg} eval` });
      // Evaluation mode with gradients (saliency scores are taken in eval mode): the composite's.
      const xe = leaf(x), re = leaf(r);
      st.sum(st.mul(st.batchNorm(xe, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, relu, residual: re }), R)).backward();
      const xe2 = leaf(x), re2 = leaf(r);
      const sumE2 = st.add(st.batchNorm(xe2, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false }), re2);
      st.sum(st.mul(relu ? st.relu(sumE2) : sumE2, R)).backward();
      assertClose(arr(xe.grad!), arr(xe2.grad!), { rtol: 1e-6, atol: 1e-7, msg: `${msg} eval grad x` });
      assertClose(arr(re.grad!), arr(re2.grad!), { rtol: 1e-6, atol: 1e-7, msg: `${msg} eval grad residual` });
    }
  }
  throwsST(() => st.batchNorm(rnd([4, 3], 1), { residual: rnd([4, 2], 2) }), 'ERR_SHAPE', 'batchNorm', 'residual', '[4,3]', '[4,2]');
});

test('batchNorm eval mode: running statistics, gradients of x, weight, bias', () => {
  const x = rnd([3, 4, 2, 3], 7, -2, 2);
  const w = rnd([4], 8, 0.5, 1.5);
  const b = rnd([4], 9);
  const rm = rnd([4], 10);
  const rv = rnd([4], 11, 0.5, 2);
  const o = { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, eps: 1e-3 };
  const y = st.batchNorm(x, o);
  assertClose(arr(y), bnRef(x, w, b, arr(rm), arr(rv), 1e-3), { rtol: 1e-5, atol: 1e-6 });
  assert.deepEqual(arr(rm), arr(rnd([4], 10)), 'eval mode leaves running stats alone');
  const f = (p: Tensor, q: Tensor, r: Tensor) => st.batchNorm(p, { ...o, weight: q, bias: r });
  checkBackends(f, [x, w, b]);
  gradcheck(f, [x, w, b]);
  // One sample is fine in eval mode.
  assert.deepEqual(st.batchNorm(rnd([1, 4], 1), o).shape, [1, 4]);
  throwsST(() => st.batchNorm(x, { training: false }), 'ERR_ARGUMENT', 'batchNorm', 'runningMean');
});

// ---- softmax ------------------------------------------------------------------------

test('softmax / logSoftmax along every dim against a naive loop; stable for large inputs; gradients', () => {
  const x = rnd([3, 4, 5], 12, -3, 3);
  for (const dim of [0, 1, 2, -1, -3]) {
    const d = dim < 0 ? dim + 3 : dim;
    const sm = st.softmax(x, dim);
    const lsm = st.logSoftmax(x, dim);
    const want: number[] = new Array(x.numel);
    const wantLog: number[] = new Array(x.numel);
    const strides = [20, 5, 1];
    for (let k = 0; k < x.numel; k++) {
      const idx = [Math.floor(k / 20), Math.floor(k / 5) % 4, k % 5];
      const vals: number[] = [];
      for (let j = 0; j < x.shape[d]; j++) vals.push(x.data[k + (j - idx[d]) * strides[d]]);
      const m = Math.max(...vals);
      const lse = m + Math.log(vals.reduce((p, v) => p + Math.exp(v - m), 0));
      wantLog[k] = x.data[k] - lse;
      want[k] = Math.exp(wantLog[k]);
    }
    assertClose(arr(sm), want, { rtol: 1e-5, atol: 1e-7, msg: `softmax dim ${dim}` });
    assertClose(arr(lsm), wantLog, { rtol: 1e-5, atol: 1e-6, msg: `logSoftmax dim ${dim}` });
    checkBackends((t) => st.softmax(t, dim), [x]);
    checkBackends((t) => st.logSoftmax(t, dim), [x]);
    gradcheck((t) => st.softmax(t, dim), [x], { msg: `softmax dim ${dim}` });
    gradcheck((t) => st.logSoftmax(t, dim), [x], { msg: `logSoftmax dim ${dim}` });
  }
  const big = st.tensor([[1000, 1001, 999], [-1000, -1000, -1000]]);
  assertClose(arr(st.softmax(big, 1)), [0.24472847, 0.66524096, 0.09003057, 1 / 3, 1 / 3, 1 / 3], { rtol: 1e-5 });
  assert.ok(arr(st.logSoftmax(big, 1)).every(Number.isFinite));
  assert.deepEqual(st.softmax(st.zeros([0, 3]), 1).shape, [0, 3]);
  assert.deepEqual(st.softmax(st.zeros([2, 0]), 1).shape, [2, 0]);
  throwsST(() => st.softmax(x, 3), 'ERR_ARGUMENT', 'softmax', 'dimension 3');
});

// ---- losses -----------------------------------------------------------------------

function ceRef(logits: Tensor, labels: number[], ignore: number): number[] {
  const [N, C] = logits.shape;
  const out: number[] = [];
  for (let r = 0; r < N; r++) {
    if (labels[r] === ignore) {
      out.push(0);
      continue;
    }
    const row = arr(logits).slice(r * C, r * C + C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((p, v) => p + Math.exp(v - m), 0));
    out.push(lse - row[labels[r]]);
  }
  return out;
}

test('crossEntropy: mean / sum / none, ignoreIndex, gradients, native vs reference', () => {
  const logits = rnd([6, 5], 13, -3, 3);
  const lab = [0, 4, 2, 2, 1, 3];
  const labels = st.tensor(lab, { dtype: 'int32' });
  const per = ceRef(logits, lab, -100);
  assertClose(arr(st.crossEntropy(logits, labels, { reduction: 'none' })), per, { rtol: 1e-5 });
  assertClose([st.crossEntropy(logits, labels).item()], [per.reduce((p, v) => p + v, 0) / 6], { rtol: 1e-5 });
  assertClose([st.crossEntropy(logits, labels, { reduction: 'sum' }).item()], [per.reduce((p, v) => p + v, 0)], { rtol: 1e-5 });
  const labIgn = [0, -100, 2, 7, 1, 7];
  const ign = st.tensor(labIgn, { dtype: 'int32' });
  // -100 is an ordinary (invalid) label when ignoreIndex is 7.
  throwsST(() => st.crossEntropy(logits, ign, { ignoreIndex: 7 }), 'ERR_ARGUMENT', 'crossEntropy', 'label -100 at row 1', '5 classes');
  const lab2 = [0, 7, 2, 7, 1, 3];
  const t2 = st.tensor(lab2, { dtype: 'int32' });
  const per2 = ceRef(logits, lab2, 7);
  assertClose(arr(st.crossEntropy(logits, t2, { ignoreIndex: 7, reduction: 'none' })), per2, { rtol: 1e-5 });
  assertClose([st.crossEntropy(logits, t2, { ignoreIndex: 7 }).item()], [per2.reduce((p, v) => p + v, 0) / 4], { rtol: 1e-5 });
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const f = (p: Tensor) => st.crossEntropy(p, t2, { ignoreIndex: 7, reduction });
    checkBackends(f, [logits], { msg: reduction });
    gradcheck(f, [logits], { msg: `crossEntropy ${reduction}` });
  }
  // The gradient of ignored rows is zero.
  const l = leaf(logits);
  st.crossEntropy(l, t2, { ignoreIndex: 7 }).backward();
  assert.deepEqual(arr(l.grad!).slice(5, 10), [0, 0, 0, 0, 0]);
  // All rows ignored: the mean is NaN (0/0) as torch; empty batch likewise.
  assert.ok(Number.isNaN(st.crossEntropy(logits, st.full([6], -100, { dtype: 'int32' })).item()));
  assert.ok(Number.isNaN(st.crossEntropy(st.zeros([0, 5]), st.zeros([0], { dtype: 'int32' })).item()));
  assert.equal(st.crossEntropy(st.zeros([0, 5]), st.zeros([0], { dtype: 'int32' }), { reduction: 'sum' }).item(), 0);
});

test('nllLoss matches crossEntropy of logSoftmax; gradients', () => {
  const logits = rnd([5, 4], 14, -2, 2);
  const labels = st.tensor([3, 0, 1, 1, -100], { dtype: 'int32' });
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const a = st.nllLoss(st.logSoftmax(logits, 1), labels, { reduction });
    const b = st.crossEntropy(logits, labels, { reduction });
    assertClose(arr(a), arr(b), { rtol: 1e-5, atol: 1e-6, msg: reduction });
    gradcheck((p) => st.nllLoss(p, labels, { reduction }), [logits], { msg: `nll ${reduction}` });
    checkBackends((p) => st.nllLoss(st.logSoftmax(p, 1), labels, { reduction }), [logits]);
  }
  assertClose([st.nllLoss(st.tensor([[-1, -2], [-3, -4]]), st.tensor([1, 0], { dtype: 'int32' })).item()], [2.5]);
});

test('mseLoss: reductions, gradients of input and target', () => {
  const a = rnd([3, 4], 15);
  const b = rnd([3, 4], 16);
  const d = arr(a).map((v, i) => (v - b.data[i]) ** 2);
  assertClose(arr(st.mseLoss(a, b, 'none')), d, { rtol: 1e-5, atol: 1e-7 });
  assertClose([st.mseLoss(a, b).item()], [d.reduce((p, v) => p + v, 0) / 12], { rtol: 1e-5 });
  assertClose([st.mseLoss(a, b, 'sum').item()], [d.reduce((p, v) => p + v, 0)], { rtol: 1e-5 });
  for (const r of ['mean', 'sum', 'none'] as const) gradcheck((p, q) => st.mseLoss(p, q, r), [a, b]);
  checkBackends((p, q) => st.mseLoss(p, q), [a, b]);
  throwsST(() => st.mseLoss(a, rnd([5], 1)), 'ERR_SHAPE', 'mseLoss', '[3,4]', '[5]');
});

// ---- dropout --------------------------------------------------------------------------

test('dropout: drop rate, scaling, mean preserved, seeded determinism, gradient is the mask', () => {
  const n = 20000;
  const x = st.ones([n]);
  for (const p of [0.1, 0.3, 0.5, 0.8]) {
    const y = st.dropout(x, p, true, new st.Generator(1));
    const zeros = arr(y).filter((v) => v === 0).length / n;
    assert.ok(Math.abs(zeros - p) < 0.02, `p ${p}: dropped fraction ${zeros}`);
    const kept = arr(y).filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / (1 - p)) < 1e-6), `p ${p}: kept values scaled by 1/(1-p)`);
    const mean = arr(y).reduce((s, v) => s + v, 0) / n;
    assert.ok(Math.abs(mean - 1) < 0.05 * (1 + p / (1 - p)), `p ${p}: mean ${mean}`);
  }
  const a = st.dropout(x, 0.5, true, new st.Generator(42));
  const b = st.dropout(x, 0.5, true, new st.Generator(42));
  const c = st.dropout(x, 0.5, true, new st.Generator(43));
  assert.deepEqual(arr(a), arr(b));
  assert.notDeepEqual(arr(a), arr(c));
  const g = new st.Generator(42);
  const d1 = arr(st.dropout(x, 0.5, true, g));
  const d2 = arr(st.dropout(x, 0.5, true, g));
  assert.notDeepEqual(d1, d2, 'the generator advances');
  // Same seed on both backends, same mask.
  checkBackends((t) => st.dropout(t, 0.3, true, new st.Generator(3)), [rnd([257], 1)]);
  const xl = leaf(rnd([100], 2));
  const y = st.dropout(xl, 0.4, true, new st.Generator(9));
  st.sum(y).backward();
  const mask = arr(st.dropout(st.ones([100]), 0.4, true, new st.Generator(9)));
  assertClose(arr(xl.grad!), mask, { rtol: 1e-6 });
  // Identity when not training or p = 0; all zeros for p = 1.
  assert.equal(st.dropout(x, 0.5, false), x);
  assert.equal(st.dropout(x, 0), x);
  assert.ok(arr(st.dropout(rnd([10], 1), 1, true)).every((v) => v === 0));
  throwsST(() => st.dropout(x, 1.5), 'ERR_ARGUMENT', 'dropout', '1.5');
  throwsST(() => st.dropout(x, -0.1), 'ERR_ARGUMENT', 'dropout');
  assert.deepEqual(st.dropout(st.zeros([0]), 0.5).shape, [0]);
});

test('a small network forward and backward agrees with the reference on every native ISA', (t) => {
  const addon = loadAddon();
  if (!addon) {
    t.skip('native addon not built');
    return;
  }
  const x = rnd([3, 2, 7, 7], 140);
  const lab = st.tensor([0, 4, 2], { dtype: 'int32' });
  const net = (cw: Tensor, g: Tensor, b: Tensor, fw: Tensor, fb: Tensor) => {
    const h = st.maxPool2d(st.relu(st.batchNorm(st.conv2d(x, cw, null, { padding: 1 }), { weight: g, bias: b, training: true })), 2, { ceilMode: true });
    const z = st.tanh(st.linear(st.flatten(st.avgPool2d(h, 2, { stride: 1 }), 1), fw, fb));
    return st.add(st.crossEntropy(z, lab), st.mean(st.square(st.logSoftmax(z, 0))));
  };
  const inputs = [rnd([4, 2, 3, 3], 141, -0.5, 0.5), rnd([4], 142, 0.5, 1.5), rnd([4], 143), rnd([5, 36], 144, -0.3, 0.3), rnd([5], 145)];
  const prev = addon.getIsa();
  try {
    for (const isa of ['scalar', 'avx2', 'avx512']) {
      try {
        addon.setIsa(isa);
      } catch {
        continue; // not supported by this CPU
      }
      checkBackends(net, inputs, { msg: `isa ${isa}`, rtol: 2e-4, atol: 2e-5 });
    }
  } finally {
    addon.setIsa(prev);
  }
});
