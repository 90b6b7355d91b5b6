/**
 * Bias propagation is exact: the model with units' outputs replaced by
 * constants (a forward hook at the site) computes the same outputs as the
 * model after pruneUnits (constants folded into the consumers' biases, units
 * masked), for Linear -> Linear, Conv -> pool -> act -> Conv (no padding),
 * Conv -> pool -> act -> flatten -> Linear, with BatchNorm (both modes for the
 * default site), for the 'layer' and 'post' sites, and without activation
 * (LeNet-5). Padded consumers refuse a non-zero constant, with the reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Generator, buildModel, inputShape, randn, rand, noGrad, BatchNorm2d, units as U, setThreads } from '../src';
import type { UnitSite } from '../src/sparse/units';
import { assertClose } from './util';

// Single-threaded: these tests run many small forwards, where OpenMP threads on a busy
// shared machine cost more than they save (results do not depend on the thread count).
setThreads(1);

type AnyModule = Module<any[], any>;

interface Replacement { group: string; units: number[]; values: Float64Array }

function forward(model: AnyModule, x: Tensor): Float32Array {
  return Float32Array.from(noGrad(() => model.call(x) as Tensor).f32);
}

/** Output with the units' site outputs replaced by constants. */
function replacedOutput(model: AnyModule, graph: U.UnitGraph, x: Tensor, reps: Replacement[], site: UnitSite): Float32Array {
  const hs = reps.map((r) => U.replaceAtSite(model, U.getGroup(graph, r.group), site, r.units, r.values));
  try {
    return forward(model, x);
  } finally {
    hs.forEach((h) => h.remove());
  }
}

/** Arbitrary constants per unit: positive and negative (relu(negative) = 0 exercises the zero fold too). */
function constants(n: number, g: Generator): Float64Array {
  return Float64Array.from(rand([n], { generator: g, low: -1, high: 2 }).f32);
}

function randomizeBatchNorm(model: AnyModule, g: Generator): void {
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const C = m.numFeatures;
    m.running_mean!.f32.set(randn([C], { generator: g }).f32);
    m.running_var!.f32.set(rand([C], { generator: g, low: 0.5, high: 2 }).f32);
    m.weight!.f32.set(rand([C], { generator: g, low: 0.5, high: 1.5 }).f32);
    m.bias!.f32.set(randn([C], { generator: g }).f32);
  }
}

/** Replaces `reps` at `site`, prunes them with mean replacement, and compares (eval mode unless train). */
function checkExact(model: AnyModule, reps: Replacement[], site: UnitSite, opts: { train?: boolean; n?: number; seed?: number } = {}): U.UnitGraph {
  const shape = (model as { __shape?: number[] }).__shape!;
  const graph = U.buildUnitGraph(model, shape);
  const x = randn([opts.n ?? 4, ...shape], { generator: new Generator(opts.seed ?? 9) });
  model.train(!!opts.train);
  const want = replacedOutput(model, graph, x, reps, site);
  const plain = forward(model, x);
  for (const r of reps) {
    const res = U.pruneUnits(model, graph, r.group, r.units, { means: r.values, site });
    assert.deepEqual(res.skipped, [], `${r.group} skipped`);
    assert.deepEqual(res.pruned, r.units);
  }
  const got = forward(model, x);
  assertClose(got, want, { rtol: 1e-5, atol: 1e-5, msg: `site ${site}` });
  // The replacement did change the output (the test can fail).
  assert.ok(want.some((v, i) => Math.abs(v - plain[i]) > 1e-4), 'replacing the units changes the output');
  return graph;
}

function zoo(name: string, o: Record<string, unknown> = {}, seed = 1): AnyModule {
  const m = buildModel(name, { ...o, generator: new Generator(seed) });
  (m as { __shape?: number[] }).__shape = inputShape(name);
  return m;
}

test('Linear -> relu -> Linear (lenet300): folding into the next bias equals replacing the units', () => {
  const g = new Generator(4);
  const m = zoo('lenet300');
  checkExact(m, [{ group: 'fc1', units: [0, 5, 17, 299], values: constants(300, g) }, { group: 'fc2', units: [3, 99], values: constants(100, g) }], 'pre');
});

test('smallcnn (relu and tanh): conv -> maxpool -> act -> conv, conv -> maxpool -> act -> flatten -> fc1, fc1 -> act -> fc2', () => {
  for (const act of ['relu', 'tanh']) {
    const g = new Generator(act === 'relu' ? 1 : 2);
    const m = zoo('smallcnn', { act });
    const graph = checkExact(m, [
      { group: 'conv1', units: [0, 3, 6], values: constants(8, g) },
      { group: 'conv2', units: [1, 2, 9, 15], values: constants(16, g) },
      { group: 'fc1', units: [7, 40], values: constants(64, g) },
    ], 'pre');
    assert.deepEqual([...U.getUnitMask(m.getSubmodule('conv1'))!], [0, 1, 1, 0, 1, 1, 0, 1]);
    // The masked units output exactly zero.
    const seen: Tensor[] = [];
    const h = m.getSubmodule('conv2').registerForwardHook((_m, _i, out) => { seen.push(out as Tensor); });
    forward(m, randn([2, 1, 28, 28], { generator: g }));
    h.remove();
    const P = 8 * 8;
    for (const u of [1, 2, 9, 15]) for (let k = 0; k < 2; k++) for (let p = 0; p < P; p++) assert.ok(seen[0].f32[(k * 16 + u) * P + p] === 0);
    assert.ok(graph.groups.find((x) => x.name === 'fc2')!.reason!.includes('outputs of the model'));
  }
});

test('smallcnn with BatchNorm: site pre (after BN) exact in eval and training mode; site layer (before BN) through the eval transform', () => {
  for (const [site, train] of [['pre', false], ['pre', true], ['layer', false]] as [UnitSite, boolean][]) {
    const g = new Generator(site === 'layer' ? 5 : train ? 6 : 7);
    const m = zoo('smallcnn', { batchNorm: true });
    randomizeBatchNorm(m, g);
    const graph = checkExact(m, [
      { group: 'conv1', units: [1, 4], values: constants(8, g) },
      { group: 'conv2', units: [0, 7, 8], values: constants(16, g) },
    ], site, { train, n: 6 });
    assert.deepEqual(U.getGroup(graph, 'conv1').bns, ['bn1']);
    assert.equal(U.getGroup(graph, 'conv2').maskAt, 'bn2');
  }
});

test("site 'post': the mean after the non-linearity is fed as is", () => {
  const g = new Generator(8);
  const m = zoo('smallcnn');
  checkExact(m, [{ group: 'conv2', units: [2, 3], values: constants(16, g).map(Math.abs) }, { group: 'fc1', units: [1], values: constants(64, g).map(Math.abs) }], 'post');
});

test('LeNet-5 (no activation after the convolutions): conv -> maxpool -> conv and conv -> maxpool -> flatten -> fc1', () => {
  const g = new Generator(10);
  const m = zoo('lenet5');
  checkExact(m, [{ group: 'conv1', units: [0, 19], values: constants(20, g) }, { group: 'conv2', units: [5, 6, 49], values: constants(50, g) }], 'pre', { n: 2 });
});

test('means from collectUnitStats: pruning with them equals the mean-replaced model', () => {
  const g = new Generator(12);
  const m = zoo('smallcnn');
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  const batches = [{ x: randn([16, 1, 28, 28], { generator: g }), y: new Tensor(Int32Array.from({ length: 16 }, (_, i) => i % 10), [16], 'int32') }];
  const stats = U.collectUnitStats(m, graph, { batches, gradients: false });
  const x = batches[0].x;
  const reps = ['conv1', 'conv2', 'fc1'].map((k) => ({ group: k, units: [1, 2], values: stats.get(k)!.mean }));
  m.eval();
  const want = replacedOutput(m, graph, x, reps, 'pre');
  for (const r of reps) U.pruneUnits(m, graph, r.group, r.units, { means: r.values });
  assertClose(forward(m, x), want, { rtol: 1e-5, atol: 1e-5 });
});

test('padded consumers take no constant: such units are skipped with the reason, unless the constant reaching them is 0; zero replacement always prunes', () => {
  const m = zoo('resnet20');
  m.eval();
  const graph = U.buildUnitGraph(m, [3, 32, 32]);
  const means = new Float64Array(16);
  means[0] = 0.7; // relu(0.7) != 0: cannot be folded into a padded convolution
  means[1] = -0.4; // relu(-0.4) = 0: nothing to fold
  const r = U.pruneUnits(m, graph, 'layer1.0.conv1', [0, 1], { means });
  assert.deepEqual(r.pruned, [1]);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0].unit, 0);
  assert.match(r.skipped[0].reason, /pads its input with zeros/);
  assert.deepEqual(U.pruneUnits(m, graph, 'layer1.0.conv1', [0, 2], { replacement: 'zero' }).pruned, [0, 2]);
  assert.deepEqual([...U.getUnitMask(m.getSubmodule('layer1.0.bn1'))!].slice(0, 4), [0, 0, 0, 1]);
});

test('pruneUnits argument errors', () => {
  const m = zoo('smallcnn');
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  assert.throws(() => U.pruneUnits(m, graph, 'fc2', [0], { replacement: 'zero' }), /cannot be pruned: fc2's units are outputs of the model/);
  assert.throws(() => U.pruneUnits(m, graph, 'conv9', [0]), /no unit group "conv9"; groups: conv1, conv2, fc1, fc2/);
  assert.throws(() => U.pruneUnits(m, graph, 'conv1', [8], { replacement: 'zero' }), /out of range 0..7/);
  assert.throws(() => U.pruneUnits(m, graph, 'conv1', [1]), /needs means for the 8 units/);
  assert.throws(() => U.pruneUnits(m, graph, 'conv1', [1], { replacement: 'median' as 'mean' }), /replacement must be 'mean' or 'zero'/);
  U.pruneUnits(m, graph, 'conv1', [1], { replacement: 'zero' });
  assert.throws(() => U.pruneUnits(m, graph, 'conv1', [1], { replacement: 'zero' }), /already pruned/);
  assert.throws(() => U.setUnitMask(m.getSubmodule('conv1'), [1, 0.5]), /0 or 1/);
});
