/**
 * The Figure 2.11 sweep (fnz-sweep.ts): at each f_nz the evaluation sees the
 * model with those units removed (the same outputs and parameter count as
 * removeSparseUnits + shrink on a copy), and afterwards the model is exactly
 * as before: values, unit masks and outputs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Tensor, Module, Generator, buildModel, randn, noGrad, Conv2d, Linear, units as U, setThreads } from '../src';
import { assertClose } from './util';

setThreads(1);

type AnyModule = Module<any[], any>;

function forward(model: AnyModule, x: Tensor): Float32Array {
  return Float32Array.from(noGrad(() => model.call(x) as Tensor).f32);
}

/** smallcnn (seeded) with conv1/2 empty (bias 0.3), fc1/5 without outgoing weights, fc1/3 with 1 of 256 incoming weights left. */
function sparseSmallCnn(): AnyModule {
  const m = buildModel('smallcnn', { generator: new Generator(7) });
  const conv1 = m.getSubmodule('conv1') as Conv2d;
  const fc1 = m.getSubmodule('fc1') as Linear;
  const fc2 = m.getSubmodule('fc2') as Linear;
  conv1.weight.f32.fill(0, 2 * 25, 3 * 25);
  conv1.bias!.f32[2] = 0.3;
  fc1.weight.f32.fill(0, 3 * 256 + 1, 4 * 256);
  for (let o = 0; o < 10; o++) fc2.weight.f32[o * 64 + 5] = 0;
  m.eval();
  return m;
}

function snapshot(m: AnyModule): Map<string, Float32Array> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, Float32Array.from(t.f32)]));
}

test('f_nz sweep: each point is the model with those units removed; the model is restored after', () => {
  const m = sparseSmallCnn();
  const x = randn([6, 1, 28, 28], { generator: new Generator(3) });
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  U.maskUnits(m.getSubmodule('fc1'), 64, [60]); // an existing unit mask survives the sweep
  const before = forward(m, x);
  const state = snapshot(m);
  const seen: Float32Array[] = [];
  const points = U.fnzSweep(m, graph, [0, 0.01], () => {
    seen.push(forward(m, x));
    return { loss: 0, accuracy: seen.length };
  });

  // What a real clean-up at each f_nz gives, on fresh copies (unit 60 masked as well).
  for (const [i, fnz] of [0, 0.01].entries()) {
    const c = sparseSmallCnn();
    U.maskUnits(c.getSubmodule('fc1'), 64, [60]);
    const g = U.buildUnitGraph(c, [1, 28, 28]);
    const r = U.removeSparseUnits(c, g, { fnz });
    assert.equal(points[i].parameters, r.shrink!.parametersAfter, `parameters at f_nz ${fnz}`);
    assert.equal(points[i].parameters, c.numParameters());
    assertClose(seen[i], forward(c, x), { rtol: 1e-5, atol: 1e-5, msg: `outputs at f_nz ${fnz}` });
    assert.equal(points[i].accuracy, i + 1);
  }
  assert.deepEqual(points.map((p) => p.removed), [{ conv1: 1, conv2: 0, fc1: 1 }, { conv1: 1, conv2: 0, fc1: 2 }]);
  assert.ok(points[1].parameters < points[0].parameters);

  // Restored: same values, same unit mask (60 still masked), same outputs.
  for (const [k, v] of snapshot(m)) assert.deepEqual(v, state.get(k), k);
  assert.deepEqual([...U.getUnitMask(m.getSubmodule('fc1'))!].map((v, i) => (v === 0 ? i : -1)).filter((i) => i >= 0), [60]);
  assert.equal(U.getUnitMask(m.getSubmodule('conv1')), null);
  assert.deepEqual(forward(m, x), before);
  assert.equal(m.numParameters(), 20522);
});

test('f_nz sweep: bad f_nz values are rejected with the value named', () => {
  const m = sparseSmallCnn();
  const graph = U.buildUnitGraph(m, [1, 28, 28]);
  assert.throws(() => U.fnzSweep(m, graph, [0, 1.5], () => ({ loss: 0, accuracy: 0 })), /each f_nz must be a number in \[0, 1\], got 1\.5/);
  assert.throws(() => new U.FnzSweepPlugin({ fnzs: [-0.1] }), /got -0\.1/);
  assert.throws(() => new U.FnzSweepPlugin({ examples: 0 }), /examples must be a positive integer/);
});
