/** LR schedulers: per-epoch lr sequences (hand-checked and closed forms), chaining, state dicts, TableLR and its parser. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor, SGD, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, TableLR, parseLrTable, LRScheduler } from '../src';
import { assertClose } from './util';
import { throwsST } from './ops-helpers';

const param = () => new Tensor(Float32Array.of(0), [1], 'float32', true);

/** The lr used during each of `epochs` epochs (scheduler.step() at the end of each). */
function lrs(sched: LRScheduler, opt: SGD, epochs: number): number[] {
  const out: number[] = [];
  for (let e = 0; e < epochs; e++) {
    out.push(opt.paramGroups[0].lr);
    assert.deepEqual(sched.getLastLr(), opt.paramGroups.map((g) => g.lr));
    sched.step();
  }
  return out;
}

test('StepLR: halves every 3 epochs (hand-checked)', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  const s = new StepLR(opt, 3, 0.5);
  assert.equal(s.lastEpoch, 0);
  assert.deepEqual(lrs(s, opt, 12), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]);
  assert.equal(new StepLR(new SGD([param()], { lr: 1 }), 2).gamma, 0.1);
});

test('MultiStepLR: x0.1 at epochs 2, 5 and 9; a repeated milestone applies twice', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  const got = lrs(new MultiStepLR(opt, [5, 2, 9], 0.1), opt, 12);
  const want = [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001, 0.0001, 0.0001, 0.0001];
  assertClose(got, want, { rtol: 1e-12, atol: 0 });
  const o2 = new SGD([param()], { lr: 1 });
  assertClose(lrs(new MultiStepLR(o2, [1, 1, 3], 0.5), o2, 5), [1, 0.25, 0.25, 0.125, 0.125], { rtol: 0, atol: 0 });
});

test('ExponentialLR: lr = base * gamma^epoch', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  const got = lrs(new ExponentialLR(opt, 0.9), opt, 12);
  assertClose(got, got.map((_, e) => 0.1 * 0.9 ** e), { rtol: 1e-13, atol: 0 });
  assertClose(got.slice(0, 4), [0.1, 0.09, 0.081, 0.0729], { rtol: 1e-13, atol: 0 });
});

test('CosineAnnealingLR: torch recursion equals the closed form, including past tMax (rises again)', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  const got = lrs(new CosineAnnealingLR(opt, 10, 0.001), opt, 25);
  const closed = got.map((_, e) => 0.001 + ((0.1 - 0.001) * (1 + Math.cos((Math.PI * e) / 10))) / 2);
  assertClose(got, closed, { rtol: 1e-10, atol: 1e-15 });
  // Hand-checked: epoch 5 is halfway, epoch 10 the minimum, epoch 20 back at the base lr.
  assertClose([got[5], got[10], got[11], got[20]], [0.0505, 0.001, 0.001 + 0.099 * (1 - Math.cos(Math.PI / 10)) / 2, 0.1], { rtol: 1e-10, atol: 1e-15 });
  const o2 = new SGD([param()], { lr: 1 });
  assertClose(lrs(new CosineAnnealingLR(o2, 2), o2, 5), [1, 0.5, 0, 0.5, 1], { rtol: 1e-12, atol: 1e-15 });
});

test('schedulers set every parameter group from its own base lr, and the optimizer uses it', () => {
  const a = param();
  const b = param();
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
  const s = new StepLR(opt, 1, 0.5);
  assert.deepEqual(s.baseLrs, [0.1, 1]);
  s.step();
  assert.deepEqual(s.getLastLr(), [0.05, 0.5]);
  a.grad = st.ones([1]);
  b.grad = st.ones([1]);
  opt.step();
  assert.equal(a.data[0], Math.fround(-0.05));
  assert.equal(b.data[0], -0.5);
  assert.equal(opt.paramGroups[0].initialLr, 0.1);
});

test('chained schedulers compose, as torch (recursive forms)', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  const e = new ExponentialLR(opt, 0.9);
  const s = new StepLR(opt, 2, 0.5);
  const got: number[] = [];
  for (let k = 0; k < 7; k++) {
    got.push(opt.paramGroups[0].lr);
    e.step();
    s.step();
  }
  assertClose(got, got.map((_, k) => 0.1 * 0.9 ** k * 0.5 ** Math.floor(k / 2)), { rtol: 1e-12, atol: 0 });
  assert.deepEqual(s.baseLrs, [0.1], 'the second scheduler keeps the first initialLr');
});

test('scheduler stateDict round trip with the optimizer: identical lrs afterwards', () => {
  for (const build of [
    (o: SGD) => new CosineAnnealingLR(o, 7, 0.01),
    (o: SGD) => new StepLR(o, 2, 0.3),
    (o: SGD) => new MultiStepLR(o, [1, 4], 0.2),
    (o: SGD) => new ExponentialLR(o, 0.8),
    (o: SGD) => new TableLR(o, '0:0.5,3:0.05', { relative: true }),
  ]) {
    const o1 = new SGD([param()], { lr: 0.2, momentum: 0.9 });
    const s1 = build(o1);
    for (let k = 0; k < 4; k++) s1.step();
    const osd = o1.stateDict();
    const ssd = s1.stateDict();
    assert.equal(ssd.lastEpoch, 4);
    const o2 = new SGD([param()], { lr: 0.2, momentum: 0.9 });
    const s2 = build(o2);
    o2.loadStateDict(osd);
    s2.loadStateDict(ssd);
    assert.deepEqual(s2.getLastLr(), s1.getLastLr());
    for (let k = 0; k < 8; k++) {
      s1.step();
      s2.step();
      assert.equal(o2.paramGroups[0].lr, o1.paramGroups[0].lr, `${ssd.name} epoch ${5 + k}`);
    }
    throwsST(() => new StepLR(new SGD([param()], { lr: 1 }), 1).loadStateDict(ssd.name === 'StepLR' ? { ...ssd, baseLrs: [1, 2] } : ssd), 'ERR_ARGUMENT', 'StepLR.loadStateDict');
  }
});

test('scheduler argument validation', () => {
  const opt = new SGD([param()], { lr: 0.1 });
  throwsST(() => new StepLR(opt, 0), 'ERR_ARGUMENT', 'StepLR', 'stepSize');
  throwsST(() => new StepLR(opt, 2, -1), 'ERR_ARGUMENT', 'StepLR', 'gamma');
  throwsST(() => new MultiStepLR(opt, [1, -2]), 'ERR_ARGUMENT', 'MultiStepLR', 'milestones');
  throwsST(() => new ExponentialLR(opt, NaN), 'ERR_ARGUMENT', 'ExponentialLR', 'gamma');
  throwsST(() => new CosineAnnealingLR(opt, 0), 'ERR_ARGUMENT', 'CosineAnnealingLR', 'tMax');
  throwsST(() => new CosineAnnealingLR(opt, 5, -1), 'ERR_ARGUMENT', 'CosineAnnealingLR', 'etaMin');
});

// ---- TableLR -----------------------------------------------------------------------

test('parseLrTable: valid tables, spaces, any order', () => {
  assert.deepEqual(parseLrTable('0:0.1,30:0.01'), [[0, 0.1], [30, 0.01]]);
  assert.deepEqual(parseLrTable(' 30 : 1e-2 , 0:0.1 ,60:0'), [[0, 0.1], [30, 0.01], [60, 0]]);
  assert.deepEqual(parseLrTable('5:2'), [[5, 2]]);
});

test('parseLrTable: clear errors for malformed tables', () => {
  const bad: [string, string][] = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['0:0.1,', 'empty'],
    ['0:0.1,,5:1', 'empty'],
    ['0=0.1', 'not of the form epoch:value'],
    ['0:0.1:3', 'not of the form epoch:value'],
    ['a:0.1', 'epoch "a"'],
    ['-1:0.1', 'epoch "-1"'],
    ['1.5:0.1', 'epoch "1.5"'],
    ['1:', 'value ""'],
    ['1:abc', 'value "abc"'],
    ['1:-0.1', 'value "-0.1"'],
    ['1:Infinity', 'value "Infinity"'],
    ['1:0.1,1:0.2', 'epoch 1 is listed twice'],
  ];
  for (const [spec, what] of bad) throwsST(() => parseLrTable(spec), 'ERR_ARGUMENT', `lr table "${spec}"`, what, 'e.g. "0:0.1,30:0.01"');
});

test('TableLR: values hold from their epoch on; base lr before the first entry; relative mode; array form', () => {
  const o1 = new SGD([param()], { lr: 0.5 });
  assert.deepEqual(lrs(new TableLR(o1, '0:0.1,3:0.01,5:0.001'), o1, 7), [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  const o2 = new SGD([param()], { lr: 0.5 });
  assert.deepEqual(lrs(new TableLR(o2, '2:0.05'), o2, 4), [0.5, 0.5, 0.05, 0.05]);
  const o3 = new SGD([{ params: [param()] }, { params: [param()], lr: 2 }], { lr: 0.5 });
  const t3 = new TableLR(o3, [[0, 1], [2, 0.1]], { relative: true });
  t3.step();
  t3.step();
  assert.deepEqual(t3.getLastLr(), [0.05, 0.2]);
  assert.equal(t3.valueAt(1), 1);
  throwsST(() => new TableLR(o3, []), 'ERR_ARGUMENT', 'empty');
  throwsST(() => new TableLR(o3, [[0.5, 1]]), 'ERR_ARGUMENT', 'not [non-negative integer epoch');
  throwsST(() => new TableLR(o3, [[1, 1], [1, 2]]), 'ERR_ARGUMENT', 'listed twice');
  throwsST(() => new TableLR(o3, 'x'), 'ERR_ARGUMENT', 'lr table "x"');
});
