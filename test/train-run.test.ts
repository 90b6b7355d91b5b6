/**
 * The trainer end to end on small synthetic data (library API): the files of a
 * run and their fields, resume = uninterrupted (bit for bit), NaN stop,
 * --validate-set, and the plug-in hooks (order, context, state across a resume).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backend } from '../src/backend';
import { prune, isPruned, applyMasksToOptimizer } from '../src/sparse/mask';
import { readSafetensors } from '../src/io/safetensors';
import { loadCheckpoint } from '../src/io/checkpoint';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config';
import { Trainer, train } from '../src/train/trainer';
import type { TrainContext, TrainPlugin } from '../src/train/plugin';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-train-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

function cfg(name: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({
    model: 'lenet300', dataset: 'synthetic', limitTrain: 320, limitTest: 100, epochs: 2, batchSize: 32,
    lr: 0.05, runsDir: TMP, name, ...over,
  });
}

const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f));
const json = (dir: string, f: string) => JSON.parse(read(dir, f).toString('utf8'));

test('a run writes every file with the documented fields', async () => {
  const r = await train({ config: cfg('files'), command: 'sparsetrain train (test)' });
  assert.equal(r.status, 'completed');
  const dir = r.runDir;
  for (const f of ['config.yaml', 'metrics.jsonl', 'model.safetensors', 'checkpoint.safetensors', 'checkpoint.json', 'summary.json', 'log.txt']) {
    assert.ok(fs.existsSync(path.join(dir, f)), f);
  }
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
  const s = json(dir, 'summary.json');
  for (const k of ['model', 'dataset', 'epochs', 'seed', 'params', 'nonzeroParams', 'sparsity', 'normalization', 'trainSamplesPerSec', 'wallSeconds', 'command']) {
    assert.ok(k in s, `summary.${k}`);
  }
  assert.equal(s.model, 'lenet300');
  assert.equal(s.dataset, 'synthetic');
  assert.equal(s.epochs, 2);
  assert.equal(s.params, 266610);
  assert.ok(s.nonzeroParams > 266000 && s.nonzeroParams <= 266610);
  assert.equal(s.test.samples, 100);
  assert.ok(s.test.accuracy > 50 && s.test.accuracy <= 100, `accuracy ${s.test.accuracy}`);
  assert.ok(Number.isFinite(s.test.loss));
  assert.deepEqual(s.normalization, { mean: [0.1048], std: [0.1588] });
  assert.equal(s.command, 'sparsetrain train (test)');
  assert.ok(s.trainSamplesPerSec > 0 && s.wallSeconds > 0);
  const lines = read(dir, 'metrics.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => l.epoch), [0, 1]);
  for (const l of lines) {
    for (const k of ['lr', 'trainLoss', 'trainAccuracy', 'evalLoss', 'evalAccuracy', 'evalTop5']) assert.ok(Number.isFinite(l[k]), k);
    assert.equal(l.evalSplit, 'test');
  }
  assert.equal(lines[1].evalAccuracy, s.test.accuracy, 'the last epoch is evaluated on the final weights');
  const w = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
  assert.deepEqual([...w.keys()].sort(), ['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'fc3.bias', 'fc3.weight']);
  assert.deepEqual(w.get('fc1.weight')!.shape, [300, 784]);
  assert.equal(w.get('fc1.weight')!.dtype, 'F32');
  const yaml = read(dir, 'config.yaml').toString('utf8');
  assert.match(yaml, /^batch-size: 32$/m);
  assert.match(yaml, /^lr: 0.05$/m);
});

test('resume after --max-steps (mid-epoch and at an epoch end) ends bit-identical to an uninterrupted run', async () => {
  const full = await train({ config: cfg('full', { epochs: 3 }) });
  const want = read(full.runDir, 'model.safetensors');
  for (const stopAt of [4, 10]) {
    const name = `part-${stopAt}`;
    const a = await train({ config: cfg(name, { epochs: 3, maxSteps: stopAt }) });
    assert.equal(a.status, 'stopped');
    assert.equal(a.summary.steps, stopAt);
    assert.notDeepEqual(read(a.runDir, 'model.safetensors'), want);
    const b = await train({ config: cfg(name, { epochs: 3 }), resume: a.runDir });
    assert.equal(b.status, 'completed');
    assert.equal(b.summary.steps, 30);
    assert.ok(read(b.runDir, 'model.safetensors').equals(want), `stopped at step ${stopAt}: resumed weights differ`);
    assert.equal(b.summary.test!.accuracy, full.summary.test!.accuracy);
    const lines = read(b.runDir, 'metrics.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    const fullLines = read(full.runDir, 'metrics.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.epoch, l.trainLoss, l.evalLoss]), fullLines.map((l) => [l.epoch, l.trainLoss, l.evalLoss]));
  }
});

test('resume with SGD + cosine schedule, no shuffle and adam also matches', async () => {
  for (const over of [{ lrSchedule: 'cosine' as const, shuffle: false }, { optimizer: 'adam' as const, lr: 1e-3, lrSchedule: 'step' as const, stepSize: 1 }]) {
    const tag = over.optimizer ?? 'sgd';
    const full = await train({ config: cfg(`f-${tag}`, over) });
    const a = await train({ config: cfg(`p-${tag}`, { ...over, maxSteps: 13 }) });
    const b = await train({ config: cfg(`p-${tag}`, over), resume: a.runDir });
    assert.ok(read(b.runDir, 'model.safetensors').equals(read(full.runDir, 'model.safetensors')), tag);
  }
});

test('--init starts from another run\'s model.safetensors (round trip through the trainer)', async () => {
  const a = await train({ config: cfg('init-src', { epochs: 1 }) });
  const src = path.join(a.runDir, 'model.safetensors');
  // lr so small that no weight moves: the run's weights are exactly the file's.
  const b = await train({ config: cfg('init-dst', { epochs: 1, maxSteps: 1, lr: 1e-30, momentum: 0, weightDecay: 0, init: src }) });
  assert.ok(read(b.runDir, 'model.safetensors').equals(read(a.runDir, 'model.safetensors')));
  assert.equal(b.summary.test!.accuracy, a.summary.test!.accuracy);
  await assert.rejects(train({ config: cfg('init-bad', { model: 'smallcnn', init: src }) }), /--init .*init-src\/model.safetensors: missing key\(s\) conv1.weight/);
});

test('a NaN loss stops the run and keeps the last good checkpoint', async () => {
  const r = await train({ config: cfg('nan', { lr: 1e6, epochs: 3, weightDecay: 0, momentum: 0 }) });
  assert.equal(r.status, 'diverged');
  assert.match(r.message!, /loss became (NaN|Infinity|-Infinity)|non-finite/);
  assert.match(r.message!, /last good checkpoint/);
  const s = json(r.runDir, 'summary.json');
  assert.equal(s.status, 'diverged');
  const ck = loadCheckpoint(r.runDir);
  for (const [k, t] of ck.model) {
    assert.ok((t.data as Float32Array).every((v) => Number.isFinite(v)), `checkpoint ${k} is finite`);
  }
  const w = readSafetensors(path.join(r.runDir, 'model.safetensors')).tensors;
  for (const [k, t] of w) assert.ok((t.data as Float32Array).every((v) => Number.isFinite(v)), `model.safetensors ${k} is finite`);
});

test('--validate-set evaluates on held-out training examples and keeps the best epoch', async () => {
  const r = await train({ config: cfg('val', { validateSet: 64, epochs: 2 }) });
  const lines = read(r.runDir, 'metrics.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.every((l) => l.evalSplit === 'validation'));
  const s = json(r.runDir, 'summary.json');
  assert.equal(s.test.samples, 100);
  assert.equal(s.validation.samples, 64);
  assert.ok(fs.existsSync(path.join(r.runDir, 'model-best.safetensors')));
  const best = Math.max(...lines.map((l) => l.evalAccuracy));
  assert.equal(s.best.validation.accuracy, best);
  // 320 - 64 training examples in batches of 32.
  assert.equal(s.steps, 2 * 8);
});

/** Records every hook call; prunes half of fc1 (random mask from ctx.generator) at train start. */
class Recorder implements TrainPlugin {
  readonly name = 'recorder';
  calls: string[] = [];
  state = { counter: 0, data: new Float32Array([1, 2, 3]) };
  loaded: unknown = null;
  resumedFlags: (boolean | undefined)[] = [];
  onTrainStart(ctx: TrainContext) {
    this.calls.push(`trainStart e${ctx.epoch} s${ctx.step}`);
    this.resumedFlags.push(ctx.resumed);
    // A fresh run prunes half of fc1 at random; a resumed one gets fc1 pruned back from the checkpoint.
    if (!ctx.resumed) {
      const w = ctx.model.getParameter('fc1.weight');
      const u = new Float32Array(w.numel);
      backend().rngUniform(ctx.generator.state, u, u.length, 0, 1);
      prune(ctx.model, 'fc1.weight', Float32Array.from(u, (v) => (v < 0.5 ? 0 : 1)));
      applyMasksToOptimizer(ctx.model, ctx.optimizer);
    }
  }
  onEpochStart(ctx: TrainContext) { this.calls.push(`epochStart e${ctx.epoch}`); }
  beforeForward(ctx: TrainContext) {
    assert.ok(ctx.batch && ctx.batch.x.shape[0] === 32);
    assert.equal(ctx.loss, undefined);
    this.calls.push(`beforeForward s${ctx.step} b${ctx.batchIndex}`);
  }
  afterBackward(ctx: TrainContext) {
    assert.ok(ctx.loss && Number.isFinite(ctx.loss.item()));
    assert.ok(isPruned(ctx.model, 'fc1.weight'));
    assert.ok(ctx.model.getParameter('fc1.weight_orig').grad, 'gradients exist after backward');
    this.calls.push(`afterBackward s${ctx.step}`);
  }
  afterStep(ctx: TrainContext) {
    this.state.counter += 1;
    this.calls.push(`afterStep s${ctx.step}`);
  }
  onEpochEnd(ctx: TrainContext) {
    assert.ok(Number.isFinite(ctx.epochMetrics.trainLoss as number));
    assert.ok(Number.isFinite(ctx.epochMetrics.evalAccuracy as number));
    const ev = ctx.evaluate();
    assert.equal(ev.accuracy, ctx.epochMetrics.evalAccuracy);
    assert.equal(ctx.sampleTrainBatches(40, 16).length, 3);
    ctx.epochMetrics.recorderCounter = this.state.counter;
    ctx.log(`recorder: epoch ${ctx.epoch} done`);
    this.calls.push(`epochEnd e${ctx.epoch}`);
  }
  onTrainEnd() { this.calls.push('trainEnd'); }
  stateDict() { return this.state; }
  loadStateDict(s: unknown) {
    this.loaded = s;
    this.state = s as Recorder['state'];
    this.calls.push('load');
  }
}

test('plug-in hooks run in the documented order, with the context filled in', async () => {
  const rec = new Recorder();
  const r = await train({ config: cfg('hooks', { limitTrain: 64, epochs: 2 }), plugins: [rec] });
  assert.equal(r.status, 'completed');
  const step = (s: number, b: number) => [`beforeForward s${s} b${b}`, `afterBackward s${s}`, `afterStep s${s + 1}`];
  assert.deepEqual(rec.calls, [
    'trainStart e0 s0',
    'epochStart e0', ...step(0, 0), ...step(1, 1), 'epochEnd e0',
    'epochStart e1', ...step(2, 0), ...step(3, 1), 'epochEnd e1',
    'trainEnd',
  ]);
  const lines = read(r.runDir, 'metrics.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.recorderCounter), [2, 4], 'plug-in metrics land in metrics.jsonl');
  assert.match(read(r.runDir, 'log.txt').toString('utf8'), /recorder: epoch 1 done/);
  // Pruned fc1: model.safetensors holds the folded plain key; the checkpoint keeps the reparametrisation.
  const w = readSafetensors(path.join(r.runDir, 'model.safetensors')).tensors;
  assert.ok(w.has('fc1.weight') && !w.has('fc1.weight_orig') && !w.has('fc1.weight_mask'));
  const ck = loadCheckpoint(r.runDir);
  assert.ok(ck.model.has('fc1.weight_orig') && ck.model.has('fc1.weight_mask'));
  const wt = w.get('fc1.weight')!.data as Float32Array;
  const mask = ck.model.get('fc1.weight_mask')!.data as Float32Array;
  const orig = ck.model.get('fc1.weight_orig')!.data as Float32Array;
  for (let i = 0; i < wt.length; i += 97) assert.equal(wt[i], mask[i] ? orig[i] : 0);
  const s = r.summary;
  assert.equal(s.params, 266610);
  assert.ok(Math.abs(s.sparsity - 117600 / 266610) < 0.01, `sparsity ${s.sparsity}`);
});

test('plug-in state and structure survive a resume; the result equals an uninterrupted run', async () => {
  const full = new Recorder();
  const rf = await train({ config: cfg('pfull', { limitTrain: 64, epochs: 3 }), plugins: [full] });
  const a = new Recorder();
  const ra = await train({ config: cfg('ppart', { limitTrain: 64, epochs: 3, maxSteps: 3 }), plugins: [a] });
  assert.equal(ra.status, 'stopped');
  const b = new Recorder();
  const rb = await new Trainer({ config: cfg('ppart', { limitTrain: 64, epochs: 3 }), plugins: [b], resume: ra.runDir }).run();
  assert.equal(rb.status, 'completed');
  assert.deepEqual(b.resumedFlags, [true]);
  assert.equal(b.calls[0], 'load');
  assert.equal(b.calls[1], 'trainStart e1 s3');
  // Mid-epoch resume: no second onEpochStart for epoch 1.
  assert.deepEqual(b.calls.slice(2, 5), ['beforeForward s3 b1', 'afterBackward s3', 'afterStep s4']);
  assert.deepEqual((b.loaded as Recorder['state']).data, new Float32Array([1, 2, 3]));
  assert.equal(b.state.counter, 6);
  assert.ok(read(rb.runDir, 'model.safetensors').equals(read(rf.runDir, 'model.safetensors')));
  // Resuming without the plug-in that has state in the checkpoint is refused.
  await assert.rejects(new Trainer({ config: cfg('ppart', { limitTrain: 64, epochs: 4 }), resume: ra.runDir }).run(), /plug-in\(s\) recorder/);
});
