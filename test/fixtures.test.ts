/**
 * The committed PyTorch fixtures (scripts/make_fixtures.py): every expected
 * file is present, unchanged since generation (manifest sha256), parses with
 * the TS reader, and is self-consistent; a few facts are re-derived by hand.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors, toFloat32, toInt32, type SafeTensor } from '../src/io/safetensors';
import { FIXTURES_DIR, loadFixture } from './fixture-util';
import { assertClose } from './util';

const EXPECTED: Record<string, string[]> = {
  layers: [
    'linear', 'linear_nobias',
    'conv2d_3x3', 'conv2d_stride2_pad1', 'conv2d_dilation2', 'conv2d_groups2', 'conv2d_depthwise', 'conv2d_1x1_nobias',
    'conv2d_5x5', 'conv2d_3x2_pad1x0', 'conv2d_stride2x1_odd',
    'max_pool2d_k2s2', 'max_pool2d_k3s2p1', 'max_pool2d_k2s2_ceil',
    'avg_pool2d_k2', 'avg_pool2d_k3s2p1_include_pad', 'avg_pool2d_k3s2p1_exclude_pad',
    'adaptive_avg_pool2d_7to1', 'adaptive_avg_pool2d_7to3',
    'batch_norm2d_train', 'batch_norm2d_eval', 'batch_norm1d_train',
    'relu', 'tanh', 'sigmoid', 'leaky_relu', 'softmax', 'log_softmax',
    'cross_entropy_mean', 'cross_entropy_sum', 'cross_entropy_ignore_index', 'nll_loss', 'mse_loss',
    'flatten', 'pad_hw', 'pad_channels', 'cat', 'slice_stride2',
  ],
  optim: [
    'sgd', 'sgd_momentum', 'sgd_momentum_dampening', 'sgd_nesterov', 'sgd_weight_decay',
    'adam', 'adam_l2', 'adamw', 'adam_amsgrad', 'lr_schedulers',
  ],
  hvp: ['mlp_tanh', 'mlp_relu', 'conv_maxpool'],
  e2e: ['lenet300', 'lenet5', 'resnet20'],
  models: ['lenet300', 'lenet5', 'smallcnn', 'smallcnn-cifar', 'smallcnn_tanh', 'smallcnn_bn', 'resnet20'],
};
const ZOO_NAMES = ['lenet300', 'lenet5', 'smallcnn', 'smallcnn-cifar', 'vgg11', 'vgg16', 'vgg19', 'resnet20', 'resnet56',
  'resnet110', 'wrn-28-2', 'smallcnn:tanh', 'smallcnn:bn'];

interface ZooEntry {
  build: { name: string; kwargs: Record<string, unknown> };
  input_shape: number[];
  output_shape: number[];
  parameter_count: number;
  state_dict: { key: string; shape: number[]; dtype: string; kind: 'parameter' | 'buffer' }[];
  parameter_keys: string[];
  buffer_keys: string[];
  forward_fixture: string | null;
}

const zoo = (): Record<string, ZooEntry> =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, 'models', 'zoo.json'), 'utf8')).models;

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Class indices, argmax indices and BatchNorm counters are I64; lr schedules F64; the rest F32. */
function expectedDtype(name: string, op: string): string {
  if (/(^|\.)(labels|indices|num_batches_tracked)$/.test(name)) return 'I64';
  if (name === 'target') return op === 'mse_loss' ? 'F32' : 'I64';
  if (name.startsWith('lr.')) return 'F64';
  return 'F32';
}

test('manifest: every file present with its recorded size and sha256, and nothing else', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, 'manifest.json'), 'utf8'));
  const listed = Object.keys(manifest.files).sort();
  const onDisk: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else onDisk.push(path.relative(FIXTURES_DIR, p).split(path.sep).join('/'));
    }
  };
  walk(FIXTURES_DIR);
  assert.deepEqual(onDisk.filter((f) => f !== 'manifest.json').sort(), listed);
  let total = 0;
  for (const rel of listed) {
    const bytes = fs.readFileSync(path.join(FIXTURES_DIR, rel));
    assert.equal(bytes.length, manifest.files[rel].bytes, `${rel} size`);
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), manifest.files[rel].sha256, `${rel} sha256`);
    total += bytes.length;
  }
  assert.ok(total < 15e6, `fixtures total ${total} bytes; the budget is 15 MB`);
  for (const [group, cases] of Object.entries(EXPECTED)) {
    for (const c of cases) assert.ok(listed.includes(`${group}/${c}.safetensors`), `${group}/${c}.safetensors listed`);
  }
  assert.ok(listed.includes('models/zoo.json'));
});

test('every fixture parses; config names its case and the shape of every tensor; dtypes as documented', () => {
  for (const [group, cases] of Object.entries(EXPECTED)) {
    for (const c of cases) {
      const { tensors, metadata } = readSafetensors(path.join(FIXTURES_DIR, group, `${c}.safetensors`));
      const where = `${group}/${c}`;
      assert.equal(metadata.generator, 'scripts/make_fixtures.py', where);
      const cfg = JSON.parse(metadata.config);
      assert.equal(cfg.group, group, where);
      assert.equal(cfg.case, c, where);
      assert.equal(typeof cfg.op, 'string', where);
      assert.deepEqual(Object.keys(cfg.shapes).sort(), [...tensors.keys()].sort(), `${where}: config.shapes names every tensor`);
      for (const [name, t] of tensors) {
        assert.deepEqual(t.shape, cfg.shapes[name], `${where} ${name} shape`);
        assert.equal(t.dtype, expectedDtype(name, cfg.op), `${where} ${name} dtype`);
        if (t.dtype !== 'I64') assert.ok(toFloat32(t).every(Number.isFinite), `${where} ${name} finite`);
      }
    }
  }
});

test('layers: inputs, outputs, gy and one gradient per differentiable input, shaped alike', () => {
  for (const c of EXPECTED.layers) {
    const fx = loadFixture('layers', c);
    const cfg = fx.config;
    for (const n of [...cfg.inputs, ...cfg.outputs, 'gy']) assert.ok(fx.has(n), `layers/${c} has ${n}`);
    assert.deepEqual(fx.shape('gy'), fx.shape('y'), `layers/${c} gy`);
    assert.ok(cfg.grads.length > 0, `layers/${c} has gradients`);
    for (const g of cfg.grads as string[]) assert.deepEqual(fx.shape(g), fx.shape(g.slice('grad.'.length)), `layers/${c} ${g}`);
  }
});

test('layers: a few values re-derived by hand (relu, softmax, batch-norm running statistics, conv output size)', () => {
  const relu = loadFixture('layers', 'relu');
  const x = relu.f32('x');
  const gy = relu.f32('gy');
  assertClose(relu.f32('y'), x.map((v) => Math.max(v, 0)), { atol: 0 });
  assertClose(relu.f32('grad.x'), x.map((v, i) => (v > 0 ? gy[i] : 0)), { atol: 0 });

  const sm = loadFixture('layers', 'softmax');
  const [rows, cols] = sm.shape('y');
  const y = sm.f32('y');
  for (let r = 0; r < rows; r++) assertClose([y.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0)], [1], { atol: 1e-6 });

  const bn = loadFixture('layers', 'batch_norm2d_train');
  const [n, , h, w] = bn.shape('x');
  const cnt = n * h * w;
  const rm = bn.f32('running_mean'), rv = bn.f32('running_var'), bm = bn.f32('batch_mean'), bv = bn.f32('batch_var');
  assertClose(bn.f32('running_mean.after'), rm.map((v, i) => 0.9 * v + 0.1 * bm[i]), { rtol: 1e-5 });
  assertClose(bn.f32('running_var.after'), rv.map((v, i) => 0.9 * v + 0.1 * bv[i] * cnt / (cnt - 1)), { rtol: 1e-5 });

  const conv = loadFixture('layers', 'conv2d_stride2x1_odd');
  const { stride, padding, dilation } = conv.config;
  const [, , ih, iw] = conv.shape('x');
  const [, , kh, kw] = conv.shape('weight');
  const oh = Math.floor((ih + 2 * padding[0] - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((iw + 2 * padding[1] - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  assert.deepEqual(conv.shape('y').slice(2), [oh, ow]);

  const ce = loadFixture('layers', 'cross_entropy_ignore_index');
  const labels = ce.i32('target');
  const g = ce.f32('grad.input');
  const k = ce.shape('input')[1];
  labels.forEach((l, i) => {
    if (l === -100) assert.ok(g.subarray(i * k, (i + 1) * k).every((v) => v === 0), 'ignored rows get no gradient');
  });
});

test('optim: parameters after each of 4 steps; plain SGD is p - lr g; scheduler lrs', () => {
  for (const c of EXPECTED.optim.filter((n) => n !== 'lr_schedulers')) {
    const fx = loadFixture('optim', c);
    for (let i = 0; i <= 4; i++) assert.deepEqual(fx.shape(`param.${i}`), [50], `optim/${c} param.${i}`);
    for (let i = 0; i < 4; i++) assert.deepEqual(fx.shape(`grad.${i}`), [50], `optim/${c} grad.${i}`);
    assert.equal(typeof fx.config.hyper.lr, 'number');
  }
  const sgd = loadFixture('optim', 'sgd');
  for (let i = 0; i < 4; i++) {
    const p = sgd.f32(`param.${i}`), g = sgd.f32(`grad.${i}`);
    assertClose(sgd.f32(`param.${i + 1}`), p.map((v, j) => v - 0.1 * g[j]), { rtol: 1e-6, atol: 1e-7 });
  }
  assert.ok(loadFixture('optim', 'sgd_momentum').has('state.momentum_buffer'));
  assert.ok(loadFixture('optim', 'adam_amsgrad').has('state.max_exp_avg_sq'));

  const lr = loadFixture('optim', 'lr_schedulers');
  assert.deepEqual(Array.from(lr.f32('lr.StepLR')), Array.from(Float32Array.from([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125])));
  assert.deepEqual(lr.config.schedulers.StepLR.lr.length, 12);
  for (const name of ['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR']) {
    assert.deepEqual(Array.from(lr.get(`lr.${name}`).data as Float64Array), lr.config.schedulers[name].lr, name);
  }
});

test('hvp: a parameter, gradient, direction and product per parameter', () => {
  for (const c of EXPECTED.hvp) {
    const fx = loadFixture('hvp', c);
    const params: string[] = fx.config.params;
    assert.ok(params.length >= 4);
    for (const prefix of ['param.', 'grad.', 'v.', 'hvp.']) assert.deepEqual(fx.keys(prefix), params, `hvp/${c} ${prefix}*`);
    for (const p of params) for (const prefix of ['grad.', 'v.', 'hvp.']) assert.deepEqual(fx.shape(prefix + p), fx.shape(`param.${p}`));
    assert.ok(fx.f32('hvp.' + params[0]).some((v) => v !== 0), `hvp/${c} non-trivial`);
    assert.equal(fx.i32('labels').length, fx.shape('x')[0]);
  }
});

test('zoo.json: every zoo model, its parameter count, keys and buffers', () => {
  const z = zoo();
  assert.deepEqual(Object.keys(z), ZOO_NAMES);
  assert.equal(z.lenet300.parameter_count, 266610);
  assert.equal(z.lenet5.parameter_count, 431080);
  assert.equal(z.smallcnn.parameter_count, 20522);
  assert.equal(z['smallcnn:tanh'].parameter_count, 20522);
  for (const [name, m] of Object.entries(z)) {
    const params = m.state_dict.filter((e) => e.kind === 'parameter');
    assert.equal(m.parameter_count, params.reduce((a, e) => a + numel(e.shape), 0), `${name} count`);
    assert.deepEqual(m.parameter_keys, params.map((e) => e.key), name);
    assert.deepEqual(m.buffer_keys, m.state_dict.filter((e) => e.kind === 'buffer').map((e) => e.key), name);
    for (const e of m.state_dict) assert.equal(e.dtype, e.key.endsWith('num_batches_tracked') ? 'I64' : 'F32', `${name} ${e.key}`);
    assert.deepEqual(m.output_shape, [10], name);
  }
  assert.deepEqual(z['smallcnn:bn'].buffer_keys, ['bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
    'bn2.running_mean', 'bn2.running_var', 'bn2.num_batches_tracked']);
  assert.equal(z.resnet110.state_dict.filter((e) => e.key.endsWith('conv1.weight')).length, 55);
});

function assertStateMatchesZoo(tensors: Map<string, SafeTensor>, prefix: string, entry: ZooEntry, where: string): void {
  const keys = [...tensors.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  assert.deepEqual(keys, entry.state_dict.map((e) => e.key), `${where}: ${prefix}* keys in state-dict order`);
  for (const e of entry.state_dict) {
    const t = tensors.get(prefix + e.key)!;
    assert.deepEqual(t.shape, e.shape, `${where} ${e.key}`);
    assert.equal(t.dtype, e.dtype, `${where} ${e.key}`);
  }
}

test('models: forward fixtures hold the zoo state dict, an input of batch 2 and the logits', () => {
  const z = zoo();
  for (const [name, m] of Object.entries(z)) {
    if (!m.forward_fixture) continue;
    const c = m.forward_fixture.replace(/\.safetensors$/, '');
    assert.ok(EXPECTED.models.includes(c), c);
    const fx = loadFixture('models', c);
    assert.equal(fx.config.model, name);
    assertStateMatchesZoo(fx.tensors, 'state.', m, `models/${c}`);
    assert.deepEqual(fx.shape('x'), [2, ...m.input_shape]);
    assert.deepEqual(fx.shape('logits'), [2, 10]);
  }
});

test('e2e: init and final state dicts, three steps of losses and logits', () => {
  const z = zoo();
  for (const c of EXPECTED.e2e) {
    const fx = loadFixture('e2e', c);
    assertStateMatchesZoo(fx.tensors, 'init.', z[c], `e2e/${c}`);
    assertStateMatchesZoo(fx.tensors, 'final.', z[c], `e2e/${c}`);
    assert.deepEqual(fx.config.state_keys, z[c].state_dict.map((e) => e.key));
    assert.deepEqual(fx.shape('x'), [8, ...z[c].input_shape]);
    const labels = fx.i32('labels');
    assert.ok(labels.length === 8 && labels.every((l) => l >= 0 && l < 10));
    const losses = fx.f32('losses');
    assert.equal(losses.length, 3);
    assert.ok(losses.every((l) => l > 0));
    for (let s = 0; s < 3; s++) assert.deepEqual(fx.shape(`logits.${s}`), [8, 10]);
    const w0 = z[c].parameter_keys[0];
    assert.ok(fx.f32(`init.${w0}`).some((v, i) => v !== fx.f32(`final.${w0}`)[i]), `e2e/${c} ${w0} was trained`);
  }
  const r = loadFixture('e2e', 'resnet20');
  assert.deepEqual(Array.from(r.get('init.bn1.num_batches_tracked').data as BigInt64Array), [0n]);
  assert.deepEqual(Array.from(r.get('final.bn1.num_batches_tracked').data as BigInt64Array), [3n]);
  assert.equal(toInt32(r.get('final.layer3.2.bn2.num_batches_tracked'))[0], 3);
});
