/**
 * The scorer comparison (src/sparse/compare) on smallcnn with tiny data:
 * every trial is undone bit for bit (also on a model already pruned by weight
 * and unit masks); the rows prune what they say and measure the loss on the
 * loss sample (recomputed here by hand); in a trainer, training with the
 * plug-in ends byte-identical to training without it, the CSV has its
 * columns and one row per (step, layer, scorer, fraction), every row of a
 * step shares the loss of the fixed sample, and a resumed run writes the
 * same table. Bad options are one-line errors naming the option.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module, Generator, buildModel, randn, randint, setThreads, SparsetrainError } from '../src';
import type { Batch, TrainContext, TrainPlugin } from '../src/train/plugin';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config';
import { train } from '../src/train/trainer';
import { prune, pruneModel, findTargets, applyMasks, selectMasks, refreshEffective, scoringData, datasetLoss, withMode, scoreWeightsMany } from '../src/sparse';
import { buildUnitGraph, maskUnits, getUnitMask, collectUnitStats, selectUnits, pruneUnits, scoreUnits } from '../src/sparse/units';
import {
  measureScorers, modelFingerprint, fingerprintDifference, withTrialUndone, ScorerComparisonPlugin, ROW_COLUMNS, parseRowsCsv, rowsToCsv,
  DEFAULT_WEIGHT_SCORERS, type ComparisonRow,
} from '../src/sparse/compare';
import { noGrad } from '../src/autograd/grad-mode';
import { derivedGenerator } from '../src/data/seed';

setThreads(1);

type AnyModule = Module<any[], any>;

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-compare-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

function makeData(n: number, seed: number, bs = 12): Batch[] {
  const g = new Generator(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += bs) out.push({ x: randn([bs, 1, 28, 28], { generator: g }), y: randint(0, 10, [bs], { generator: g }) });
  return out;
}

const lossOn = (model: AnyModule, batches: Batch[]): number => withMode(model, false, () => datasetLoss(model, scoringData('test', { batches, numExamples: 1e9 })));

test('every trial is undone bit for bit, also on a model already pruned by weight and unit masks', () => {
  const model = buildModel('smallcnn', { generator: new Generator(3) }) as AnyModule & Record<string, AnyModule>;
  prune(model, 'conv2.weight', Float32Array.from({ length: 3200 }, (_, i) => (i % 3 ? 1 : 0)));
  const graph = buildUnitGraph(model, [1, 28, 28]);
  maskUnits(model.fc1, 64, [5, 9]);
  const params = model.parameters();
  const keys = [...model.stateDict().keys()];
  const before = modelFingerprint(model);
  const rows = measureScorers(model, {
    fractions: [0.3, 0.9],
    weightScorers: DEFAULT_WEIGHT_SCORERS,
    weightLayers: findTargets(model),
    unitScorers: ['mrs', 'mrp', 'l1', 'l2', 'random'],
    unitLayers: ['conv1', 'conv2', 'fc1'],
    graph,
    scoreBatches: makeData(24, 1),
    lossBatches: makeData(24, 2),
    generator: new Generator(7),
    verify: false, // checked here instead
  }, { step: 3, epoch: 0 });
  assert.equal(rows.length, 4 * 8 * 2 + 3 * 5 * 2);
  assert.equal(fingerprintDifference(before, modelFingerprint(model)), null);
  assert.deepEqual([...model.stateDict().keys()], keys, 'state-dict keys and their order');
  assert.ok(model.parameters().every((p, i) => p === params[i]), 'the same parameter tensors (an optimizer keeps them)');
  assert.deepEqual([...getUnitMask(model.fc1)!].filter((v) => v === 0).length, 2);
  assert.equal(getUnitMask(model.conv1), null, 'no unit mask left where there was none');
  // The fingerprint is sensitive: one flipped bit or one unit mask more is a difference.
  const w = model.getParameter('fc2.bias').data as Float32Array;
  w[3] = -w[3];
  assert.match(fingerprintDifference(before, modelFingerprint(model)) ?? '', /fc2\.bias: element 3/);
  w[3] = -w[3];
  maskUnits(model.conv1, 8, [0]);
  assert.match(fingerprintDifference(before, modelFingerprint(model)) ?? '', /unit masks changed/);
});

test('withTrialUndone restores after a throw; rows prune what they say and measure the loss sample', () => {
  const model = buildModel('smallcnn', { act: 'tanh', generator: new Generator(4) });
  const before = modelFingerprint(model);
  assert.throws(() => withTrialUndone(model, () => {
    prune(model, 'fc1.weight', new Float32Array(256 * 64));
    maskUnits(model.getSubmodule('conv2'), 16, [1, 2]);
    throw new Error('boom');
  }), /boom/);
  assert.equal(fingerprintDifference(before, modelFingerprint(model)), null);

  const graph = buildUnitGraph(model, [1, 28, 28]);
  const scoreB = makeData(24, 5);
  const lossB = makeData(36, 6);
  const rows = measureScorers(model, {
    fractions: [0.5, 0.8], weightScorers: ['magnitude', 'taylor2-abs', 'random'], weightLayers: findTargets(model, { keys: ['conv1.weight'] }),
    unitScorers: ['mrs', 'random'], unitLayers: ['fc1'], graph, scoreBatches: scoreB, lossBatches: lossB, generator: new Generator(9),
  }, { step: 10, epoch: 1 });
  assert.deepEqual(rows.map((r) => `${r.kind} ${r.layer} ${r.scorer} ${r.fraction} ${r.pruned}`), [
    'weight conv1.weight magnitude 0.5 100', 'weight conv1.weight magnitude 0.8 160',
    'weight conv1.weight taylor2-abs 0.5 100', 'weight conv1.weight taylor2-abs 0.8 160',
    'weight conv1.weight random 0.5 100', 'weight conv1.weight random 0.8 160',
    'unit fc1 mrs 0.5 32', 'unit fc1 mrs 0.8 51', 'unit fc1 random 0.5 32', 'unit fc1 random 0.8 51',
  ]);
  const base = lossOn(model, lossB);
  for (const r of rows) {
    assert.equal(r.loss_before, base, 'every row: the loss of the loss sample before pruning');
    assert.equal(r.delta, r.loss_after - r.loss_before);
    assert.equal(r.step, 10);
    assert.equal(r.epoch, 1);
  }
  assert.ok(rows.every((r) => r.loss_after !== r.loss_before), 'pruning 50-80% of a layer changes the loss');
  // Redo two trials by hand on the loss sample: the same loss, to the bit.
  const t = findTargets(model, { keys: ['conv1.weight'] });
  const byHand = withTrialUndone(model, () => {
    pruneModel(model, { selection: { scope: 'layer', amount: { fraction: 0.8 } }, scorer: 'taylor2-abs', targets: t, score: { batches: scoreB, hessianScope: 'layer' } });
    return lossOn(model, lossB);
  });
  assert.equal(rows[3].loss_after, byHand);
  const unitByHand = withTrialUndone(model, () => {
    const stats = collectUnitStats(model, graph, { batches: scoreB, groups: ['fc1'] });
    const chosen = selectUnits(model, graph, new Map([['fc1', stats.get('fc1')!.mrs]]), { fraction: 0.5 }).get('fc1')!;
    pruneUnits(model, graph, 'fc1', chosen, { means: stats.get('fc1')!.mean });
    return lossOn(model, lossB);
  });
  assert.equal(rows[6].loss_after, unitByHand);
  // Random scorers draw from the generator passed in (not the global one).
  const g = new Generator(9);
  const w = scoreWeightsMany(model, t, ['random'], { generator: g }).get('random')!;
  const masks = selectMasks(t, w, { scope: 'layer', amount: { fraction: 0.5 } });
  const randomByHand = withTrialUndone(model, () => {
    applyMasks(model, masks);
    noGrad(() => refreshEffective(model));
    return lossOn(model, lossB);
  });
  assert.equal(rows[4].loss_after, randomByHand);
  const u = scoreUnits(model, graph, 'random', { groups: ['fc1'], generator: g });
  assert.equal(u.get('fc1')!.length, 64);
});

function cfg(name: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({
    model: 'smallcnn', dataset: 'synthetic', limitTrain: 96, limitTest: 32, epochs: 2, batchSize: 16, lr: 0.05,
    runsDir: TMP, name, threads: 1, ...over,
  });
}

const plugin = (): ScorerComparisonPlugin => new ScorerComparisonPlugin({
  every: 4, fractions: [0.5, 0.9], examples: 20, scoreExamples: 16, batchSize: 8,
  weightLayers: ['conv1.weight', 'fc1.weight'], unitLayers: ['conv2', 'fc1'],
});

/** Records the model's state at every step (before the comparison runs, which must not change it) and the context's sample. */
class Recorder implements TrainPlugin {
  readonly name = 'recorder';
  readonly states = new Map<number, Map<string, Float32Array>>();
  sample: Batch[] = [];
  afterStep(ctx: TrainContext): void {
    if (!this.sample.length) this.sample = ctx.sampleTrainBatches(36, 8);
    this.states.set(ctx.step, new Map([...ctx.model.stateDict()].map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)])));
  }
}

test('in a trainer: training unchanged, the CSV, the same sample for every scorer, resume writes the same table', async () => {
  const plain = await train({ config: cfg('plain') });
  const rec = new Recorder();
  const p = plugin();
  const withCmp = await train({ config: cfg('with'), plugins: [rec, p] });
  assert.equal(withCmp.status, 'completed');
  assert.ok(fs.readFileSync(path.join(withCmp.runDir, 'model.safetensors')).equals(fs.readFileSync(path.join(plain.runDir, 'model.safetensors'))),
    'training with the comparison ends with the same weights, byte for byte');
  assert.equal(withCmp.summary.test!.loss, plain.summary.test!.loss);

  const text = fs.readFileSync(path.join(withCmp.runDir, 'scorers.csv'), 'utf8');
  assert.equal(text.split('\n')[0], ROW_COLUMNS.join(','));
  const rows = parseRowsCsv(text);
  const steps = [...new Set(rows.map((r) => r.step))];
  assert.deepEqual(steps, [4, 8, 12], '12 steps, measured after every 4th');
  assert.equal(rows.length, 3 * (2 * 8 * 2 + 2 * 5 * 2));
  assert.deepEqual(rows.map((r) => r.epoch), rows.map((r) => (r.step <= 6 ? 0 : 1)));
  assert.deepEqual(rows, p.rows, 'the CSV holds the rows exactly (shortest round-trip numbers)');
  assert.ok(rows.every((r) => ['weight', 'unit'].includes(r.kind) && r.delta === r.loss_after - r.loss_before));

  // Every row of a step has the loss of the same fixed sample: training examples 16..35 (after the 16 scoring examples).
  // (in batches of 8, as the plug-in takes them: the per-batch sums must match to the bit)
  const lossSample = rec.sample.slice(2);
  assert.deepEqual(lossSample.map((b) => b.x.shape[0]), [8, 8, 4]);
  const model = buildModel('smallcnn', { generator: new Generator(0) });
  for (const step of steps) {
    const st = rec.states.get(step)!;
    for (const [k, t] of model.stateDict()) (t.data as Float32Array).set(st.get(k)!);
    const expected = lossOn(model, lossSample);
    for (const r of rows.filter((x) => x.step === step)) assert.equal(r.loss_before, expected, `step ${step} ${r.scorer}`);
    // and the random scorers of that step drew from derivedGenerator(0, 'scorer-comparison', step)
    const t = findTargets(model, { keys: ['conv1.weight'] });
    const w = scoreWeightsMany(model, t, ['random'], { generator: derivedGenerator(0, 'scorer-comparison', step) }).get('random')!;
    const after = withTrialUndone(model, () => {
      applyMasks(model, selectMasks(t, w, { scope: 'layer', amount: { fraction: 0.9 } }));
      noGrad(() => refreshEffective(model));
      return lossOn(model, lossSample);
    });
    assert.equal(rows.find((r) => r.step === step && r.scorer === 'random' && r.layer === 'conv1.weight' && r.fraction === 0.9)!.loss_after, after);
  }

  // Stopped after 6 steps, resumed with a fresh plug-in: the same table.
  const a = await train({ config: cfg('part', { maxSteps: 6 }), plugins: [plugin()] });
  assert.equal(a.status, 'stopped');
  assert.deepEqual([...new Set(parseRowsCsv(fs.readFileSync(path.join(a.runDir, 'scorers.csv'), 'utf8')).map((r) => r.step))], [4]);
  const b = await train({ config: cfg('part'), plugins: [plugin()], resume: a.runDir });
  assert.equal(b.status, 'completed');
  assert.equal(fs.readFileSync(path.join(b.runDir, 'scorers.csv'), 'utf8'), text);
});

test('CSV: extra columns first, quoting, parse errors name the line and column', () => {
  const r: ComparisonRow = { step: 1, epoch: 0, kind: 'unit', layer: 'a,b', scorer: 'mrs', fraction: 0.5, pruned: 3, loss_before: 0.1, loss_after: 0.30000000000000004, delta: 0.20000000000000004 };
  const text = rowsToCsv([r], [{ name: 'act', values: ['relu'] }]);
  assert.equal(text, `act,${ROW_COLUMNS.join(',')}\nrelu,1,0,unit,"a,b",mrs,0.5,3,0.1,0.30000000000000004,0.20000000000000004\n`);
  assert.deepEqual(parseRowsCsv(text), [{ act: 'relu', ...r }]);
  assert.throws(() => parseRowsCsv('step,epoch\n1,0\n', 'x.csv'), /x\.csv: no column "kind"/);
  assert.throws(() => parseRowsCsv(`${ROW_COLUMNS.join(',')}\n1,0,unit,fc1,mrs,half,3,0.1,0.2,0.1\n`, 'x.csv'), /x\.csv: line 2, column fraction: expected a number, got "half"/);
});

test('bad options: one-line errors naming the option', () => {
  const bad: [object, RegExp][] = [
    [{}, /every .*is required/],
    [{ every: 0 }, /every must be a positive integer, got 0/],
    [{ every: 5, fractions: [0.5, 1.5] }, /every fraction must be a number in \(0, 1\], got 1\.5/],
    [{ every: 5, fractions: [] }, /fractions must be a non-empty list/],
    [{ every: 5, weightScorers: ['taylor3'] }, /weightScorers: unknown weight scorer "taylor3"/],
    [{ every: 5, unitScorers: ['l3'] }, /unitScorers: unknown unit scorer "l3"; expected one of mrs, mrp, l1, l2, random/],
    [{ every: 5, weightScorers: [], unitScorers: [] }, /nothing to compare/],
    [{ every: 5, examples: 2.5 }, /examples must be a positive integer/],
    [{ every: 5, file: '../x.csv' }, /file must be a plain file name/],
  ];
  for (const [o, re] of bad) {
    assert.throws(() => new ScorerComparisonPlugin(o as never), (e: unknown) => e instanceof SparsetrainError && /^scorer comparison: /.test(e.message) && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(o));
  }
  const model = buildModel('smallcnn');
  assert.throws(() => new ScorerComparisonPlugin({ every: 5, weightLayers: ['fc9.weight'] }).setup(model, [1, 28, 28]), /scorer comparison: weightLayers: "fc9\.weight" is not the weight of a Linear or Conv2d layer/);
  assert.throws(() => new ScorerComparisonPlugin({ every: 5, weightScorers: [], unitLayers: ['fc2'] }).setup(model, [1, 28, 28]), /scorer comparison: unitLayers: .*fc2/);
});
