/**
 * The thesis' clean-up (section 2.2): units with at most f_nz non-zero
 * incoming or outgoing weights are removed, with bias propagation. With
 * f_nz = 0 the removal is exact (eval mode): a unit without outgoing weights
 * has no effect, and a unit without incoming weights outputs act(bias), which
 * is folded into the next layer's bias. Zeros are read from plain weights and
 * from weight_orig * weight_mask alike.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Generator, buildModel, randn, rand, randint, noGrad, BatchNorm2d, Conv2d, Linear, units as U, sparse, setThreads } from '../src';
import { assertClose } from './util';

// Single-threaded: many small forwards (see units-shrink.test.ts).
setThreads(1);

type AnyModule = Module<any[], any>;

function forward(model: AnyModule, x: Tensor): Float32Array {
  return Float32Array.from(noGrad(() => model.call(x) as Tensor).f32);
}

/** Prunes m.weight with the library's reparametrisation (weight_orig, weight_mask). */
function reparametrise(m: AnyModule, mask: Float32Array): void {
  sparse.prune(m, 'weight', mask);
}

/** smallcnn with dead units: conv1/2 and fc1/9 without incoming weights, fc1/5 without outgoing ones, conv2/4 masked empty by a weight mask. */
function deadSmallCnn(batchNorm: boolean, seed: number): AnyModule {
  const g = new Generator(seed);
  const m = buildModel('smallcnn', { batchNorm, generator: g });
  if (batchNorm) {
    for (const b of m.modules().filter((x): x is BatchNorm2d => x instanceof BatchNorm2d)) {
      b.running_mean!.f32.set(randn([b.numFeatures], { generator: g }).f32);
      b.running_var!.f32.set(rand([b.numFeatures], { generator: g, low: 0.5, high: 2 }).f32);
      b.bias!.f32.set(randn([b.numFeatures], { generator: g }).f32);
    }
  }
  const conv1 = m.getSubmodule('conv1') as Conv2d;
  const conv2 = m.getSubmodule('conv2') as Conv2d;
  const fc1 = m.getSubmodule('fc1') as Linear;
  const fc2 = m.getSubmodule('fc2') as Linear;
  conv1.weight.f32.fill(0, 2 * 25, 3 * 25);
  conv1.bias!.f32[2] = 0.3; // relu(0.3) > 0: a constant the next layer must receive
  fc1.weight.f32.fill(0, 9 * 256, 10 * 256);
  fc1.bias!.f32[9] = 0.25;
  for (let o = 0; o < 10; o++) fc2.weight.f32[o * 64 + 5] = 0;
  const mask = new Float32Array(16 * 8 * 25).fill(1);
  mask.fill(0, 4 * 200, 5 * 200);
  reparametrise(conv2, mask);
  conv2.bias!.f32[4] = 0.2;
  return m;
}

test('f_nz = 0: empty units are removed exactly (constants propagated through pooling, activation and BatchNorm)', () => {
  for (const batchNorm of [false, true]) {
    const m = deadSmallCnn(batchNorm, batchNorm ? 2 : 1);
    m.eval();
    const graph = U.buildUnitGraph(m, [1, 28, 28]);
    const fr = U.nonZeroFractions(m, graph);
    assert.equal(fr.get('conv1')!.inFraction[2], 0);
    assert.equal(fr.get('conv2')!.inFraction[4], 0);
    assert.equal(fr.get('fc1')!.outFraction[5], 0);
    assert.equal(fr.get('fc1')!.inFraction[0], 1);
    // conv1/2's outgoing weights: conv2's input channel 2, where only filter 4 (masked) is zero.
    assert.equal(fr.get('conv1')!.outFraction[2], 15 / 16);
    const x = randn([5, 1, 28, 28], { generator: new Generator(3) });
    const before = forward(m, x);
    const params = m.numParameters();
    const r = U.removeSparseUnits(m, graph);
    assert.deepEqual(r.removed, { conv1: [2], conv2: [4], fc1: [5, 9] });
    assert.deepEqual(r.units.map((u) => `${u.group}/${u.unit}:${u.how}`), ['conv1/2:constant', 'conv2/4:constant', 'fc1/5:no-outgoing', 'fc1/9:constant']);
    assertClose(forward(m, x), before, { rtol: 1e-5, atol: 1e-5, msg: `clean-up is exact (batchNorm ${batchNorm})` });
    const bnParams = batchNorm ? 2 : 0;
    // conv1: 26 + bn, conv2 loses an input channel (16*25) and a filter (7*25+1 + bn), fc1: a channel block (64*16), two units (2*(240+1)), fc2: 2*10.
    const removed = (26 + bnParams) + 16 * 25 + (7 * 25 + 1 + bnParams) + 64 * 16 + 2 * (15 * 16 + 1) + 2 * 10;
    assert.equal(m.numParameters(), params - removed);
    assert.equal(r.shrink!.parametersAfter, params - removed);
    assert.deepEqual(m.stateDict().get('conv2.weight_mask')!.shape, [15, 7, 5, 5]);
  }
});

test('without bias propagation the removal would not be exact (the test can fail)', () => {
  const m = deadSmallCnn(false, 1);
  m.eval();
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  const x = randn([3, 1, 28, 28], { generator: new Generator(4) });
  const before = forward(m, x);
  U.pruneUnits(m, graph, 'conv1', [2], { replacement: 'zero' });
  const after = forward(m, x);
  assert.ok(after.some((v, i) => Math.abs(v - before[i]) > 1e-3));
});

test('f_nz > 0: nearly empty units are mean-replaced with examples, replaced by their bias-only constant without', () => {
  const g = new Generator(5);
  const make = () => {
    const m = buildModel('smallcnn', { generator: new Generator(6) });
    const fc1 = m.getSubmodule('fc1') as Linear;
    // Units 3 and 7 of fc1 keep 10 of their 256 incoming weights.
    for (const u of [3, 7]) fc1.weight.f32.fill(0, u * 256 + 10, (u + 1) * 256);
    m.eval();
    return m;
  };
  const batches = [{ x: randn([20, 1, 28, 28], { generator: g }), y: randint(0, 10, [20], { generator: g }) }];
  const x = randn([4, 1, 28, 28], { generator: g });

  const m1 = make();
  const g1 = U.buildUnitGraph(m1, [1, 28, 28]);
  const stats = U.collectUnitStats(m1, g1, { batches, gradients: false, groups: ['fc1'] });
  const h = U.replaceAtSite(m1, U.getGroup(g1, 'fc1'), 'pre', [3, 7], stats.get('fc1')!.mean);
  const want = forward(m1, x);
  h.remove();
  const r1 = U.removeSparseUnits(m1, g1, { fnz: 0.05, groups: ['fc1'], batches });
  assert.deepEqual(r1.removed, { fc1: [3, 7] });
  assert.ok(r1.units.every((u) => u.how === 'mean'));
  assertClose(forward(m1, x), want, { rtol: 1e-5, atol: 1e-5, msg: 'mean replacement' });

  const m2 = make();
  const g2 = U.buildUnitGraph(m2, [1, 28, 28]);
  const r2 = U.removeSparseUnits(m2, g2, { fnz: 0.05, groups: ['fc1'] });
  assert.ok(r2.units.every((u) => u.how === 'bias-only'));
  assert.equal((m2.getSubmodule('fc1') as Linear).outFeatures, 62);
  // f_nz below their fraction (10/256): nothing removed.
  const m3 = make();
  const r3 = U.removeSparseUnits(m3, U.buildUnitGraph(m3, [1, 28, 28]), { fnz: 0.03 });
  assert.deepEqual(r3.removed, {});
  assert.equal(m3.numParameters(), 20522);
  assert.throws(() => U.removeSparseUnits(m3, U.buildUnitGraph(m3, [1, 28, 28]), { fnz: 2 }), /fnz must be in \[0, 1\]/);
});

test('a padded consumer keeps an empty unit whose constant is not zero, and says why; the last unit of a layer is kept', () => {
  const m = buildModel('resnet20', { generator: new Generator(7) });
  m.eval();
  const graph = U.buildUnitGraph(m, [3, 32, 32]);
  const conv = m.getSubmodule('layer1.0.conv1') as Conv2d;
  const bn = m.getSubmodule('layer1.0.bn1') as BatchNorm2d;
  conv.weight.f32.fill(0, 0, 2 * 16 * 9); // units 0 and 1 empty
  bn.bias!.f32[0] = 0.5; // relu(bn(0)) = 0.5: cannot reach the padded conv2 as a bias
  bn.bias!.f32[1] = -0.5; // relu(-0.5) = 0: removable
  const x = randn([2, 3, 32, 32], { generator: new Generator(8) });
  const before = forward(m, x);
  const r = U.removeSparseUnits(m, graph, { groups: ['layer1.0.conv1'] });
  assert.deepEqual(r.removed, { 'layer1.0.conv1': [1] });
  assert.match(r.units.find((u) => u.unit === 0)!.reason!, /pads its input/);
  assertClose(forward(m, x), before, { rtol: 1e-5, atol: 1e-5 });
  assert.equal(conv.outChannels, 15);

  const l = buildModel('lenet300', { generator: new Generator(9) });
  const fc2 = l.getSubmodule('fc2') as Linear;
  fc2.weight.f32.fill(0);
  const rl = U.removeSparseUnits(l, U.buildUnitGraph(l, [1, 28, 28]), { groups: ['fc2'] });
  assert.equal(rl.removed.fc2.length, 99);
  assert.equal(rl.units.filter((u) => u.how === 'kept').length, 1);
  assert.equal(fc2.outFeatures, 1);
});
