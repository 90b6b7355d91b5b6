/**
 * The model zoo against shared/reference/torch_models.py: state-dict keys,
 * shapes, dtypes and parameter counts equal test/fixtures/models/zoo.json for
 * every model; eval-mode logits of the small models and resnet20 equal
 * PyTorch's for the same weights. Big models are only built and counted.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Tensor, buildModel, modelNames, modelInfo, inputShape, Generator, SparsetrainError, Tanh, ReLU, BatchNorm2d, noGrad,
  randn, type BuildOptions, type CheckpointDType,
} from '../src';
import { SmallCNN, ResNetCifar, WideResNet } from '../src/models';
import { parseSafetensors, serializeSafetensors, toFloat32, type SafeTensor, type SafeDtype } from '../src/io/safetensors';
import { FIXTURES_DIR, loadFixture } from './fixture-util';
import { assertClose } from './util';

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
const ZOO: Record<string, ZooEntry> = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, 'models', 'zoo.json'), 'utf8')).models;

const NAMES = ['lenet300', 'lenet5', 'smallcnn', 'smallcnn-cifar', 'vgg11', 'vgg16', 'vgg19', 'resnet20', 'resnet56', 'resnet110', 'wrn-28-2'];
const SAFE: Record<string, CheckpointDType> = { F32: 'float32', I64: 'int64' };

/** zoo.json's PyTorch kwargs as buildModel options. */
function optionsOf(kwargs: Record<string, unknown>): BuildOptions {
  const o: BuildOptions = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === 'act') o.act = v as 'relu' | 'tanh';
    else if (k === 'batch_norm') o.batchNorm = v as boolean;
    else if (k === 'num_classes') o.numClasses = v as number;
    else if (k === 'width') o.width = v as number;
    else throw new Error(`unmapped kwarg ${k}`);
  }
  return o;
}

test('modelNames lists exactly the zoo; unknown names and options are clear errors', () => {
  assert.deepEqual(modelNames(), NAMES);
  assert.throws(() => buildModel('resnet18'), (e: unknown) => {
    assert.ok(e instanceof SparsetrainError);
    assert.match(e.message, /unknown model "resnet18"/);
    for (const n of NAMES) assert.ok(e.message.includes(n), `lists ${n}`);
    return true;
  });
  assert.throws(() => buildModel('lenet5', { act: 'tanh' }), /option act is not supported; lenet5 takes: numClasses, inChannels, generator/);
  assert.throws(() => buildModel('resnet20', { width: 2 }), /width/);
  assert.throws(() => buildModel('smallcnn', { act: 'gelu' as 'relu' }), /act must be 'relu' or 'tanh'/);
  assert.throws(() => buildModel('lenet300', { numClasses: 0 }), /numClasses/);
  // undefined options are ignored, so a CLI can pass its whole option set.
  assert.equal(buildModel('lenet300', { act: undefined, width: undefined }).numParameters(), 266610);
});

test('modelInfo: input shapes and descriptions', () => {
  for (const n of NAMES) {
    const info = modelInfo(n);
    assert.equal(info.name, n);
    assert.ok(info.description.length > 10 && !info.description.includes('\n'), n);
    assert.deepEqual(info.inputShape, ZOO[n].input_shape, n);
  }
  assert.deepEqual(inputShape('lenet5'), [1, 28, 28]);
  assert.deepEqual(inputShape('resnet20'), [3, 32, 32]);
  assert.deepEqual(inputShape('smallcnn', { inChannels: 3 }), [3, 28, 28]);
  assert.deepEqual(modelInfo('smallcnn').options, ['numClasses', 'inChannels', 'generator', 'act', 'batchNorm']);
  assert.deepEqual(modelInfo('vgg16').options, ['numClasses', 'inChannels', 'generator', 'width']);
});

test('parameter counts of the small models', () => {
  assert.equal(buildModel('lenet300').numParameters(), 266610);
  assert.equal(buildModel('lenet5').numParameters(), 431080);
  assert.equal(buildModel('smallcnn').numParameters(), 20522);
  assert.equal(buildModel('smallcnn-cifar').numParameters(), 30138);
  assert.equal(buildModel('smallcnn', { batchNorm: true }).numParameters(), 20570);
});

for (const [zooName, entry] of Object.entries(ZOO)) {
  test(`${zooName}: state-dict keys, shapes, dtypes and parameter count equal PyTorch's`, () => {
    const model = buildModel(entry.build.name, optionsOf(entry.build.kwargs));
    const sd = model.stateDict();
    assert.deepEqual([...sd.keys()], entry.state_dict.map((e) => e.key));
    const dtypes = model.stateDictDtypes();
    for (const e of entry.state_dict) {
      assert.deepEqual(sd.get(e.key)!.shape, e.shape, e.key);
      assert.equal(dtypes.get(e.key), SAFE[e.dtype], e.key);
    }
    assert.deepEqual(model.namedParameters().map(([k]) => k), entry.parameter_keys);
    assert.deepEqual(model.namedBuffers().map(([k]) => k), entry.buffer_keys);
    assert.equal(model.numParameters(), entry.parameter_count);
  });
}

const FORWARD = Object.entries(ZOO).filter(([, e]) => e.forward_fixture);

for (const [zooName, entry] of FORWARD) {
  test(`${zooName}: eval-mode logits equal PyTorch's`, () => {
    const fx = loadFixture('models', entry.forward_fixture!.replace(/\.safetensors$/, ''));
    const model = buildModel(entry.build.name, optionsOf(entry.build.kwargs));
    const state = new Map<string, SafeTensor>();
    for (const k of fx.keys('state.')) state.set(k, fx.get(`state.${k}`));
    model.loadStateDict(state);
    model.eval();
    const x = new Tensor(fx.f32('x'), fx.shape('x'), 'float32');
    const logits = noGrad(() => model.call(x));
    assert.deepEqual(logits.shape, [fx.shape('x')[0], ...entry.output_shape]);
    assertClose(logits.toArray(), fx.f32('logits'), { rtol: 1e-4, atol: 1e-5, msg: `${zooName} logits` });
  });
}

test('smallcnn variants: activation module, BatchNorm placement; numClasses and inChannels', () => {
  const tanh = buildModel('smallcnn', { act: 'tanh' }) as SmallCNN;
  assert.ok(tanh.act instanceof Tanh);
  assert.equal(tanh.bn1, undefined);
  const bn = buildModel('smallcnn-cifar', { batchNorm: true }) as SmallCNN;
  assert.ok(bn.act instanceof ReLU);
  assert.ok(bn.bn1 instanceof BatchNorm2d && bn.bn2 instanceof BatchNorm2d);
  assert.deepEqual(bn.fc1.weight.shape, [64, 400]);
  const m = buildModel('lenet5', { numClasses: 7, inChannels: 3 });
  assert.deepEqual(m.call(randn([2, 3, 28, 28], { generator: new Generator(1) })).shape, [2, 7]);
  assert.deepEqual(buildModel('lenet300', { inChannels: 3 }).getParameter('fc1.weight').shape, [300, 3 * 784]);
  assert.deepEqual(buildModel('vgg11', { width: 0.25, numClasses: 100 }).stateDict().get('classifier.weight')!.shape, [100, 128]);
});

test('resnet and wrn structure: option A blocks are parameter-free shortcuts, WRN shortcuts where the shape changes', () => {
  const r = new ResNetCifar(20);
  assert.equal(r.layer1.length, 3);
  assert.deepEqual(r.namedModules().filter(([k]) => k.endsWith('shortcut')), []);
  const w = buildModel('wrn-28-2') as WideResNet;
  const shortcuts = w.namedModules().filter(([k]) => k.endsWith('shortcut')).map(([k]) => k);
  assert.deepEqual(shortcuts, ['block1.0.shortcut', 'block2.0.shortcut', 'block3.0.shortcut']);
  assert.throws(() => new ResNetCifar(21), /6n \+ 2/);
  assert.throws(() => new WideResNet(27, 2), /6n \+ 4/);
});

test('a small resnet and wrn run forward and backward in train mode', () => {
  const g = new Generator(3);
  for (const model of [new ResNetCifar(8, { generator: g }), new WideResNet(10, 1, { generator: g })]) {
    const x = randn([2, 3, 16, 16], { generator: g });
    const y = model.call(x);
    assert.deepEqual(y.shape, [2, 10]);
    y.sum().backward();
    for (const [k, p] of model.namedParameters()) assert.ok(p.grad && p.grad.toArray().some((v) => v !== 0), `${model.constructor.name} ${k}`);
  }
});

test('the same generator seed builds the same weights', () => {
  const a = buildModel('smallcnn', { generator: new Generator(5) }).stateDict();
  const b = buildModel('smallcnn', { generator: new Generator(5) }).stateDict();
  const c = buildModel('smallcnn', { generator: new Generator(6) }).stateDict();
  for (const [k, t] of a) assert.deepEqual(b.get(k)!.toArray(), t.toArray(), k);
  assert.notDeepEqual(c.get('conv1.weight')!.toArray(), a.get('conv1.weight')!.toArray());
});

test('checkpoint round trip through safetensors with PyTorch dtypes (num_batches_tracked as I64)', () => {
  const src = buildModel('smallcnn', { batchNorm: true, generator: new Generator(1) });
  src.call(randn([4, 1, 28, 28], { generator: new Generator(2) }));
  const dtypes = src.stateDictDtypes();
  const out = new Map<string, SafeTensor>();
  for (const [k, t] of src.stateDict()) {
    const dt = dtypes.get(k)!;
    const dtype: SafeDtype = dt === 'int64' ? 'I64' : 'F32';
    const data = dt === 'int64' ? BigInt64Array.from(t.toArray(), (v) => BigInt(v)) : t.f32;
    out.set(k, { dtype, shape: [...t.shape], data });
  }
  const file = parseSafetensors(serializeSafetensors(out));
  assert.equal(file.tensors.get('bn1.num_batches_tracked')!.dtype, 'I64');
  const dst = buildModel('smallcnn', { batchNorm: true, generator: new Generator(9) });
  dst.loadStateDict(file.tensors);
  for (const [k, t] of src.stateDict()) assert.deepEqual(dst.stateDict().get(k)!.toArray(), t.toArray(), k);
  assert.equal(dst.getBuffer('bn2.num_batches_tracked').item(), 1);
  assertClose(toFloat32(file.tensors.get('fc2.bias')!), src.getParameter('fc2.bias').f32);
});
