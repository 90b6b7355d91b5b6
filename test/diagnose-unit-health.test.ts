/**
 * Unit health on a model built so that we know which units are frozen, dead
 * or never active: in fc1 (8 ReLU units) unit 2 has zero weights and a
 * negative bias (never active: dead and frozen), unit 4 feeds nothing (its
 * outgoing weights are zero: frozen and dead), unit 5 has zero weights and a
 * positive bias (a constant: dead, but not frozen), unit 7 is pruned by a unit
 * mask. The exact MRPs agree with src/sparse/units mrpScores, the candidate
 * mode finds the same dead units as computing every MRP, and the plug-in
 * writes its metrics and one log line.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Linear, Generator, randn, randint, relu, noGrad, SGD, units as U, setThreads, diagnose as D } from '../src';
import type { Batch, TrainContext } from '../src/train/plugin';
import { assertClose } from './util';

setThreads(1);

class MLP extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  declare fc3: Linear;
  constructor(g: Generator) {
    super();
    this.registerModule('fc1', new Linear(4, 8, { generator: g }));
    this.registerModule('fc2', new Linear(8, 6, { generator: g }));
    this.registerModule('fc3', new Linear(6, 3, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    return this.fc3.call(relu(this.fc2.call(relu(this.fc1.call(x)))));
  }
}

function build(): MLP {
  const m = new MLP(new Generator(3));
  noGrad(() => {
    const w1 = m.fc1.weight.f32;
    const b1 = m.fc1.bias!.f32;
    for (let j = 0; j < 4; j++) {
      w1[2 * 4 + j] = 0;
      w1[5 * 4 + j] = 0;
    }
    b1[2] = -1;
    b1[5] = 0.5;
    // Larger weights elsewhere, so that every other unit clearly matters.
    for (let i = 0; i < w1.length; i++) w1[i] *= 4;
    const w2 = m.fc2.weight.f32;
    for (let o = 0; o < 6; o++) w2[o * 8 + 4] = 0;
    for (let i = 0; i < w2.length; i++) w2[i] *= 3;
    const w3 = m.fc3.weight.f32;
    for (let i = 0; i < w3.length; i++) w3[i] *= 3;
  });
  U.maskUnits(m.fc1, 8, [7]);
  return m;
}

function data(n: number, seed: number): Batch[] {
  const g = new Generator(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += 50) out.push({ x: randn([50, 4], { generator: g }), y: randint(0, 3, [50], { generator: g }) });
  return out;
}

test('frozen, dead and never-active units of a constructed model', () => {
  const model = build();
  const batches = data(400, 7);
  const r = D.unitHealth(model, batches, { mrp: 'all' });
  assert.equal(r.examples, 400);
  assert.deepEqual(r.layers.map((L) => L.layer), ['fc1', 'fc2'], 'measured: layers whose units feed another layer');
  const fc1 = r.layers[0];
  assert.equal(fc1.units, 8);
  assert.equal(fc1.pruned, 1);
  assert.deepEqual(fc1.inactive, [2]);
  assert.deepEqual(fc1.frozen, [2, 4]);
  assert.deepEqual(fc1.dead, [2, 4, 5]);
  assert.ok(Number.isNaN(fc1.mrp[7]), 'the pruned unit is not measured');
  for (const u of [2, 4, 5]) assert.equal(fc1.mrp[u], 0, `MRP of unit ${u} is exactly 0`);
  assert.equal(fc1.gradAbsMean[2], 0);
  assert.equal(fc1.gradAbsMean[4], 0);
  assert.ok(fc1.gradAbsMean[5] > fc1.frozenThreshold, 'a constant unit still gets gradient: dead, not frozen');
  assert.equal(fc1.sparsity, 8 / 32, 'two zero rows of 4 weights');
  // fc2 (random weights, this seed): units 2 and 4 never activate on these inputs, so they are dead and frozen too.
  assert.deepEqual(r.layers[1].inactive, [2, 4]);
  assert.deepEqual(r.layers[1].dead, [2, 4]);
  assert.deepEqual(r.layers[1].frozen, [2, 4]);
  assert.deepEqual(Object.keys(r.sparsity), ['fc1', 'fc2', 'fc3']);
  assert.equal(r.sparsity.fc2, 6 / 48);
  // The exact MRPs are those of src/sparse/units (brute force, one forward per unit).
  const graph = U.buildUnitGraph(model, [4]);
  const ref = U.mrpScores(model, graph, { batches, groups: ['fc1', 'fc2'] });
  assertClose(fc1.mrp.filter((_, i) => i !== 7), ref.get('fc1')!.filter((_, i) => i !== 7), { rtol: 1e-9, atol: 0 });
  assertClose(r.layers[1].mrp, ref.get('fc2')!, { rtol: 1e-9, atol: 0 });
  // MRP and loss in the same units: dead threshold = 0.001 * mean loss.
  assertClose([r.deadThreshold], [0.001 * r.loss], { rtol: 1e-12 });
  const live = [0, 1, 3, 6].map((u) => fc1.mrp[u]);
  assert.ok(Math.min(...live) > 10 * r.deadThreshold, `live units have clearly non-zero MRP: ${live}`);
});

test('candidate mode: the same dead units with few exact MRPs; the cap counts unchecked ones', () => {
  const model = build();
  const batches = data(400, 7);
  const all = D.unitHealth(model, batches, { mrp: 'all' });
  const cand = D.unitHealth(model, batches);
  assert.deepEqual(cand.layers.map((L) => L.dead), all.layers.map((L) => L.dead));
  assert.deepEqual(cand.layers.map((L) => L.frozen), all.layers.map((L) => L.frozen));
  assert.ok(cand.mrpEvaluated < all.mrpEvaluated, `${cand.mrpEvaluated} < ${all.mrpEvaluated}`);
  assert.equal(cand.layers[0].mrp[2], 0, 'inactive: MRP 0 without a pass');
  assert.equal(cand.layers[0].mrp[5], 0, 'constant: MRP 0 without a pass');
  // Unit 4 (MRS 0, not constant) needs a pass; with no pass allowed it stays unchecked.
  const capped = D.unitHealth(model, batches, { maxMrpUnits: 0 });
  assert.equal(capped.mrpEvaluated, 0);
  assert.deepEqual(capped.layers[0].dead, [2, 5]);
  assert.ok(capped.layers[0].unchecked >= 1);
  // A tolerance that calls every unit dead / frozen.
  const loose = D.unitHealth(model, batches, { mrp: 'all', deadTolerance: 1e9, frozenTolerance: 1e9 });
  assert.deepEqual(loose.layers[0].dead, [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(loose.layers[0].frozen, [0, 1, 2, 3, 4, 5, 6]);
  assert.throws(() => D.unitHealth(model, batches, { frozenTolerance: -1 }), /frozenTolerance must be a number >= 0/);
  assert.throws(() => D.unitHealth(model, batches, { mrp: 'some' as 'all' }), /mrp must be 'candidates' or 'all'/);
});

test('the plug-in: metrics for metrics.jsonl, one log line, the model untouched', () => {
  const model = build();
  const batches = data(200, 9);
  const before = model.stateDict();
  const snapshot = new Map([...before].map(([k, t]) => [k, Float32Array.from(t.f32)]));
  const logs: string[] = [];
  const ctx: TrainContext = {
    model, optimizer: new SGD(model.parameters(), { lr: 0.1 }), epoch: 2, step: 30, batchIndex: 0, batchesPerEpoch: 4, totalEpochs: 5,
    sampleTrainBatches: (n: number) => batches.slice(0, Math.ceil(n / 50)),
    evaluate: () => ({ loss: 0, accuracy: 0 }), generator: new Generator(1),
    epochMetrics: { seconds: 2 }, log: (s: string) => { logs.push(s); },
  };
  const p = new D.UnitHealthPlugin({ examples: 100 });
  p.onEpochEnd(ctx);
  const m = ctx.epochMetrics.unitHealth as Record<string, any>;
  assert.equal(m.examples, 100);
  assert.equal(m.layers.fc1.units, 8);
  assert.equal(m.layers.fc1.pruned, 1);
  assert.deepEqual(m.layers.fc1.deadUnits, [2, 4, 5]);
  assert.deepEqual(m.layers.fc1.frozenUnits, [2, 4]);
  assert.deepEqual(m.layers.fc1.inactiveUnits, [2]);
  assert.equal(m.layers.fc3.sparsity, 0);
  assert.equal(m.dead, 3 + m.layers.fc2.dead);
  assert.ok(JSON.parse(JSON.stringify(m)), 'JSON-able');
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^epoch 3 unit health: fc1 2 frozen 3 dead of 8 \(1 never active, 1 pruned\) \| fc2 \d frozen \d dead of 6( \(\d never active\))? \| zero weights fc1 25\.0%, fc2 12\.5% \(100 examples, [\d.]+ s, [\d.]+% of the epoch\)$/);
  for (const [k, t] of model.stateDict()) assert.deepEqual(Float32Array.from(t.f32), snapshot.get(k), `${k} unchanged`);
  assert.ok(model.training, 'training mode restored');
});
