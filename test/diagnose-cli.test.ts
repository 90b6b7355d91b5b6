/**
 * The diagnosis on the command line, as a user runs it (spawned): bad
 * --unit-report / --attack-* / sensitivity input is one line naming the flag
 * or file; a small training run with the unit report and an attack writes
 * metrics.jsonl's unitHealth and attack.csv (the same after a stop and
 * --resume), the report and a factor-1 attack leave training unchanged;
 * `sparsetrain sensitivity` on that run prints the table and writes
 * sensitivity.csv / .json.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliSandbox } from './cli-util';

const { TMP, cli } = cliSandbox('st-diag-cli-');

const SMALL = ['--model', 'lenet300', '--dataset', 'synthetic', '--limit-train', '64', '--limit-test', '32', '--runs-dir', TMP, '--quiet'];

test('bad diagnosis input: one line naming the flag, exit 1', async () => {
  fs.writeFileSync(path.join(TMP, 'w.safetensors'), 'junk');
  const cases: [string[], RegExp][] = [
    [['train', ...SMALL, '--attack-factor', '10'], /^sparsetrain: --attack-factor: only applies with --attack-unit LAYER:INDEX$/],
    [['train', ...SMALL, '--attack-unit', 'fc1'], /^sparsetrain: --attack-unit: expected LAYER:INDEX, e.g. conv1:0, got 'fc1'$/],
    [['train', ...SMALL, '--attack-unit', 'fc1:0', '--attack-times', '0'], /^sparsetrain: --attack-times: expected an integer >= 1, got '0'$/],
    [['train', ...SMALL, '--attack-unit', 'fc9:0', '--name', 'bad-layer'], /^sparsetrain: --attack-unit fc9:0: fc9 is not a Linear or Conv2d layer of the model; layers: fc1, fc2, fc3$/],
    [['train', ...SMALL, '--attack-unit', 'fc2:100', '--name', 'bad-unit'], /^sparsetrain: --attack-unit fc2:100: fc2 has 100 units \(0\.\.99\)$/],
    [['train', ...SMALL, '--unit-report', '0'], /^sparsetrain: --unit-report: expected an integer >= 1, got '0'$/],
    [['sensitivity', 'nothing'], /^sparsetrain: sensitivity nothing: no such file or directory/],
    [['sensitivity', 'w.safetensors'], /^sparsetrain: --model: required for w.safetensors/],
    [['sensitivity', 'w.safetensors', '--model', 'lenet300', '--dataset', 'synthetic'], /^sparsetrain: sensitivity w.safetensors: not a valid safetensors file/],
    [['sensitivity', 'w.safetensors', '--fractions', '0.5,1.2'], /^sparsetrain: --fractions: expected comma-separated numbers in \[0, 1\]/],
    [['sensitivity', 'w.safetensors', '--scorer', 'biggest'], /^sparsetrain: --scorer: expected one of magnitude, random, taylor1/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got:\n${r.stderr}`);
    assert.match(lines[0], re, args.join(' '));
  }
});

test('--unit-report (also from a config file) does not change the training; attack factor 1 neither', async () => {
  fs.writeFileSync(path.join(TMP, 'report.yaml'), 'unit-report: 30\n');
  const runs = await Promise.all([
    cli(['train', ...SMALL, '--epochs', '1', '-b', '16', '--name', 'plain']),
    cli(['train', ...SMALL, '--epochs', '1', '-b', '16', '--name', 'report', '--config', path.join(TMP, 'report.yaml')]),
    cli(['train', ...SMALL, '--epochs', '1', '-b', '16', '--name', 'control', '--attack-unit', 'fc1:0', '--attack-factor', '1', '--attack-start', '1']),
  ]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const w = (n: string) => fs.readFileSync(path.join(TMP, n, 'model.safetensors'));
  assert.ok(w('plain').equals(w('report')));
  assert.ok(w('plain').equals(w('control')));
  const m = JSON.parse(fs.readFileSync(path.join(TMP, 'report', 'metrics.jsonl'), 'utf8').trim());
  assert.equal(m.unitHealth.examples, 30);
});

test('train with --unit-report and an attack; sensitivity on the run', async () => {
  const args = ['train', ...SMALL, '--epochs', '2', '-b', '16', '--unit-report', '--attack-unit', 'fc2:7',
    '--attack-start', '2', '--attack-times', '2', '--attack-every', '3', '--attack-log-every', '4'];
  const [t, cut] = await Promise.all([cli([...args, '--name', 'diag']), cli([...args, '--name', 'diag-cut', '--max-steps', '5'])]);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(cut.code, 0, cut.stderr);
  const resumed = await cli(['train', '--resume', path.join(TMP, 'diag-cut'), '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const run = path.join(TMP, 'diag');
  for (const f of ['attack.csv', 'model.safetensors']) {
    assert.ok(fs.readFileSync(path.join(run, f)).equals(fs.readFileSync(path.join(TMP, 'diag-cut', f))), `${f}: a run stopped at step 5 and resumed equals an uninterrupted one`);
  }
  const metrics = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 2);
  for (const m of metrics) {
    assert.equal(m.unitHealth.examples, 64, 'the sample is capped at the 64 training examples');
    assert.deepEqual(Object.keys(m.unitHealth.layers), ['fc1', 'fc2', 'fc3']);
    assert.equal(m.unitHealth.layers.fc2.units, 100);
    assert.equal(m.attack.unit, 7);
  }
  const csv = fs.readFileSync(path.join(run, 'attack.csv'), 'utf8').trimEnd().split('\n');
  assert.deepEqual(csv.slice(1).map((l) => Number(l.split(',')[0])), [0, 2, 4, 5, 8], 'step 0, attacks at 2 and 5, every 4 steps (8 steps in all)');
  const cfg = fs.readFileSync(path.join(run, 'config.yaml'), 'utf8');
  assert.match(cfg, /\nunit-report: 1000\n/);
  assert.match(cfg, /\nattack-unit: fc2:7\n/);
  const log = fs.readFileSync(path.join(run, 'log.txt'), 'utf8');
  assert.match(log, /epoch 2 unit health: fc1 \d+ frozen \d+ dead of 300/);

  const out = path.join(TMP, 'sens');
  const s = await cli(['sensitivity', run, '--fractions', '0,0.5,1', '--out', out, '--layers', 'fc1,fc3', '--quiet']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /unpruned: accuracy ([\d.]+)%/);
  assert.match(s.stdout, /\nlayer\s+params\s+0\s+0\.5\s+1\nfc1\s+235200\s+[\d.]+\s+[\d.]+\s+[\d.]+\nfc3\s+1000\s/);
  const csvRows = fs.readFileSync(path.join(out, 'sensitivity.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csvRows.length, 1 + 2 * 3);
  const j = JSON.parse(fs.readFileSync(path.join(out, 'sensitivity.json'), 'utf8'));
  assert.equal(j.model, 'lenet300');
  assert.equal(j.split, 'test');
  assert.equal(j.rows[0].accuracy, j.baseline.accuracy, 'fraction 0: the unpruned accuracy');
  assert.equal(j.rows[2].nonzero, 0, 'fraction 1 zeroes the layer');
  const e = await cli(['eval', run, '--json']);
  assert.equal(JSON.parse(e.stdout).accuracy, j.baseline.accuracy, 'the same accuracy as eval');
  const bad = await cli(['sensitivity', run, '--scorer', 'magnitude', '--epsilon', '0.1']);
  assert.match(bad.stderr, /^sparsetrain: --epsilon: only applies to the taylor1, taylor2 and hessian scorers/);
  const badLayer = await cli(['sensitivity', run, '--layers', 'fc9', '--out', out]);
  assert.match(badLayer.stderr, /^sparsetrain: --layers: no prunable layer "fc9"; layers: fc1, fc2, fc3\n$/);
});
