/**
 * The learning-rate attack plug-in, driven through its hooks around plain SGD
 * steps: exactly the attacked unit's incoming weights get lr x M, exactly at
 * steps S, S + I, ..., (N steps), the bias and the other units the plain lr;
 * a multiplier already set is composed with and restored; factor 1 changes
 * nothing; attack.csv gets the rows (step 0, attacks, every k steps); the
 * values logged are those of the unit scores (MRP as mrpScores); its state
 * round-trips; a bad layer or unit is a one-line error.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Tensor, Module, Linear, Generator, randn, randint, relu, crossEntropy, SGD, setThreads, units as U, diagnose as D,
} from '../src';
import type { Batch, TrainContext } from '../src/train/plugin';
import { assertClose } from './util';

setThreads(1);

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-attack-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

class MLP extends Module {
  declare fc1: Linear;
  declare fc2: Linear;
  constructor(g: Generator) {
    super();
    this.registerModule('fc1', new Linear(5, 6, { generator: g }));
    this.registerModule('fc2', new Linear(6, 3, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(relu(this.fc1.call(x)));
  }
}

function batches(n: number, seed: number): Batch[] {
  const g = new Generator(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += 20) out.push({ x: randn([20, 5], { generator: g }), y: randint(0, 3, [20], { generator: g }) });
  return out;
}

function context(model: MLP, opt: SGD, data: Batch[], runDir?: string): TrainContext & { logs: string[] } {
  const logs: string[] = [];
  return {
    model, optimizer: opt, epoch: 0, step: 0, batchIndex: 0, batchesPerEpoch: data.length, totalEpochs: 1,
    sampleTrainBatches: (n: number) => data.slice(0, Math.ceil(n / 20)),
    evaluate: () => ({ loss: 0, accuracy: 0 }), generator: new Generator(1), epochMetrics: {},
    log: (s: string) => { logs.push(s); }, logs, ...(runDir ? { runDir } : {}),
  };
}

/** Runs `steps` SGD steps through the plug-in's hooks; returns per step the weight / bias deltas and gradients. */
function drive(plugin: D.LrAttackPlugin, ctx: TrainContext, opt: SGD, data: Batch[], steps: number) {
  const model = ctx.model as MLP;
  const out: { step: number; dw: Float32Array; gw: Float32Array; db: Float32Array; gb: Float32Array }[] = [];
  plugin.onTrainStart(ctx);
  for (let s = 1; s <= steps; s++) {
    const b = data[(s - 1) % data.length];
    ctx.step = s - 1;
    ctx.batch = b;
    opt.zeroGrad();
    const loss = crossEntropy(model.call(b.x) as Tensor, b.y);
    loss.backward();
    ctx.loss = loss;
    plugin.afterBackward(ctx);
    const w0 = Float32Array.from(model.fc1.weight.f32);
    const b0 = Float32Array.from(model.fc1.bias!.f32);
    const gw = Float32Array.from(model.fc1.weight.grad!.f32);
    const gb = Float32Array.from(model.fc1.bias!.grad!.f32);
    opt.step();
    ctx.step = s;
    plugin.afterStep(ctx);
    out.push({ step: s, dw: model.fc1.weight.f32.map((v, i) => v - w0[i]), gw, db: model.fc1.bias!.f32.map((v, i) => v - b0[i]), gb });
  }
  plugin.onTrainEnd(ctx);
  return out;
}

test('the attacked unit, and only its weights, get lr x M at exactly the attacked steps; attack.csv', () => {
  const model = new MLP(new Generator(2));
  const data = batches(100, 3);
  const lr = 0.1;
  const opt = new SGD(model.parameters(), { lr });
  const ctx = context(model, opt, data, TMP);
  const plugin = new D.LrAttackPlugin({ layer: 'fc1', unit: 2, factor: 7, times: 3, every: 2, start: 2, logEvery: 4, examples: 60 });
  assert.deepEqual(D.attackSteps(plugin.options), [2, 4, 6]);
  const res = drive(plugin, ctx, opt, data, 8);
  for (const r of res) {
    const attacked = [2, 4, 6].includes(r.step);
    for (let o = 0; o < 6; o++) {
      const m = attacked && o === 2 ? 7 : 1;
      const exp = Array.from({ length: 5 }, (_, j) => -lr * m * r.gw[o * 5 + j]);
      assertClose(r.dw.subarray(o * 5, o * 5 + 5), exp, { rtol: 1e-4, atol: 1e-7, msg: `step ${r.step} unit ${o}` });
    }
    assertClose(r.db, Array.from(r.gb, (g) => -lr * g), { rtol: 1e-4, atol: 1e-7, msg: `step ${r.step} bias (never attacked)` });
  }
  assert.equal(opt.getLrMultiplier(model.fc1.weight), null, 'no multiplier left after the step');
  assert.equal(opt.stateDict().lrMultipliers[0], undefined);
  const csv = fs.readFileSync(path.join(TMP, 'attack.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv[0], D.ATTACK_CSV_COLUMNS.join(','));
  const rows = csv.slice(1).map((l) => l.split(','));
  assert.deepEqual(rows.map((r) => Number(r[0])), [0, 2, 4, 6, 8], 'step 0, the attacks, every 4 steps');
  assert.deepEqual(rows.map((r) => Number(r[2])), [0, 1, 1, 1, 0]);
  for (const r of rows) assert.equal(r.length, D.ATTACK_CSV_COLUMNS.length);
  assert.equal(rows[0][15], 'nan', 'no batch loss before the first step');
  assert.equal(ctx.logs.filter((l) => /^lr attack \d\/3: fc1 unit 2 weight lr x7 at step \d$/.test(l)).length, 3);
  assert.match(ctx.logs[ctx.logs.length - 1], /^lr attack: fc1 unit 2 MRP [\d.e-]+ at step 0 -> [\d.e-]+ at step 8; /);
  // The logged values are those of the unit scores, on the same sample.
  const graph = U.buildUnitGraph(model, [5]);
  const mrp = U.mrpScores(model, graph, { batches: data, examples: 60, groups: ['fc1'] }).get('fc1')!;
  const v = D.measureUnit(model, graph, 'fc1', 2, data, 60);
  assertClose([v.mrp], [mrp[2]], { rtol: 1e-9 });
  const w = model.fc1.weight.f32.subarray(10, 15);
  assertClose([v.weight_l1], [w.reduce((a, x) => a + Math.abs(x), 0)], { rtol: 1e-6 });
  assertClose([plugin.rows[4].weight_l1], [v.weight_l1], { rtol: 1e-12 });
  // State round trip.
  const again = new D.LrAttackPlugin(plugin.options);
  again.loadStateDict(JSON.parse(JSON.stringify(plugin.stateDict())));
  assert.equal(again.rows.length, 5);
  assert.equal(again.rows[3].step, 6);
});

test('a multiplier already set is composed with and restored; factor 1 sets none', () => {
  const model = new MLP(new Generator(4));
  const data = batches(60, 5);
  const lr = 0.05;
  const opt = new SGD(model.parameters(), { lr });
  opt.setLrMultiplier(model.fc1.weight, new Tensor(new Float32Array(6).fill(0.5), [6, 1], 'float32'));
  const ctx = context(model, opt, data);
  const plugin = new D.LrAttackPlugin({ layer: 'fc1', unit: 0, factor: 10, times: 1, every: 1, start: 1, file: path.join(TMP, 'a2.csv'), examples: 40 });
  const [r] = drive(plugin, ctx, opt, data, 1);
  assertClose(r.dw.subarray(0, 5), Array.from(r.gw.subarray(0, 5), (g) => -lr * 5 * g), { rtol: 1e-4, atol: 1e-7 });
  assertClose(r.dw.subarray(5), Array.from(r.gw.subarray(5), (g) => -lr * 0.5 * g), { rtol: 1e-4, atol: 1e-7 });
  assert.deepEqual(opt.getLrMultiplier(model.fc1.weight), new Float32Array(30).fill(0.5), 'the earlier multiplier is back');

  const m2 = new MLP(new Generator(4));
  const m3 = new MLP(new Generator(4));
  const o2 = new SGD(m2.parameters(), { lr });
  const o3 = new SGD(m3.parameters(), { lr });
  const control = new D.LrAttackPlugin({ layer: 'fc1', unit: 0, factor: 1, times: 2, every: 1, start: 1, file: path.join(TMP, 'a3.csv'), examples: 40 });
  let sets = 0;
  const orig = o2.setLrMultiplier.bind(o2);
  o2.setLrMultiplier = (p, m) => { sets++; orig(p, m); };
  drive(control, context(m2, o2, data), o2, data, 3);
  for (let s = 0; s < 3; s++) {
    o3.zeroGrad();
    crossEntropy(m3.call(data[s].x) as Tensor, data[s].y).backward();
    o3.step();
  }
  assert.equal(sets, 0);
  assert.deepEqual(m2.fc1.weight.f32, m3.fc1.weight.f32, 'factor 1: the same training');
  assert.equal(fs.readFileSync(path.join(TMP, 'a3.csv'), 'utf8').trimEnd().split('\n').length, 1 + 3, 'step 0 and the two "attacked" steps');
});

test('bad options and bad layers are one-line errors', () => {
  const model = new MLP(new Generator(1));
  const data = batches(20, 1);
  const opt = new SGD(model.parameters(), { lr: 0.1 });
  assert.throws(() => new D.LrAttackPlugin({ layer: 'fc1', unit: -1, factor: 10, times: 1, every: 1, start: 1 }), /unit must be an integer >= 0/);
  assert.throws(() => new D.LrAttackPlugin({ layer: 'fc1', unit: 0, factor: 10, times: 0, every: 1, start: 1 }), /times must be an integer >= 1/);
  assert.throws(() => new D.LrAttackPlugin({ layer: 'fc1', unit: 0, factor: 10, times: 1, every: 1, start: 0 }), /start must be an integer >= 1/);
  const bad = new D.LrAttackPlugin({ layer: 'conv1', unit: 0, factor: 10, times: 1, every: 1, start: 1 });
  assert.throws(() => bad.onTrainStart(context(model, opt, data, TMP)), /^SparsetrainError: --attack-unit conv1:0: conv1 is not a Linear or Conv2d layer of the model; layers: fc1, fc2$/);
  const big = new D.LrAttackPlugin({ layer: 'fc2', unit: 3, factor: 10, times: 1, every: 1, start: 1 });
  assert.throws(() => big.onTrainStart(context(model, opt, data, TMP)), /--attack-unit fc2:3: fc2 has 3 units \(0\.\.2\)/);
  const nowhere = new D.LrAttackPlugin({ layer: 'fc1', unit: 0, factor: 10, times: 1, every: 1, start: 1 });
  assert.throws(() => nowhere.onTrainStart(context(model, opt, data)), /no run directory/);
});
