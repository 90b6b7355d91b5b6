/**
 * The trainer with the pruning plug-ins of src/sparse: a gradual schedule
 * prunes during training, model.safetensors holds the folded effective
 * weights (zeros where pruned, plain PyTorch keys), the summary counts the
 * zeros, and a run stopped mid-way and resumed (the model re-pruned from the
 * checkpoint) ends byte-identical to an uninterrupted one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { loadCheckpoint } from '../src/io/checkpoint';
import { GradualPruning } from '../src/sparse/schedules';
import { resolveTrainConfig, type TrainConfig } from '../src/train/config';
import { train } from '../src/train/trainer';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-train-sparse-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

function cfg(name: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({
    model: 'lenet300', dataset: 'synthetic', limitTrain: 192, limitTest: 64, epochs: 4, batchSize: 32,
    lr: 0.05, runsDir: TMP, name, ...over,
  });
}

/** 50% -> 90% of every Linear weight over epochs 1..3 (events at the starts of epochs 1, 2, 3). */
const plugin = () => new GradualPruning({ unit: 'epoch', start: 1, count: 2, initialSparsity: 0.5, finalSparsity: 0.9 });

test('gradual pruning in the trainer: folded weights, sparsity in the summary, resume byte-identical', async () => {
  const full = await train({ config: cfg('full'), plugins: [plugin()] });
  assert.equal(full.status, 'completed');
  const w = readSafetensors(path.join(full.runDir, 'model.safetensors')).tensors;
  assert.deepEqual([...w.keys()].sort(), ['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'fc3.bias', 'fc3.weight']);
  const fc1 = w.get('fc1.weight')!.data as Float32Array;
  const zeros = fc1.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
  assert.ok(Math.abs(zeros / fc1.length - 0.9) < 0.001, `fc1 sparsity ${zeros / fc1.length}`);
  const s = full.summary;
  assert.ok(s.sparsity > 0.85 && s.sparsity < 0.9, `summary sparsity ${s.sparsity}`);
  assert.equal(s.params, 266610);
  const lines = fs.readFileSync(path.join(full.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.every((l) => typeof l.sparsity === 'number'), 'the plug-in adds sparsity to every epoch line');

  // Stopped in epoch 2, after the second pruning event; resumed with a fresh plug-in and model.
  const a = await train({ config: cfg('part', { maxSteps: 14 }), plugins: [plugin()] });
  assert.equal(a.status, 'stopped');
  const ck = loadCheckpoint(a.runDir);
  assert.ok(ck.model.has('fc1.weight_orig') && ck.model.has('fc1.weight_mask'));
  const b = await train({ config: cfg('part'), plugins: [plugin()], resume: a.runDir });
  assert.equal(b.status, 'completed');
  assert.ok(fs.readFileSync(path.join(b.runDir, 'model.safetensors')).equals(fs.readFileSync(path.join(full.runDir, 'model.safetensors'))));
  assert.equal(b.summary.test!.accuracy, s.test!.accuracy);
});
