/**
 * The ops against PyTorch itself: every case of test/fixtures/layers/ (inputs,
 * torch's output, a random upstream gradient gy and torch's input gradients),
 * on the native and the reference backend.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as st from '../src';
import { Tensor } from '../src';
import { FIXTURES_DIR, loadFixture, type Fixture } from './fixture-util';
import { assertClose } from './util';
import { withBackend, haveNative } from './ops-helpers';

const pair = (v: number[] | undefined): [number, number] | undefined => (v ? [v[0], v[1]] : undefined);

/** The op of a fixture case, applied to the named input tensors. Returns the main output. */
function apply(fx: Fixture, t: Record<string, Tensor>): Tensor {
  const c = fx.config;
  switch (c.op) {
    case 'conv2d':
      return st.conv2d(t.x, t.weight, t.bias ?? null, { stride: pair(c.stride), padding: pair(c.padding), dilation: pair(c.dilation), groups: c.groups });
    case 'linear':
      return st.linear(t.x, t.weight, t.bias ?? null);
    case 'max_pool2d':
      return st.maxPool2d(t.x, pair(c.kernel)!, { stride: pair(c.stride), padding: pair(c.padding), ceilMode: c.ceil_mode });
    case 'avg_pool2d':
      return st.avgPool2d(t.x, pair(c.kernel)!, { stride: pair(c.stride), padding: pair(c.padding), ceilMode: c.ceil_mode, countIncludePad: c.count_include_pad });
    case 'adaptive_avg_pool2d':
      return st.adaptiveAvgPool2d(t.x, pair(c.output_size)!);
    case 'batch_norm':
      return st.batchNorm(t.x, { weight: t.weight, bias: t.bias, runningMean: t.running_mean, runningVar: t.running_var, training: c.training, momentum: c.momentum, eps: c.eps });
    case 'cat':
      return st.cat([t.a, t.b], c.dim);
    case 'flatten':
      return st.flatten(t.x, c.start_dim, c.end_dim);
    case 'leaky_relu':
      return st.leakyRelu(t.x, c.negative_slope);
    case 'relu':
      return st.relu(t.x);
    case 'sigmoid':
      return st.sigmoid(t.x);
    case 'tanh':
      return st.tanh(t.x);
    case 'softmax':
      return st.softmax(t.x, c.dim);
    case 'log_softmax':
      return st.logSoftmax(t.x, c.dim);
    case 'cross_entropy':
      return st.crossEntropy(t.input, t.target, { reduction: c.reduction, ignoreIndex: c.ignore_index });
    case 'nll_loss':
      return st.nllLoss(t.input, t.target, { reduction: c.reduction });
    case 'mse_loss':
      return st.mseLoss(t.input, t.target, c.reduction);
    case 'pad':
      assert.equal(c.mode, 'constant');
      return st.pad(t.x, c.pad, c.value);
    case 'slice': {
      assert.equal(c.index, '[:, :, ::2, ::2]');
      return st.slice(st.slice(t.x, 2, undefined, undefined, 2), 3, undefined, undefined, 2);
    }
    default:
      throw new Error(`no mapping for fixture op ${c.op}`);
  }
}

const CASES = fs.readdirSync(path.join(FIXTURES_DIR, 'layers')).filter((f) => f.endsWith('.safetensors')).map((f) => f.slice(0, -'.safetensors'.length)).sort();

test('every layer fixture is covered', () => {
  assert.ok(CASES.length >= 30, `found ${CASES.length} layer fixtures`);
});

for (const name of CASES) {
  test(`layer fixture ${name}: output and input gradients match torch`, () => {
    const fx = loadFixture('layers', name);
    const c = fx.config;
    for (const be of haveNative ? (['native', 'reference'] as const) : (['reference'] as const)) {
      withBackend(be, () => {
        const t: Record<string, Tensor> = {};
        for (const n of c.inputs as string[]) {
          const s = fx.get(n);
          if (s.dtype === 'I64' || s.dtype === 'I32') t[n] = new Tensor(fx.i32(n), s.shape, 'int32');
          else t[n] = new Tensor(fx.f32(n).slice(), s.shape, 'float32', (c.grads as string[]).includes(`grad.${n}`));
        }
        const y = apply(fx, t);
        const msg = `${be} ${name}`;
        assert.deepEqual(y.shape, fx.shape('y'), `${msg}: output shape`);
        assertClose(y.data as Float32Array, fx.f32('y'), { rtol: 1e-4, atol: 1e-5, msg: `${msg}: y` });
        if (c.op === 'batch_norm') {
          assertClose(t.running_mean.data as Float32Array, fx.f32('running_mean.after'), { rtol: 1e-5, atol: 1e-6, msg: `${msg}: running mean` });
          assertClose(t.running_var.data as Float32Array, fx.f32('running_var.after'), { rtol: 1e-5, atol: 1e-6, msg: `${msg}: running var` });
        }
        y.backward(new Tensor(fx.f32('gy').slice(), fx.shape('gy'), 'float32'));
        for (const g of c.grads as string[]) {
          const input = t[g.slice('grad.'.length)];
          assert.ok(input.grad, `${msg}: no gradient for ${g}`);
          assertClose(input.grad.data as Float32Array, fx.f32(g), { rtol: 1e-4, atol: 1e-5, msg: `${msg}: ${g}` });
        }
      });
    }
  });
}
