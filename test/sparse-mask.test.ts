/**
 * Masks as reparametrisation (src/sparse/mask.ts): effective weight, gradients
 * through the mask, composition, remove, state-dict keys, export, loading,
 * optimizer masks under momentum / Nesterov / weight decay / Adam / AdamW,
 * validation errors.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, Linear, Conv2d, SGD, Adam, AdamW, buildModel, Generator, crossEntropy, Module, Optimizer,
} from '../src';
import {
  prune, remove, isPruned, getMask, getOrig, prunedParameters, applyMasksToOptimizer, effectiveStateDict,
  effectiveStateDictDtypes, loadPrunedStateDict, removeAll, effectiveValues,
} from '../src/sparse/mask';
import { snapshotPruning, restorePruning, withPruningUndone } from '../src/sparse/trial';
import { pruneModel } from '../src/sparse/pruner';
import { assertClose, seededArray } from './util';
import { throwsST } from './ops-helpers';

function maskEvery(n: number, k: number, offset = 0): Float32Array {
  const m = new Float32Array(n).fill(1);
  for (let i = offset; i < n; i += k) m[i] = 0;
  return m;
}

function input(shape: number[], seed: number): Tensor {
  return new Tensor(seededArray(shape.reduce((a, b) => a * b, 1), seed), shape, 'float32');
}

test('prune: weight_orig is the same tensor, weight_mask a buffer, weight = orig * mask', () => {
  const lin = new Linear(5, 3, { generator: new Generator(1) });
  const w = lin.weight;
  const m = maskEvery(15, 3);
  const buf = prune(lin, 'weight', m);
  assert.equal(lin.getParameter('weight_orig'), w);
  assert.equal(lin.getBuffer('weight_mask'), buf);
  assert.deepEqual([...lin.stateDict().keys()], ['weight_orig', 'bias', 'weight_mask']);
  assert.deepEqual(lin.namedParameters().map(([k]) => k), ['weight_orig', 'bias']);
  assert.ok(isPruned(lin, 'weight'));
  assert.ok(!isPruned(lin, 'bias'));
  assert.equal(getOrig(lin, 'weight'), w);
  assert.deepEqual([...getMask(lin, 'weight')!.data], [...m]);
  const expect = Array.from(w.data as Float32Array, (v, i) => v * m[i]);
  assert.deepEqual([...(lin.weight.data as Float32Array)], expect);
  assert.ok(!lin.parameters().includes(lin.weight));
  // The forward uses orig * mask, recomputed after the orig changes.
  (w.data as Float32Array)[1] = 5;
  const x = input([2, 5], 3);
  const y = lin.call(x);
  const ref = new Linear(5, 3);
  (ref.weight.data as Float32Array).set(effectiveValues(lin, 'weight'));
  (ref.bias!.data as Float32Array).set(lin.bias!.data as Float32Array);
  assert.equal((lin.weight.data as Float32Array)[1], 5);
  assertClose(y.data as Float32Array, ref.call(x).data as Float32Array);
});

test('prune: gradients reach orig through the mask (zero where pruned)', () => {
  const conv = new Conv2d(2, 3, 3, { generator: new Generator(2) });
  const m = maskEvery(conv.weight.numel, 4, 1);
  prune(conv, 'weight', m);
  const x = input([2, 2, 5, 5], 4);
  const loss = conv.call(x).square().sum();
  loss.backward();
  const orig = getOrig(conv, 'weight');
  const g = orig.grad!.data as Float32Array;
  // Reference: an unpruned conv with weight = orig * mask; its gradient times the mask.
  const ref = new Conv2d(2, 3, 3);
  (ref.weight.data as Float32Array).set(effectiveValues(conv, 'weight'));
  (ref.bias!.data as Float32Array).set(conv.bias!.data as Float32Array);
  ref.call(x).square().sum().backward();
  const gr = ref.weight.grad!.data as Float32Array;
  for (let i = 0; i < g.length; i++) {
    if (m[i] === 0) assert.ok(g[i] === 0, `masked entry ${i} got gradient ${g[i]}`);
  }
  assertClose(g, Array.from(gr, (v, i) => v * m[i]), { rtol: 1e-5, atol: 1e-6 });
  assertClose(conv.bias!.grad!.data as Float32Array, ref.bias!.grad!.data as Float32Array, { rtol: 1e-5, atol: 1e-6 });
});

test('prune twice: masks multiply (acts only on still-unpruned entries)', () => {
  const lin = new Linear(4, 2);
  prune(lin, 'weight', [0, 0, 1, 1, 1, 1, 1, 1]);
  const buf = getMask(lin, 'weight')!;
  const again = prune(lin, 'weight', [1, 0, 0, 1, 1, 1, 1, 0]);
  assert.equal(again, buf, 'the same buffer is updated in place');
  assert.deepEqual([...buf.data], [0, 0, 0, 1, 1, 1, 1, 0]);
  assert.deepEqual([...lin.stateDict().keys()], ['weight_orig', 'bias', 'weight_mask']);
  const w = getOrig(lin, 'weight').data as Float32Array;
  assert.deepEqual([...(lin.weight.data as Float32Array)], Array.from(w, (v, i) => v * (buf.data as Float32Array)[i]));
});

test('remove: a plain parameter again, same tensor, orig * mask, original key order', () => {
  const lin = new Linear(3, 2, { generator: new Generator(5) });
  const w = lin.weight;
  const before = Float32Array.from(w.data as Float32Array);
  prune(lin, 'weight', [1, 0, 1, 0, 1, 1]);
  remove(lin, 'weight');
  assert.equal(lin.weight, w);
  assert.ok(!isPruned(lin, 'weight'));
  assert.equal(getMask(lin, 'weight'), null);
  assert.deepEqual([...lin.stateDict().keys()], ['weight', 'bias']);
  assert.deepEqual([...(w.data as Float32Array)], Array.from(before, (v, i) => v * [1, 0, 1, 0, 1, 1][i] + 0));
  assert.ok(lin.parameters().includes(w));
  // The hook is gone: changing the weight changes the output directly.
  (w.data as Float32Array)[1] = 2;
  const x = input([1, 3], 1);
  const y = lin.call(x).data as Float32Array;
  const d = w.data as Float32Array;
  const xd = x.data as Float32Array;
  const b = lin.bias!.data as Float32Array;
  assertClose(y, [d[0] * xd[0] + d[1] * xd[1] + d[2] * xd[2] + b[0], d[3] * xd[0] + d[4] * xd[1] + d[5] * xd[2] + b[1]]);
  // Pruning again after remove works.
  prune(lin, 'weight', [0, 1, 1, 1, 1, 1]);
  assert.equal((lin.weight.data as Float32Array)[0], 0);
});

test('model-level: dotted names, state-dict keys as torch, effectiveStateDict loads into an unpruned model', () => {
  const model = buildModel('lenet300', { generator: new Generator(7) });
  const keys = [...model.stateDict().keys()];
  const params = model.parameters();
  prune(model, 'fc1.weight', maskEvery(300 * 784, 2));
  prune(model.getSubmodule('fc3'), 'weight', maskEvery(1000, 3));
  const sdKeys = [...model.stateDict().keys()];
  assert.deepEqual(sdKeys, ['fc1.weight_orig', 'fc1.bias', 'fc1.weight_mask', 'fc2.weight', 'fc2.bias', 'fc3.weight_orig', 'fc3.bias', 'fc3.weight_mask']);
  // The same parameter objects in the same order (optimizer state dicts are positional).
  assert.deepEqual(model.parameters(), params);
  assert.equal(model.getParameter('fc1.weight_orig').name, 'fc1.weight_orig');
  assert.equal(model.getBuffer('fc1.weight_mask').name, 'fc1.weight_mask');
  assert.deepEqual(prunedParameters(model).map((p) => p.key), ['fc1.weight', 'fc3.weight']);
  const eff = effectiveStateDict(model);
  assert.deepEqual([...eff.keys()].sort(), [...keys].sort());
  for (const k of ['fc1.weight', 'fc3.weight']) {
    const o = model.getParameter(`${k}_orig`).data as Float32Array;
    const m = model.getBuffer(`${k}_mask`).data as Float32Array;
    assert.deepEqual([...(eff.get(k)!.data as Float32Array)], Array.from(o, (v, i) => v * m[i] + 0));
  }
  assert.deepEqual([...effectiveStateDictDtypes(model).keys()], [...eff.keys()]);
  const fresh = buildModel('lenet300');
  fresh.loadStateDict(eff);
  const x = input([3, 1, 28, 28], 9);
  assertClose(fresh.call(x).data as Float32Array, model.call(x).data as Float32Array, { rtol: 1e-5, atol: 1e-6 });
});

test('loadPrunedStateDict: a fresh model takes a pruned checkpoint (and a wrong one changes nothing)', () => {
  const model = buildModel('smallcnn', { generator: new Generator(8) });
  prune(model, 'conv1.weight', maskEvery(200, 2));
  prune(model, 'fc1.weight', maskEvery(256 * 64, 5));
  const sd = model.stateDict();
  const fresh = buildModel('smallcnn', { generator: new Generator(9) });
  assert.throws(() => fresh.loadStateDict(sd), /unexpected key/);
  loadPrunedStateDict(fresh, sd);
  assert.deepEqual([...fresh.stateDict().keys()], [...sd.keys()]);
  assert.deepEqual([...getMask(fresh, 'fc1.weight')!.data], [...getMask(model, 'fc1.weight')!.data]);
  const x = input([2, 1, 28, 28], 10);
  assertClose(fresh.call(x).data as Float32Array, model.call(x).data as Float32Array, { rtol: 1e-5, atol: 1e-6 });
  // A bad mask value or a shape mismatch leaves the fresh model untouched.
  const other = buildModel('smallcnn');
  const bad = new Map(sd);
  bad.set('conv1.weight_mask', new Tensor(new Float32Array(200).fill(2), [8, 1, 5, 5], 'float32'));
  throwsST(() => loadPrunedStateDict(other, bad), 'ERR_ARGUMENT', /0 or 1/);
  const badShape = new Map(sd);
  badShape.set('fc2.bias', new Tensor(new Float32Array(3), [3], 'float32'));
  assert.throws(() => loadPrunedStateDict(other, badShape), /size mismatch/);
  assert.equal(prunedParameters(other).length, 0);
  assert.deepEqual([...other.stateDict().keys()], [...buildModel('smallcnn').stateDict().keys()]);
  // An unpruned entry for a pruned parameter is an error that says what to do.
  throwsST(() => loadPrunedStateDict(model, effectiveStateDict(model)), 'ERR_ARGUMENT', /remove\(model/);
});

test('removeAll: every pruning permanent, keys as the unpruned model', () => {
  const model = buildModel('lenet5', { generator: new Generator(3) });
  const keys = [...model.stateDict().keys()];
  prune(model, 'conv2.weight', maskEvery(50 * 20 * 25, 2));
  prune(model, 'fc2.weight', maskEvery(5000, 2));
  const eff = effectiveStateDict(model);
  removeAll(model);
  assert.deepEqual([...model.stateDict().keys()], keys);
  for (const [k, t] of eff) assert.deepEqual([...(model.stateDict().get(k)!.data as Float32Array)], [...(t.data as Float32Array)], k);
});

test('validation: shapes, values, names and state', () => {
  const lin = new Linear(3, 2, { bias: false });
  throwsST(() => prune(lin, 'weight', [1, 0, 1]), 'ERR_SHAPE', /3 values.*has 6/);
  throwsST(() => prune(lin, 'weight', new Tensor(new Float32Array(6).fill(1), [3, 2], 'float32')), 'ERR_SHAPE', /\[3,2\].*\[2,3\]/);
  throwsST(() => prune(lin, 'weight', [1, 0, 1, 0.5, 1, 1]), 'ERR_ARGUMENT', /0 or 1, got 0.5 at flat index 3/);
  throwsST(() => prune(lin, 'weight', [1, 0, 1, NaN, 1, 1]), 'ERR_ARGUMENT', /0 or 1/);
  throwsST(() => prune(lin, 'bias', [1, 1]), 'ERR_ARGUMENT', /registered as null/);
  throwsST(() => prune(lin, 'nothing', [1]), 'ERR_ARGUMENT', /not a parameter/);
  throwsST(() => prune(lin, 'sub.weight', [1]), 'ERR_ARGUMENT', /no submodule "sub"/);
  throwsST(() => remove(lin, 'weight'), 'ERR_ARGUMENT', /is not pruned/);
  assert.equal(prunedParameters(lin).length, 0, 'failed calls changed nothing');
  prune(lin, 'weight', [1, 1, 1, 1, 1, 1]);
  throwsST(() => prune(lin, 'weight', [1, 1]), 'ERR_SHAPE', /2 values/);
  const bn = buildModel('smallcnn', { batchNorm: true });
  throwsST(() => prune(bn, 'bn1.running_mean', new Float32Array(8).fill(1)), 'ERR_ARGUMENT', /a buffer, not a parameter/);
});

// ---- pruned weights stay exactly zero through the optimizers ---------------------------

function trainSteps(model: Module, opt: Optimizer<object>, steps: number, seed: number): void {
  for (let s = 0; s < steps; s++) {
    const x = input([4, 1, 28, 28], seed * 100 + s);
    const y = new Tensor(Int32Array.from([s % 10, (s + 3) % 10, (s + 5) % 10, (s + 7) % 10]), [4], 'int32');
    opt.zeroGrad();
    crossEntropy(model.call(x), y).backward();
    opt.step();
  }
}

const OPTIMIZERS: [string, (ps: Tensor[]) => Optimizer<object>][] = [
  ['SGD momentum+nesterov+weight decay', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }) as Optimizer<object>],
  ['SGD momentum+dampening+weight decay', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.05 }) as Optimizer<object>],
  ['Adam+L2', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.01 }) as Optimizer<object>],
  ['AdamW amsgrad', (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1, amsgrad: true }) as Optimizer<object>],
];

for (const [name, make] of OPTIMIZERS) {
  test(`pruned weights stay exactly zero over many steps: ${name}`, () => {
    const model = buildModel('smallcnn', { generator: new Generator(11) });
    const opt = make(model.parameters());
    // Train a little first so momentum / moments are non-zero when pruning starts.
    trainSteps(model, opt, 3, 1);
    prune(model, 'conv1.weight', maskEvery(200, 3));
    prune(model, 'fc1.weight', maskEvery(256 * 64, 2, 1));
    assert.deepEqual(applyMasksToOptimizer(model, opt), ['conv1.weight', 'fc1.weight']);
    trainSteps(model, opt, 10, 2);
    // A second pruning mid-training, synced again.
    prune(model, 'fc1.weight', maskEvery(256 * 64, 7));
    prune(model, 'fc2.weight', maskEvery(640, 2));
    applyMasksToOptimizer(model, opt);
    const trained = Float32Array.from(getOrig(model, 'fc2.weight').data as Float32Array);
    trainSteps(model, opt, 15, 3);
    for (const p of prunedParameters(model)) {
      const m = p.mask.data as Float32Array;
      const o = p.orig.data as Float32Array;
      const eff = effectiveValues(model, p.key);
      const state = opt.state.get(p.orig)!;
      const bufs = Object.entries(state).filter((e): e is [string, Float32Array] => e[1] instanceof Float32Array);
      assert.ok(bufs.length > 0, `${name}: optimizer state buffers exist`);
      let zeros = 0;
      const bad: string[] = [];
      for (let i = 0; i < m.length; i++) {
        if (m[i] !== 0) continue;
        zeros++;
        if (o[i] !== 0) bad.push(`${p.key}_orig[${i}] = ${o[i]}`);
        if (!Object.is(eff[i], 0)) bad.push(`effective ${p.key}[${i}] = ${eff[i]} (want +0)`);
        for (const [k, v] of bufs) if (v[i] !== 0) bad.push(`${p.key} state ${k}[${i}] = ${v[i]}`);
      }
      assert.deepEqual(bad.slice(0, 5), [], name);
      assert.ok(zeros > 0);
    }
    // Unmasked entries did train.
    const now = getOrig(model, 'fc2.weight').data as Float32Array;
    const m2 = getMask(model, 'fc2.weight')!.data as Float32Array;
    let moved = 0;
    for (let i = 0; i < now.length; i++) if (m2[i] === 1 && now[i] !== trained[i]) moved++;
    assert.ok(moved > now.length / 4, `only ${moved} unmasked weights moved`);
    // The effective state dict has the zeros.
    const eff = effectiveStateDict(model).get('conv1.weight')!.data as Float32Array;
    for (let i = 0; i < 200; i += 3) assert.equal(eff[i], 0);
  });
}

test('without optimizer masks the effective weight is still zero (orig drifts under weight decay)', () => {
  const model = buildModel('smallcnn', { generator: new Generator(12) });
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 0.1 }) as Optimizer<object>;
  trainSteps(model, opt, 2, 4);
  prune(model, 'conv2.weight', maskEvery(16 * 8 * 25, 2));
  trainSteps(model, opt, 4, 5);
  const eff = effectiveValues(model, 'conv2.weight');
  const o = getOrig(model, 'conv2.weight').data as Float32Array;
  let drift = 0;
  for (let i = 0; i < eff.length; i += 2) {
    assert.ok(eff[i] === 0);
    if (o[i] !== 0) drift++;
  }
  assert.ok(drift > 0, 'orig keeps its (decaying) values without optimizer masks, as torch');
});

test('remove keeps the optimizer mask: a permanently pruned weight stays zero while training', () => {
  const model = buildModel('lenet300', { generator: new Generator(13) });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) as Optimizer<object>;
  prune(model, 'fc2.weight', maskEvery(30000, 2));
  applyMasksToOptimizer(model, opt);
  remove(model, 'fc2.weight');
  trainSteps(model, opt, 5, 6);
  const w = model.getParameter('fc2.weight').data as Float32Array;
  for (let i = 0; i < w.length; i += 2) assert.ok(w[i] === 0);
  opt.setMask(model.getParameter('fc2.weight'), null);
  trainSteps(model, opt, 2, 7);
  let regrown = 0;
  for (let i = 0; i < w.length; i += 2) if (w[i] !== 0) regrown++;
  assert.ok(regrown > 0);
});

test('trial pruning undone: masks, keys, values and optimizer masks as before (also after a throw)', () => {
  const model = buildModel('lenet5', { generator: new Generator(14) });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) as Optimizer<object>;
  prune(model, 'conv1.weight', maskEvery(500, 2));
  applyMasksToOptimizer(model, opt);
  const sd = model.stateDict();
  const copy = new Map([...sd].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
  const optMasks = model.parameters().map((p) => opt.getMask(p));
  const result = withPruningUndone(model, () => {
    pruneModel(model, { selection: { scope: 'global', amount: { sparsity: 0.8 } }, optimizer: opt });
    remove(model, 'conv1.weight');
    trainSteps(model, opt, 2, 8);
    return 42;
  }, opt);
  assert.equal(result, 42);
  const after = model.stateDict();
  assert.deepEqual([...after.keys()], [...sd.keys()]);
  for (const [k, v] of copy) assert.deepEqual([...(after.get(k)!.data as Float32Array)], [...v], k);
  assert.deepEqual(model.parameters().map((p) => opt.getMask(p)), optMasks);
  const x = input([2, 1, 28, 28], 3);
  const snap = snapshotPruning(model);
  const y0 = Float32Array.from(model.call(x).data as Float32Array);
  assert.throws(() => withPruningUndone(model, () => {
    prune(model, 'fc1.weight', new Float32Array(400000));
    throw new Error('boom');
  }), /boom/);
  assert.ok(!isPruned(model, 'fc1.weight'));
  assert.deepEqual([...(model.call(x).data as Float32Array)], [...y0]);
  restorePruning(model, snap);
  throwsST(() => restorePruning(buildModel('lenet5'), snap), 'ERR_ARGUMENT', /another model/);
});
