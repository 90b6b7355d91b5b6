/**
 * src/io/checkpoint.ts: atomic JSON/text writes, effective weights (pruned
 * reparametrisation folded, int64 counters), loading PyTorch-written state
 * dicts (--init) with errors naming file, key and shapes, and the
 * pack/unpack of typed arrays in checkpoint states.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor } from '../src/tensor/tensor';
import { Generator } from '../src/tensor/random';
import { Module } from '../src/nn/module';
import { buildModel } from '../src/models';
import { readSafetensors, writeSafetensors, toFloat32, type SafeTensor } from '../src/io/safetensors';
import {
  effectiveStateDict, loadCheckpoint, loadModelWeights, packValue, saveCheckpoint, saveModelWeights, unpackValue,
  writeJsonAtomic, writeTextAtomic,
} from '../src/io/checkpoint';
import { fixturePath, loadFixture } from './fixture-util';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'st-ckpt-'));
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

test('writeJsonAtomic / writeTextAtomic replace the file and leave no temporary', () => {
  const f = path.join(TMP, 'a.json');
  writeJsonAtomic(f, { a: 1 });
  writeJsonAtomic(f, { b: [1, 2] });
  assert.deepEqual(JSON.parse(fs.readFileSync(f, 'utf8')), { b: [1, 2] });
  writeTextAtomic(path.join(TMP, 'b.txt'), 'hello\n');
  assert.equal(fs.readFileSync(path.join(TMP, 'b.txt'), 'utf8'), 'hello\n');
  assert.deepEqual(fs.readdirSync(TMP).filter((n) => n.includes('.tmp-')), []);
  assert.throws(() => writeJsonAtomic(path.join(TMP, 'no-such-dir', 'x.json'), {}), /cannot write/);
});

class Pruned extends Module {
  declare weight_orig: Tensor;
  declare weight_mask: Tensor;
  declare bias: Tensor;
  constructor() {
    super();
    this.registerParameter('weight_orig', new Tensor(Float32Array.of(1, -2, 3, 4), [2, 2], 'float32'));
    this.registerParameter('bias', new Tensor(Float32Array.of(5, 6), [2], 'float32'));
    this.registerBuffer('weight_mask', new Tensor(Float32Array.of(1, 0, 0, 1), [2, 2], 'float32'));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

class Net extends Module {
  declare fc: Pruned;
  constructor() {
    super();
    this.registerModule('fc', new Pruned());
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

test('effective weights fold <k>_orig * <k>_mask into <k>; model.safetensors loads back into a plain model', () => {
  const net = new Net();
  const eff = effectiveStateDict(net);
  assert.deepEqual([...eff.keys()], ['fc.weight', 'fc.bias']);
  assert.deepEqual([...eff.get('fc.weight')!.data], [1, 0, 0, 4]);
  const f = path.join(TMP, 'pruned.safetensors');
  saveModelWeights(f, net);
  const w = readSafetensors(f).tensors;
  assert.deepEqual([...w.keys()].sort(), ['fc.bias', 'fc.weight']);
  assert.deepEqual([...(w.get('fc.weight')!.data as Float32Array)], [1, 0, 0, 4]);

  // A file that still has _orig/_mask (torch.nn.utils.prune's state dict) prunes the plain model with its mask.
  const raw = path.join(TMP, 'raw.safetensors');
  const sd = new Map<string, SafeTensor>();
  for (const [k, t] of net.stateDict()) sd.set(k, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) });
  writeSafetensors(raw, sd);
  class Plain extends Module {
    declare fc: Module;
    constructor() {
      super();
      const m = new (class extends Module { forward(x: Tensor) { return x; } })();
      m.registerParameter('weight', new Tensor(new Float32Array(4), [2, 2], 'float32'));
      m.registerParameter('bias', new Tensor(new Float32Array(2), [2], 'float32'));
      this.registerModule('fc', m);
    }
    forward(x: Tensor) { return x; }
  }
  const plain = new Plain();
  const weight = plain.fc.getParameter('weight');
  assert.deepEqual(loadModelWeights(raw, plain, 'plain'), ['fc.weight']);
  assert.deepEqual([...plain.stateDict().keys()].sort(), ['fc.bias', 'fc.weight_mask', 'fc.weight_orig']);
  assert.equal(plain.getParameter('fc.weight_orig'), weight, 'the trained tensor keeps its identity');
  assert.deepEqual([...plain.stateDict().get('fc.weight_orig')!.data], [1, -2, 3, 4]);
  assert.deepEqual([...effectiveStateDict(plain).get('fc.weight')!.data], [1, 0, 0, 4]);
  // A mask of the wrong shape is named.
  sd.set('fc.weight_mask', { dtype: 'F32', shape: [4], data: Float32Array.of(1, 0, 0, 1) });
  writeSafetensors(raw, sd);
  assert.throws(() => loadModelWeights(raw, new Plain(), 'plain'), /key fc.weight_mask has shape \[4\] in the file but \[2,2\] in plain/);
});

test('BatchNorm num_batches_tracked is written as I64, weights as F32', () => {
  const m = buildModel('resnet20', { generator: new Generator(1) });
  const f = path.join(TMP, 'r20.safetensors');
  saveModelWeights(f, m);
  const w = readSafetensors(f).tensors;
  assert.equal(w.get('bn1.num_batches_tracked')!.dtype, 'I64');
  assert.equal(w.get('conv1.weight')!.dtype, 'F32');
  assert.equal(w.size, m.stateDict().size);
});

/** The init.* tensors of an e2e fixture as a plain PyTorch state-dict file (as torch + safetensors_io.save writes it). */
function fixtureStateDict(name: string): { file: string; tensors: Map<string, SafeTensor> } {
  const fx = loadFixture('e2e', name);
  const tensors = new Map(fx.keys('init.').map((k) => [k, fx.get(`init.${k}`)] as [string, SafeTensor]));
  const file = path.join(TMP, `${name}-init.safetensors`);
  writeSafetensors(file, tensors);
  return { file, tensors };
}

test('--init loads PyTorch-written state dicts (lenet5, resnet20 with I64 counters) and round-trips', () => {
  for (const name of ['lenet5', 'resnet20']) {
    const { file, tensors } = fixtureStateDict(name);
    const m = buildModel(name);
    loadModelWeights(file, m, name);
    const sd = m.stateDict();
    for (const [k, t] of tensors) {
      if (t.dtype === 'I64') assert.equal(sd.get(k)!.item(), Number((t.data as BigInt64Array)[0]), k);
      else assert.deepEqual(sd.get(k)!.data, toFloat32(t), k);
    }
    const out = path.join(TMP, `${name}-out.safetensors`);
    saveModelWeights(out, m);
    const back = readSafetensors(out).tensors;
    for (const [k, t] of tensors) {
      assert.equal(back.get(k)!.dtype, t.dtype, k);
      assert.deepEqual(back.get(k)!.data, t.data, k);
    }
  }
  assert.ok(fs.existsSync(fixturePath('e2e', 'lenet5')));
});

test('--init errors name the file, the key and both shapes', () => {
  const { file } = fixtureStateDict('lenet5');
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.throws(() => loadModelWeights(file, buildModel('lenet300'), 'lenet300'), new RegExp(`^SparsetrainError: --init ${esc}: missing key\\(s\\) fc3.weight, fc3.bias that lenet300 needs; the file has unexpected key\\(s\\) conv1.bias, conv1.weight, conv2.bias, conv2.weight$`));
  // Same keys, one shape changed.
  const t = readSafetensors(file).tensors;
  t.set('fc1.weight', { dtype: 'F32', shape: [500, 10], data: new Float32Array(5000) });
  const bad = path.join(TMP, 'bad-shape.safetensors');
  writeSafetensors(bad, t);
  assert.throws(() => loadModelWeights(bad, buildModel('lenet5'), 'lenet5'), /bad-shape.safetensors: key fc1.weight has shape \[500,10\] in the file but \[500,800\] in lenet5/);
  // An extra key.
  t.set('fc1.weight', { dtype: 'F32', shape: [500, 800], data: new Float32Array(400000) });
  t.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  const extra = path.join(TMP, 'extra.safetensors');
  writeSafetensors(extra, t);
  assert.throws(() => loadModelWeights(extra, buildModel('lenet5'), 'lenet5'), /unexpected key\(s\) extra.weight that lenet5 does not have/);
  // Not a safetensors file, and a missing file.
  const junk = path.join(TMP, 'junk.safetensors');
  fs.writeFileSync(junk, 'this is not safetensors at all');
  assert.throws(() => loadModelWeights(junk, buildModel('lenet5'), 'lenet5'), /junk.safetensors: not a valid safetensors file/);
  assert.throws(() => loadModelWeights(path.join(TMP, 'nope.safetensors'), buildModel('lenet5'), 'lenet5'), /nope.safetensors: file not found/);
});

test('checkpoint states keep typed arrays, non-finite numbers and nesting', () => {
  const tensors = new Map<string, SafeTensor>();
  const v = { a: Float32Array.of(1.5, -2), b: [Int32Array.of(7), { c: Uint32Array.of(4294967295, 1) }], d: NaN, e: 'x', f: null, g: Infinity };
  const packed = JSON.parse(JSON.stringify(packValue(v, 's.', tensors)));
  const back = unpackValue(packed, tensors, 'test') as typeof v;
  assert.deepEqual(back.a, Float32Array.of(1.5, -2));
  assert.deepEqual(back.b[0], Int32Array.of(7));
  assert.deepEqual((back.b[1] as { c: Uint32Array }).c, Uint32Array.of(4294967295, 1));
  assert.ok(Number.isNaN(back.d));
  assert.equal(back.g, Infinity);
  assert.equal(back.e, 'x');
  assert.equal(back.f, null);
});

test('a checkpoint whose JSON and tensors come from different saves is refused', () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'ck-'));
  const model = new Map([['w', new Tensor(Float32Array.of(1, 2), [2], 'float32')]]);
  saveCheckpoint(dir, { model, state: { x: Float32Array.of(3) } });
  const ck = loadCheckpoint(dir);
  assert.deepEqual([...ck.model.get('w')!.data], [1, 2]);
  assert.deepEqual(ck.state.x, Float32Array.of(3));
  const json = fs.readFileSync(path.join(dir, 'checkpoint.json'));
  saveCheckpoint(dir, { model, state: { x: Float32Array.of(4) } });
  fs.writeFileSync(path.join(dir, 'checkpoint.json'), json);
  assert.throws(() => loadCheckpoint(dir), /different saves/);
  assert.throws(() => loadCheckpoint(path.join(TMP, 'none')), /does not exist/);
});
