/**
 * Weight saliency scores (src/sparse/scores) against direct computations on a
 * tiny conv + fc model: gradients by backward on the concatenated examples,
 * H dw by hvp and by finite differences of gradients, loss changes by
 * literally zeroing weights.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, Module, Conv2d, Linear, Generator, grad, hvp, crossEntropy, tanh, flatten, cat, Dropout, noGrad,
} from '../src';
import { prune, effectiveValues, getOrig } from '../src/sparse/mask';
import { findTargets } from '../src/sparse/select';
import {
  scoreWeights, scoreWeightsMany, parseScorerName, WEIGHT_SCORERS, isDataDependent, scoringData,
} from '../src/sparse/scores';
import type { Batch } from '../src/train/plugin';
import { assertClose, seededArray } from './util';
import { throwsST } from './ops-helpers';

class Tiny extends Module {
  declare conv: Conv2d;
  declare fc: Linear;
  declare drop: Dropout;
  constructor(seed: number) {
    super();
    const g = new Generator(seed);
    this.registerModule('conv', new Conv2d(1, 2, 3, { generator: g }));
    this.registerModule('drop', new Dropout(0.5));
    this.registerModule('fc', new Linear(18, 3, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    return this.fc.call(this.drop.call(flatten(tanh(this.conv.call(x)), 1)));
  }
}

/** Batches of 7, 5 and 6 examples (18 in all) of 1x5x5 inputs and 3 classes. */
function makeBatches(seed: number): Batch[] {
  return [7, 5, 6].map((n, b) => ({
    x: new Tensor(seededArray(n * 25, seed + b, -2, 2), [n, 1, 5, 5], 'float32'),
    y: new Tensor(Int32Array.from({ length: n }, (_, i) => (i * 7 + b) % 3), [n], 'int32'),
  }));
}

/** The first n examples of the batches as one batch. */
function joined(batches: Batch[], n: number): Batch {
  const x = cat(batches.map((b) => b.x), 0);
  const y = cat(batches.map((b) => b.y), 0);
  return { x: new Tensor((x.data as Float32Array).slice(0, n * 25), [n, 1, 5, 5], 'float32'), y: new Tensor((y.data as Int32Array).slice(0, n), [n], 'int32') };
}

function setup(pruneSome = true) {
  const model = new Tiny(3);
  if (pruneSome) {
    prune(model, 'conv.weight', Float32Array.from({ length: 18 }, (_, i) => (i % 5 === 0 ? 0 : 1)));
  }
  const targets = findTargets(model);
  const batches = makeBatches(10);
  return { model, targets, batches };
}

/** Direct: loss over the joined examples in eval mode, gradient and H v w.r.t. the trained tensors. */
function direct(model: Tiny, b: Batch, v: Tensor[] | null) {
  model.eval();
  const leaves = [getOrig(model, 'conv.weight'), getOrig(model, 'fc.weight')];
  const fn = () => crossEntropy(model.call(b.x), b.y);
  const g = grad(fn(), leaves).map((t) => Float32Array.from(t!.data as Float32Array));
  const hv = v ? hvp(fn, leaves, v).map((t) => Float32Array.from(t.data as Float32Array)) : null;
  model.train();
  return { leaves, g, hv, fn };
}

const TOL = { rtol: 1e-4, atol: 1e-6 };

test('scorer names: canonical, thesis spellings, errors', () => {
  assert.equal(parseScorerName('taylor1ScorerAbs'), 'taylor1-abs');
  assert.equal(parseScorerName('lossChangeScorer'), 'loss-change');
  assert.equal(parseScorerName('magnitudeScorer'), 'magnitude');
  assert.equal(parseScorerName('HESSIAN-abs'), 'hessian-abs');
  assert.equal(parseScorerName('taylor2_abs'), 'taylor2-abs');
  throwsST(() => parseScorerName('taylor3'), 'ERR_ARGUMENT', /unknown weight scorer "taylor3"; expected one of magnitude, random/);
  assert.deepEqual(WEIGHT_SCORERS.filter((n) => !isDataDependent(n)), ['magnitude', 'random']);
});

test('magnitude = |effective weight| (pruned entries 0); random reproducible in [0, 1)', () => {
  const { model, targets } = setup();
  const s = scoreWeights(model, targets, 'magnitude');
  assert.deepEqual([...s.get('conv.weight')!], Array.from(effectiveValues(model, 'conv.weight'), Math.abs));
  assert.deepEqual([...s.get('fc.weight')!], Array.from(model.fc.weight.data as Float32Array, Math.abs));
  for (let i = 0; i < 18; i += 5) assert.equal(s.get('conv.weight')![i], 0);
  const r1 = scoreWeights(model, targets, 'random', { generator: new Generator(4) });
  const r2 = scoreWeights(model, targets, 'random', { generator: new Generator(4) });
  assert.deepEqual(r1, r2);
  const all = [...r1.get('conv.weight')!, ...r1.get('fc.weight')!];
  assert.ok(all.every((v) => v >= 0 && v < 1));
  assert.ok(new Set(all).size > all.length - 2);
  const r3 = scoreWeights(model, targets, 'random', { ctx: { sampleTrainBatches: () => [], generator: new Generator(4) } });
  assert.deepEqual(r3, r1, 'the context generator is used');
});

test('taylor1 = -w * dL/dw over the first N examples (batches split and sliced)', () => {
  const { model, targets, batches } = setup();
  const s = scoreWeights(model, targets, 'taylor1', { batches, numExamples: 15 });
  const { g } = direct(model, joined(batches, 15), null);
  const w = [effectiveValues(model, 'conv.weight'), effectiveValues(model, 'fc.weight')];
  assertClose(s.get('conv.weight')!, Array.from(w[0], (x, i) => -x * g[0][i]), TOL);
  assertClose(s.get('fc.weight')!, Array.from(w[1], (x, i) => -x * g[1][i]), TOL);
  for (let i = 0; i < 18; i += 5) assert.equal(s.get('conv.weight')![i], 0, 'pruned weights score 0');
  // Every example by default (18 < 1000); the context is asked for N examples.
  let asked: [number, number | undefined] | null = null;
  const ctx = { sampleTrainBatches: (n: number, bs?: number) => { asked = [n, bs]; return batches; } };
  const s2 = scoreWeights(model, targets, 'taylor1', { ctx, batchSize: 4 });
  assert.deepEqual(asked, [1000, 4]);
  const all = direct(model, joined(batches, 18), null);
  assertClose(s2.get('fc.weight')!, Array.from(w[1], (x, i) => -x * all.g[1][i]), TOL);
});

test('hessian and taylor2 against hvp and against finite differences of gradients (joint and per layer)', () => {
  const { model, targets, batches } = setup();
  const b = joined(batches, 18);
  const w = [effectiveValues(model, 'conv.weight'), effectiveValues(model, 'fc.weight')];
  const dw = w.map((x, i) => new Tensor(x.map((v) => -v), i === 0 ? [2, 1, 3, 3] : [3, 18], 'float32'));
  const { g, hv, leaves, fn } = direct(model, b, dw);
  const many = scoreWeightsMany(model, targets, ['hessian', 'taylor2', 'taylor1', 'hessian-abs', 'taylor2-abs'], { batches });
  const hs = [many.get('hessian')!.get('conv.weight')!, many.get('hessian')!.get('fc.weight')!];
  hs.forEach((h, a) => assertClose(h, Array.from(dw[a].data as Float32Array, (d, i) => d * hv![a][i]), { rtol: 1e-3, atol: 1e-6, msg: `hessian ${a}` }));
  const t2 = [many.get('taylor2')!.get('conv.weight')!, many.get('taylor2')!.get('fc.weight')!];
  t2.forEach((t, a) => assertClose(t, Array.from(dw[a].data as Float32Array, (d, i) => d * (g[a][i] + hv![a][i])), { rtol: 1e-3, atol: 1e-6, msg: `taylor2 ${a}` }));
  assertClose(many.get('hessian-abs')!.get('fc.weight')!, Array.from(hs[1], Math.abs));
  assertClose(many.get('taylor2-abs')!.get('conv.weight')!, Array.from(t2[0], Math.abs));
  // The scores are not trivially zero, and the second-order term matters.
  assert.ok(hs[1].some((v) => Math.abs(v) > 1e-4));

  // Finite differences of the gradient along dw (all targets moved together), in eval mode.
  model.eval();
  const base = leaves.map((p) => Float32Array.from(p.data as Float32Array));
  const gradAt = (s: number) => {
    leaves.forEach((p, a) => {
      const d = p.data as Float32Array;
      const v = dw[a].data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = base[a][i] + s * v[i];
    });
    return grad(fn(), leaves).map((t) => Float32Array.from(t!.data as Float32Array));
  };
  const eps = 1e-2;
  const gp = gradAt(eps);
  const gm = gradAt(-eps);
  leaves.forEach((p, a) => (p.data as Float32Array).set(base[a]));
  model.train();
  const mask0 = Float32Array.from({ length: 18 }, (_, i) => (i % 5 === 0 ? 0 : 1));
  [0, 1].forEach((a) => {
    const fd = Array.from(gp[a], (x, i) => (x - gm[a][i]) / (2 * eps));
    const expect = Array.from(dw[a].data as Float32Array, (d, i) => d * fd[i]);
    const scale = Math.max(...expect.map(Math.abs));
    assertClose(hs[a], expect, { rtol: 2e-2, atol: 2e-3 * scale, msg: `hessian vs finite differences ${a}` });
    if (a === 0) for (let i = 0; i < 18; i++) if (mask0[i] === 0) assert.equal(hs[a][i], 0);
  });

  // Per-layer scope: each layer's own Hessian block.
  const layer = scoreWeights(model, targets, 'hessian', { batches, hessianScope: 'layer' });
  model.eval();
  const blocks = leaves.map((p, a) => hvp(fn, [p], [dw[a]])[0].data as Float32Array);
  model.train();
  [0, 1].forEach((a) => {
    const key = a === 0 ? 'conv.weight' : 'fc.weight';
    assertClose(layer.get(key)!, Array.from(dw[a].data as Float32Array, (d, i) => d * blocks[a][i]), { rtol: 1e-3, atol: 1e-6, msg: `layer scope ${key}` });
  });
  // The joint and per-layer products differ (the off-diagonal blocks are not zero).
  assert.notDeepEqual([...layer.get('fc.weight')!], [...hs[1]]);
});

test('lambda and the sensitivity perturbation dw = -epsilon sign(w)', () => {
  const { model, targets, batches } = setup();
  const b = joined(batches, 18);
  const eps = 0.05;
  const w = [effectiveValues(model, 'conv.weight'), effectiveValues(model, 'fc.weight')];
  const dw = w.map((x, i) => new Tensor(x.map((v) => (v > 0 ? -eps : v < 0 ? eps : 0)), i === 0 ? [2, 1, 3, 3] : [3, 18], 'float32'));
  const { g, hv } = direct(model, b, dw);
  const s = scoreWeights(model, targets, 'taylor2', { batches, delta: { epsilon: eps }, lambda: 0.5 });
  [0, 1].forEach((a) => {
    const key = a === 0 ? 'conv.weight' : 'fc.weight';
    assertClose(s.get(key)!, Array.from(dw[a].data as Float32Array, (d, i) => d * (g[a][i] + 0.5 * hv![a][i])), { rtol: 1e-3, atol: 1e-8, msg: key });
  });
  const t1 = scoreWeights(model, targets, 'taylor1', { batches, delta: { epsilon: eps } });
  assertClose(t1.get('fc.weight')!, Array.from(dw[1].data as Float32Array, (d, i) => d * g[1][i]), TOL);
  throwsST(() => scoreWeights(model, targets, 'taylor1', { batches, delta: { epsilon: 0 } }), 'ERR_ARGUMENT', /epsilon/);
  throwsST(() => scoreWeights(model, targets, 'taylor2', { batches, lambda: NaN }), 'ERR_ARGUMENT', /lambda/);
});

test('loss-change = the loss with each weight literally zeroed minus the loss', () => {
  const { model, targets, batches } = setup();
  const b = joined(batches, 18);
  const s = scoreWeightsMany(model, targets, ['loss-change', 'loss-change-abs'], { batches });
  const lc = s.get('loss-change')!;
  // Reference: a fresh copy of the effective weights, each zeroed in turn.
  const ref = new Tiny(99);
  ref.eval();
  (ref.conv.weight.data as Float32Array).set(effectiveValues(model, 'conv.weight'));
  (ref.conv.bias!.data as Float32Array).set(model.conv.bias!.data as Float32Array);
  (ref.fc.weight.data as Float32Array).set(model.fc.weight.data as Float32Array);
  (ref.fc.bias!.data as Float32Array).set(model.fc.bias!.data as Float32Array);
  const loss = () => noGrad(() => crossEntropy(ref.call(b.x), b.y).item());
  const l0 = loss();
  for (const [key, p] of [['conv.weight', ref.conv.weight], ['fc.weight', ref.fc.weight]] as const) {
    const d = p.data as Float32Array;
    const expect = Array.from(d, (v, i) => {
      d[i] = 0;
      const l = loss();
      d[i] = v;
      return v === 0 ? 0 : l - l0;
    });
    assertClose(lc.get(key)!, expect, { rtol: 1e-3, atol: 2e-6, msg: key });
    assertClose(s.get('loss-change-abs')!.get(key)!, expect.map(Math.abs), { rtol: 1e-3, atol: 2e-6, msg: `${key} abs` });
  }
  assert.ok([...lc.get('fc.weight')!].some((v) => v < 0) && [...lc.get('fc.weight')!].some((v) => v > 0));
  // The model is unchanged and its modes are restored (Dropout was in training mode).
  assert.ok(model.training && model.drop.training);
  assertClose(effectiveValues(model, 'fc.weight'), ref.fc.weight.data as Float32Array);
  assertClose(model.conv.weight.data as Float32Array, effectiveValues(model, 'conv.weight'));
  // Beyond the size limit it is an error naming the layers.
  throwsST(() => scoreWeights(model, targets, 'loss-change', { batches, maxLossChangeWeights: 50 }), 'ERR_ARGUMENT', /68 weights.*conv.weight: 14, fc.weight: 54.*limit of 50/);
});

test('data-dependent scores: data errors and eval mode', () => {
  const { model, targets, batches } = setup(false);
  throwsST(() => scoreWeights(model, targets, 'taylor1'), 'ERR_ARGUMENT', /needs data/);
  throwsST(() => scoreWeights(model, targets, 'hessian', { batches, numExamples: 0 }), 'ERR_ARGUMENT', /numExamples/);
  throwsST(() => scoringData('x', { batches: [{ x: batches[0].x, y: batches[1].y }] }), 'ERR_SHAPE', /7 inputs and 5 targets/);
  throwsST(() => scoringData('x', { batches: [] }), 'ERR_ARGUMENT', /no examples/);
  // Eval mode: dropout off, so two calls agree exactly.
  const a = scoreWeights(model, targets, 'taylor1', { batches });
  const b2 = scoreWeights(model, targets, 'taylor1', { batches });
  assert.deepEqual(a, b2);
  assert.ok(model.drop.training, 'mode restored');
  // A custom scorer function is called as is.
  const custom = scoreWeights(model, targets, (_m, ts) => new Map(ts.map((t) => [t.key, new Float32Array(t.numel).fill(7)])));
  assert.equal(custom.get('fc.weight')![3], 7);
});
