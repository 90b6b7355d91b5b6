/**
 * The unit-pruning schedule plug-in, driven by hand through the TrainPlugin
 * hooks (no trainer): thesis Table 4.2 ("2:0.1,3:0.2,4:0.4,5:0.6") on
 * smallcnn with SGD (momentum, weight decay) between rounds; masked units stay
 * exactly zero, the model shrinks at the end to the thesis' 4,019 parameters
 * with an unchanged output, and a resumed plug-in restores its masks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Generator, buildModel, randn, randint, noGrad, crossEntropy, SGD, units as U, setThreads } from '../src';
import type { Batch, TrainContext, TrainPlugin } from '../src/train/plugin';
import { assertClose } from './util';

// Single-threaded: many small forwards (see units-shrink.test.ts).
setThreads(1);

type AnyModule = Module<any[], any>;

function forward(model: AnyModule, x: Tensor): Float32Array {
  return Float32Array.from(noGrad(() => model.call(x) as Tensor).f32);
}

function makeData(n: number, seed: number): Batch[] {
  const g = new Generator(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += 16) out.push({ x: randn([16, 1, 28, 28], { generator: g }), y: randint(0, 10, [16], { generator: g }) });
  return out;
}

/** A minimal context over a fixed list of batches. */
function makeCtx(model: AnyModule, train: Batch[], epochs: number): TrainContext & { logs: string[] } {
  const logs: string[] = [];
  return {
    model,
    optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
    epoch: 0, step: 0, batchIndex: 0, batchesPerEpoch: train.length, totalEpochs: epochs,
    sampleTrainBatches(n: number, batchSize = 100): Batch[] {
      let left = n;
      const out: Batch[] = [];
      for (const b of train) {
        if (left <= 0) break;
        const k = Math.min(left, b.x.shape[0], batchSize);
        out.push({ x: b.x.slice(0, 0, k), y: b.y.slice(0, 0, k) });
        left -= k;
      }
      return out;
    },
    evaluate: () => ({ loss: 0, accuracy: 0 }),
    generator: new Generator(123),
    epochMetrics: {},
    log: (s: string) => { logs.push(s); },
    logs,
  };
}

/** Runs the plug-in hooks over `epochs` epochs of plain SGD; calls check(ctx) after every step. */
function run(plugin: TrainPlugin, ctx: TrainContext, train: Batch[], epochs: number, from = 0, check?: () => void, end = true): void {
  plugin.onTrainStart?.(ctx);
  for (let e = from; e < epochs; e++) {
    ctx.epoch = e;
    ctx.epochMetrics = {};
    plugin.onEpochStart?.(ctx);
    train.forEach((b, i) => {
      ctx.batchIndex = i;
      ctx.batch = b;
      ctx.model.train();
      plugin.beforeForward?.(ctx);
      ctx.optimizer.zeroGrad();
      const loss = crossEntropy(ctx.model.call(b.x) as Tensor, b.y);
      loss.backward();
      ctx.loss = loss;
      plugin.afterBackward?.(ctx);
      ctx.optimizer.step();
      ctx.step++;
      plugin.afterStep?.(ctx);
      check?.();
    });
    ctx.model.eval();
    plugin.onEpochEnd?.(ctx);
  }
  if (end) plugin.onTrainEnd?.(ctx);
}

test('parseFractionSchedule: thesis tables, validation', () => {
  assert.deepEqual(U.parseFractionSchedule('2:0.1,3:0.2,4:0.4,5:0.6'), [[2, 0.1], [3, 0.2], [4, 0.4], [5, 0.6]]);
  assert.deepEqual(U.parseFractionSchedule(' 5:0.9, 2:0.2 '), [[2, 0.2], [5, 0.9]]);
  assert.deepEqual(U.parseFractionSchedule({ 0: 0.5 }), [[0, 0.5]]);
  assert.deepEqual(U.parseFractionSchedule([[1, 0.25]]), [[1, 0.25]]);
  assert.throws(() => U.parseFractionSchedule('2:1.5'), /fraction must be in \[0, 1\]/);
  assert.throws(() => U.parseFractionSchedule('2:0.5,3:0.4'), /must not decrease/);
  assert.throws(() => U.parseFractionSchedule('2:0.1,2:0.2'), /appears twice/);
  assert.throws(() => U.parseFractionSchedule('two:0.1'), /EPOCH:FRACTION/);
  assert.throws(() => U.parseFractionSchedule(''), /no EPOCH:FRACTION/);
  assert.throws(() => new U.UnitPruningPlugin({ schedule: '1:0.5', scorer: 'taylor' as 'mrs' }), /unknown scorer/);
  assert.throws(() => new U.UnitPruningPlugin({ schedule: '1:0.5', examples: 0 }), /examples must be a positive integer/);
});

test('thesis Table 4.2 with MRS and mean replacement: 4, 7, 26 units, masked units stay zero under momentum and weight decay, 4,019 parameters after shrinking', () => {
  const model = buildModel('smallcnn', { generator: new Generator(1) });
  const train = makeData(64, 2);
  const epochs = 7;
  const ctx = makeCtx(model, train, epochs);
  const plugin = new U.UnitPruningPlugin({ schedule: '2:0.1,3:0.2,4:0.4,5:0.6', scorer: 'mrs', examples: 48, batchSize: 16 });
  // After every step: what the consumers read from masked units is exactly zero.
  const zeroChecks: number[] = [];
  const seen = new Map<string, Tensor>();
  const links = [['conv1', 'conv2', 8, 1], ['conv2', 'fc1', 16, 16], ['fc1', 'fc2', 64, 1]] as const;
  for (const [, consumer] of links) model.getSubmodule(consumer).registerForwardPreHook((_m, input) => { seen.set(consumer, input[0] as Tensor); });
  const check = () => {
    for (const [name, consumer, size, block] of links) {
      const mask = U.getUnitMask(model.getSubmodule(name));
      if (!mask) continue;
      const t = seen.get(consumer)!;
      const { B, P, at } = U.siteLayout(t, size, block);
      for (let k = 0; k < B; k++) {
        mask.forEach((v, u) => {
          if (v) return;
          for (let p = 0; p < P; p++) assert.ok(t.f32[at(k, u, p)] === 0);
          zeroChecks.push(1);
        });
      }
    }
  };
  const alive: Record<string, number>[] = [];
  const onEnd = plugin.onEpochEnd!.bind(plugin);
  plugin.onEpochEnd = (c) => { onEnd(c); alive.push({ ...(c.epochMetrics.units_alive as Record<string, number>) }); };
  run(plugin, ctx, train, epochs, 0, check, false);
  assert.ok(zeroChecks.length > 0);
  assert.deepEqual(alive.map((a) => [a.conv1, a.conv2, a.fc1]), [[8, 16, 64], [8, 16, 64], [8, 15, 58], [7, 13, 52], [5, 10, 39], [4, 7, 26], [4, 7, 26]]);
  assert.equal(ctx.epochMetrics.unit_pruned_parameters, 4019);
  assert.deepEqual(plugin.rounds.map((r) => [r.epoch, r.fraction, r.parameters]), [[2, 0.1, plugin.rounds[0].parameters], [3, 0.2, plugin.rounds[1].parameters], [4, 0.4, plugin.rounds[2].parameters], [5, 0.6, 4019]]);
  assert.equal(ctx.logs.length, 4);
  assert.match(ctx.logs[3], /unit pruning \(mrs, mean replacement\): \d+ units pruned to reach 0.6; alive conv1 4, conv2 7, fc1 26; 4019 parameters once shrunk/);
  // Shrink at the end: same output, 4,019 parameters.
  const x = randn([4, 1, 28, 28], { generator: new Generator(5) });
  model.eval();
  const masked = forward(model, x);
  plugin.onTrainEnd!(ctx);
  assert.equal(model.numParameters(), 4019);
  assertClose(forward(model, x), masked, { rtol: 1e-5, atol: 1e-5 });
  assert.match(ctx.logs[4], /model shrunk from 20522 to 4019 parameters \(conv1 8->4, conv2 16->7, fc1 64->26\)/);
});

test('resume: a new plug-in loading the saved state restores the masks and skips the rounds done', () => {
  const train = makeData(32, 3);
  const a = buildModel('smallcnn', { generator: new Generator(4) });
  const ctxA = makeCtx(a, train, 2);
  const pa = new U.UnitPruningPlugin({ schedule: '1:0.5,3:0.75', scorer: 'l1', examples: 32 });
  run(pa, ctxA, train, 2, 0, undefined, false);
  const saved = JSON.parse(JSON.stringify(pa.stateDict()));
  assert.deepEqual(saved.done, [1]);
  assert.equal(saved.masks.conv1.filter((v: number) => v === 0).length, 4);

  const b = buildModel('smallcnn', { generator: new Generator(77) });
  b.loadStateDict(a.stateDict());
  const pb = new U.UnitPruningPlugin({ schedule: '1:0.5,3:0.75', scorer: 'l1', examples: 32 });
  pb.loadStateDict(saved);
  const ctxB = makeCtx(b, train, 4);
  const x = randn([3, 1, 28, 28], { generator: new Generator(6) });
  a.eval();
  b.eval();
  pb.onTrainStart!(ctxB);
  assertClose(forward(b, x), forward(a, x), { rtol: 0, atol: 0 });
  ctxB.epoch = 1;
  pb.onEpochStart!(ctxB); // already done: no new round
  assert.equal(pb.rounds.length, 1);
  ctxB.epoch = 3;
  pb.onEpochStart!(ctxB);
  assert.deepEqual(pb.rounds.at(-1)!.alive, { conv1: 2, conv2: 4, fc1: 16 });
  assert.throws(() => pb.loadStateDict({ nope: 1 }), /bad saved state/);
});

test('prune() by hand with each scorer, global scope, zero replacement; layers limits the groups', () => {
  const batches = makeData(32, 8);
  for (const scorer of U.UNIT_SCORERS) {
    const m = buildModel('smallcnn', { generator: new Generator(9) });
    const p = new U.UnitPruningPlugin({ schedule: '0:0.5', scorer, examples: 16, layers: ['conv2', 'fc1'] });
    const r = p.prune(m, batches, 0.5, new Generator(1));
    assert.deepEqual(r.alive, { conv2: 8, fc1: 32 }, scorer);
    assert.equal(U.getUnitMask(m.getSubmodule('conv1')), null);
  }
  const m = buildModel('smallcnn', { generator: new Generator(10) });
  const p = new U.UnitPruningPlugin({ schedule: '0:0.5', scorer: 'l2', scope: 'global', replacement: 'zero' });
  const r = p.prune(m, batches, 0.5);
  assert.equal(Object.values(r.alive).reduce((a, b) => a + b, 0), 88 - 44);
  const x = randn([2, 1, 28, 28], { generator: new Generator(11) });
  m.eval();
  const masked = forward(m, x);
  const s = p.shrink(m);
  assert.equal(s.parametersAfter, r.parameters);
  assertClose(forward(m, x), masked, { rtol: 1e-5, atol: 1e-5 });
  assert.throws(() => new U.UnitPruningPlugin({ schedule: '0:0.5', layers: ['fc2'] }).prune(buildModel('smallcnn'), batches, 0.5), /cannot be pruned: fc2's units are outputs of the model/);
});
