/**
 * Unit scores against their definitions, computed by brute force:
 * MRS (thesis eq. 3.3, per example, from each example's own gradient of the
 * unit output), MRP (eq. 3.1, by literally replacing the unit's output with
 * its mean and recomputing each example's loss), the norms, random, and unit
 * selection.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, Module, Linear, Conv2d, Generator, randn, randint, crossEntropy, maxPool2d, relu, tanh, flatten, noGrad, enableGrad,
  units as U, setThreads,
} from '../src';
import type { Batch } from '../src/train/plugin';
import { assertClose } from './util';

// Single-threaded: these tests run many small forwards, where OpenMP threads on a busy
// shared machine cost more than they save (results do not depend on the thread count).
setThreads(1);

class MLP extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  constructor(g: Generator) {
    super();
    this.registerModule('fc1', new Linear(4, 6, { generator: g }));
    this.registerModule('fc2', new Linear(6, 3, { generator: g }));
  }
  rest(h: Tensor): Tensor {
    return this.fc2.call(tanh(h));
  }
  forward(x: Tensor): Tensor {
    return this.rest(this.fc1.call(x));
  }
}

/** conv1 (3 3x3) maxpool relu conv2 (4 2x2) relu flatten fc (16 -> 3); input [2, 8, 8]. */
class TinyCNN extends Module {
  declare conv1: Conv2d;
  declare conv2: Conv2d;
  declare fc: Linear;
  constructor(g: Generator) {
    super();
    this.registerModule('conv1', new Conv2d(2, 3, 3, { generator: g }));
    this.registerModule('conv2', new Conv2d(3, 4, 2, { generator: g }));
    this.registerModule('fc', new Linear(16, 3, { generator: g }));
  }
  afterConv1(h: Tensor): Tensor {
    return this.afterConv2(this.conv2.call(relu(maxPool2d(h, 2))));
  }
  afterConv2(h: Tensor): Tensor {
    return this.fc.call(flatten(relu(h), 1));
  }
  forward(x: Tensor): Tensor {
    return this.afterConv1(this.conv1.call(x));
  }
}

function data(shape: number[], n: number, classes: number, g: Generator): Batch[] {
  const x = randn([n, ...shape], { generator: g });
  const y = randint(0, classes, [n], { generator: g });
  const half = Math.floor(n / 2);
  return [{ x: x.slice(0, 0, half), y: y.slice(0, 0, half) }, { x: x.slice(0, half), y: y.slice(0, half) }];
}

/** Examples one at a time. */
function examples(batches: Batch[]): { x: Tensor; y: Tensor }[] {
  return batches.flatMap((b) => Array.from({ length: b.x.shape[0] }, (_, k) => ({ x: b.x.slice(0, k, k + 1), y: b.y.slice(0, k, k + 1) })));
}

/** Per-unit, per-example planes of a site tensor [1, C, ...]. */
function planes(h: Tensor): number[][] {
  const C = h.shape[1];
  const P = h.numel / C;
  return Array.from({ length: C }, (_, i) => Array.from(h.f32.subarray(i * P, (i + 1) * P)));
}

/**
 * Brute-force MRS and MRP of the units at a site, from `head` (input -> site
 * tensor [1, C, ...]) and `tail` (site tensor -> logits).
 */
function bruteForce(batches: Batch[], head: (x: Tensor) => Tensor, tail: (h: Tensor) => Tensor) {
  const ex = examples(batches);
  const hs = ex.map((e) => noGrad(() => head(e.x)));
  const C = hs[0].shape[1];
  const P = hs[0].numel / C;
  const mean = new Float64Array(C);
  for (const h of hs) planes(h).forEach((pl, i) => { for (const v of pl) mean[i] += v / (ex.length * P); });
  const mrs = new Float64Array(C);
  const mrp = new Float64Array(C);
  const fd = new Float64Array(C);
  const loss = (h: Tensor, y: Tensor) => crossEntropy(tail(h), y).item();
  ex.forEach((e, k) => {
    const h = hs[k].detach().requiresGrad_(true);
    enableGrad(() => crossEntropy(tail(h), e.y)).backward();
    const g = planes(h.grad!);
    const hp = planes(hs[k]);
    const base = loss(hs[k], e.y);
    for (let i = 0; i < C; i++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += (mean[i] - hp[i][p]) * g[i][p];
      mrs[i] += Math.abs(s) / ex.length;
      // MRP: unit i's output replaced by its mean.
      const rep = Float32Array.from(hs[k].f32);
      for (let p = 0; p < P; p++) rep[i * P + p] = mean[i];
      mrp[i] += Math.abs(noGrad(() => loss(new Tensor(rep, hs[k].shape, 'float32'), e.y)) - base) / ex.length;
      // Finite difference along the mean-replacement direction: the first-order term MRS approximates.
      const eps = 1e-2;
      const step = Float32Array.from(hs[k].f32);
      for (let p = 0; p < P; p++) step[i * P + p] += eps * (mean[i] - hp[i][p]);
      fd[i] += Math.abs((noGrad(() => loss(new Tensor(step, hs[k].shape, 'float32'), e.y)) - base) / eps) / ex.length;
    }
  });
  return { mean, mrs, mrp, fd };
}

test('MRS of an MLP layer equals its per-example definition; MRP equals literal mean replacement', () => {
  const g = new Generator(3);
  const m = new MLP(g);
  const batches = data([4], 12, 3, g);
  const graph = U.buildUnitGraph(m, [4]);
  assert.deepEqual(graph.groups.map((x) => [x.name, x.prunable]), [['fc1', true], ['fc2', false]]);
  const stats = U.collectUnitStats(m, graph, { batches }).get('fc1')!;
  const bf = bruteForce(batches, (x) => m.fc1.call(x), (h) => m.rest(h));
  assert.equal(stats.examples, 12);
  assert.equal(stats.positions, 1);
  assertClose(stats.mean, bf.mean, { rtol: 1e-5, atol: 1e-6, msg: 'mean' });
  assertClose(stats.mrs, bf.mrs, { rtol: 1e-4, atol: 1e-7, msg: 'mrs' });
  assertClose(stats.mrs, bf.fd, { rtol: 3e-2, atol: 1e-4, msg: 'mrs ~ first-order loss change' });
  assert.ok(stats.mrs.every((v) => v > 0));
  const mrp = U.scoreUnits(m, graph, 'mrp', { batches }).get('fc1')!;
  assertClose(mrp, bf.mrp, { rtol: 1e-4, atol: 1e-6, msg: 'mrp' });
  // Examples beyond `examples` are not used.
  const few = U.collectUnitStats(m, graph, { batches, examples: 5 }).get('fc1')!;
  assert.equal(few.examples, 5);
  assertClose(few.mrs, bruteForce([{ x: batches[0].x.slice(0, 0, 5), y: batches[0].y.slice(0, 0, 5) }], (x) => m.fc1.call(x), (h) => m.rest(h)).mrs, { rtol: 1e-4, atol: 1e-7 });
});

test('MRS and MRP of convolution channels (mean over examples and positions, before pooling) and of the post-activation site', () => {
  const g = new Generator(5);
  const m = new TinyCNN(g);
  const batches = data([2, 8, 8], 10, 3, g);
  const graph = U.buildUnitGraph(m, [2, 8, 8]);
  assert.deepEqual(graph.groups.filter((x) => x.prunable).map((x) => x.name), ['conv1', 'conv2']);
  const c2 = U.getGroup(graph, 'conv2');
  assert.deepEqual(c2.consumers.map((c) => [c.consumer, c.block, c.ops.join(' ')]), [['fc', 4, 'relu flatten']]);

  const stats = U.collectUnitStats(m, graph, { batches });
  const bf1 = bruteForce(batches, (x) => m.conv1.call(x), (h) => m.afterConv1(h));
  assert.equal(stats.get('conv1')!.positions, 36);
  assertClose(stats.get('conv1')!.mean, bf1.mean, { rtol: 1e-5, atol: 1e-6 });
  assertClose(stats.get('conv1')!.mrs, bf1.mrs, { rtol: 1e-4, atol: 1e-7, msg: 'conv1 mrs' });
  assertClose(stats.get('conv1')!.mrs, bf1.fd, { rtol: 5e-2, atol: 2e-4, msg: 'conv1 mrs ~ first-order' });
  const bf2 = bruteForce(batches, (x) => m.conv2.call(relu(maxPool2d(m.conv1.call(x), 2))), (h) => m.afterConv2(h));
  assertClose(stats.get('conv2')!.mrs, bf2.mrs, { rtol: 1e-4, atol: 1e-7, msg: 'conv2 mrs' });
  const mrp = U.mrpScores(m, graph, { batches });
  assertClose(mrp.get('conv1')!, bf1.mrp, { rtol: 1e-4, atol: 1e-6, msg: 'conv1 mrp' });
  assertClose(mrp.get('conv2')!, bf2.mrp, { rtol: 1e-4, atol: 1e-6, msg: 'conv2 mrp' });

  // 'layer' is 'pre' without BatchNorm; 'post' reads fc's input: relu(conv2) flattened, 4 columns per channel.
  assertClose(U.collectUnitStats(m, graph, { batches, site: 'layer' }).get('conv1')!.mrs, stats.get('conv1')!.mrs, { rtol: 0, atol: 0 });
  const post = U.collectUnitStats(m, graph, { batches, site: 'post', groups: ['conv2'] }).get('conv2')!;
  assert.equal(post.positions, 4);
  const bfPost = bruteForce(batches, (x) => relu(m.conv2.call(relu(maxPool2d(m.conv1.call(x), 2)))), (h) => m.fc.call(flatten(h, 1)));
  assertClose(post.mean, bfPost.mean, { rtol: 1e-5, atol: 1e-6 });
  assertClose(post.mrs, bfPost.mrs, { rtol: 1e-4, atol: 1e-7, msg: 'post mrs' });
  assertClose(U.mrpScores(m, graph, { batches, site: 'post', groups: ['conv2'] }).get('conv2')!, bfPost.mrp, { rtol: 1e-4, atol: 1e-6, msg: 'post mrp' });
  // Signed MRP: the change of the mean loss.
  const signed = U.mrpScores(m, graph, { batches, absolute: false, groups: ['conv1'] }).get('conv1')!;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(signed[i]) <= mrp.get('conv1')![i] + 1e-7);
  // Scoring leaves parameter gradients and modes alone.
  m.train();
  m.zeroGrad();
  U.collectUnitStats(m, graph, { batches });
  assert.ok(m.parameters().every((p) => p.grad === null));
  assert.ok(m.modules().every((x) => x.training));
});

test('masked units score 0; a frozen unit (all-zero gradient) has MRS 0 and gradAbsMean 0', () => {
  const g = new Generator(7);
  const m = new MLP(g);
  const batches = data([4], 8, 3, g);
  const graph = U.buildUnitGraph(m, [4]);
  // Unit 2 never reaches the loss: its outgoing weights are zero.
  for (let o = 0; o < 3; o++) m.fc2.weight.f32[o * 6 + 2] = 0;
  const s = U.collectUnitStats(m, graph, { batches }).get('fc1')!;
  assert.equal(s.mrs[2], 0);
  assert.equal(s.gradAbsMean[2], 0);
  assert.ok(s.gradAbsMean[0] > 0);
  U.maskUnits(m.fc1, 6, [4]);
  for (const sc of ['mrs', 'mrp', 'l1', 'l2', 'random'] as const) {
    assert.equal(U.scoreUnits(m, graph, sc, { batches, generator: g }).get('fc1')![4], 0, sc);
  }
});

test('l1 / l2 norms of incoming, outgoing and both weights; random scores are seeded', () => {
  const g = new Generator(11);
  const m = new TinyCNN(g);
  const graph = U.buildUnitGraph(m, [2, 8, 8]);
  const w1 = m.conv1.weight.f32; // [3, 2, 3, 3]
  const w2 = m.conv2.weight.f32; // [4, 3, 2, 2]
  const wf = m.fc.weight.f32; // [3, 16]
  const l1in = [0, 1, 2].map((u) => w1.subarray(u * 18, (u + 1) * 18).reduce((a, v) => a + Math.abs(v), 0));
  const l2out = [0, 1, 2].map((u) => {
    let s = 0;
    for (let o = 0; o < 4; o++) for (let r = 0; r < 4; r++) s += w2[(o * 3 + u) * 4 + r] ** 2;
    return s;
  });
  assertClose(U.normScores(m, graph, 1).get('conv1')!, l1in, { rtol: 1e-6 });
  assertClose(U.normScores(m, graph, 2, { direction: 'out' }).get('conv1')!, l2out, { rtol: 1e-6 });
  // conv2 -> fc: 4 columns per channel.
  const l1both = [0, 1, 2, 3].map((u) => {
    let s = w2.subarray(u * 12, (u + 1) * 12).reduce((a, v) => a + Math.abs(v), 0);
    for (let o = 0; o < 3; o++) for (let r = 0; r < 4; r++) s += Math.abs(wf[o * 16 + u * 4 + r]);
    return s;
  });
  assertClose(U.scoreUnits(m, graph, 'l1', { direction: 'both' }).get('conv2')!, l1both, { rtol: 1e-6 });
  const r1 = U.scoreUnits(m, graph, 'random', { generator: new Generator(1) });
  const r2 = U.scoreUnits(m, graph, 'random', { generator: new Generator(1) });
  assert.deepEqual(r1, r2);
  assert.ok([...r1.values()].every((s) => s.every((v) => v >= 0 && v < 1)));
  assert.throws(() => U.scoreUnits(m, graph, 'mrs'), /needs examples/);
  assert.throws(() => U.scoreUnits(m, graph, 'taylor' as 'mrs'), /unknown unit scorer/);
  assert.throws(() => U.normScores(m, graph, 1, { groups: ['fc'] }), /cannot be pruned: fc's units are outputs of the model/);
});

test('selectUnits: floor(f * size) per layer, cumulative over rounds, global lowest scores, at least one unit kept', () => {
  const g = new Generator(2);
  const m = new TinyCNN(g);
  const graph = U.buildUnitGraph(m, [2, 8, 8]);
  const scores = new Map([['conv1', Float64Array.of(0.3, 0.1, 0.2)], ['conv2', Float64Array.of(5, 1, 4, 0.05)]]);
  let sel = U.selectUnits(m, graph, scores, { fraction: 0.5 });
  assert.deepEqual(Object.fromEntries(sel), { conv1: [1], conv2: [1, 3] });
  U.maskUnits(m.conv1, 3, [1]);
  U.maskUnits(m.conv2, 4, [1, 3]);
  // Cumulative: at 0.7, conv1 needs floor(2.1) = 2 pruned in total, conv2 floor(2.8) = 2 (already).
  sel = U.selectUnits(m, graph, scores, { fraction: 0.7 });
  assert.deepEqual(Object.fromEntries(sel), { conv1: [2], conv2: [] });
  // Fraction 1 keeps one unit.
  sel = U.selectUnits(m, graph, scores, { fraction: 1 });
  assert.deepEqual(Object.fromEntries(sel), { conv1: [2], conv2: [2] });
  U.removeUnitMask(m.conv1);
  U.removeUnitMask(m.conv2);
  // Global: floor(0.5 * 7) = 3 lowest of all: conv2/3 (0.05), conv1/1 (0.1), conv1/2 (0.2).
  sel = U.selectUnits(m, graph, scores, { fraction: 0.5, scope: 'global' });
  assert.deepEqual(Object.fromEntries(sel), { conv1: [1, 2], conv2: [3] });
  assert.throws(() => U.selectUnits(m, graph, scores, { fraction: 1.5 }), /fraction must be in \[0, 1\]/);
});
