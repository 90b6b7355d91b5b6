/**
 * Selection (src/sparse/select.ts) and one pruning event (pruner.ts): targets,
 * per-layer / per-kind / global scopes with exact counts and ties, fractions of
 * the remaining weights vs sparsity targets, thresholds, validation; the
 * sparsity report.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Conv2d, Linear, Generator, buildModel, SGD, flatten } from '../src';
import { prune, getMask, effectiveValues, getOrig, isPruned } from '../src/sparse/mask';
import {
  findTargets, selectMasks, applyMasks, roundHalfEven, pruneCount, selectionGroups, PruneTarget, ScoreMap, Selection,
} from '../src/sparse/select';
import { pruneModel } from '../src/sparse/pruner';
import { sparsityReport, formatSparsityReport, sparsityMetrics } from '../src/sparse/report';
import { seededArray } from './util';
import { throwsST } from './ops-helpers';

class Net extends Module {
  declare c1: Conv2d;
  declare c2: Conv2d;
  declare f1: Linear;
  declare f2: Linear;
  constructor() {
    super();
    const g = new Generator(1);
    this.registerModule('c1', new Conv2d(1, 2, 2, { generator: g })); // 8 weights
    this.registerModule('c2', new Conv2d(2, 2, 2, { generator: g })); // 16
    this.registerModule('f1', new Linear(8, 4, { generator: g })); // 32
    this.registerModule('f2', new Linear(4, 3, { generator: g })); // 12
  }
  forward(x: Tensor): Tensor {
    return this.f2.call(this.f1.call(flatten(this.c2.call(this.c1.call(x)), 1)));
  }
}

const zeros = (m: Float32Array) => m.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);

/** Reference: prune the k lowest of the still-1 entries, ties by (array order, index). */
function refLowest(scores: Float32Array[], masks: Float32Array[], k: number): Float32Array[] {
  const out = masks.map((m) => Float32Array.from(m));
  const cand: [number, number, number][] = [];
  scores.forEach((s, a) => s.forEach((v, i) => { if (masks[a][i] === 1) cand.push([v, a, i]); }));
  cand.sort((p, q) => p[0] - q[0] || p[1] - q[1] || p[2] - q[2]);
  for (const [, a, i] of cand.slice(0, k)) out[a][i] = 0;
  return out;
}

function intScores(targets: PruneTarget[], seed: number, levels: number): ScoreMap {
  return new Map(targets.map((t, a) => [t.key, Float32Array.from(seededArray(t.numel, seed + a, 0, levels), Math.floor)]));
}

test('targets: Linear and Conv2d weights in module order, kinds, keys, exclude', () => {
  const m = buildModel('smallcnn', { batchNorm: true });
  const ts = findTargets(m);
  assert.deepEqual(ts.map((t) => [t.key, t.kind, t.numel]), [
    ['conv1.weight', 'conv', 200], ['conv2.weight', 'conv', 3200], ['fc1.weight', 'fc', 16384], ['fc2.weight', 'fc', 640],
  ]);
  assert.deepEqual(findTargets(m, { kinds: ['fc'] }).map((t) => t.key), ['fc1.weight', 'fc2.weight']);
  assert.deepEqual(findTargets(m, { keys: ['fc2.weight', 'conv1.weight'] }).map((t) => t.key), ['conv1.weight', 'fc2.weight']);
  assert.deepEqual(findTargets(m, { exclude: ['conv1.weight'] }).map((t) => t.key), ['conv2.weight', 'fc1.weight', 'fc2.weight']);
  throwsST(() => findTargets(m, { keys: ['bn1.weight'] }), 'ERR_ARGUMENT', /"bn1.weight" is not the weight of a Linear or Conv2d.*prunable: conv1.weight/);
  throwsST(() => findTargets(m, { kinds: ['bn' as 'fc'] }), 'ERR_ARGUMENT', /unknown layer kind/);
  prune(m, 'fc1.weight', new Float32Array(16384).fill(1));
  assert.equal(findTargets(m)[2].key, 'fc1.weight', 'a pruned weight is still a target under its own key');
});

test('round half to even and counts: fraction of the remaining, sparsity of the total, count', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4, 2.6, 3.5, 0].map(roundHalfEven), [0, 2, 2, 2, 3, 4, 0]);
  assert.equal(pruneCount('t', { fraction: 0.5 }, 100, 60), 30);
  assert.equal(pruneCount('t', { fraction: 0.25 }, 100, 10), 2); // 2.5 -> 2
  assert.equal(pruneCount('t', { sparsity: 0.5 }, 100, 60), 10);
  assert.equal(pruneCount('t', { sparsity: 0.3 }, 100, 60), 0, 'never un-prunes');
  assert.equal(pruneCount('t', { count: 60 }, 100, 60), 60);
  assert.equal(pruneCount('t', { threshold: 0.1 }, 100, 60), null);
  throwsST(() => pruneCount('t', { count: 61 }, 100, 60), 'ERR_ARGUMENT', /count 61 exceeds the 60 still-unpruned/);
});

test('per layer: each layer its own exact count; ties by index; repeated fractions act on what is left', () => {
  const net = new Net();
  const ts = findTargets(net);
  const scores: ScoreMap = new Map(ts.map((t) => [t.key, new Float32Array(t.numel).fill(1)])); // all tied
  const m1 = selectMasks(ts, scores, { scope: 'layer', amount: { fraction: 0.25 } });
  assert.deepEqual(ts.map((t) => zeros(m1.get(t.key)!)), [2, 4, 8, 3]);
  assert.deepEqual([...m1.get('c1.weight')!], [0, 0, 1, 1, 1, 1, 1, 1], 'ties: lower index first');
  applyMasks(net, m1);
  const m2 = selectMasks(ts, scores, { scope: 'layer', amount: { fraction: 0.5 } });
  // 0.5 of the remaining 6, 12, 24, 9 -> 3, 6, 12, 4 (4.5 rounds to even)
  assert.deepEqual(ts.map((t) => zeros(m2.get(t.key)!)), [5, 10, 20, 7]);
  assert.deepEqual([...m2.get('c1.weight')!], [0, 0, 0, 0, 0, 1, 1, 1]);
  // A sparsity target counts the total; a lower one than reached changes nothing.
  applyMasks(net, m2);
  const m3 = selectMasks(ts, scores, { scope: 'layer', amount: { sparsity: 0.5 } });
  assert.deepEqual(ts.map((t) => zeros(m3.get(t.key)!)), [5, 10, 20, 7]);
  const m4 = selectMasks(ts, scores, { scope: 'layer', amount: { sparsity: 0.9 } });
  assert.deepEqual(ts.map((t) => zeros(m4.get(t.key)!)), [7, 14, 29, 11]); // round(7.2), round(14.4), round(28.8), round(10.8)
  // Per-layer record: only the named layers.
  const m5 = selectMasks(ts, scores, { scope: 'layer', amount: { 'f2.weight': { count: 1 }, 'c1.weight': { sparsity: 1 } } });
  assert.deepEqual([...m5.keys()], ['c1.weight', 'f2.weight']);
  assert.deepEqual([zeros(m5.get('c1.weight')!), zeros(m5.get('f2.weight')!)], [8, 8]);
});

test('per layer with distinct scores: the lowest are pruned', () => {
  const net = new Net();
  const ts = findTargets(net);
  const scores = new Map(ts.map((t) => [t.key, effectiveValues(net, t.key).map(Math.abs)]));
  const masks = selectMasks(ts, scores, { scope: 'layer', amount: { fraction: 0.5 } });
  for (const t of ts) {
    const s = scores.get(t.key)!;
    const m = masks.get(t.key)!;
    const maxPruned = Math.max(...[...s].filter((_, i) => m[i] === 0));
    const minKept = Math.min(...[...s].filter((_, i) => m[i] === 1));
    assert.ok(maxPruned <= minKept, t.key);
  }
});

test('global: one threshold across layers, exact counts, ties by layer order then index (against a sort)', () => {
  const net = new Net();
  const ts = findTargets(net);
  for (const [levels, frac] of [[3, 0.3], [5, 0.5], [1000, 0.77], [2, 0.5]] as [number, number][]) {
    const scores = intScores(ts, levels, levels);
    const masks = selectMasks(ts, scores, { scope: 'global', amount: { fraction: frac } });
    const k = roundHalfEven(frac * 68);
    const ref = refLowest(ts.map((t) => scores.get(t.key)!), ts.map((t) => new Float32Array(t.numel).fill(1)), k);
    ts.forEach((t, a) => assert.deepEqual([...masks.get(t.key)!], [...ref[a]], `${levels} levels, ${t.key}`));
  }
  // Layers differ in scale: the small layer goes first.
  const scaled: ScoreMap = new Map(ts.map((t, a) => [t.key, new Float32Array(t.numel).fill(a === 2 ? 0.001 : 1)]));
  const g = selectMasks(ts, scaled, { scope: 'global', amount: { count: 40 } });
  assert.deepEqual(ts.map((t) => zeros(g.get(t.key)!)), [8, 0, 32, 0], 'f1 (all low) first, then ties in layer order');
});

test('global on already pruned masks: candidates are the remaining weights only', () => {
  const net = new Net();
  const ts = findTargets(net);
  prune(net, 'f1.weight', Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? 0 : 1)));
  const scores = intScores(ts, 7, 4);
  const masks = selectMasks(ts, scores, { scope: 'global', amount: { sparsity: 0.5 } }); // 34 of 68: 18 more
  const before = ts.map((t) => (isPruned(net, t.key) ? Float32Array.from(getMask(net, t.key)!.data as Float32Array) : new Float32Array(t.numel).fill(1)));
  const ref = refLowest(ts.map((t) => scores.get(t.key)!), before, 18);
  ts.forEach((t, a) => assert.deepEqual([...masks.get(t.key)!], [...ref[a]], t.key));
  assert.equal(ts.reduce((n, t) => n + zeros(masks.get(t.key)!), 0), 34);
});

test('per kind: separate conv and fc targets, per layer or pooled; a kind without an amount is untouched', () => {
  const net = new Net();
  const ts = findTargets(net);
  const scores = intScores(ts, 3, 1000);
  const perLayer = selectMasks(ts, scores, { scope: 'kind', conv: { sparsity: 0.5 }, fc: { sparsity: 0.75 } });
  assert.deepEqual(ts.map((t) => zeros(perLayer.get(t.key)!)), [4, 8, 24, 9]);
  const pooled = selectMasks(ts, scores, { scope: 'kind', conv: { sparsity: 0.5 }, fc: { sparsity: 0.75 }, within: 'global' });
  const refConv = refLowest([scores.get('c1.weight')!, scores.get('c2.weight')!], [new Float32Array(8).fill(1), new Float32Array(16).fill(1)], 12);
  const refFc = refLowest([scores.get('f1.weight')!, scores.get('f2.weight')!], [new Float32Array(32).fill(1), new Float32Array(12).fill(1)], 33);
  assert.deepEqual([...pooled.get('c1.weight')!], [...refConv[0]]);
  assert.deepEqual([...pooled.get('c2.weight')!], [...refConv[1]]);
  assert.deepEqual([...pooled.get('f1.weight')!], [...refFc[0]]);
  assert.deepEqual([...pooled.get('f2.weight')!], [...refFc[1]]);
  const fcOnly = selectMasks(ts, scores, { scope: 'kind', fc: { fraction: 0.5 } });
  assert.deepEqual([...fcOnly.keys()], ['f1.weight', 'f2.weight']);
  assert.deepEqual(selectionGroups({ scope: 'kind', conv: { count: 1 } }, ts).map((g) => g.targets.map((t) => t.key)), [['c1.weight'], ['c2.weight']]);
});

test('threshold: every remaining weight with a score below it', () => {
  const net = new Net();
  const ts = findTargets(net);
  const scores = intScores(ts, 9, 10);
  const masks = selectMasks(ts, scores, { scope: 'layer', amount: { threshold: 3 } });
  for (const t of ts) {
    const s = scores.get(t.key)!;
    assert.deepEqual([...masks.get(t.key)!], Array.from(s, (v) => (v < 3 ? 0 : 1)));
  }
});

test('validation: amounts, scopes, per-layer keys, scores', () => {
  const net = new Net();
  const ts = findTargets(net);
  const scores = intScores(ts, 1, 5);
  const bad: [Selection, RegExp][] = [
    [{ scope: 'layer', amount: { fraction: 1.5 } }, /fraction must be a number in \[0, 1\], got 1.5/],
    [{ scope: 'global', amount: { sparsity: -0.1 } }, /sparsity must be a number in \[0, 1\]/],
    [{ scope: 'global', amount: { count: 2.5 } }, /count must be a non-negative integer/],
    [{ scope: 'global', amount: { fraction: 0.1, count: 1 } as never }, /exactly one of/],
    [{ scope: 'global', amount: { ratio: 0.1 } as never }, /unknown amount "ratio"/],
    [{ scope: 'everywhere', amount: { fraction: 0.1 } } as never, /unknown scope "everywhere"/],
    [{ scope: 'kind' }, /needs a conv or an fc amount/],
    [{ scope: 'layer', amount: { 'fc9.weight': { fraction: 0.1 } } }, /per-layer amount for "fc9.weight", which is not a target/],
    [{ scope: 'global', amount: { count: 69 } }, /count 69 exceeds the 68 still-unpruned/],
  ];
  for (const [sel, re] of bad) throwsST(() => selectMasks(ts, scores, sel), 'ERR_ARGUMENT', re);
  const nan = new Map(scores);
  nan.set('f1.weight', Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? NaN : 0)));
  throwsST(() => selectMasks(ts, nan, { scope: 'global', amount: { fraction: 0.5 } }), 'ERR_ARGUMENT', /score of "f1.weight" is NaN at flat index 5/);
  const short = new Map(scores);
  short.set('c1.weight', new Float32Array(3));
  throwsST(() => selectMasks(ts, short, { scope: 'global', amount: { fraction: 0.5 } }), 'ERR_SHAPE', /3 scores for "c1.weight", which has 8/);
  const missing = new Map(scores);
  missing.delete('c2.weight');
  throwsST(() => selectMasks(ts, missing, { scope: 'layer', amount: { fraction: 0.5 } }), 'ERR_ARGUMENT', /no scores for "c2.weight"/);
});

test('pruneModel: magnitude global on lenet300 (266k weights), exact count, optimizer synced, report', () => {
  const model = buildModel('lenet300', { generator: new Generator(2) });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const keys = ['fc1.weight', 'fc2.weight', 'fc3.weight'];
  const before = keys.map((k) => Float32Array.from(model.getParameter(k).data as Float32Array));
  const r = pruneModel(model, { selection: { scope: 'global', amount: { sparsity: 0.9 } }, optimizer: opt });
  const total = 784 * 300 + 300 * 100 + 100 * 10;
  const pruned = [...r.pruned.values()].reduce((a, b) => a + b, 0);
  assert.equal(pruned, roundHalfEven(0.9 * total));
  for (const k of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
    assert.ok(isPruned(model, k));
    assert.deepEqual(opt.getMask(getOrig(model, k)), getMask(model, k)!.data, `optimizer mask of ${k}`);
  }
  // One threshold: every kept weight is at least as large as every pruned one.
  let maxPruned = 0;
  let minKept = Infinity;
  keys.forEach((k, a) => {
    const m = getMask(model, k)!.data as Float32Array;
    const o = getOrig(model, k).data as Float32Array;
    for (let i = 0; i < m.length; i++) {
      if (m[i] === 1) minKept = Math.min(minKept, Math.abs(before[a][i]));
      else {
        maxPruned = Math.max(maxPruned, Math.abs(before[a][i]));
        assert.ok(o[i] === 0, 'the optimizer mask zeroed orig');
      }
    }
  });
  assert.ok(maxPruned <= minKept && maxPruned > 0);
  const rep = sparsityReport(model);
  assert.equal(rep.total.params, total);
  assert.equal(rep.total.nonzero, total - pruned);
  assert.equal(rep.model.params, model.numParameters());
  assert.equal(rep.model.nonzero, total - pruned + 300 + 100 + 10 - [...(model.getParameter('fc1.bias').data as Float32Array), ...(model.getParameter('fc2.bias').data as Float32Array), ...(model.getParameter('fc3.bias').data as Float32Array)].filter((v) => v === 0).length);
  assert.ok(rep.layers[0].sparsity > rep.layers[2].sparsity, 'the big layer is pruned most under a global threshold');
  const text = formatSparsityReport(rep);
  assert.match(text, /fc1\.weight\s+fc\s+\[300, 784\]\s+235200/);
  assert.match(text, /total \(prunable\)/);
  const mt = sparsityMetrics(rep);
  assert.equal(mt.sparsity, rep.total.sparsity);
  assert.deepEqual(Object.keys(mt.layerSparsity as object), ['fc1.weight', 'fc2.weight', 'fc3.weight']);
  // Only selected targets are scored and reparametrised.
  const m2 = buildModel('lenet5', { generator: new Generator(3) });
  pruneModel(m2, { selection: { scope: 'kind', conv: { fraction: 0.5 } }, scorer: 'random', score: { generator: new Generator(1) } });
  assert.deepEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight'].map((k) => isPruned(m2, k)), [true, true, false, false]);
  assert.equal(sparsityReport(m2).layers[1].nonzero, 25000 - 12500);
});
