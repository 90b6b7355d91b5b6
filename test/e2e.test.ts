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
 * Tolerances. lenet300 and lenet5 match the fixture to ~2e-7 at every step.
 * resnet20's fixture drifts: PyTorch's float32 run that wrote it (mkldnn off,
 * generic kernels) is off its own float64 result by 5e-7, 7e-5 and 3e-3 in the
 * logits of steps 0, 1, 2 and by up to 1.1e-3 in the final weights (measured
 * with /usr/bin/python3 and torch 1.13 on the fixture's init, x and labels),
 * while sparsetrain stays within 4e-7 of that float64 run. So resnet20 is held
 * tight at step 0 and to about twice PyTorch's own float32 error afterwards.
 */
const TOL: Record<string, { logits: number[]; loss: number; final: number }> = {
  lenet300: { logits: [1e-5, 1e-5, 1e-5], loss: 1e-5, final: 1e-5 },
  lenet5: { logits: [1e-5, 1e-5, 1e-5], loss: 1e-5, final: 1e-5 },
  resnet20: { logits: [1e-5, 2e-4, 6e-3], loss: 1e-3, final: 2.5e-3 },
};

for (const name of ['lenet300', 'lenet5', 'resnet20']) {
  test(`e2e ${name}: 3 SGD steps match PyTorch`, { skip: SGD ? false : 'src/optim/sgd.ts is not in this tree yet' }, () => {
    const fx = loadFixture('e2e', name);
    const hyper = fx.config.hyper;
    const tol = TOL[name];
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
      assertClose(logits.toArray(), fx.f32(`logits.${s}`), { rtol: 0, atol: tol.logits[s], msg: `${name} logits at step ${s}` });
      const loss = crossEntropy(logits, labels);
      assertClose([loss.item()], [losses[s]], { rtol: tol.loss, atol: 0, msg: `${name} loss at step ${s}` });
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
      assertClose(sd.get(k)!.toArray(), fx.f32(`final.${k}`), { rtol: 0, atol: tol.final, msg: `${name} final ${k}` });
    }
  });
}
