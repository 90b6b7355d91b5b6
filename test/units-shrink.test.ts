/**
 * Physical removal: the shrunk model computes what the masked (mean-replaced)
 * model computed, has fewer parameters, smaller tensors under the same keys,
 * updated layer attributes, and its state dict round-trips through
 * safetensors into a fresh zoo model resized from the tensor shapes. ResNet-20:
 * residual channels are left alone with the reason, the channels inside the
 * blocks are removed, and the model still runs and equals the masked one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, Module, Generator, buildModel, inputShape, randn, rand, randint, noGrad, crossEntropy, BatchNorm2d, Linear, Conv2d, SGD,
  units as U, sparse, setThreads,
} from '../src';
import { parseSafetensors, serializeSafetensors, type SafeTensor, type SafeDtype } from '../src/io/safetensors';
import { assertClose } from './util';

// Single-threaded: these tests run many small forwards, where OpenMP threads on a busy
// shared machine cost more than they save (results do not depend on the thread count).
setThreads(1);

type AnyModule = Module<any[], any>;

function forward(model: AnyModule, x: Tensor): Float32Array {
  return Float32Array.from(noGrad(() => model.call(x) as Tensor).f32);
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

function toSafetensors(model: AnyModule): Uint8Array {
  const dtypes = model.stateDictDtypes();
  const out = new Map<string, SafeTensor>();
  for (const [k, t] of model.stateDict()) {
    const dt = dtypes.get(k)!;
    const dtype: SafeDtype = dt === 'int64' ? 'I64' : 'F32';
    out.set(k, { dtype, shape: [...t.shape], data: dt === 'int64' ? BigInt64Array.from(t.toArray(), (v) => BigInt(v)) : Float32Array.from(t.f32) });
  }
  return serializeSafetensors(out);
}

test('smallcnn (with and without BatchNorm): mean replacement, shrink: equal outputs, 4,019 parameters at the thesis widths, keys kept, checkpoint reloads', () => {
  for (const batchNorm of [false, true]) {
    const g = new Generator(batchNorm ? 21 : 22);
    const m = buildModel('smallcnn', { batchNorm, generator: g });
    randomizeBatchNorm(m, g);
    m.eval();
    const graph = U.buildUnitGraph(m, [1, 28, 28]);
    const batches = [{ x: randn([32, 1, 28, 28], { generator: g }), y: randint(0, 10, [32], { generator: g }) }];
    const stats = U.collectUnitStats(m, graph, { batches });
    const scores = new Map([...stats].map(([k, s]) => [k, s.mrs]));
    // The thesis' final fraction 0.6 per layer: 8 -> 4, 16 -> 7, 64 -> 26 units.
    const chosen = U.selectUnits(m, graph, scores, { fraction: 0.6 });
    for (const [k, units] of chosen) assert.deepEqual(U.pruneUnits(m, graph, k, units, { means: stats.get(k)!.mean }).skipped, []);
    const x = randn([8, 1, 28, 28], { generator: g });
    const masked = forward(m, x);
    const keys = [...m.stateDict().keys()];
    const expected = U.shrunkParameterCount(m, graph);
    assert.equal(expected, batchNorm ? 4019 + 2 * (4 + 7) : 4019);
    const r = U.shrinkModel(m, graph);
    assert.equal(r.parametersAfter, expected);
    assert.equal(m.numParameters(), expected);
    assert.equal(r.parametersBefore, batchNorm ? 20522 + 48 : 20522);
    assert.deepEqual(r.groups, [{ name: 'conv1', before: 8, after: 4 }, { name: 'conv2', before: 16, after: 7 }, { name: 'fc1', before: 64, after: 26 }]);
    assertClose(forward(m, x), masked, { rtol: 1e-5, atol: 1e-5, msg: 'shrunk vs masked' });
    assert.deepEqual([...m.stateDict().keys()], keys);
    const sd = m.stateDict();
    assert.deepEqual(sd.get('conv1.weight')!.shape, [4, 1, 5, 5]);
    assert.deepEqual(sd.get('conv2.weight')!.shape, [7, 4, 5, 5]);
    assert.deepEqual(sd.get('fc1.weight')!.shape, [26, 7 * 16]);
    assert.deepEqual(sd.get('fc2.weight')!.shape, [10, 26]);
    if (batchNorm) for (const k of ['weight', 'bias', 'running_mean', 'running_var']) assert.deepEqual(sd.get(`bn2.${k}`)!.shape, [7]);
    const mm = m as unknown as { conv1: Conv2d; conv2: Conv2d; fc1: Linear; fc2: Linear; bn2?: BatchNorm2d };
    assert.deepEqual([mm.conv1.outChannels, mm.conv2.inChannels, mm.conv2.outChannels, mm.fc1.inFeatures, mm.fc1.outFeatures, mm.fc2.inFeatures], [4, 4, 7, 112, 26, 26]);
    if (batchNorm) assert.equal(mm.bn2!.numFeatures, 7);
    assert.equal(U.getUnitMask(m.getSubmodule(U.getGroup(graph, 'conv1').maskAt)), null, 'masks removed');
    assert.equal(U.getGroup(graph, 'fc1').size, 26, 'graph sizes refreshed');

    // A checkpoint with the smaller shapes loads into a fresh zoo model resized from them.
    const file = parseSafetensors(toSafetensors(m));
    const fresh = buildModel('smallcnn', { batchNorm, generator: new Generator(99) });
    assert.throws(() => fresh.loadStateDict(file.tensors), /size mismatch for conv1.weight/);
    U.loadShrunkStateDict(fresh, U.buildUnitGraph(fresh, [1, 28, 28]), file.tensors);
    fresh.eval();
    assertClose(forward(fresh, x), masked, { rtol: 1e-5, atol: 1e-5, msg: 'reloaded' });
    assert.equal(fresh.numParameters(), expected);

    // The shrunk model trains: a step with the rebuilt optimizer.
    m.train();
    const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
    const loss = crossEntropy(m.call(batches[0].x) as Tensor, batches[0].y);
    loss.backward();
    opt.step();
    assert.ok(Number.isFinite(loss.item()));
  }
});

test('lenet300 and lenet5: zero replacement and shrink; a second round shrinks again', () => {
  for (const name of ['lenet300', 'lenet5']) {
    const g = new Generator(31);
    const m = buildModel(name, { generator: g });
    m.eval();
    const graph = U.buildUnitGraph(m, inputShape(name));
    const x = randn([3, ...inputShape(name)], { generator: g });
    for (const round of [0, 1]) {
      for (const grp of graph.groups.filter((q) => q.prunable)) {
        const units = [0, 1 + round, grp.size - 1].filter((u, i, a) => a.indexOf(u) === i);
        U.pruneUnits(m, graph, grp.name, units, { replacement: 'zero' });
      }
      const masked = forward(m, x);
      const n = U.shrunkParameterCount(m, graph);
      U.shrinkModel(m, graph);
      assert.equal(m.numParameters(), n);
      assertClose(forward(m, x), masked, { rtol: 1e-5, atol: 1e-5, msg: `${name} round ${round}` });
    }
    if (name === 'lenet300') assert.deepEqual(graph.groups.map((q) => q.size), [294, 94, 10]);
    else assert.deepEqual(graph.groups.map((q) => q.size), [14, 44, 494, 10]);
  }
});

test('resnet20: residual channels are left alone with the reason; channels inside blocks are removed; the shrunk model runs and equals the masked one', () => {
  const g = new Generator(41);
  const m = buildModel('resnet20', { generator: g });
  randomizeBatchNorm(m, g);
  m.eval();
  const graph = U.buildUnitGraph(m, [3, 32, 32]);
  const prunable = graph.groups.filter((q) => q.prunable).map((q) => q.name);
  assert.deepEqual(prunable, [1, 2, 3].flatMap((s) => [0, 1, 2].map((b) => `layer${s}.${b}.conv1`)));
  for (const name of ['conv1', 'layer1.0.conv2', 'layer2.0.conv2', 'layer3.2.conv2']) {
    assert.match(U.getGroup(graph, name).reason!, /residual addition/, name);
  }
  assert.match(U.getGroup(graph, 'fc').reason!, /outputs of the model/);
  assert.throws(() => U.pruneUnits(m, graph, 'layer1.0.conv2', [0], { replacement: 'zero' }), /cannot be pruned: .*residual addition/);

  const batches = [{ x: randn([6, 3, 32, 32], { generator: g }), y: randint(0, 10, [6], { generator: g }) }];
  const stats = U.collectUnitStats(m, graph, { batches, gradients: false });
  let meanPruned = 0;
  let skipped = 0;
  for (const name of prunable) {
    const grp = U.getGroup(graph, name);
    const st = stats.get(name)!;
    // Mean replacement where it is exact (relu(mean) = 0), plain removal otherwise.
    const half = [...Array(grp.size).keys()].filter((u) => u % 2 === 0);
    const r = U.pruneUnits(m, graph, name, half, { means: st.mean });
    meanPruned += r.pruned.length;
    skipped += r.skipped.length;
    for (const s of r.skipped) assert.match(s.reason, /pads its input with zeros/);
    U.pruneUnits(m, graph, name, r.skipped.map((s) => s.unit), { replacement: 'zero' });
  }
  assert.ok(meanPruned > 0 && skipped > 0, `both cases occur (${meanPruned} mean, ${skipped} zero)`);
  const x = randn([2, 3, 32, 32], { generator: g });
  const masked = forward(m, x);
  const before = m.numParameters();
  const r = U.shrinkModel(m, graph);
  assert.ok(r.parametersAfter < before * 0.6, `${r.parametersAfter} of ${before}`);
  assertClose(forward(m, x), masked, { rtol: 1e-5, atol: 1e-5, msg: 'resnet20 shrunk vs masked' });
  const b = m.getSubmodule('layer2.1') as unknown as { conv1: Conv2d; bn1: BatchNorm2d; conv2: Conv2d };
  assert.deepEqual([b.conv1.outChannels, b.bn1.numFeatures, b.conv2.inChannels, b.conv2.outChannels], [16, 16, 16, 32]);
  assert.deepEqual(m.stateDict().get('layer2.1.conv2.weight')!.shape, [32, 16, 3, 3]);
  // Training mode forward and backward still work.
  m.train();
  crossEntropy(m.call(batches[0].x) as Tensor, batches[0].y).backward();
  assert.ok(m.parameters().every((p) => p.grad !== null));
});

test('wrn and vgg graphs: the stem of a wide ResNet feeds two consumers; padded consumers keep mean-replaced units unless the constant is 0', () => {
  const w = buildModel('wrn-28-2', { generator: new Generator(1) });
  const gw = U.buildUnitGraph(w, [3, 32, 32]);
  assert.deepEqual(U.getGroup(gw, 'conv1').consumers.map((c) => [c.consumer, c.padded]), [['block1.0.conv1', true], ['block1.0.shortcut', false]]);
  assert.deepEqual(U.getGroup(gw, 'conv1').bns, ['block1.0.bn1']);
  assert.match(U.getGroup(gw, 'block1.0.conv2').reason!, /residual addition/);
  w.eval();
  const x = randn([1, 3, 32, 32], { generator: new Generator(2) });
  U.pruneUnits(w, gw, 'conv1', [0, 3], { replacement: 'zero' });
  U.pruneUnits(w, gw, 'block2.1.conv1', [5], { replacement: 'zero' });
  const masked = forward(w, x);
  U.shrinkModel(w, gw);
  assertClose(forward(w, x), masked, { rtol: 1e-5, atol: 1e-5, msg: 'wrn' });
  assert.deepEqual(w.stateDict().get('block1.0.shortcut.weight')!.shape, [32, 14, 1, 1]);
  assert.deepEqual(w.stateDict().get('block1.0.bn1.running_var')!.shape, [14]);

  const v = buildModel('vgg11', { width: 0.125, generator: new Generator(3) });
  randomizeBatchNorm(v, new Generator(4));
  v.eval();
  const gv = U.buildUnitGraph(v, [3, 32, 32]);
  const last = gv.groups.filter((q) => q.prunable).at(-1)!;
  assert.deepEqual(last.consumers.map((c) => [c.consumer, c.block, c.padded]), [['classifier', 1, false]]);
  const means = Float64Array.from({ length: last.size }, (_, i) => (i % 2 ? 0.5 : -0.5));
  const want = (() => {
    const h = U.replaceAtSite(v, last, 'pre', [0, 1, 2], means);
    try {
      return forward(v, x);
    } finally {
      h.remove();
    }
  })();
  assert.deepEqual(U.pruneUnits(v, gv, last.name, [0, 1, 2], { means }).pruned, [0, 1, 2]);
  assert.deepEqual(U.pruneUnits(v, gv, 'features.0', [1, 2], { means: Float64Array.from({ length: 8 }, () => 1) }).skipped.map((s) => s.unit), [1, 2]);
  U.shrinkModel(v, gv);
  assertClose(forward(v, x), want, { rtol: 1e-5, atol: 1e-5, msg: 'vgg classifier fold' });
});

/** Prunes m.weight with the library's reparametrisation (weight_orig, weight_mask). */
function reparametrise(m: AnyModule, mask: Float32Array): void {
  sparse.prune(m, 'weight', mask);
}

test('composition with weight masks: scores and folds read weight_orig * weight_mask; shrink slices weight_orig and weight_mask', () => {
  const g = new Generator(51);
  const m = buildModel('smallcnn', { generator: g });
  m.eval();
  const fc1 = m.getSubmodule('fc1') as Linear;
  const conv2 = m.getSubmodule('conv2') as Conv2d;
  const mk = (n: number, seed: number) => Float32Array.from(rand([n], { generator: new Generator(seed) }).f32, (v) => (v < 0.5 ? 0 : 1));
  reparametrise(fc1, mk(64 * 256, 1));
  reparametrise(conv2, mk(16 * 8 * 25, 2));
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  U.pruneUnits(m, graph, 'conv1', [0], { replacement: 'zero' });
  const x = randn([4, 1, 28, 28], { generator: g });
  const means = Float64Array.from(rand([16], { generator: g }).f32);
  const want = (() => {
    const h = U.replaceAtSite(m, U.getGroup(graph, 'conv2'), 'pre', [3, 4], means);
    try {
      return forward(m, x);
    } finally {
      h.remove();
    }
  })();
  const l1 = U.normScores(m, graph, 1).get('conv2')!;
  const w2 = U.localTensor(conv2, 'weight_orig')!.f32;
  const m2 = U.localTensor(conv2, 'weight_mask')!.f32;
  const eff = w2.map((v, i) => Math.abs(v * m2[i]));
  assertClose(l1, [...Array(16).keys()].map((u) => eff.subarray(u * 200, (u + 1) * 200).reduce((a, b) => a + b, 0)), { rtol: 1e-6 });
  U.pruneUnits(m, graph, 'conv2', [3, 4], { means });
  assertClose(forward(m, x), want, { rtol: 1e-5, atol: 1e-5, msg: 'fold with masked fc1' });
  const masked = forward(m, x);
  U.shrinkModel(m, graph);
  assertClose(forward(m, x), masked, { rtol: 1e-5, atol: 1e-5 });
  const sd = m.stateDict();
  assert.deepEqual(sd.get('fc1.weight_orig')!.shape, [64, 14 * 16]);
  assert.deepEqual(sd.get('fc1.weight_mask')!.shape, [64, 14 * 16]);
  assert.deepEqual(sd.get('conv2.weight_orig')!.shape, [14, 7, 5, 5]);
  assert.deepEqual(sd.get('conv2.weight_mask')!.shape, [14, 7, 5, 5]);
  assert.ok(!sd.has('fc1.weight'));
  // Reload into a fresh model: resize from weight_orig's shape, reparametrise (as the weight-mask loader does), load.
  const fresh = buildModel('smallcnn', { generator: new Generator(52) });
  const resized = U.resizeToStateDict(fresh, U.buildUnitGraph(fresh, [1, 28, 28]), sd);
  assert.deepEqual(resized, [{ name: 'conv1', before: 8, after: 7 }, { name: 'conv2', before: 16, after: 14 }]);
  reparametrise(fresh.getSubmodule('conv2'), new Float32Array(14 * 7 * 25).fill(1));
  reparametrise(fresh.getSubmodule('fc1'), new Float32Array(64 * 14 * 16).fill(1));
  fresh.loadStateDict(sd);
  fresh.eval();
  assertClose(forward(fresh, x), masked, { rtol: 1e-5, atol: 1e-5, msg: 'reloaded weight-masked checkpoint' });
});

test('shrink errors: every unit of a layer masked', () => {
  const m = buildModel('lenet300', { generator: new Generator(1) });
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  U.setUnitMask(m.getSubmodule('fc2'), new Float32Array(100));
  assert.throws(() => U.shrinkModel(m, graph), /every unit of fc2 is masked/);
  assert.equal(m.numParameters(), 266610, 'nothing changed');
});
