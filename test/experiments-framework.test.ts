/**
 * The experiments framework (src/experiments/experiment.ts): a phase with a
 * pruning configuration gets its pruning plug-ins by default, and a caller's
 * own plug-in list without them is an error (it would silently not prune).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPhase, timedPhase, type ExperimentOptions } from '../src/experiments';
import { silentReporter } from '../src/train/progress';
import type { TrainPlugin } from '../src/train/plugin';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-experiments-'));
const options = (): ExperimentOptions => ({ runsDir: TMP, name: 'x', threads: 1, seed: 0, smoke: true, reporter: silentReporter, log: () => {} });
const pruned = { model: 'lenet300', dataset: 'synthetic', epochs: 2, limitTrain: 128, limitTest: 64, prune: 'one-shot', sparsity: 0.5, pruneAt: 1 } as const;

test('runPhase builds the pruning plug-ins of the configuration by default', async () => {
  const { r, info } = await timedPhase(options(), TMP, 'default-plugins', pruned);
  assert.equal(info.runDir, 'default-plugins');
  assert.ok(info.cpuSeconds > 0);
  assert.equal(info.epochs, 2);
  const weights = Object.entries(r.summary.layers).filter(([k]) => k.endsWith('.weight'));
  assert.ok(weights.length > 0);
  for (const [k, l] of weights) assert.ok(Math.abs(l.nonzero - l.params / 2) <= 1, `${k} pruned to half: ${l.nonzero} of ${l.params}`);
});

test('runPhase refuses a plug-in list without the configured pruning', async () => {
  const other: TrainPlugin = { name: 'other' };
  await assert.rejects(runPhase(options(), TMP, 'missing', pruned, [other]), /phase missing configures .* but the plug-ins given do not include it/);
  assert.ok(!fs.existsSync(path.join(TMP, 'missing')), 'nothing trained');
});
