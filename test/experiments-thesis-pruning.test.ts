/**
 * `sparsetrain reproduce thesis-magnitude --smoke` and `thesis-mrs-units
 * --smoke` as a user runs them (spawned): runs/NAME/ with summary.json (its
 * checks well-formed), the phases dense/ and pruned/, and model.safetensors =
 * pruned/'s, with smallcnn's PyTorch keys, smaller shapes that fit together
 * (each layer's inputs are the previous layer's units) and as many elements
 * as summary.json's parameter count.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { cliSandbox } from './cli-util';

const { TMP, cli } = cliSandbox('st-thesis-pruning-');

const KEYS = ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight'];
const DENSE = { conv1: 8, conv2: 16, fc1: 64 };

interface Summary {
  experiment: string;
  smoke: boolean;
  passed: boolean;
  checks: { what: string; target: string; measured: string; passed: boolean }[];
  phases: Record<string, { testAccuracy: number; params: number; cpuSeconds: number }>;
  [k: string]: unknown;
}

/** Runs the experiment and checks what both have in common; returns summary.json and the final model's shapes. */
async function runSmoke(name: string): Promise<{ s: Summary; shapes: Map<string, number[]>; units: typeof DENSE }> {
  const r = await cli(['reproduce', name, '--smoke', '--runs-dir', TMP, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${name}: `, 'm'));
  const dir = path.join(TMP, name);
  for (const f of ['summary.json', 'model.safetensors', 'dense/summary.json', 'dense/model.safetensors', 'pruned/summary.json', 'pruned/model.safetensors', 'pruned/config.yaml']) {
    assert.ok(fs.existsSync(path.join(dir, f)), f);
  }
  const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as Summary;
  assert.equal(s.experiment, name);
  assert.equal(s.smoke, true);
  assert.equal(s.checks.length, 2);
  assert.ok(s.checks.every((c) => typeof c.passed === 'boolean' && typeof c.measured === 'string' && typeof c.target === 'string' && typeof c.what === 'string'));
  assert.equal(s.passed, s.checks.every((c) => c.passed));
  assert.deepEqual(Object.keys(s.phases), ['dense', 'pruned']);
  assert.equal(s.phases.dense.params, 20522);
  assert.ok(typeof s.cpuSeconds === 'number' && s.phases.pruned.cpuSeconds >= 0);
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(fs.readFileSync(path.join(dir, 'pruned', 'model.safetensors'))), 'the final model is the pruned phase\'s');

  const w = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
  assert.deepEqual([...w.keys()].sort(), KEYS);
  const shapes = new Map([...w].map(([k, t]) => [k, [...t.shape]]));
  const units = { conv1: shapes.get('conv1.weight')![0], conv2: shapes.get('conv2.weight')![0], fc1: shapes.get('fc1.weight')![0] };
  // The shapes fit together: 5x5 kernels, conv2 reads conv1's channels, fc1 4x4 per conv2 channel, fc2 10 outputs.
  assert.deepEqual(shapes.get('conv1.weight'), [units.conv1, 1, 5, 5]);
  assert.deepEqual(shapes.get('conv2.weight'), [units.conv2, units.conv1, 5, 5]);
  assert.deepEqual(shapes.get('fc1.weight'), [units.fc1, units.conv2 * 16]);
  assert.deepEqual(shapes.get('fc2.weight'), [10, units.fc1]);
  for (const l of ['conv1', 'conv2', 'fc1', 'fc2'] as const) assert.deepEqual(shapes.get(`${l}.bias`), [l === 'fc2' ? 10 : units[l]]);
  const elements = [...shapes.values()].reduce((a, sh) => a + sh.reduce((x, y) => x * y, 1), 0);
  assert.equal(elements, s.phases.pruned.params, 'the model has as many parameters as summary.json says');
  assert.ok(elements < 20522, 'the model is smaller');
  return { s, shapes, units };
}

test('reproduce thesis-magnitude --smoke: dense and pruned phases, the f_nz sweep, a shrunk final model', async () => {
  const { s, units } = await runSmoke('thesis-magnitude');
  const p = s.parameters as { dense: number; afterRemoval: number; beforeRemoval: number; nonzeroBeforeRemoval: number };
  assert.equal(p.dense, 20522);
  assert.equal(p.beforeRemoval, 20522);
  assert.equal(p.afterRemoval, s.phases.pruned.params);
  assert.ok(p.nonzeroBeforeRemoval < 0.2 * 20522, 'the smoke table prunes 95% of the weights');
  assert.deepEqual(Object.keys(s.layerSparsity as object), ['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']);
  // Units removed per layer match the shapes.
  const removed = s.unitsRemoved as Record<string, { before: number; after: number; removed: number[] }>;
  for (const [g, u] of Object.entries(removed)) {
    assert.equal(u.after, units[g as keyof typeof units]);
    assert.equal(u.before - u.after, u.removed.length);
  }
  // Figure 2.11: one point per f_nz; f_nz 0 is the clean-up that was kept; more f_nz never means more parameters.
  const fig = s.figure211 as { fnz: number; parameters: number; testAccuracy: number }[];
  assert.deepEqual(fig.map((x) => x.fnz), [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.2, 0.3]);
  assert.equal(fig[0].parameters, p.afterRemoval);
  assert.ok(fig.every((x, i) => i === 0 || x.parameters <= fig[i - 1].parameters));
  // The exact f_nz = 0 removal keeps the pruned model's accuracy.
  assert.equal(fig[0].testAccuracy, s.accuracyBeforeRemoval);
});

test('reproduce thesis-mrs-units --smoke: two MRS rounds, the model shrunk to the thesis\' 4,019 parameters', async () => {
  const { s, units } = await runSmoke('thesis-mrs-units');
  // Fraction 0.6 per layer, floor(0.6 x units) pruned: 8 -> 4, 16 -> 7, 64 -> 26 (the thesis' 4,019 parameters).
  assert.deepEqual(units, { conv1: 4, conv2: 7, fc1: 26 });
  assert.equal(s.phases.pruned.params, 4019);
  const rounds = s.rounds as { epoch: number; fraction: number; alive: Record<string, number>; parameters: number }[];
  assert.deepEqual(rounds.map((r) => [r.epoch, r.fraction]), [[0, 0.2], [1, 0.6]]);
  assert.deepEqual(rounds[1].alive, units);
  assert.equal(rounds[1].parameters, 4019);
  assert.deepEqual(s.units, { conv1: { before: 8, after: 4 }, conv2: { before: 16, after: 7 }, fc1: { before: 64, after: 26 } });
  assert.equal(s.checks[0].passed, true, 'the parameter target is met even in the smoke run');
});
