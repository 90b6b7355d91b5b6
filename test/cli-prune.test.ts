/**
 * Pruning from the command line, spawned as a user runs it, on the synthetic
 * data set with tiny limits: `train` with pruning flags (recorded in
 * config.yaml, acting through their plug-ins, a resumed run byte-identical to
 * an uninterrupted one, a physically smaller model.safetensors), bad
 * combinations as one-line errors, and `prune` writing a smaller model whose
 * `eval` accuracy is the one its summary.json reports.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { cliSandbox, type CliOutput } from './cli-util';

const { TMP, cli } = cliSandbox('st-cli-prune-');

const run = (name: string, f: string) => path.join(TMP, 'runs', name, f);
const json = (name: string, f = 'summary.json') => JSON.parse(fs.readFileSync(run(name, f), 'utf8'));

// smallcnn, 4 epochs of 4 steps: gradual weight pruning to 80%, MRS unit pruning at epochs 1 and 2, the f_nz clean-up at the end.
const JOB = [
  'train', '--model', 'smallcnn', '--dataset', 'synthetic', '--limit-train', '128', '--limit-test', '64', '-b', '32', '--epochs', '4', '--lr', '0.05',
  '--prune', 'gradual', '--sparsity', '0.8', '--prune-start', '0', '--prune-end', '3',
  '--prune-units', '1:0.25,2:0.5', '--unit-examples', '64', '--remove-units-fnz', '0', '--quiet',
];

function expectOneLineErrors(outs: CliOutput[], cases: [string[], RegExp][]): void {
  outs.forEach((o, i) => {
    const [args, re] = cases[i];
    const what = args.join(' ');
    assert.notEqual(o.code, 0, `${what}: exit code`);
    const lines = o.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one line, got:\n${o.stderr}`);
    assert.match(lines[0], /^sparsetrain: /, what);
    assert.match(lines[0], re, what);
  });
}

test('train: bad pruning flags give one line naming the flag', async () => {
  const T = ['train', '--model', 'smallcnn', '--dataset', 'synthetic', '--epochs', '3'];
  const cases: [string[], RegExp][] = [
    [[...T, '--prune', 'gradual', '--sparsity', '0.9'], /--prune-end: --prune gradual needs --prune-end EPOCH/],
    [[...T, '--han-quality', '0.5'], /--han-quality: only applies with --prune han \(no --prune given\)/],
    [[...T, '--prune', 'one-shot', '--prune-at', '1', '--sparsity', '0.5', '--prune-table', '2:0.5'], /--prune-table: only applies with --prune table \(got --prune one-shot\)/],
    [[...T, '--prune', 'one-shot', '--prune-at', '1', '--sparsity', '2'], /--sparsity: expected a number in \[0, 1\], got '2'/],
    [[...T, '--prune-units', '3:0.5'], /--prune-units: the round at epoch 3 would never happen/],
    [[...T, '--prune', 'one-shot', '--prune-at', '1', '--sparsity', '0.5', '--prune-scorer', 'taylor3'], /--prune-scorer: expected one of magnitude, random, taylor1/],
    [[...T, '--prune', 'han', '--han-quality', '1,x', '--prune-start', '1'], /--han-quality: expected a number >= 0 or comma-separated numbers/],
    [[...T, '--prune', 'one-shot', '--prune-at', '1', '--sparsity', '0.5', '--prune-scorer', 'loss-change', '--limit-train', '64', '--limit-test', '32', '--runs-dir', TMP],
      /--prune-scorer loss-change: the model has 20424 unpruned weights to zero one by one, more than the scorer's limit of 5000/],
  ];
  expectOneLineErrors(await Promise.all(cases.map(([a]) => cli(a))), cases);
});

test('train with pruning flags: config.yaml, plug-ins at work, a smaller model; a resumed run is byte-identical to an uninterrupted one; prune and eval of the result', async () => {
  const [full, part] = await Promise.all([cli([...JOB, '--name', 'full']), cli([...JOB, '--name', 'part', '--max-steps', '6'])]);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(part.code, 0, part.stderr);
  const resumed = await cli(['train', '--resume', path.join('runs', 'part'), '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(fs.readFileSync(run('full', 'model.safetensors')).equals(fs.readFileSync(run('part', 'model.safetensors'))), 'resumed run ends with the same bytes');

  const yaml = fs.readFileSync(run('full', 'config.yaml'), 'utf8');
  for (const line of ['prune: gradual', 'sparsity: 0.8', 'prune-start: 0', 'prune-end: 3', 'prune-curve: cubic', 'prune-scorer: magnitude', 'unit-scorer: mrs', 'remove-units-fnz: 0', 'prune-table: null']) {
    assert.match(yaml, new RegExp(`^${line}$`, 'm'), line);
  }
  const log = fs.readFileSync(run('full', 'log.txt'), 'utf8');
  assert.match(log, /gradual-pruning: event 3\/3 at epoch 3 .*sparsity 80\.00%/);
  assert.match(log, /unit pruning \(mrs, mean replacement\): \d+ units pruned to reach 0.5/);
  assert.match(log, /unit pruning: model shrunk from 20522 to \d+ parameters/);
  assert.match(log, /unit clean-up \(f_nz 0\)/);

  const s = json('full');
  assert.equal(s.status, 'completed');
  assert.ok(s.params < 20522 / 2, `shrunk: ${s.params}`);
  assert.deepEqual(json('part').test, s.test);
  assert.equal(s.pruning.denseWeights, 20424);
  assert.equal(s.pruning.firstPruningEpoch, 1);
  assert.equal(s.pruning.after.accuracy, s.test.accuracy);
  assert.ok(s.pruning.before.accuracy > 0);
  // model.safetensors: the smaller shapes of summary.json's layers, and its zeros are the reported sparsity.
  const st = readSafetensors(run('full', 'model.safetensors')).tensors;
  let nz = 0;
  for (const [k, l] of Object.entries(s.layers) as [string, { shape: number[]; nonzero: number; sparsity: number }][]) {
    const t = st.get(k)!;
    assert.deepEqual(t.shape, l.shape, k);
    const n = (t.data as Float32Array).reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
    assert.equal(n, l.nonzero, k);
    nz += n;
  }
  assert.equal(nz, s.pruning.nonzeroWeights);
  assert.ok(st.get('conv1.weight')!.shape[0] < 8 && st.get('fc1.weight')!.shape[0] < 64, 'units removed');

  // prune the pruned run further: units (MRS, mean replacement), weights, clean-up, fine-tuning; and a plain weight pruning.
  const [p1, p2, ev0] = await Promise.all([
    cli(['prune', path.join('runs', 'full'), '--unit-fraction', '0.3', '--unit-examples', '64', '--sparsity', '0.9', '--shrink', '--fine-tune-epochs', '1', '--name', 'p1', '--quiet']),
    cli(['prune', path.join('runs', 'full', 'model.safetensors'), '--model', 'smallcnn', '--dataset', 'synthetic', '--limit-test', '64', '--limit-train', '128',
      '--sparsity-conv', '0.85', '--sparsity-fc', '0.95', '--prune-scope', 'kind', '--prune-scorer', 'taylor1-abs', '--prune-examples', '64', '--name', 'p2', '--json']),
    cli(['eval', path.join('runs', 'full'), '--limit', '64', '--json']),
  ]);
  assert.equal(p1.code, 0, p1.stderr);
  assert.equal(p2.code, 0, p2.stderr);
  assert.equal(JSON.parse(ev0.stdout).accuracy, s.test.accuracy, 'eval of the shrunk training result');
  const s1 = json('p1');
  assert.equal(s1.prune.before.test.accuracy, s.test.accuracy, 'the source evaluates as its summary says');
  assert.equal(s1.prune.before.params, s.params);
  assert.ok(s1.params < s.params, `smaller: ${s1.params} < ${s.params}`);
  assert.ok(s1.prune.units.parametersAfter < s.params);
  assert.equal(s1.prune.fineTune.status, 'completed');
  assert.equal(s1.prune.afterFineTune.nonzeroWeights, s1.prune.afterPruning.nonzeroWeights, 'pruned weights stay zero while fine-tuning');
  assert.ok(fs.existsSync(run('p1', 'pruned.safetensors')) && fs.existsSync(run(path.join('p1', 'fine-tune'), 'summary.json')));
  assert.match(fs.readFileSync(run('p1', 'prune.yaml'), 'utf8'), /^unit-fraction: 0.3$/m);
  const s2 = JSON.parse(p2.stdout);
  assert.deepEqual(s2, json('p2'));
  assert.equal(s2.prune.weights.scorer, 'taylor1-abs');
  // scope kind: the conv layers together reach 85%, the fc layers together 95%.
  const pooled = (keys: string[]) => 1 - keys.reduce((a, k) => a + s2.layers[k].nonzero, 0) / keys.reduce((a, k) => a + s2.layers[k].params, 0);
  assert.ok(Math.abs(pooled(['conv1.weight', 'conv2.weight']) - 0.85) < 1e-3, `conv ${pooled(['conv1.weight', 'conv2.weight'])}`);
  assert.ok(Math.abs(pooled(['fc1.weight', 'fc2.weight']) - 0.95) < 1e-3, `fc ${pooled(['fc1.weight', 'fc2.weight'])}`);
  assert.equal(s2.prune.afterFineTune, null);
  const [e1, e2] = await Promise.all([cli(['eval', path.join('runs', 'p1'), '--limit', '64', '--json']), cli(['eval', path.join('runs', 'p2'), '--limit', '64', '--json'])]);
  assert.equal(e1.code, 0, e1.stderr);
  const r1 = JSON.parse(e1.stdout);
  assert.equal(r1.accuracy, s1.test.accuracy, 'eval of the shrunk, fine-tuned model equals summary.json');
  assert.equal(JSON.parse(e2.stdout).accuracy, s2.test.accuracy);
  const shapes = readSafetensors(run('p1', 'model.safetensors')).tensors;
  assert.ok(shapes.get('fc1.weight')!.shape[0] < st.get('fc1.weight')!.shape[0], 'fewer fc1 units than the source');

  // bad prune commands
  const cases: [string[], RegExp][] = [
    [['prune', path.join('runs', 'full')], /--sparsity: nothing to do/],
    [['prune', path.join('runs', 'full'), '--sparsity', '0.5', '--unit-scorer', 'mrp'], /--unit-scorer: only applies with --unit-fraction F/],
    [['prune', path.join('runs', 'full'), '--sparsity', '0.5', '--lr', '0.1'], /--lr: only applies with --fine-tune-epochs N/],
    [['prune', path.join('runs', 'full'), '--sparsity', '0.5', '--model', 'lenet5'], /--model: the run .* records it/],
    [['prune', path.join('runs', 'full'), '--sparsity-fc', '0.5', '--prune-scope', 'global'], /--prune-scope: global pools all layers/],
    [['prune', path.join('runs', 'full'), '--sparsity', '0.5', '--name', 'p1'], /--name: .*p1 already exists/],
    [['prune', path.join('runs', 'full', 'model.safetensors'), '--sparsity', '0.5'], /--model: required for/],
    [['prune', 'nothing.safetensors', '--sparsity', '0.5'], /prune nothing.safetensors: no such file or directory/],
  ];
  expectOneLineErrors(await Promise.all(cases.map(([a]) => cli(a))), cases);
});
