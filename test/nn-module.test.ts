/** Module mechanics: registration, state-dict order and loading, hooks, modes, traversal, containers. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, tensor, zeros, Module, parameter, Linear, Conv2d, BatchNorm2d, ReLU, Sequential, ModuleList, Identity,
  Dropout, Generator, SparsetrainError, setDropoutGenerator, ones,
} from '../src';
import { assertClose, seededArray } from './util';

/** A module with a parameter, a persistent and a non-persistent buffer registered before it, and children. */
class Block extends Module {
  declare scale: Tensor;
  declare steps: Tensor;
  declare body: Sequential;
  constructor() {
    super();
    this.registerBuffer('steps', zeros([2]));
    this.registerBuffer('scratch', zeros([3]), { persistent: false });
    this.registerParameter('scale', parameter(ones([1])));
    this.registerModule('body', new Sequential(new Linear(3, 4), new ReLU(), new Sequential(new Linear(4, 2, { bias: false }))));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x).mul(this.scale);
  }
}

class Net extends Module {
  declare stem: Conv2d;
  declare bn: BatchNorm2d;
  declare head: Block;
  constructor() {
    super();
    this.registerModule('stem', new Conv2d(1, 2, 3, { bias: false }));
    this.registerModule('bn', new BatchNorm2d(2));
    this.registerModule('head', new Block());
  }
  forward(x: Tensor): Tensor {
    return this.head.call(this.bn.call(this.stem.call(x)).mean([2, 3]).narrow(1, 0, 1).expand([x.shape[0], 3]));
  }
}

const NET_KEYS = [
  'stem.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked',
  'head.scale', 'head.steps', 'head.body.0.weight', 'head.body.0.bias', 'head.body.2.0.weight',
];

function throwsWith(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SparsetrainError, `expected SparsetrainError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message "${e.message}" should mention "${p}"`);
    return true;
  });
}

test('state dict: PyTorch order (parameters, persistent buffers, children) with nested Sequential names', () => {
  const net = new Net();
  const sd = net.stateDict();
  assert.deepEqual([...sd.keys()], NET_KEYS);
  assert.deepEqual(sd.get('head.body.0.weight')!.shape, [4, 3]);
  assert.deepEqual(sd.get('bn.num_batches_tracked')!.shape, []);
  assert.equal(sd.get('bn.num_batches_tracked')!.dtype, 'int32');
  // Values share the module's data but are detached.
  assert.equal(sd.get('stem.weight')!.data, net.stem.weight.data);
  assert.equal(sd.get('stem.weight')!.requiresGrad, false);
  assert.equal(net.stateDict({ keepVars: true }).get('stem.weight'), net.stem.weight);
  assert.deepEqual([...net.stateDict({ prefix: 'model.' }).keys()], NET_KEYS.map((k) => `model.${k}`));
});

test('parameters, buffers, modules: names, order, each tensor once', () => {
  const net = new Net();
  const params = net.namedParameters().map(([k]) => k);
  assert.deepEqual(params, ['stem.weight', 'bn.weight', 'bn.bias', 'head.scale', 'head.body.0.weight', 'head.body.0.bias', 'head.body.2.0.weight']);
  assert.deepEqual(net.namedBuffers().map(([k]) => k), ['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'head.steps', 'head.scratch']);
  assert.deepEqual(net.head.namedParameters('head', false).map(([k]) => k), ['head.scale']);
  assert.deepEqual(net.namedModules().map(([k]) => k), ['', 'stem', 'bn', 'head', 'head.body', 'head.body.0', 'head.body.1', 'head.body.2', 'head.body.2.0']);
  assert.deepEqual(net.namedChildren().map(([k]) => k), ['stem', 'bn', 'head']);
  assert.deepEqual(net.children(), [net.stem, net.bn, net.head]);
  assert.ok(net.parameters().every((p) => p.requiresGrad && p.isLeaf));
  assert.equal(net.numParameters(), 18 + 2 + 2 + 1 + 12 + 4 + 8);
  // Parameters carry their key as name.
  assert.equal(net.head.body.at<Linear>(0).weight.name, 'head.body.0.weight');
  assert.equal(net.bn.running_var!.name, 'bn.running_var');
  // A shared module or parameter is listed once.
  const lin = new Linear(2, 2);
  const shared = new Sequential(lin, lin);
  assert.equal(shared.parameters().length, 2);
  assert.equal(shared.numParameters(), 6);
  assert.equal(shared.length, 2);
  // As PyTorch, the state dict lists a shared module under each of its names.
  assert.deepEqual([...shared.stateDict().keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  net.head.requiresGrad_(false);
  assert.equal(net.numParameters(true), 18 + 2 + 2);
});

test('getSubmodule, getParameter, getBuffer by dotted path', () => {
  const net = new Net();
  assert.equal(net.getSubmodule('head.body.2.0'), (net.head.body.at(2) as Sequential).at(0));
  assert.equal(net.getSubmodule(''), net);
  assert.equal(net.getParameter('head.body.0.bias'), net.head.body.at<Linear>(0).bias);
  assert.equal(net.getBuffer('bn.running_mean'), net.bn.running_mean);
  throwsWith(() => net.getSubmodule('head.nope'), 'head.nope', 'nope');
  throwsWith(() => net.getParameter('bn.running_mean'), 'bn.running_mean');
});

test('accessors: assigning a registered name replaces the entry in place in the order', () => {
  const lin = new Linear(3, 2);
  const w = parameter(zeros([2, 3]));
  lin.weight = w;
  assert.equal(lin.weight, w);
  assert.equal(lin.stateDict({ keepVars: true }).get('weight'), w);
  assert.deepEqual([...lin.stateDict().keys()], ['weight', 'bias']);
  lin.bias = null;
  assert.deepEqual([...lin.stateDict().keys()], ['weight']);
  const seq = new Sequential(new Linear(2, 2), new ReLU());
  assert.ok(seq[1] instanceof ReLU);
  seq[1] = new Identity();
  assert.ok(seq.at(-1) instanceof Identity);
});

test('registration errors name the conflict', () => {
  class Bad extends Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const m = new Bad();
  throwsWith(() => m.registerParameter('a.b', parameter(zeros([1]))), 'a.b');
  throwsWith(() => m.registerParameter('forward', parameter(zeros([1]))), 'forward');
  throwsWith(() => m.registerParameter('training', parameter(zeros([1]))), 'training');
  m.registerBuffer('buf', zeros([1]));
  throwsWith(() => m.registerParameter('buf', parameter(zeros([1]))), 'buf', 'buffer');
  throwsWith(() => m.registerParameter('w', zeros([1], { dtype: 'int32' })), 'float32');
  const nonLeaf = parameter(zeros([2])).mul(2);
  throwsWith(() => m.registerParameter('w', nonLeaf), 'leaf');
  // A plain tensor becomes trainable when registered.
  const t = zeros([2]);
  m.registerParameter('w', t);
  assert.equal(t.requiresGrad, true);
});

test('loadStateDict copies into the existing tensors', () => {
  const a = new Net();
  const b = new Net();
  const wBefore = b.stem.weight;
  a.bn.num_batches_tracked!.data[0] = 7;
  a.bn.running_var!.f32.set([2, 3]);
  const res = b.loadStateDict(a.stateDict());
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  assert.equal(b.stem.weight, wBefore, 'tensor object kept');
  assert.notEqual(b.stem.weight.data, a.stem.weight.data, 'data copied, not shared');
  for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toArray(), t.toArray(), k);
  assert.equal(b.bn.num_batches_tracked!.item(), 7);
  // The non-persistent buffer is not part of the state.
  b.head.getBuffer('scratch').f32.fill(5);
  b.loadStateDict(a.stateDict());
  assert.deepEqual(b.head.getBuffer('scratch').toArray(), [5, 5, 5]);
});

test('loadStateDict accepts a record and raw {shape, data} values, int64 as BigInt64Array', () => {
  const bn = new BatchNorm2d(3);
  bn.loadStateDict({
    weight: tensor([1, 2, 3]),
    bias: { shape: [3], data: new Float32Array([4, 5, 6]) },
    running_mean: { shape: [3], data: [7, 8, 9] },
    running_var: tensor([1, 1, 2]),
    num_batches_tracked: { shape: [], data: new BigInt64Array([12n]) },
  });
  assert.deepEqual(bn.bias!.toArray(), [4, 5, 6]);
  assert.deepEqual(bn.running_mean!.toArray(), [7, 8, 9]);
  assert.equal(bn.num_batches_tracked!.item(), 12);
  assert.equal(bn.num_batches_tracked!.dtype, 'int32');
});

test('loadStateDict errors: missing, unexpected, shape mismatch; nothing copied on error', () => {
  const net = new Net();
  const sd = new Net().stateDict();
  const before = net.stem.weight.toArray();
  const missing = new Map(sd);
  missing.delete('head.body.0.bias');
  missing.delete('bn.num_batches_tracked');
  throwsWith(() => net.loadStateDict(missing), 'missing', 'head.body.0.bias', 'bn.num_batches_tracked', 'Net');
  assert.deepEqual(net.stem.weight.toArray(), before);
  const extra = new Map(sd);
  extra.set('head.body.3.weight', zeros([1]));
  throwsWith(() => net.loadStateDict(extra), 'unexpected', 'head.body.3.weight');
  const wrong = new Map(sd);
  wrong.set('head.body.0.weight', zeros([3, 4]));
  throwsWith(() => net.loadStateDict(wrong), 'size mismatch', 'head.body.0.weight', '[3,4]', '[4,3]');
  throwsWith(() => net.loadStateDict(wrong, { strict: false }), 'head.body.0.weight', '[3,4]', '[4,3]');
  assert.deepEqual(net.stem.weight.toArray(), before);
  // Non-strict: reports the differences and loads the rest.
  const partial = new Map(missing);
  partial.set('extra', zeros([1]));
  const res = net.loadStateDict(partial, { strict: false });
  assert.deepEqual(res.missingKeys, ['bn.num_batches_tracked', 'head.body.0.bias']);
  assert.deepEqual(res.unexpectedKeys, ['extra']);
  assert.deepEqual(net.stem.weight.toArray(), sd.get('stem.weight')!.toArray());
});

test('stateDictDtypes marks num_batches_tracked as int64', () => {
  const net = new Net();
  const dt = net.stateDictDtypes();
  assert.deepEqual([...dt.keys()], NET_KEYS);
  assert.equal(dt.get('bn.num_batches_tracked'), 'int64');
  assert.equal(dt.get('bn.running_mean'), 'float32');
  assert.equal(dt.get('stem.weight'), 'float32');
});

test('train/eval propagate to every descendant', () => {
  const net = new Net();
  assert.ok(net.modules().every((m) => m.training));
  assert.equal(net.eval(), net);
  assert.ok(net.modules().every((m) => !m.training));
  net.head.train();
  assert.equal(net.training, false);
  assert.ok(net.head.modules().every((m) => m.training));
  net.train(true);
  assert.ok(net.modules().every((m) => m.training));
});

test('forward hooks fire in order, see input and output, and can replace the output', () => {
  const lin = new Linear(3, 2);
  const x = tensor(seededArray(6, 1), { shape: [2, 3] });
  const calls: string[] = [];
  const h1 = lin.registerForwardHook((m, input, output) => {
    assert.equal(m, lin);
    assert.equal(input[0], x);
    assert.deepEqual((output as Tensor).shape, [2, 2]);
    calls.push('h1');
  });
  const h2 = lin.registerForwardHook((_m, _input, output) => {
    calls.push('h2');
    return (output as Tensor).mul(0).add(1);
  });
  const y = lin.call(x);
  assert.deepEqual(calls, ['h1', 'h2']);
  assert.deepEqual(y.toArray(), [1, 1, 1, 1]);
  h2.remove();
  h1.remove();
  const y2 = lin.call(x);
  assert.deepEqual(calls, ['h1', 'h2']);
  assert.deepEqual(y2.toArray(), lin.forward(x).toArray());
  assert.notDeepEqual(y2.toArray(), [1, 1, 1, 1]);
});

test('forward pre-hooks can replace the input; hooks on children of a Sequential fire', () => {
  const seq = new Sequential(new Identity(), new ReLU());
  const x = tensor([[-1, 2, -3]]);
  const seen: number[][] = [];
  seq.at(1).registerForwardPreHook((_m, input) => {
    seen.push((input[0] as Tensor).toArray());
  });
  const h = seq.at(0).registerForwardPreHook((_m, input) => (input[0] as Tensor).neg());
  assert.deepEqual(seq.call(x).toArray(), [1, 0, 3]);
  assert.deepEqual(seen, [[1, -2, 3]]);
  h.remove();
  // An array return replaces the whole argument list.
  seq.at(0).registerForwardPreHook(() => [tensor([[5, -5, 5]])]);
  assert.deepEqual(seq.call(x).toArray(), [5, 0, 5]);
  // Calling forward directly bypasses hooks (as PyTorch).
  assert.deepEqual(seq.forward(x).toArray(), [5, 0, 5]);
  assert.deepEqual(seq.at(0).forward(x).toArray(), [-1, 2, -3]);
});

test('apply visits children first; zeroGrad clears or zeroes gradients', () => {
  const net = new Net();
  const order: string[] = [];
  net.apply((m) => order.push(m.constructor.name));
  assert.deepEqual(order, ['Conv2d', 'BatchNorm2d', 'Linear', 'ReLU', 'Linear', 'Sequential', 'Sequential', 'Block', 'Net']);
  const lin = new Linear(3, 2);
  lin.call(tensor(seededArray(6, 2), { shape: [2, 3] })).sum().backward();
  assert.ok(lin.weight.grad && lin.bias!.grad);
  const g = lin.weight.grad!;
  lin.zeroGrad(false);
  assert.equal(lin.weight.grad, g);
  assert.deepEqual(g.toArray(), [0, 0, 0, 0, 0, 0]);
  lin.zeroGrad();
  assert.equal(lin.weight.grad, null);
  assert.equal(lin.bias!.grad, null);
});

test('Sequential: names, indexing, iteration, append, slice, Map constructor; ModuleList', () => {
  const a = new Linear(4, 3);
  const b = new ReLU();
  const c = new Linear(3, 2);
  const seq = new Sequential(a, b, c);
  assert.equal(seq.length, 3);
  assert.equal(seq[0], a);
  assert.equal(seq.at(-1), c);
  assert.deepEqual([...seq], [a, b, c]);
  throwsWith(() => seq.at(3), 'index 3');
  const x = tensor(seededArray(8, 3), { shape: [2, 4] });
  assert.deepEqual(seq.call(x).toArray(), c.call(b.call(a.call(x))).toArray());
  const tail = seq.slice(1);
  assert.deepEqual(tail.namedChildren().map(([k]) => k), ['1', '2']);
  assert.deepEqual([...tail.stateDict().keys()], ['2.weight', '2.bias']);
  seq.append(new Identity());
  assert.equal(seq.length, 4);
  const named = new Sequential(new Map<string, Module>([['fc', new Linear(2, 2)], ['act', new ReLU()]]));
  assert.deepEqual([...named.stateDict().keys()], ['fc.weight', 'fc.bias']);
  assert.ok(named.getSubmodule('act') instanceof ReLU);

  const list = new ModuleList([new Linear(1, 1), new Linear(1, 2)]);
  list.append(new Linear(2, 1));
  assert.equal(list.length, 3);
  assert.deepEqual([...list.stateDict().keys()], ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
  assert.deepEqual([...list].map((m) => m.outFeatures), [1, 2, 1]);
  assert.equal(list.at(-2), list[1]);
  throwsWith(() => list.forward(), 'ModuleList');
});

test('Dropout: train vs eval, reproducible from its generator, module-level generator', () => {
  const x = ones([4, 50]);
  const d = new Dropout(0.5, { generator: new Generator(3) });
  const y1 = d.call(x);
  const kept = y1.toArray().filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === 2), 'kept values scaled by 1/(1-p)');
  assert.ok(kept.length > 50 && kept.length < 150, `kept ${kept.length} of 200`);
  d.generator = new Generator(3);
  assert.deepEqual(d.call(x).toArray(), y1.toArray());
  d.eval();
  assert.equal(d.call(x), x);
  const e = new Dropout(0.5);
  setDropoutGenerator(new Generator(3));
  try {
    assert.deepEqual(e.call(x).toArray(), y1.toArray());
  } finally {
    setDropoutGenerator(null);
  }
  throwsWith(() => new Dropout(1.5), 'probability');
});

test('toString prints the tree', () => {
  const s = new Net().toString();
  assert.match(s, /^Net\(\n {2}\(stem\): Conv2d\(1, 2, kernelSize=\[3,3\]/);
  assert.match(s, /\(head\): Block\(\n {4}\(body\): Sequential\(\n {6}\(0\): Linear\(inFeatures=3, outFeatures=4, bias=true\)/);
});

test('Net forward and backward run through hooks-aware calls', () => {
  const net = new Net();
  const x = tensor(seededArray(2 * 25, 4), { shape: [2, 1, 5, 5] });
  const y = net.call(x);
  assert.deepEqual(y.shape, [2, 2]);
  y.sum().backward();
  for (const [k, p] of net.namedParameters()) assert.ok(p.grad, `${k} has a gradient`);
  assertClose(net.head.scale.grad!.toArray(), [y.sum().item()], { rtol: 1e-5 });
});
