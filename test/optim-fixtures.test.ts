/**
 * Optimizers and schedulers against PyTorch itself: test/fixtures/optim/*
 * (scripts/make_fixtures.py) hold torch's parameters after each of 4 steps of
 * SGD / Adam / AdamW / amsgrad, the final state, and the per-epoch lr of
 * StepLR / MultiStepLR / ExponentialLR / CosineAnnealingLR.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, SGD, Adam, AdamW, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LRScheduler, Optimizer } from '../src';
import { loadFixture } from './fixture-util';
import { assertClose } from './util';
import { withBackend, haveNative } from './ops-helpers';

const CASES = ['sgd', 'sgd_momentum', 'sgd_momentum_dampening', 'sgd_nesterov', 'sgd_weight_decay', 'adam', 'adam_l2', 'adamw', 'adam_amsgrad'];
/** torch state names -> ours. */
const STATE: Record<string, string> = { momentum_buffer: 'momentumBuffer', exp_avg: 'expAvg', exp_avg_sq: 'expAvgSq', max_exp_avg_sq: 'maxExpAvgSq' };

function build(op: string, h: Record<string, unknown>, p: Tensor): Optimizer<object> {
  if (h.maximize) throw new Error('maximize is not supported');
  const common = { lr: h.lr as number, weightDecay: h.weight_decay as number };
  if (op === 'SGD') return new SGD([p], { ...common, momentum: h.momentum as number, dampening: h.dampening as number, nesterov: h.nesterov as boolean });
  const adam = { ...common, betas: h.betas as [number, number], eps: h.eps as number, amsgrad: h.amsgrad as boolean };
  if (op === 'Adam') return new Adam([p], adam);
  if (op === 'AdamW') return new AdamW([p], adam);
  throw new Error(`unknown optimizer ${op}`);
}

for (const name of CASES) {
  test(`optim fixture ${name}: parameters after every step and the final state match torch`, () => {
    const fx = loadFixture('optim', name);
    const { op, hyper, steps } = fx.config;
    for (const be of haveNative ? (['native', 'reference'] as const) : (['reference'] as const)) {
      withBackend(be, () => {
        const p = new Tensor(fx.f32('param.0').slice(), fx.shape('param.0'), 'float32', true);
        const opt = build(op, hyper, p);
        for (let s = 0; s < steps; s++) {
          p.grad = new Tensor(fx.f32(`grad.${s}`).slice(), fx.shape(`grad.${s}`), 'float32');
          opt.step();
          assertClose(p.data as Float32Array, fx.f32(`param.${s + 1}`), { rtol: 1e-6, atol: 1e-7, msg: `${be}: ${name} after step ${s + 1}` });
        }
        const state = opt.state.get(p)!;
        for (const k of fx.keys('state.')) {
          const ours = state[STATE[k]];
          assert.ok(ours instanceof Float32Array, `${name}: state ${k} missing`);
          assertClose(ours, fx.f32(`state.${k}`), { rtol: 1e-6, atol: 1e-9, msg: `${be}: ${name} state ${k}` });
        }
      });
    }
  });
}

test('lr scheduler fixture: per-epoch lr of StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR match torch', () => {
  const fx = loadFixture('optim', 'lr_schedulers');
  const { base_lr: base, epochs, schedulers } = fx.config;
  const make: Record<string, (o: SGD, kw: Record<string, any>) => LRScheduler> = {
    StepLR: (o, kw) => new StepLR(o, kw.step_size, kw.gamma),
    MultiStepLR: (o, kw) => new MultiStepLR(o, kw.milestones, kw.gamma),
    ExponentialLR: (o, kw) => new ExponentialLR(o, kw.gamma),
    CosineAnnealingLR: (o, kw) => new CosineAnnealingLR(o, kw.T_max, kw.eta_min),
  };
  assert.deepEqual(Object.keys(schedulers).sort(), Object.keys(make).sort());
  for (const [name, { kwargs }] of Object.entries(schedulers) as [string, { kwargs: Record<string, unknown> }][]) {
    const p = new Tensor(Float32Array.of(0), [1], 'float32', true);
    const opt = new SGD([p], { lr: base });
    const sched = make[name](opt, kwargs);
    const got: number[] = [];
    for (let e = 0; e < epochs; e++) {
      got.push(opt.paramGroups[0].lr);
      p.grad = new Tensor(Float32Array.of(0), [1], 'float32');
      opt.step();
      sched.step();
    }
    const want = Array.from(fx.get(`lr.${name}`).data as Float64Array);
    // The same double-precision recursions as torch: bit-identical except for Math.cos's last ulp.
    if (name === 'CosineAnnealingLR') assertClose(got, want, { rtol: 1e-14, atol: 0, msg: name });
    else assert.deepEqual(got, want, name);
  }
});
