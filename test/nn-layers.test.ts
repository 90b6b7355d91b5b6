/**
 * Layers: forward and backward against central finite differences (float32
 * forward, float64 accumulation of the probe loss), default initialisation,
 * init functions, BatchNorm's running statistics.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, tensor, noGrad, Module, Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, Tanh, Sigmoid, LeakyReLU,
  MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Identity, Dropout, Sequential, Generator, init, SparsetrainError,
} from '../src';
import * as st from '../src';
import { assertClose, seededArray } from './util';

const rnd = (shape: number[], seed: number, lo = -1, hi = 1): Tensor =>
  tensor(seededArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), { shape });

/** Distinct, well separated values in random order (no ties for max-pooling, away from relu's kink). */
function spaced(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = seededArray(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[a] - r[b]);
  const out = new Float32Array(n);
  order.forEach((j, rank) => (out[j] = (rank - n / 2 + 0.75) * (2 / n)));
  return tensor(out, { shape });
}

/**
 * Checks d(sum(w * f()))/dt for every tensor t in `wrt` (inputs and parameters)
 * against central differences. f must be deterministic given the tensors.
 */
function gradcheck(name: string, f: () => Tensor, wrt: [string, Tensor][], opts: { eps?: number; rtol?: number } = {}): void {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  for (const [, t] of wrt) t.grad = null;
  const y = f();
  const w = rnd([...y.shape], 99);
  y.mul(w).sum().backward();
  const probe = (): number => {
    const out = noGrad(f).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * w.data[i];
    return s;
  };
  for (const [label, t] of wrt) {
    assert.ok(t.grad, `${name}: ${label} got no gradient`);
    const analytic = t.grad!.toArray();
    const numeric = new Array<number>(t.numel);
    const d = t.data as Float32Array;
    for (let i = 0; i < t.numel; i++) {
      const old = d[i];
      d[i] = old + eps;
      const up = probe();
      d[i] = old - eps;
      const down = probe();
      d[i] = old;
      numeric[i] = (up - down) / (2 * eps);
    }
    const scale = Math.max(1e-3, ...numeric.map(Math.abs));
    assertClose(analytic, numeric, { rtol, atol: rtol * scale * 0.1, msg: `${name}: d/d${label}` });
  }
}

const withGrad = (t: Tensor): Tensor => t.requiresGrad_(true);
const paramsOf = (m: Module): [string, Tensor][] => m.namedParameters();

test('Linear forward = x W^T + b; gradients match finite differences', () => {
  const lin = new Linear(5, 3, { generator: new Generator(1) });
  const x = withGrad(rnd([4, 5], 2));
  const y = lin.call(x);
  const W = lin.weight.toArray();
  const b = lin.bias!.toArray();
  const expect: number[] = [];
  for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) {
    let s = b[o];
    for (let k = 0; k < 5; k++) s += x.data[i * 5 + k] * W[o * 5 + k];
    expect.push(s);
  }
  assertClose(y.toArray(), expect, { rtol: 1e-5 });
  gradcheck('Linear', () => lin.call(x), [['x', x], ...paramsOf(lin)]);
  const nb = new Linear(3, 2, { bias: false });
  const x2 = withGrad(rnd([2, 3], 3));
  gradcheck('Linear(bias=false)', () => nb.call(x2), [['x', x2], ...paramsOf(nb)]);
  // Leading batch dimensions are kept.
  assert.deepEqual(lin.call(rnd([2, 3, 5], 4)).shape, [2, 3, 3]);
});

test('Conv2d: shapes and gradients for stride, padding, dilation, groups, no bias, "same"', () => {
  const cases: [string, number, number, number | [number, number], ConstructorParameters<typeof Conv2d>[3], number[], number[]][] = [
    ['3x3', 2, 3, 3, {}, [2, 2, 5, 5], [2, 3, 3, 3]],
    ['stride2 pad1', 2, 2, 3, { stride: 2, padding: 1 }, [1, 2, 5, 6], [1, 2, 3, 3]],
    ['3x2 pad [1,0] stride [2,1]', 1, 2, [3, 2], { stride: [2, 1], padding: [1, 0] }, [2, 1, 5, 4], [2, 2, 3, 3]],
    ['dilation 2', 2, 2, 3, { dilation: 2, padding: 1 }, [1, 2, 6, 6], [1, 2, 4, 4]],
    ['groups 2 no bias', 4, 2, 3, { groups: 2, padding: 1, bias: false }, [1, 4, 4, 4], [1, 2, 4, 4]],
    ['depthwise', 3, 3, 3, { groups: 3 }, [2, 3, 4, 4], [2, 3, 2, 2]],
    ['same (odd)', 2, 2, 3, { padding: 'same' }, [1, 2, 4, 5], [1, 2, 4, 5]],
    ['same (even kernel)', 1, 2, [2, 4], { padding: 'same' }, [1, 1, 4, 5], [1, 2, 4, 5]],
    ['valid', 1, 1, 2, { padding: 'valid' }, [1, 1, 3, 3], [1, 1, 2, 2]],
  ];
  cases.forEach(([name, cin, cout, k, opts, xs, ys], i) => {
    const conv = new Conv2d(cin, cout, k, { ...opts, generator: new Generator(10 + i) });
    const x = withGrad(rnd(xs, 20 + i));
    assert.deepEqual(conv.call(x).shape, ys, name);
    gradcheck(`Conv2d ${name}`, () => conv.call(x), [['x', x], ...paramsOf(conv)]);
  });
});

test('Conv2d forward equals a direct sum on a small case; argument errors', () => {
  const conv = new Conv2d(1, 1, 2, { bias: false });
  conv.weight.f32.set([1, 2, 3, 4]);
  const y = conv.call(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] }));
  assert.deepEqual(y.toArray(), [1 + 4 + 12 + 20, 2 + 6 + 15 + 24, 4 + 10 + 21 + 32, 5 + 12 + 24 + 36]);
  assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), SparsetrainError);
  assert.throws(() => new Conv2d(2, 4, 3, { stride: 2, padding: 'same' }), /same/);
  assert.throws(() => new Conv2d(2, 4, 0), /kernelSize/);
  assert.throws(() => conv.call(rnd([1, 2, 3, 3], 1)), /channels/);
});

test('activations: values and gradients', () => {
  const x = withGrad(spaced([3, 7], 5));
  const xs = x.toArray();
  const acts: [string, Module, (v: number) => number][] = [
    ['ReLU', new ReLU(), (v) => Math.max(0, v)],
    ['Tanh', new Tanh(), Math.tanh],
    ['Sigmoid', new Sigmoid(), (v) => 1 / (1 + Math.exp(-v))],
    ['LeakyReLU', new LeakyReLU(0.2), (v) => (v > 0 ? v : 0.2 * v)],
    ['Identity', new Identity(), (v) => v],
  ];
  for (const [name, m, f] of acts) {
    assertClose(m.call(x).toArray(), xs.map(f), { rtol: 1e-5, atol: 1e-6, msg: name });
    gradcheck(name, () => m.call(x), [['x', x]], { eps: 1e-3 });
  }
  assert.equal(new LeakyReLU().negativeSlope, 0.01);
});

test('pooling layers: shapes, values and gradients', () => {
  const x = withGrad(spaced([2, 2, 5, 5], 6));
  const cases: [string, Module, number[]][] = [
    ['MaxPool2d(2)', new MaxPool2d(2), [2, 2, 2, 2]],
    ['MaxPool2d(2, ceil)', new MaxPool2d(2, { ceilMode: true }), [2, 2, 3, 3]],
    ['MaxPool2d(3, s2, p1)', new MaxPool2d(3, { stride: 2, padding: 1 }), [2, 2, 3, 3]],
    ['AvgPool2d(2)', new AvgPool2d(2), [2, 2, 2, 2]],
    ['AvgPool2d(3, s2, p1)', new AvgPool2d(3, { stride: 2, padding: 1 }), [2, 2, 3, 3]],
    ['AvgPool2d(3, s2, p1, exclude pad)', new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), [2, 2, 3, 3]],
    ['AdaptiveAvgPool2d(1)', new AdaptiveAvgPool2d(1), [2, 2, 1, 1]],
    ['AdaptiveAvgPool2d([2,3])', new AdaptiveAvgPool2d([2, 3]), [2, 2, 2, 3]],
  ];
  for (const [name, m, shape] of cases) {
    assert.deepEqual(m.call(x).shape, shape, name);
    gradcheck(name, () => m.call(x), [['x', x]], { eps: 1e-3 });
  }
  const p = tensor([1, 5, 2, 0, 3, 4, 8, 7, 6, 9, 1, 2, 0, 0, 3, 1], { shape: [1, 1, 4, 4] });
  assert.deepEqual(new MaxPool2d(2).call(p).toArray(), [5, 8, 9, 3]);
  assert.deepEqual(new AvgPool2d(2).call(p).toArray(), [(1 + 5 + 3 + 4) / 4, (2 + 0 + 8 + 7) / 4, (6 + 9 + 0 + 0) / 4, (1 + 2 + 3 + 1) / 4]);
  assertClose(new AdaptiveAvgPool2d(1).call(p).toArray(), [52 / 16]);
  assert.throws(() => new AdaptiveAvgPool2d(0), /output size/);
});

test('Flatten and Sequential compose; gradients flow through a small CNN', () => {
  const g = new Generator(7);
  const net = new Sequential(
    new Conv2d(1, 2, 3, { generator: g }), new Tanh(), new AvgPool2d(2), new Flatten(), new Linear(8, 3, { generator: g }), new Sigmoid(),
  );
  const x = withGrad(rnd([2, 1, 6, 6], 8));
  assert.deepEqual(new Flatten().call(rnd([2, 3, 4, 5], 1)).shape, [2, 60]);
  assert.deepEqual(new Flatten(0, 2).call(rnd([2, 3, 4, 5], 1)).shape, [24, 5]);
  gradcheck('Sequential CNN', () => net.call(x), [['x', x], ...paramsOf(net)]);
});

test('Dropout: gradient is the same mask as the forward', () => {
  const d = new Dropout(0.3, { generator: new Generator(4) });
  const x = withGrad(rnd([5, 9], 9));
  const y = d.call(x);
  y.sum().backward();
  const yd = y.toArray();
  const xd = x.toArray();
  x.grad!.toArray().forEach((g, i) => {
    if (yd[i] === 0) assert.equal(g, 0);
    else {
      assertClose([g], [1 / 0.7], { rtol: 1e-6 });
      assertClose([yd[i]], [xd[i] / 0.7], { rtol: 1e-6 });
    }
  });
});

test('BatchNorm: defaults, keys and stateDictDtypes', () => {
  const bn = new BatchNorm2d(3);
  assert.deepEqual(bn.weight!.toArray(), [1, 1, 1]);
  assert.deepEqual(bn.bias!.toArray(), [0, 0, 0]);
  assert.deepEqual(bn.running_mean!.toArray(), [0, 0, 0]);
  assert.deepEqual(bn.running_var!.toArray(), [1, 1, 1]);
  assert.equal(bn.num_batches_tracked!.item(), 0);
  assert.deepEqual([...bn.stateDict().keys()], ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  assert.deepEqual(bn.namedParameters().map(([k]) => k), ['weight', 'bias']);
  assert.equal(bn.stateDictDtypes().get('num_batches_tracked'), 'int64');
  assert.equal(bn.eps, 1e-5);
  assert.equal(bn.momentum, 0.1);
  const plain = new BatchNorm1d(4, { affine: false, trackRunningStats: false });
  assert.deepEqual([...plain.stateDict().keys()], []);
  assert.equal(plain.numParameters(), 0);
});

test('BatchNorm2d training: batch statistics, running update with momentum, num_batches_tracked', () => {
  const bn = new BatchNorm2d(2, { momentum: 0.25 });
  bn.weight!.f32.set([2, 0.5]);
  bn.bias!.f32.set([1, -1]);
  const x = rnd([3, 2, 2, 2], 11, -2, 3);
  const y = bn.call(x);
  const xs = x.toArray();
  for (let c = 0; c < 2; c++) {
    const vals: number[] = [];
    for (let n = 0; n < 3; n++) for (let s = 0; s < 4; s++) vals.push(xs[n * 8 + c * 4 + s]);
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length;
    const ys: number[] = [];
    for (let n = 0; n < 3; n++) for (let s = 0; s < 4; s++) ys.push(y.data[n * 8 + c * 4 + s]);
    const w = [2, 0.5][c];
    const b = [1, -1][c];
    assertClose(ys, vals.map((u) => ((u - m) / Math.sqrt(v + 1e-5)) * w + b), { rtol: 1e-4, atol: 1e-5 });
    assertClose([bn.running_mean!.data[c]], [0.25 * m], { rtol: 1e-5 });
    assertClose([bn.running_var!.data[c]], [0.75 + 0.25 * v * (12 / 11)], { rtol: 1e-5 });
  }
  assert.equal(bn.num_batches_tracked!.item(), 1);
  bn.call(x);
  assert.equal(bn.num_batches_tracked!.item(), 2);
  bn.eval();
  bn.call(x);
  assert.equal(bn.num_batches_tracked!.item(), 2, 'eval does not count batches');
});

test('BatchNorm: momentum null is the cumulative average; eval uses running statistics', () => {
  const bn = new BatchNorm1d(2, { momentum: null });
  const a = tensor([[0, 10], [2, 14]]);
  const b = tensor([[4, 0], [6, 2]]);
  bn.call(a);
  bn.call(b);
  assertClose(bn.running_mean!.toArray(), [(1 + 5) / 2, (12 + 1) / 2], { rtol: 1e-6 });
  assertClose(bn.running_var!.toArray(), [(2 + 2) / 2, (8 + 2) / 2], { rtol: 1e-6 });
  bn.eval();
  const y = bn.call(tensor([[3, 6.5]]));
  assertClose(y.toArray(), [0, 0], { atol: 1e-6 });
  const y2 = bn.call(tensor([[5, 6.5 + Math.sqrt(5 + 1e-5)]]));
  assertClose(y2.toArray(), [2 / Math.sqrt(2 + 1e-5), 1], { rtol: 1e-5 });
  // Without running statistics, eval mode normalises with the batch's own statistics.
  const free = new BatchNorm1d(2, { trackRunningStats: false }).eval();
  assertClose(free.call(a).toArray(), [-1, -1, 1, 1], { rtol: 1e-4 });
  assert.throws(() => bn.call(tensor([[1, 2, 3]])), /channels/);
  assert.throws(() => new BatchNorm2d(2).call(tensor([[1, 2]])), /4-d/);
});

test('BatchNorm gradients (train and eval, 1d with [N,C] and [N,C,L], 2d)', () => {
  const cases: [string, Module, number[]][] = [
    ['BatchNorm1d [N,C]', new BatchNorm1d(3), [5, 3]],
    ['BatchNorm1d [N,C,L]', new BatchNorm1d(2), [3, 2, 4]],
    ['BatchNorm2d', new BatchNorm2d(2), [2, 2, 3, 3]],
    ['BatchNorm2d no affine', new BatchNorm2d(2, { affine: false }), [2, 2, 2, 3]],
  ];
  cases.forEach(([name, m, shape], i) => {
    for (const p of m.parameters()) p.f32.set(seededArray(p.numel, 30 + i, 0.5, 1.5));
    const x = withGrad(rnd(shape, 40 + i, -2, 2));
    gradcheck(`${name} train`, () => m.call(x), [['x', x], ...paramsOf(m)], { eps: 1e-2, rtol: 2e-2 });
    m.eval();
    for (const b of m.buffers()) if (b.dtype === 'float32') b.f32.set(seededArray(b.numel, 50 + i, 0.5, 1.5));
    gradcheck(`${name} eval`, () => m.call(x), [['x', x], ...paramsOf(m)]);
  });
});

test('default initialisation: Linear and Conv2d weight and bias within 1/sqrt(fan_in), reproducible', () => {
  const lin = new Linear(50, 40, { generator: new Generator(1) });
  const bound = 1 / Math.sqrt(50);
  const w = lin.weight.toArray();
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w.map(Math.abs)) > 0.95 * bound, 'uses the whole range');
  const variance = w.reduce((a, v) => a + v * v, 0) / w.length;
  assertClose([variance], [(bound * bound) / 3], { rtol: 0.1 });
  assert.ok(lin.bias!.toArray().every((v) => Math.abs(v) <= bound));
  const again = new Linear(50, 40, { generator: new Generator(1) });
  assert.deepEqual(again.weight.toArray(), w);
  assert.deepEqual(again.bias!.toArray(), lin.bias!.toArray());
  assert.notDeepEqual(new Linear(50, 40, { generator: new Generator(2) }).weight.toArray(), w);
  const conv = new Conv2d(6, 8, 3, { groups: 2, generator: new Generator(3) });
  const cb = 1 / Math.sqrt(3 * 9);
  assert.ok(conv.weight.toArray().every((v) => Math.abs(v) <= cb));
  assert.ok(Math.max(...conv.weight.toArray().map(Math.abs)) > 0.9 * cb);
  assert.ok(conv.bias!.toArray().every((v) => Math.abs(v) <= cb));
});

test('init: gains, fans, distributions', () => {
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('conv2d'), 1);
  assert.equal(init.calculateGain('sigmoid'), 1);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assertClose([init.calculateGain('leaky_relu')], [Math.sqrt(2 / (1 + 1e-4))], { rtol: 1e-12 });
  assertClose([init.calculateGain('leaky_relu', Math.sqrt(5))], [Math.sqrt(1 / 3)], { rtol: 1e-12 });
  assert.equal(init.calculateGain('selu'), 0.75);
  assert.throws(() => init.calculateGain('gelu' as init.Nonlinearity), /gelu/);
  assert.deepEqual(init.fans([8, 3, 5, 5]), [75, 200]);
  assert.equal(init.fanIn(Tensor.empty([4, 7])), 7);
  assert.equal(init.fanOut([4, 7]), 4);
  assert.throws(() => init.fanIn([5]), /fewer than 2 dimensions/);

  const g = new Generator(5);
  const stats = (t: Tensor): [number, number, number] => {
    const d = t.toArray();
    const m = d.reduce((a, b) => a + b, 0) / d.length;
    return [m, Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / d.length), Math.max(...d.map(Math.abs))];
  };
  const t = Tensor.empty([200, 100]);
  // kaiming uniform, fan_in, relu: bound sqrt(2) * sqrt(3 / 100)
  init.kaimingUniform(t, { nonlinearity: 'relu', generator: g });
  let [m, s, mx] = stats(t);
  const kb = Math.SQRT2 * Math.sqrt(3 / 100);
  assert.ok(mx <= kb && mx > 0.99 * kb);
  assertClose([s], [kb / Math.sqrt(3)], { rtol: 0.03 });
  assert.ok(Math.abs(m) < 0.01);
  init.kaimingNormal(t, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
  [m, s] = stats(t);
  assertClose([s], [Math.SQRT2 / Math.sqrt(200)], { rtol: 0.03 });
  init.xavierUniform(t, 2, g);
  [m, s, mx] = stats(t);
  const xb = 2 * Math.sqrt(6 / 300);
  assert.ok(mx <= xb && mx > 0.99 * xb);
  init.xavierNormal(t, 1, g);
  [m, s] = stats(t);
  assertClose([s], [Math.sqrt(2 / 300)], { rtol: 0.03 });
  init.normal(t, 3, 0.5, g);
  [m, s] = stats(t);
  assertClose([m, s], [3, 0.5], { rtol: 0.03 });
  init.uniform(t, -2, 6, g);
  [m, s] = stats(t);
  assertClose([m, s], [2, 8 / Math.sqrt(12)], { rtol: 0.03 });
  assert.ok(t.toArray().every((v) => v >= -2 && v <= 6));
  init.constant(t, 0.25);
  assert.ok(t.toArray().every((v) => v === 0.25));
  init.zeros(t);
  assert.ok(t.toArray().every((v) => v === 0));
  init.ones(t);
  assert.ok(t.toArray().every((v) => v === 1));
  assert.throws(() => init.kaimingUniform(t, { mode: 'fan_avg' as init.FanMode }), /mode/);
  assert.throws(() => init.uniform(Tensor.empty([2], 'int32')), /float32/);
  // Same generator state, same values.
  const a = init.kaimingUniform(Tensor.empty([3, 4]), { generator: new Generator(9) });
  const b = init.kaimingUniform(Tensor.empty([3, 4]), { generator: new Generator(9) });
  assert.deepEqual(a.toArray(), b.toArray());
});

test('BatchNorm2d.callAddRelu is relu(call(x) + r), fused, with the same gradients; with a hook it runs unfused', () => {
  const x = st.randn([4, 3, 5, 5], { generator: new st.Generator(4) });
  const r = st.randn([4, 3, 5, 5], { generator: new st.Generator(5) });
  const make = () => {
    const bn = new BatchNorm2d(3);
    bn.weight!.f32.set([0.5, 1, 2]);
    bn.bias!.f32.set([0.1, -0.2, 0]);
    return bn;
  };
  const a = make();
  const b = make();
  const ra = r.detach().requiresGrad_(), rb = r.detach().requiresGrad_();
  const ya = a.callAddRelu(x, ra);
  const yb = st.relu(st.add(b.call(x), rb));
  assert.equal(ya.gradFn?.name, 'batchNormAddRelu');
  assertClose(Array.from(ya.f32), Array.from(yb.f32), { rtol: 1e-6, atol: 1e-6 });
  st.sum(st.mul(ya, x)).backward();
  st.sum(st.mul(yb, x)).backward();
  assertClose(Array.from(a.weight!.grad!.f32), Array.from(b.weight!.grad!.f32), { rtol: 1e-5, atol: 1e-6 });
  assertClose(Array.from(ra.grad!.f32), Array.from(rb.grad!.f32), { rtol: 1e-6, atol: 1e-7 });
  assert.deepEqual(Array.from(a.running_var!.f32), Array.from(b.running_var!.f32));
  let seen: Tensor | null = null;
  const c = make();
  c.registerForwardHook((_m, _i, out) => { seen = out as Tensor; });
  const yc = c.callAddRelu(x, r);
  assert.ok(seen !== null && Array.from((seen as Tensor).f32).some((v) => v < 0), 'the hook sees the pre-sum output');
  assert.notEqual(yc.gradFn?.name, 'batchNormAddRelu');
  assertClose(Array.from(yc.f32), Array.from(ya.f32), { rtol: 1e-6, atol: 1e-6 });
});

test('Sequential(BatchNorm2d, ReLU) runs fused and equals the separate modules; hooks still see the unfused output', () => {
  const x = st.randn([4, 3, 5, 5], { generator: new st.Generator(3) });
  const make = () => {
    const s = new Sequential(new BatchNorm2d(3), new ReLU());
    (s[0] as BatchNorm2d).weight!.f32.set([0.5, 1, 2]);
    (s[0] as BatchNorm2d).bias!.f32.set([0.1, -0.2, 0]);
    return s;
  };
  const a = make();
  const b = make();
  const ya = a.call(x);
  const bn = b[0] as BatchNorm2d;
  const yb = st.relu(bn.call(x)); // unfused, by hand
  assert.equal(ya.gradFn?.name, 'batchNormRelu');
  assert.deepEqual(Array.from(ya.f32), Array.from(yb.f32));
  st.sum(st.mul(ya, x)).backward();
  st.sum(st.mul(yb, x)).backward();
  assert.deepEqual(Array.from(a.parameters()[0].grad!.f32), Array.from(bn.weight!.grad!.f32));
  assert.deepEqual(Array.from(a.parameters()[1].grad!.f32), Array.from(bn.bias!.grad!.f32));
  assert.deepEqual(Array.from((a[0] as BatchNorm2d).running_mean!.f32), Array.from(bn.running_mean!.f32));
  // A hook on the BatchNorm sees its own (pre-ReLU) output, which has negative values.
  let seen: Tensor | null = null;
  const c = make();
  (c[0] as BatchNorm2d).registerForwardHook((_m, _i, out) => { seen = out as Tensor; });
  const yc = c.call(x);
  assert.ok(seen !== null && Array.from((seen as Tensor).f32).some((v) => v < 0));
  assert.deepEqual(Array.from(yc.f32), Array.from(ya.f32));
  // A hook on the ReLU also disables the fusion and runs.
  let reluSeen = false;
  const d = make();
  (d[1] as ReLU).registerForwardHook(() => { reluSeen = true; });
  d.call(x);
  assert.ok(reluSeen);
  // A ReLU whose forward was replaced runs its replacement, not the fused op.
  const e = make();
  (e[1] as ReLU).forward = (t: Tensor) => st.mul(t, 2);
  const ye = e.call(x);
  assert.notEqual(ye.gradFn?.name, 'batchNormRelu');
  assert.ok(Array.from(ye.f32).some((v) => v < 0), 'the replacement does not clamp');
});
