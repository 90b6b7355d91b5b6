/**
 * nn layers against PyTorch (test/fixtures/layers, scripts/make_fixtures.py):
 * each layer module is built with the fixture's hyper-parameters, given its
 * weights through loadStateDict, run forward on x, then backward with the
 * stored upstream gradient gy; y and every gradient must match autograd's.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  Tensor, Module, Linear, Conv2d, BatchNorm1d, BatchNorm2d, ReLU, Tanh, Sigmoid, LeakyReLU, MaxPool2d, AvgPool2d,
  AdaptiveAvgPool2d, Flatten,
} from '../src';
import { loadFixture, type Fixture } from './fixture-util';
import { assertClose } from './util';

const TOL = { rtol: 1e-4, atol: 1e-5 };

const input = (fx: Fixture, name: string): Tensor => new Tensor(fx.f32(name), fx.shape(name), 'float32', true);

/** Builds the layer of a fixture; its state (weights, running statistics) comes from the fixture's inputs. */
function layerFor(fx: Fixture): Module {
  const c = fx.config;
  switch (c.op) {
    case 'linear':
      return new Linear(fx.shape('weight')[1], fx.shape('weight')[0], { bias: fx.has('bias') });
    case 'conv2d': {
      const [O, , KH, KW] = fx.shape('weight');
      return new Conv2d(fx.shape('x')[1], O, [KH, KW], { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, bias: c.bias });
    }
    case 'batch_norm': {
      const C = fx.shape('x')[1];
      const opts = { eps: c.eps, momentum: c.momentum };
      return fx.shape('x').length === 4 ? new BatchNorm2d(C, opts) : new BatchNorm1d(C, opts);
    }
    case 'max_pool2d':
      return new MaxPool2d(c.kernel, { stride: c.stride, padding: c.padding, ceilMode: c.ceil_mode });
    case 'avg_pool2d':
      return new AvgPool2d(c.kernel, { stride: c.stride, padding: c.padding, ceilMode: c.ceil_mode, countIncludePad: c.count_include_pad });
    case 'adaptive_avg_pool2d':
      return new AdaptiveAvgPool2d(c.output_size);
    case 'relu':
      return new ReLU();
    case 'tanh':
      return new Tanh();
    case 'sigmoid':
      return new Sigmoid();
    case 'leaky_relu':
      return new LeakyReLU(c.negative_slope);
    case 'flatten':
      return new Flatten(c.start_dim, c.end_dim);
    default:
      throw new Error(`no layer for op ${c.op}`);
  }
}

const CASES = [
  'linear', 'linear_nobias',
  'conv2d_3x3', 'conv2d_stride2_pad1', 'conv2d_dilation2', 'conv2d_groups2', 'conv2d_depthwise', 'conv2d_1x1_nobias',
  'conv2d_5x5', 'conv2d_3x2_pad1x0', 'conv2d_stride2x1_odd',
  'max_pool2d_k2s2', 'max_pool2d_k3s2p1', 'max_pool2d_k2s2_ceil',
  'avg_pool2d_k2', 'avg_pool2d_k3s2p1_include_pad', 'avg_pool2d_k3s2p1_exclude_pad',
  'adaptive_avg_pool2d_7to1', 'adaptive_avg_pool2d_7to3',
  'batch_norm2d_train', 'batch_norm2d_eval', 'batch_norm1d_train',
  'relu', 'tanh', 'sigmoid', 'leaky_relu', 'flatten',
];

for (const name of CASES) {
  test(`layer ${name} matches PyTorch (forward, backward${name.startsWith('batch_norm') ? ', running statistics' : ''})`, () => {
    const fx = loadFixture('layers', name);
    const layer = layerFor(fx);
    // The layer's state keys are the fixture's input names (weight, bias, running_mean, running_var).
    const state = new Map<string, Tensor>();
    for (const k of layer.stateDict().keys()) {
      if (k === 'num_batches_tracked') continue;
      state.set(k, new Tensor(fx.f32(k), fx.shape(k), 'float32'));
    }
    const { missingKeys } = layer.loadStateDict(state, { strict: false });
    assert.deepEqual(missingKeys.filter((k) => k !== 'num_batches_tracked'), []);
    layer.train(fx.config.training ?? true);

    const x = input(fx, 'x');
    const y = layer.call(x);
    assert.deepEqual(y.shape, fx.shape('y'));
    assertClose(y.toArray(), fx.f32('y'), { ...TOL, msg: `${name}: y` });
    y.backward(new Tensor(fx.f32('gy'), fx.shape('gy'), 'float32'));
    assertClose(x.grad!.toArray(), fx.f32('grad.x'), { ...TOL, msg: `${name}: grad.x` });
    for (const p of ['weight', 'bias']) {
      if (!fx.has(`grad.${p}`)) continue;
      const t = layer.getParameter(p);
      assertClose(t.grad!.toArray(), fx.f32(`grad.${p}`), { ...TOL, msg: `${name}: grad.${p}` });
    }
    if (fx.has('running_mean.after')) {
      assertClose(layer.getBuffer('running_mean').toArray(), fx.f32('running_mean.after'), { ...TOL, msg: `${name}: running_mean` });
      assertClose(layer.getBuffer('running_var').toArray(), fx.f32('running_var.after'), { ...TOL, msg: `${name}: running_var` });
      assert.equal(layer.getBuffer('num_batches_tracked').item(), fx.config.training ? 1 : 0);
    }
  });
}
