/**
 * End to end against PyTorch (test/fixtures/e2e): from the same initial state
 * dict, three SGD steps (lr 0.05, momentum 0.9, weight decay 5e-4) in train
 * mode on the same batch give the same logits and losses at every step and the
 * same final state dict (parameters, BatchNorm running statistics and
 * num_batches_tracked).
 *
 * Uses the optimizer of src/optim/sgd.ts (class SGD(params, {lr, momentum,
 * dampening, weightDecay, nesterov})), loaded at run time so that this file
 * compiles before that module exists; until then these tests are skipped with
 * that reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, buildModel, crossEntropy } from '../src';
import { loadFixture } from './fixture-util';
import { assertClose } from './util';

interface Optimizer {
  step(): void;
  zeroGrad(setToNone?: boolean): void;
}
type SGDCtor = new (params: Tensor[], opts: { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }) => Optimizer;

function loadSGD(): SGDCtor | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../src/optim/sgd').SGD as SGDCtor;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}
const SGD = loadSGD();

/**
 * The bar: relative error at most 1e-4 against PyTorch, for the loss and
 * logits of every step (elementwise; atol covers values near zero) and for every
 * state-dict tensor after the third step (||ours - torch|| / ||torch||). The
 * fixtures are PyTorch's float64 trajectory from the float32 initialisation, on a
 * draw where PyTorch's own float32 run stays within 1e-5 of it (see
 * scripts/make_fixtures.py), so the bound measures the engine, not rounding.
 */
const RTOL = 1e-4;
const ATOL = 1e-6;

for (const name of ['lenet300', 'lenet5', 'resnet20']) {
  test(`e2e ${name}: 3 SGD steps match PyTorch`, { skip: SGD ? false : 'src/optim/sgd.ts is not in this tree yet' }, () => {
    const fx = loadFixture('e2e', name);
    const hyper = fx.config.hyper;
        const model = buildModel(name);
    model.loadStateDict(new Map(fx.keys('init.').map((k) => [k, fx.get(`init.${k}`)])));
    model.train();
    const opt = new SGD!(model.parameters(), { lr: hyper.lr, momentum: hyper.momentum, weightDecay: hyper.weight_decay });
    const x = new Tensor(fx.f32('x'), fx.shape('x'), 'float32');
    const labels = new Tensor(fx.i32('labels'), fx.shape('labels'), 'int32');
    const losses = fx.f32('losses');
    for (let s = 0; s < 3; s++) {
      opt.zeroGrad();
      const logits = model.call(x);
      assertClose(logits.toArray(), fx.f32(`logits.${s}`), { rtol: RTOL, atol: ATOL, msg: `${name} logits at step ${s}` });
      const loss = crossEntropy(logits, labels);
      assertClose([loss.item()], [losses[s]], { rtol: RTOL, atol: 0, msg: `${name} loss at step ${s}` });
      loss.backward();
      opt.step();
    }
    const sd = model.stateDict();
    const finalKeys = fx.keys('final.');
    assert.deepEqual([...sd.keys()].sort(), [...finalKeys].sort());
    for (const k of finalKeys) {
      const want = fx.get(`final.${k}`);
      if (want.dtype === 'I64') {
        assert.equal(sd.get(k)!.item(), Number((want.data as BigInt64Array)[0]), k);
        continue;
      }
      const got = sd.get(k)!.f32;
      const exp = fx.f32(`final.${k}`);
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < exp.length; i++) {
        diff += (got[i] - exp[i]) ** 2;
        norm += exp[i] ** 2;
      }
      const rel = Math.sqrt(diff / Math.max(norm, 1e-30));
      assert.ok(rel <= RTOL, `${name} final ${k}: relative error ${rel.toExponential(2)} > ${RTOL}`);
    }
  });
}
