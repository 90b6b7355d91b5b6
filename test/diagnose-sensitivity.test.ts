/**
 * Sensitivity analysis on a tiny model: fraction 0 gives the unpruned result,
 * each trial prunes exactly round(f * n) of one layer's weights (the smallest
 * for magnitude) and nothing else, the model is restored bit for bit (also
 * one that was pruned before), and the CSV / JSON have the expected shape.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Tensor, Module, Linear, Generator, randn, randint, relu, crossEntropy, noGrad, setThreads, sparse as S, diagnose as D,
} from '../src';
import type { Batch } from '../src/train/plugin';

setThreads(1);

class MLP extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  constructor(g: Generator) {
    super();
    this.registerModule('fc1', new Linear(6, 10, { generator: g }));
    this.registerModule('fc2', new Linear(10, 4, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(relu(this.fc1.call(x)));
  }
}

function batches(n: number, seed: number): Batch[] {
  const g = new Generator(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += 40) out.push({ x: randn([40, 6], { generator: g }), y: randint(0, 4, [40], { generator: g }) });
  return out;
}

function evaluator(model: Module<any[], any>, data: Batch[]): () => { loss: number; accuracy: number } {
  return () => noGrad(() => {
    let loss = 0, correct = 0, n = 0;
    for (const b of data) {
      const out = model.call(b.x) as Tensor;
      const B = b.x.shape[0];
      loss += crossEntropy(out, b.y).item() * B;
      const o = out.f32;
      for (let k = 0; k < B; k++) {
        let best = 0;
        for (let c = 1; c < 4; c++) if (o[k * 4 + c] > o[k * 4 + best]) best = c;
        if (best === b.y.data[k]) correct++;
      }
      n += B;
    }
    return { loss: loss / n, accuracy: (100 * correct) / n };
  });
}

/** Every state-dict entry as bytes, and the parameter objects. */
function snapshot(model: Module<any[], any>): { state: Map<string, Uint8Array>; params: Tensor[] } {
  const state = new Map([...model.stateDict()].map(([k, t]) => [k, new Uint8Array(Float32Array.from(t.f32).buffer)]));
  return { state, params: model.parameters() };
}

test('fraction 0 is the unpruned result; each trial prunes round(f n) smallest weights of one layer; model restored exactly', () => {
  const model = new MLP(new Generator(1));
  const data = batches(200, 2);
  const evalFn = evaluator(model, data);
  const before = snapshot(model);
  const seen: { fc1: number; fc2: number; minKept: number; maxPruned: number }[] = [];
  const w1 = Float32Array.from(model.fc1.weight.f32);
  const inspect = () => {
    const e1 = S.effectiveValues(model.fc1, 'weight');
    const e2 = S.effectiveValues(model.fc2, 'weight');
    let minKept = Infinity, maxPruned = 0;
    for (let i = 0; i < e1.length; i++) {
      if (e1[i] === 0) maxPruned = Math.max(maxPruned, Math.abs(w1[i]));
      else minKept = Math.min(minKept, Math.abs(e1[i]));
    }
    seen.push({ fc1: e1.filter((v) => v === 0).length, fc2: e2.filter((v) => v === 0).length, minKept, maxPruned });
    return evalFn();
  };
  const fractions = [0, 0.25, 0.5, 1];
  const r = D.sensitivityAnalysis(model, { evaluate: inspect, fractions });
  assert.equal(r.scorer, 'magnitude');
  assert.deepEqual(r.layers.map((L) => L.layer), ['fc1.weight', 'fc2.weight']);
  assert.equal(r.rows.length, 2 * fractions.length);
  const base = evalFn();
  assert.deepEqual(r.baseline, base);
  for (const row of r.rows.filter((x) => x.fraction === 0)) {
    assert.equal(row.accuracy, base.accuracy);
    assert.equal(row.loss, base.loss);
    assert.equal(row.pruned, 0);
  }
  // seen[0] is the baseline; then fc1 at each fraction, then fc2.
  const fc1Trials = seen.slice(1, 1 + fractions.length);
  const fc2Trials = seen.slice(1 + fractions.length);
  fractions.forEach((f, i) => {
    const k = S.roundHalfEven(f * 60);
    assert.equal(fc1Trials[i].fc1, k, `fc1 at ${f}`);
    assert.equal(fc1Trials[i].fc2, 0, 'fc2 untouched while fc1 is tried');
    if (k > 0 && k < 60) assert.ok(fc1Trials[i].maxPruned <= fc1Trials[i].minKept, 'magnitude prunes the smallest');
    assert.equal(fc2Trials[i].fc2, S.roundHalfEven(f * 40));
    assert.equal(fc2Trials[i].fc1, 0);
    assert.equal(r.rows[i].pruned, k);
    assert.equal(r.rows[i].nonzero, 60 - k);
  });
  const after = snapshot(model);
  assert.deepEqual([...after.state.keys()], [...before.state.keys()], 'no weight_orig / weight_mask left');
  for (const [k, v] of before.state) assert.deepEqual(after.state.get(k), v, `${k} bit for bit`);
  after.params.forEach((p, i) => assert.equal(p, before.params[i], 'the same parameter tensors'));
  assert.equal(S.isPruned(model, 'fc1.weight'), false);
  const e = evalFn();
  assert.equal(e.loss, base.loss);
});

test('an already pruned model: fractions of the remaining weights, masks restored; data-dependent scorer in epsilon mode', () => {
  const model = new MLP(new Generator(4));
  const data = batches(120, 5);
  const mask = new Float32Array(60).fill(1);
  for (let i = 0; i < 60; i += 3) mask[i] = 0;
  S.prune(model, 'fc1.weight', mask);
  const before = snapshot(model);
  const r = D.sensitivityAnalysis(model, {
    evaluate: evaluator(model, data), fractions: [0, 0.5], scorer: 'taylor1-abs', layers: ['fc1'],
    score: { batches: data, delta: { epsilon: 0.01 } },
  });
  assert.equal(r.scorer, 'taylor1-abs');
  assert.deepEqual(r.rows.map((x) => [x.layer, x.fraction, x.pruned, x.nonzero]), [['fc1.weight', 0, 0, 40], ['fc1.weight', 0.5, 20, 20]]);
  const after = snapshot(model);
  assert.deepEqual([...after.state.keys()], [...before.state.keys()]);
  for (const [k, v] of before.state) assert.deepEqual(after.state.get(k), v, `${k} bit for bit`);
  assert.deepEqual(Float32Array.from(S.getMask(model.fc1, 'weight')!.f32), mask);
  assert.throws(() => D.sensitivityAnalysis(model, { evaluate: evaluator(model, data), layers: ['fc9'] }), /no prunable layer "fc9"; layers: fc1, fc2/);
  assert.throws(() => D.sensitivityAnalysis(model, { evaluate: evaluator(model, data), fractions: [0.5, 1.5] }), /fractions must be numbers in \[0, 1\]/);
  assert.throws(() => D.sensitivityAnalysis(model, { evaluate: evaluator(model, data), scorer: 'taylor1' }), /needs data/);
});

test('CSV and JSON: one row per layer and fraction, written atomically into a directory', () => {
  const model = new MLP(new Generator(6));
  const data = batches(80, 7);
  const r = D.sensitivityAnalysis(model, { evaluate: evaluator(model, data), fractions: [0.1, 0.9] });
  const csv = D.sensitivityCsv(r).trimEnd().split('\n');
  assert.equal(csv[0], D.SENSITIVITY_CSV_HEADER);
  assert.equal(csv.length, 1 + 2 * 2);
  const cols = D.SENSITIVITY_CSV_HEADER.split(',');
  for (const line of csv.slice(1)) assert.equal(line.split(',').length, cols.length);
  const row = csv[4].split(',');
  assert.equal(row[0], 'fc2.weight');
  assert.equal(Number(row[1]), 0.9);
  assert.equal(Number(row[2]), 36);
  assert.equal(Number(row[9]), r.baseline.accuracy - r.rows[3].accuracy);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-sens-'));
  try {
    const files = D.writeSensitivity(dir, r, { model: 'mlp' });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['sensitivity.csv', 'sensitivity.json']);
    const j = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    assert.equal(j.model, 'mlp');
    assert.equal(j.rows.length, 4);
    assert.deepEqual(j.fractions, [0.1, 0.9]);
    assert.equal(fs.readFileSync(files.csv, 'utf8'), D.sensitivityCsv(r));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const table = D.formatSensitivityTable(r).split('\n');
  assert.match(table[0], /^unpruned: accuracy/);
  assert.match(table[1], /^layer\s+params\s+0\.1\s+0\.9$/);
  assert.match(table[2], /^fc1\s+60\s+[\d.]+\s+[\d.]+$/);
});
