/**
 * Pruning schedules as training plug-ins (src/sparse/schedules), driven by a
 * small hand-written training loop over a tiny model: the sparsity reached at
 * the right epochs and steps, the cubic and exponential curves, Han's
 * thresholds and learning-rate change, optimizer masks, metrics, resume.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Conv2d, Linear, Generator, SGD, crossEntropy, flatten, relu, Optimizer } from '../src';
import type { TrainContext, TrainPlugin, Batch } from '../src/train/plugin';
import { getMask, getOrig, effectiveValues, prunedParameters, loadPrunedStateDict } from '../src/sparse/mask';
import { findTargets, currentMask, roundHalfEven } from '../src/sparse/select';
import { sparsityReport } from '../src/sparse/report';
import {
  OneShotPruning, EpochTablePruning, parseEpochTable, GradualPruning, gradualSparsity, HanIterativePruning, layerStd,
} from '../src/sparse/schedules';
import { seededArray, assertClose } from './util';
import { throwsST } from './ops-helpers';

class Small extends Module {
  declare c: Conv2d;
  declare f1: Linear;
  declare f2: Linear;
  constructor(seed = 1) {
    super();
    const g = new Generator(seed);
    this.registerModule('c', new Conv2d(1, 4, 3, { generator: g })); // 36 weights
    this.registerModule('f1', new Linear(64, 16, { generator: g })); // 1024
    this.registerModule('f2', new Linear(16, 3, { generator: g })); // 48
  }
  forward(x: Tensor): Tensor {
    return this.f2.call(relu(this.f1.call(flatten(relu(this.c.call(x)), 1))));
  }
}

const SIZES: Record<string, number> = { 'c.weight': 36, 'f1.weight': 1024, 'f2.weight': 48 };

function batch(seed: number, n = 8): Batch {
  return {
    x: new Tensor(seededArray(n * 36, seed), [n, 1, 6, 6], 'float32'),
    y: new Tensor(Int32Array.from({ length: n }, (_, i) => (i + seed) % 3), [n], 'int32'),
  };
}

interface LoopResult {
  ctx: TrainContext;
  metrics: Record<string, unknown>[];
  logs: string[];
  samples: [number, number | undefined][];
}

/**
 * A minimal trainer: the hook order of src/train/plugin.ts, batchesPerEpoch
 * batches per epoch (the same data every epoch), SGD with momentum.
 */
function runLoop(
  model: Module, opt: Optimizer<{ lr: number }>, plugins: TrainPlugin[],
  o: { epochs: number; batchesPerEpoch?: number; startEpoch?: number; startStep?: number },
): LoopResult {
  const bpe = o.batchesPerEpoch ?? 3;
  const logs: string[] = [];
  const samples: [number, number | undefined][] = [];
  const metrics: Record<string, unknown>[] = [];
  const ctx: TrainContext = {
    model, optimizer: opt, epoch: o.startEpoch ?? 0, step: o.startStep ?? 0, batchIndex: 0, batchesPerEpoch: bpe, totalEpochs: o.epochs,
    sampleTrainBatches: (n: number, bs?: number) => {
      samples.push([n, bs]);
      return [batch(100), batch(101)];
    },
    evaluate: () => ({ loss: 0, accuracy: 0 }),
    generator: new Generator(5),
    epochMetrics: {},
    log: (m: string) => logs.push(m),
  };
  for (const p of plugins) p.onTrainStart?.(ctx);
  for (let e = o.startEpoch ?? 0; e < o.epochs; e++) {
    ctx.epoch = e;
    ctx.epochMetrics = { epoch: e };
    for (const p of plugins) p.onEpochStart?.(ctx);
    for (let b = 0; b < bpe; b++) {
      ctx.batchIndex = b;
      ctx.batch = batch(b);
      for (const p of plugins) p.beforeForward?.(ctx);
      opt.zeroGrad();
      ctx.loss = crossEntropy(model.call(ctx.batch.x), ctx.batch.y);
      ctx.loss.backward();
      for (const p of plugins) p.afterBackward?.(ctx);
      opt.step();
      ctx.step++;
      for (const p of plugins) p.afterStep?.(ctx);
    }
    for (const p of plugins) p.onEpochEnd?.(ctx);
    metrics.push(ctx.epochMetrics);
  }
  for (const p of plugins) p.onTrainEnd?.(ctx);
  return { ctx, metrics, logs, samples };
}

function sgd(model: Module): Optimizer<{ lr: number }> {
  return new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }) as unknown as Optimizer<{ lr: number }>;
}

/** Records, before each forward, the step count and each layer's sparsity (runs after the pruning plug-in). */
function stepRecorder(model: Module, log: { step: number; s: Record<string, number> }[]): TrainPlugin {
  return {
    name: 'recorder',
    beforeForward(ctx) {
      const r = sparsityReport(model);
      log.push({ step: ctx.step, s: Object.fromEntries(r.layers.map((l) => [l.key, l.params - l.nonzero])) });
    },
  };
}

function assertMasksHeld(model: Module, opt: Optimizer<{ lr: number }>): void {
  for (const p of prunedParameters(model)) {
    const m = p.mask.data as Float32Array;
    const o = p.orig.data as Float32Array;
    const om = opt.getMask(p.orig);
    assert.deepEqual(om, m, `optimizer mask of ${p.key} in sync`);
    for (let i = 0; i < m.length; i++) if (m[i] === 0) assert.ok(o[i] === 0, `${p.key}_orig[${i}] = ${o[i]}`);
  }
}

test('parseEpochTable: the thesis table, and clear errors', () => {
  assert.deepEqual(parseEpochTable('2:0.2,3:0.5,4:0.8,5:0.9'), [[2, 0.2], [3, 0.5], [4, 0.8], [5, 0.9]]);
  assert.deepEqual(parseEpochTable(' 5 : 0.9, 2:0.2 '), [[2, 0.2], [5, 0.9]]);
  const bad: [string, RegExp][] = [
    ['', /empty; expected "epoch:value,..."/],
    ['2:0.2,3', /entry 2 "3" is not "epoch:value"/],
    ['2:0.2,,3:0.5', /entry 2 "" is not "epoch:value"/],
    ['x:0.2', /epoch "x" is not a non-negative integer/],
    ['-1:0.2', /epoch "-1" is not a non-negative integer/],
    ['1.5:0.2', /epoch "1.5"/],
    ['2:1.5', /value "1.5" is not a number in \[0, 1\]/],
    ['2:', /value "" is not a number/],
    ['2:abc', /value "abc"/],
    ['2:0.2,2:0.5', /epoch 2 appears twice/],
    ['2:0.2:3', /is not "epoch:value"/],
  ];
  for (const [s, re] of bad) throwsST(() => parseEpochTable(s), 'ERR_ARGUMENT', re);
  throwsST(() => new EpochTablePruning({ table: '2:0.5,3:0.2' }), 'ERR_ARGUMENT', /sparsity 0.2 at epoch 3 is below 0.5 at epoch 2/);
  throwsST(() => new EpochTablePruning({ table: '2:0.5', semantics: 'absolute' as 'sparsity' }), 'ERR_ARGUMENT', /semantics/);
  throwsST(() => new EpochTablePruning({ table: '2:0.5', scorer: 'taylor3' as 'magnitude' }), 'ERR_ARGUMENT', /unknown weight scorer/);
  assert.deepEqual(new EpochTablePruning({ table: { 3: 0.5, 1: 0.1 } }).entries, [[1, 0.1], [3, 0.5]]);
});

test('epoch table (thesis Table 2.2): sparsity after epochs 2, 3, 4, 5, per layer, held through training', () => {
  const model = new Small(2);
  const opt = sgd(model);
  const plugin = new EpochTablePruning({ table: '2:0.2,3:0.5,4:0.8,5:0.9' });
  const { metrics, logs } = runLoop(model, opt, [plugin], { epochs: 7 });
  const expect = [0, 0, 0.2, 0.5, 0.8, 0.9, 0.9];
  metrics.forEach((m, e) => {
    const ls = m.layerSparsity as Record<string, number>;
    for (const [k, n] of Object.entries(SIZES)) {
      assert.equal(ls[k], 1 - (n - roundHalfEven(expect[e] * n)) / n, `epoch ${e} ${k}`);
    }
    assert.equal(typeof m.sparsity, 'number');
  });
  assert.equal(metrics[6].nonzero, 1108 - [36, 1024, 48].reduce((a, n) => a + roundHalfEven(0.9 * n), 0));
  assertMasksHeld(model, opt);
  assert.equal(logs.length, 4);
  assert.match(logs[0], /epoch-table-pruning: sparsity 0.2 at epoch 2 \(epoch 2, step 6\): sparsity 20\.\d\d%/);
  // Magnitude: at the last event the pruned weights of a layer were its smallest.
  const f1 = getMask(model, 'f1.weight')!.data as Float32Array;
  assert.equal(f1.reduce((a, v) => a + (v === 0 ? 1 : 0), 0), roundHalfEven(0.9 * 1024));
});

test('epoch table, fraction semantics and global scope', () => {
  const model = new Small(3);
  const opt = sgd(model);
  const { metrics } = runLoop(model, opt, [new EpochTablePruning({ table: '1:0.5,2:0.5', semantics: 'fraction', scope: 'global' })], { epochs: 3 });
  assert.equal(metrics[1].sparsity, 1 - 554 / 1108);
  assert.equal(metrics[2].sparsity, 1 - (1108 - 554 - 277) / 1108);
  const ls = metrics[2].layerSparsity as Record<string, number>;
  assert.notEqual(ls['c.weight'], ls['f1.weight'], 'one global threshold, not per layer');
});

test('one-shot at a step: pruned before the forward of the step after s completed steps', () => {
  const model = new Small(4);
  const opt = sgd(model);
  const rec: { step: number; s: Record<string, number> }[] = [];
  runLoop(model, opt, [new OneShotPruning({ at: { step: 4 }, sparsity: { conv: 0.5, fc: 0.75 } }), stepRecorder(model, rec)], { epochs: 3 });
  for (const r of rec) {
    const want = r.step < 4 ? [0, 0, 0] : [18, 768, 36];
    assert.deepEqual([r.s['c.weight'], r.s['f1.weight'], r.s['f2.weight']], want, `step ${r.step}`);
  }
  assertMasksHeld(model, opt);
});

test('one-shot at the last epoch fires after training; a full selection; validation', () => {
  const model = new Small(5);
  const opt = sgd(model);
  const p = new OneShotPruning({ at: { epoch: 2 }, selection: { scope: 'layer', amount: { 'f1.weight': { count: 100 } } } });
  const { metrics, logs } = runLoop(model, opt, [p], { epochs: 2 });
  assert.equal(metrics[1].sparsity, 0);
  assert.equal(logs.length, 1);
  assert.equal(sparsityReport(model).layers[1].nonzero, 924);
  assert.equal(prunedParameters(model).length, 1);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 } }), 'ERR_ARGUMENT', /exactly one of sparsity, fraction, selection \(got none\)/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 }, sparsity: 0.5, fraction: 0.5 }), 'ERR_ARGUMENT', /got sparsity, fraction/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1, step: 2 } as never, sparsity: 0.5 }), 'ERR_ARGUMENT', /at must be \{ epoch \} or \{ step \}/);
  throwsST(() => new OneShotPruning({ at: { epoch: -1 }, sparsity: 0.5 }), 'ERR_ARGUMENT', /at.epoch must be an integer >= 0/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 }, sparsity: 1.2 }), 'ERR_ARGUMENT', /sparsity must be a number in \[0, 1\], got 1.2/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 }, sparsity: { conv: 0.5 }, scope: 'global' }), 'ERR_ARGUMENT', /needs scope 'kind'/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 }, sparsity: { bn: 0.5 } as never }), 'ERR_ARGUMENT', /unknown layer kind "bn"/);
  throwsST(() => new OneShotPruning({ at: { epoch: 1 }, selection: { scope: 'layer', amount: { fraction: 2 } } }), 'ERR_ARGUMENT', /fraction must be/);
});

test('data-dependent scorers in a schedule take N examples from ctx.sampleTrainBatches', () => {
  const model = new Small(6);
  const opt = sgd(model);
  const { samples } = runLoop(model, opt, [new OneShotPruning({ at: { epoch: 1 }, sparsity: 0.5, scorer: 'taylor1-abs', scoreExamples: 12, scoreBatchSize: 4 })], { epochs: 2 });
  assert.deepEqual(samples, [[12, 4]]);
  const m2 = new Small(6);
  const late = runLoop(m2, sgd(m2), [new OneShotPruning({ at: { step: 100 }, sparsity: 0.5 })], { epochs: 1 });
  assert.match(late.logs[0], /warning: 1 pruning event\(s\) at step 100 come after the run's last step \(3\) and will not fire/);
  assert.equal(sparsityReport(model).layers[1].nonzero, 512);
  assertMasksHeld(model, opt);
});

test('cubic and exponential curves: formula values', () => {
  const cubic = [0, 1, 2, 3, 4].map((j) => gradualSparsity(j, 4, 0, 0.8));
  assertClose(cubic, [0, 0.8 - 0.8 * 0.75 ** 3, 0.7, 0.8 - 0.8 / 64, 0.8], { rtol: 1e-12, atol: 1e-15 });
  assertClose([gradualSparsity(1, 2, 0.5, 0.9)], [0.9 + (0.5 - 0.9) * 0.125], { rtol: 1e-12 });
  // Exponential: the same factor of the density at each event.
  const ex = [0, 1, 2].map((j) => gradualSparsity(j, 2, 0, 0.75, 'exponential'));
  assertClose(ex, [0, 0.5, 0.75], { rtol: 1e-12, atol: 1e-15 });
  const ex2 = [0, 1, 2, 3].map((j) => 1 - gradualSparsity(j, 3, 0.2, 0.9, 'exponential'));
  assertClose([ex2[1] / ex2[0], ex2[2] / ex2[1], ex2[3] / ex2[2]], Array(3).fill((0.1 / 0.8) ** (1 / 3)), { rtol: 1e-12 });
  assert.equal(gradualSparsity(0, 0, 0.1, 0.5), 0.5);
  const p = new GradualPruning({ unit: 'epoch', start: 1, every: 2, end: 9, finalSparsity: 0.8 });
  assert.deepEqual(p.times, [1, 3, 5, 7, 9]);
  assert.equal(p.n, 4);
  assertClose([0, 1, 2, 3, 4].map((j) => p.sparsityAt(j)), cubic, { rtol: 1e-12, atol: 1e-15 });
});

test('gradual by steps: every k steps over a window, per layer, reaching the curve at the right steps', () => {
  const model = new Small(7);
  const opt = sgd(model);
  const rec: { step: number; s: Record<string, number> }[] = [];
  const p = new GradualPruning({ unit: 'step', start: 3, every: 2, count: 4, finalSparsity: 0.8 });
  const { logs } = runLoop(model, opt, [p, stepRecorder(model, rec)], { epochs: 5 });
  const times = [3, 5, 7, 9, 11];
  for (const r of rec) {
    const j = times.filter((t) => t <= r.step).length - 1;
    const s = j < 0 ? 0 : gradualSparsity(j, 4, 0, 0.8);
    for (const [k, n] of Object.entries(SIZES)) assert.equal(r.s[k], roundHalfEven(s * n), `step ${r.step} ${k}`);
  }
  assert.equal(rec.length, 15);
  assert.equal(logs.length, 5);
  assertMasksHeld(model, opt);
});

test('gradual by epochs per kind (exponential), and validation', () => {
  const model = new Small(8);
  const opt = sgd(model);
  const p = new GradualPruning({ unit: 'epoch', start: 0, count: 2, finalSparsity: { conv: 0.75, fc: 0.96 }, curve: 'exponential' });
  const { metrics } = runLoop(model, opt, [p], { epochs: 3 });
  const conv = [0, 0.5, 0.75];
  const fc = [0, 0.8, 0.96];
  metrics.forEach((m, e) => {
    const ls = m.layerSparsity as Record<string, number>;
    assert.equal(ls['c.weight'], 1 - (36 - roundHalfEven(conv[e] * 36)) / 36, `epoch ${e} conv`);
    assert.equal(ls['f1.weight'], 1 - (1024 - roundHalfEven(fc[e] * 1024)) / 1024, `epoch ${e} f1`);
    assert.equal(ls['f2.weight'], 1 - (48 - roundHalfEven(fc[e] * 48)) / 48, `epoch ${e} f2`);
  });
  assertClose([p.sparsityAt(1, 'conv'), p.sparsityAt(1, 'fc')], [0.5, 0.8], { rtol: 1e-12 });
  const bad: [() => unknown, RegExp][] = [
    [() => new GradualPruning({ unit: 'step', start: 0, finalSparsity: 0.5 }), /exactly one of count .* and end/],
    [() => new GradualPruning({ unit: 'step', start: 0, count: 2, end: 4, finalSparsity: 0.5 }), /exactly one of count/],
    [() => new GradualPruning({ unit: 'step', start: 1, every: 2, end: 4, finalSparsity: 0.5 }), /end 4 is not start 1 plus a multiple of every 2/],
    [() => new GradualPruning({ unit: 'hour' as 'step', start: 0, count: 2, finalSparsity: 0.5 }), /unit must be 'epoch' or 'step'/],
    [() => new GradualPruning({ unit: 'step', start: 0, count: 2, initialSparsity: 0.6, finalSparsity: 0.5 }), /initial sparsity 0.6 exceeds the final 0.5/],
    [() => new GradualPruning({ unit: 'step', start: 0, every: 0, count: 2, finalSparsity: 0.5 }), /every must be an integer >= 1/],
    [() => new GradualPruning({ unit: 'step', start: 0, count: 2, finalSparsity: 0.5, curve: 'linear' as 'cubic' }), /curve must be/],
    [() => new GradualPruning({ unit: 'step', start: 0, count: 2, finalSparsity: { fc: 0.5 }, scope: 'layer' }), /needs scope 'kind'/],
    [() => new GradualPruning({ unit: 'step', start: 0, count: 2, initialSparsity: 1, finalSparsity: 1, curve: 'exponential' }), null as unknown as RegExp],
  ];
  for (const [f, re] of bad) {
    if (re) throwsST(f, 'ERR_ARGUMENT', re);
    else f();
  }
});

test("Han's iterative pruning: threshold = quality x std of the remaining weights, retraining at lr x 0.1", () => {
  const model = new Small(9);
  const opt = sgd(model);
  // Snapshot the weights at the start of each epoch, before the Han plug-in acts.
  const snaps = new Map<number, Map<string, { w: Float32Array; m: Float32Array; std: number }>>();
  const snap: TrainPlugin = {
    name: 'snap',
    onEpochStart(ctx) {
      snaps.set(ctx.epoch, new Map(findTargets(model).map((t) => [t.key, { w: effectiveValues(model, t.key), m: currentMask(t), std: layerStd(t) }])));
    },
  };
  const lrs: number[] = [];
  const lrRec: TrainPlugin = { name: 'lr', beforeForward: (ctx) => { lrs.push(ctx.optimizer.paramGroups[0].lr); } };
  const han = new HanIterativePruning({ quality: [0.5, 0.7], startEpoch: 1, retrainEpochs: 2 });
  assert.deepEqual(han.times, [1, 3]);
  runLoop(model, opt, [snap, han, lrRec], { epochs: 5, batchesPerEpoch: 2 });
  // The masks after the run are the two thresholds applied in turn.
  const final = new Map(findTargets(model).map((t) => [t.key, currentMask(t)]));
  const after1 = new Map<string, Float32Array>();
  for (const [k, s] of snaps.get(1)!) {
    const thr = 0.5 * s.std;
    after1.set(k, Float32Array.from(s.w, (v) => (Math.abs(v) < thr ? 0 : 1)));
    // std of all (none pruned yet) is the population std
    const mean = s.w.reduce((a, v) => a + v, 0) / s.w.length;
    assertClose([s.std], [Math.sqrt(s.w.reduce((a, v) => a + (v - mean) ** 2, 0) / s.w.length)], { rtol: 1e-9 });
  }
  for (const [k, s] of snaps.get(3)!) {
    assert.deepEqual([...s.m], [...after1.get(k)!], `${k} after iteration 1`);
    const thr = 0.7 * s.std;
    const want = Float32Array.from(s.w, (v, i) => (s.m[i] === 1 && Math.abs(v) >= thr ? 1 : 0));
    assert.deepEqual([...final.get(k)!], [...want], `${k} after iteration 2`);
    assert.ok(want.reduce((a, v) => a + v, 0) < s.m.reduce((a, v) => a + v, 0), `${k}: iteration 2 pruned more`);
  }
  // lr 0.05 for epoch 0 (2 steps), then 0.005 (changed once).
  assertClose(lrs, [0.05, 0.05, ...Array(8).fill(0.005)], { rtol: 1e-12 });
  assertMasksHeld(model, opt);
});

test("Han's pruning per kind, lr change at each iteration through a hook, std of all, validation", () => {
  const model = new Small(10);
  const opt = sgd(model);
  const calls: [number, number][] = [];
  const han = new HanIterativePruning({
    quality: { fc: 1 }, startEpoch: 0, iterations: 2, lrChange: 'each', std: 'all',
    onLrChange: (ctx, f, it) => { calls.push([f, it]); for (const g of ctx.optimizer.paramGroups) g.lr *= f; },
    lrFactor: 0.5,
  });
  const before = effectiveValues(model, 'f2.weight');
  const std = Math.sqrt(before.reduce((a, v) => a + v * v, 0) / before.length - (before.reduce((a, v) => a + v, 0) / before.length) ** 2);
  const rec: { step: number; s: Record<string, number> }[] = [];
  runLoop(model, opt, [han, stepRecorder(model, rec)], { epochs: 2, batchesPerEpoch: 1 });
  assert.deepEqual(calls, [[0.5, 0], [0.5, 1]]);
  assert.equal(opt.paramGroups[0].lr, 0.05 * 0.25);
  assert.equal(rec[0].s['c.weight'], 0, 'conv layers have no quality: untouched');
  assert.equal(rec[0].s['f2.weight'], [...before].filter((v) => Math.abs(v) < std).length);
  throwsST(() => new HanIterativePruning({ quality: [0.5, 0.6], startEpoch: 0, iterations: 3 }), 'ERR_ARGUMENT', /2 values for 3 iterations/);
  throwsST(() => new HanIterativePruning({ quality: -1, startEpoch: 0 }), 'ERR_ARGUMENT', /quality\[0\] must be a number >= 0/);
  throwsST(() => new HanIterativePruning({ quality: 1, startEpoch: 0, lrFactor: 0 }), 'ERR_ARGUMENT', /lrFactor must be a number > 0/);
  throwsST(() => new HanIterativePruning({ quality: { bn: 1 } as never, startEpoch: 0 }), 'ERR_ARGUMENT', /quality/);
  throwsST(() => new HanIterativePruning({ quality: 1, startEpoch: 0, retrainEpochs: 0 }), 'ERR_ARGUMENT', /retrainEpochs must be an integer >= 1/);
});

test('resume: stopping after some epochs and continuing from saved states equals an uninterrupted run', () => {
  const make = () => [
    new GradualPruning({ unit: 'step', start: 2, every: 3, count: 4, finalSparsity: 0.7 }),
    new HanIterativePruning({ quality: 0.3, startEpoch: 4, retrainEpochs: 1, iterations: 2, lrFactor: 0.5 }),
  ];
  // Uninterrupted.
  const a = new Small(11);
  const optA = sgd(a);
  runLoop(a, optA, make(), { epochs: 6 });
  // Interrupted after 3 epochs (9 steps) ...
  const b = new Small(11);
  const optB = sgd(b);
  const pb = make();
  const r1 = runLoop(b, optB, pb, { epochs: 3 });
  const saved = { model: b.stateDict(), opt: optB.stateDict(), plugins: pb.map((p) => structuredClone(p.stateDict!())) };
  assert.deepEqual(saved.plugins.map((s) => (s as { fired: number }).fired), [3, 0]);
  // ... resumed into fresh objects.
  const c = new Small(99);
  loadPrunedStateDict(c, saved.model);
  const optC = sgd(c);
  optC.loadStateDict(saved.opt);
  const pc = make();
  pc.forEach((p, i) => p.loadStateDict!(saved.plugins[i]));
  runLoop(c, optC, pc, { epochs: 6, startEpoch: 3, startStep: r1.ctx.step });
  for (const [k, t] of a.stateDict()) {
    assert.deepEqual([...(c.stateDict().get(k)!.data as Float32Array)], [...(t.data as Float32Array)], k);
  }
  assert.equal(optC.paramGroups[0].lr, optA.paramGroups[0].lr);
  assert.deepEqual(pc.map((p) => p.stateDict!()), make().map((p, i) => ({ ...p.stateDict!(), fired: [5, 2][i], ...(i === 1 ? { lrChanged: true } : {}) })));
  // State errors.
  throwsST(() => pc[0].loadStateDict!({ name: 'one-shot-pruning', fired: 0 }), 'ERR_ARGUMENT', /the state is of "one-shot-pruning"/);
  throwsST(() => pc[0].loadStateDict!({ name: 'gradual-pruning', fired: 9 }), 'ERR_ARGUMENT', /fired must be an integer in 0..5/);
  throwsST(() => pc[1].loadStateDict!({ name: 'han-iterative-pruning', fired: 1 }), 'ERR_ARGUMENT', /lrChanged must be a boolean/);
  void getOrig;
});
