/**
 * `sparsetrain reproduce han-lenet300 --smoke` and `han-lenet5 --smoke` as a
 * user runs them (spawned): runs/NAME/ with the dense and pruned phases,
 * summary.json with its three checks, and model.safetensors with PyTorch's
 * keys whose zeros (counted here, from the file) are what the summary reports:
 * the masks are permanent in the file. The smoke numbers mean nothing; the
 * tests check the mechanics, and that the pruning phase did prune.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { cliSandbox } from './cli-util';

const { TMP, cli } = cliSandbox('st-han-');

const KEYS: Record<string, string[]> = {
  'han-lenet300': ['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'fc3.bias', 'fc3.weight'],
  'han-lenet5': ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight'],
};

function nonzero(d: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

for (const name of Object.keys(KEYS)) {
  test(`reproduce ${name} --smoke writes both phases, the checks and a model whose zeros are the reported ones`, async () => {
    const r = await cli(['reproduce', name, '--smoke', '--runs-dir', TMP, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${name}: `, 'm'));
    const dir = path.join(TMP, name);
    for (const f of ['summary.json', 'model.safetensors', 'dense/model.safetensors', 'dense/summary.json', 'pruned/model.safetensors', 'pruned/config.yaml']) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    }
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(s.experiment, name);
    assert.equal(s.smoke, true);
    assert.equal(s.finalPhase, 'pruned');
    assert.deepEqual(s.checks.map((c: { what: string }) => c.what), ['non-zero parameters (weights and biases, final model)', 'test accuracy lost to pruning', 'wall minutes']);
    assert.ok(s.checks.every((c: Record<string, unknown>) => typeof c.passed === 'boolean' && typeof c.measured === 'string' && typeof c.target === 'string'));
    assert.equal(s.passed, s.checks.every((c: { passed: boolean }) => c.passed));
    assert.ok(s.phases.dense.testAccuracy >= 0 && s.phases.pruned.testAccuracy >= 0);
    assert.ok(s.cpuSeconds > 0);

    // The final model is the pruned phase's, with PyTorch's keys, and its zeros are the summary's.
    const file = path.join(dir, 'model.safetensors');
    assert.ok(fs.readFileSync(file).equals(fs.readFileSync(path.join(dir, 'pruned', 'model.safetensors'))));
    const w = readSafetensors(file).tensors;
    assert.deepEqual([...w.keys()].sort(), KEYS[name]);
    let all = 0;
    let total = 0;
    for (const [k, t] of w) {
      const nz = nonzero(t.data as Float32Array);
      all += nz;
      total += t.data.length;
      if (k.endsWith('.weight')) {
        const layer = s.layers.find((l: { layer: string }) => l.layer === k);
        assert.ok(layer, `summary has ${k}`);
        assert.equal(layer.nonzero, nz, k);
        assert.equal(layer.params, t.data.length, k);
        assert.ok(nz < t.data.length, `${k} was pruned`);
        assert.equal(typeof layer.hanKeptPercent, 'number');
      }
    }
    assert.equal(s.nonzero.all.nonzero, all);
    assert.equal(s.nonzero.all.total, total);
    assert.match(s.checks[0].measured, new RegExp(`\\(${all} of ${total};`));
    // The pruned phase records its schedule and where it started from.
    const yaml = fs.readFileSync(path.join(dir, 'pruned', 'config.yaml'), 'utf8');
    assert.match(yaml, /prune: han/);
    assert.match(yaml, /init: .*dense.model\.safetensors/);
  });
}
