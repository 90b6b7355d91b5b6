/**
 * The pruning fields of a training configuration and the plug-ins built from
 * them (src/train/pruning-config.ts, pruning-plugins.ts): defaults per
 * schedule, one-line errors naming the flag for options that do not apply or
 * are missing, the scope mapping to the library's selections, and a
 * configuration that survives config.yaml (what --resume reads back).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveTrainConfig, configToYaml, type TrainConfig } from '../src/train';
import { pruningPlugins, weightSelection, firstPruningEpoch, sparsityTarget } from '../src/train/pruning-plugins';
import { prunes } from '../src/train/pruning-config';
import { readConfigFile, resolveWithSources } from '../src/cli/config';
import { OneShotPruning, EpochTablePruning, GradualPruning, HanIterativePruning } from '../src/sparse/schedules';
import { UnitPruningPlugin } from '../src/sparse/units/schedule';
import { UnitCleanupPlugin } from '../src/sparse/units/cleanup-plugin';

const base = { model: 'smallcnn', dataset: 'synthetic', epochs: 10 } as const;
const cfg = (p: Partial<TrainConfig>) => resolveTrainConfig({ ...base, ...p });

test('no pruning: every pruning field null, no plug-ins', () => {
  const c = cfg({});
  assert.equal(c.prune, 'none');
  for (const k of ['pruneScorer', 'pruneScope', 'sparsity', 'pruneTable', 'pruneUnits', 'removeUnitsFnz', 'hanQuality'] as const) assert.equal(c[k], null, k);
  assert.deepEqual(pruningPlugins(c), []);
  assert.equal(prunes(c), false);
  assert.equal(firstPruningEpoch(c), null);
});

test('one-shot: defaults, per-kind targets, plug-in and its event', () => {
  const c = cfg({ prune: 'one-shot', pruneAt: 4, sparsity: 0.8 });
  assert.equal(c.pruneScorer, 'magnitude');
  assert.equal(c.pruneScope, 'layer');
  assert.equal(c.pruneExamples, null, 'magnitude needs no data');
  const [p] = pruningPlugins(c);
  assert.ok(p instanceof OneShotPruning);
  assert.deepEqual((p as OneShotPruning).times, [4]);
  assert.equal(firstPruningEpoch(c), 4);
  const k = cfg({ prune: 'one-shot', pruneAt: 0, sparsity: 0.9, sparsityConv: 0.5, pruneScorer: 'taylor1-abs' });
  assert.equal(k.pruneExamples, 1000, 'data-dependent scorers get 1000 examples by default');
  assert.deepEqual(sparsityTarget(k), { conv: 0.5, fc: 0.9 }, '--sparsity is the value of the kind not given');
  assert.deepEqual(sparsityTarget(cfg({ prune: 'one-shot', pruneAt: 1, sparsityFc: 0.9 })), { fc: 0.9 }, 'a kind without a value is not pruned');
});

test('scope mapping to selections', () => {
  const sel = (p: Partial<TrainConfig>) => weightSelection(cfg({ prune: 'one-shot', pruneAt: 1, ...p }));
  assert.deepEqual(sel({ sparsity: 0.9 }), { scope: 'layer', amount: { sparsity: 0.9 } });
  assert.deepEqual(sel({ sparsity: 0.9, pruneScope: 'global' }), { scope: 'global', amount: { sparsity: 0.9 } });
  assert.deepEqual(sel({ sparsity: 0.9, pruneScope: 'kind' }), { scope: 'kind', within: 'global', conv: { sparsity: 0.9 }, fc: { sparsity: 0.9 } });
  assert.deepEqual(sel({ sparsityConv: 0.5, sparsityFc: 0.9 }), { scope: 'kind', within: 'layer', conv: { sparsity: 0.5 }, fc: { sparsity: 0.9 } });
  assert.deepEqual(sel({ sparsityConv: 0.5, sparsityFc: 0.9, pruneScope: 'kind' }), { scope: 'kind', within: 'global', conv: { sparsity: 0.5 }, fc: { sparsity: 0.9 } });
});

test('table, gradual, han, units, f_nz: the plug-ins, in order, with their settings', () => {
  const t = cfg({ prune: 'table', pruneTable: '2:0.2,3:0.5,4:0.8,5:0.9', pruneUnits: '2:0.1,3:0.2', removeUnitsFnz: 0 });
  const ps = pruningPlugins(t);
  assert.deepEqual(ps.map((p) => p.name), ['epoch-table-pruning', 'unit-pruning', 'unit-cleanup']);
  assert.ok(ps[0] instanceof EpochTablePruning);
  assert.deepEqual((ps[0] as EpochTablePruning).entries, [[2, 0.2], [3, 0.5], [4, 0.8], [5, 0.9]]);
  const u = ps[1] as UnitPruningPlugin;
  assert.ok(u instanceof UnitPruningPlugin);
  assert.deepEqual(u.schedule, [[2, 0.1], [3, 0.2]]);
  assert.equal(u.opts.scorer, 'mrs');
  assert.equal(u.opts.replacement, 'mean');
  assert.equal(u.opts.shrinkAtEnd, true);
  assert.ok(ps[2] instanceof UnitCleanupPlugin);
  assert.equal((ps[2] as UnitCleanupPlugin).fnz, 0);
  assert.equal(firstPruningEpoch(t), 2);

  const g = cfg({ prune: 'gradual', sparsity: 0.9, pruneStart: 1, pruneEnd: 7, pruneEvery: 2, pruneCurve: 'exponential' });
  const gp = pruningPlugins(g)[0] as GradualPruning;
  assert.ok(gp instanceof GradualPruning);
  assert.deepEqual(gp.times, [1, 3, 5, 7]);
  assert.equal(gp.curve, 'exponential');
  assert.equal(gp.sparsityAt(3), 0.9);
  assert.equal(firstPruningEpoch(g), 3, 'event 0 prunes to sparsity 0');
  assert.equal(cfg({ prune: 'gradual', sparsity: 0.9, pruneEnd: 5 }).pruneCurve, 'cubic');

  const h = cfg({ prune: 'han', hanQuality: [0.5, 0.8, 1.0], pruneStart: 3, retrainEpochs: 2 });
  assert.equal(h.hanIterations, 3);
  assert.equal(h.retrainLrFactor, 0.1);
  const hp = pruningPlugins(h)[0] as HanIterativePruning;
  assert.ok(hp instanceof HanIterativePruning);
  assert.deepEqual(hp.times, [3, 5, 7]);
  const hk = cfg({ prune: 'han', hanQualityConv: [0.5], hanQualityFc: [1.2], pruneStart: 1, hanIterations: 4 });
  assert.deepEqual((pruningPlugins(hk)[0] as HanIterativePruning).times, [1, 2, 3, 4]);

  const un = cfg({ pruneUnits: '1:0.5', unitScorer: 'l1', unitScope: 'global', unitExamples: 64, unitReplacement: 'zero' });
  const up = pruningPlugins(un)[0] as UnitPruningPlugin;
  assert.deepEqual([up.opts.scorer, up.opts.scope, up.opts.examples, up.opts.replacement], ['l1', 'global', 64, 'zero']);
});

test('bad combinations: one-line errors naming the flag', () => {
  const cases: [Partial<TrainConfig>, RegExp][] = [
    [{ sparsity: 0.9 }, /^--sparsity: only applies with --prune one-shot \| gradual \(no --prune given\)$/],
    [{ prune: 'table', pruneTable: '1:0.5', sparsity: 0.9 }, /^--sparsity: only applies with --prune one-shot \| gradual \(got --prune table\)$/],
    [{ prune: 'gradual', sparsity: 0.9, pruneEnd: 5, pruneAt: 2 }, /^--prune-at: only applies with --prune one-shot/],
    [{ prune: 'one-shot', sparsity: 0.9 }, /^--prune-at: --prune one-shot needs --prune-at EPOCH/],
    [{ prune: 'one-shot', pruneAt: 2 }, /^--sparsity: --prune one-shot needs a target/],
    [{ prune: 'one-shot', pruneAt: 11, sparsity: 0.5 }, /^--prune-at: the pruning at epoch 11 comes after the run's last epoch \(--epochs 10\)/],
    [{ prune: 'one-shot', pruneAt: 1, sparsity: 1.5 }, /^--sparsity: expected a number >= 0 and <= 1, got 1.5$/],
    [{ prune: 'one-shot', pruneAt: 1, sparsityConv: 0.5, pruneScope: 'global' }, /^--prune-scope: global pools all layers/],
    [{ prune: 'one-shot', pruneAt: 1, sparsity: 0.5, pruneExamples: 10 }, /^--prune-examples: only applies to a data-dependent --prune-scorer/],
    [{ prune: 'one-shot', pruneAt: 1, sparsity: 0.5, pruneScorer: 'bogus' as 'magnitude' }, /^--prune-scorer: expected one of magnitude, random, taylor1/],
    [{ prune: 'table' }, /^--prune-table: --prune table needs --prune-table/],
    [{ prune: 'table', pruneTable: '2:0.5,3:0.2' }, /^--prune-table: sparsity 0.2 at epoch 3 is below 0.5/],
    [{ prune: 'table', pruneTable: '2:x' }, /^--prune-table: entry 1 "2:x": value "x" is not a number in \[0, 1\]$/],
    [{ prune: 'table', pruneTable: '2:0.5,12:0.9' }, /^--prune-table: an entry at epoch 12 comes after/],
    [{ prune: 'gradual', sparsity: 0.9 }, /^--prune-end: --prune gradual needs --prune-end EPOCH/],
    [{ prune: 'gradual', sparsity: 0.9, pruneStart: 1, pruneEnd: 6, pruneEvery: 2 }, /^--prune-end: 6 is not --prune-start 1 plus a multiple of --prune-every 2$/],
    [{ prune: 'gradual', sparsity: 0.9, pruneStart: 5, pruneEnd: 3 }, /^--prune-end: expected an integer >= 5, got 3$/],
    [{ prune: 'gradual', sparsity: 0.9, pruneEnd: 5, pruneCurve: 'linear' as 'cubic' }, /^--prune-curve: expected one of cubic, exponential/],
    [{ prune: 'han', pruneStart: 2 }, /^--han-quality: --prune han needs --han-quality Q/],
    [{ prune: 'han', hanQuality: [1] }, /^--prune-start: --prune han needs --prune-start EPOCH/],
    [{ prune: 'han', hanQuality: [1, 2], hanIterations: 3, pruneStart: 1 }, /^--han-quality: has 2 values for 3 iterations/],
    [{ prune: 'han', hanQuality: [1], pruneStart: 1, pruneScorer: 'random' }, /^--prune-scorer: --prune han thresholds weight magnitudes/],
    [{ prune: 'han', hanQuality: [1], pruneStart: 1, pruneScope: 'global' }, /^--prune-scope: --prune han prunes each layer by its own threshold/],
    [{ prune: 'han', hanQuality: [1], pruneStart: 8, hanIterations: 3, retrainEpochs: 2 }, /^--han-iterations: iteration 3 .* at epoch 12 comes after/],
    [{ prune: 'han', hanQuality: [1], pruneStart: 1, lrSchedule: 'table', lrTable: '0:0.1' }, /^--retrain-lr-factor: cannot act with --lr-schedule table/],
    [{ prune: 'gradual', sparsity: 0.9, pruneEnd: 5, retrainEpochs: 2 }, /^--retrain-epochs: only applies with --prune han \(got --prune gradual\)$/],
    [{ unitScorer: 'mrp' }, /^--unit-scorer: only applies with --prune-units "epoch:fraction,..."$/],
    [{ pruneUnits: '2:0.5,3:0.4' }, /^--prune-units: fractions are cumulative and must not decrease/],
    [{ pruneUnits: '10:0.5' }, /^--prune-units: the round at epoch 10 would never happen/],
    [{ pruneUnits: '1:0.5', unitScorer: 'taylor' as 'mrs' }, /^--unit-scorer: expected one of mrs, mrp, l1, l2, random/],
    [{ removeUnitsFnz: 2 }, /^--remove-units-fnz: expected a number >= 0 and <= 1, got 2$/],
    [{ prune: 'pruning' as 'none' }, /^--prune: expected one of none, one-shot, table, han, gradual, got 'pruning'$/],
  ];
  for (const [p, re] of cases) {
    assert.throws(() => cfg(p), (e: Error) => {
      assert.equal(e.message.split('\n').length, 1, e.message);
      assert.match(e.message, re, JSON.stringify(p));
      return true;
    });
  }
});

test('config.yaml round trip: the resolved pruning configuration reads back to itself (what --resume and --config see)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-prune-cfg-'));
  try {
    const configs = [
      cfg({ prune: 'gradual', sparsityConv: 0.5, sparsityFc: 0.9, pruneStart: 1, pruneEnd: 5, pruneScorer: 'taylor2-abs', pruneExamples: 200, removeUnitsFnz: 0.05 }),
      cfg({ prune: 'han', hanQualityFc: [0.6, 0.9], pruneStart: 2, retrainEpochs: 3, retrainLrFactor: 0.2 }),
      cfg({ prune: 'table', pruneTable: '2:0.2,3:0.5', pruneScope: 'kind', pruneUnits: '1:0.1,4:0.3', unitScorer: 'mrp' }),
    ];
    configs.forEach((c, i) => {
      const f = path.join(dir, `c${i}.yaml`);
      fs.writeFileSync(f, configToYaml(c));
      assert.deepEqual(resolveWithSources(readConfigFile(f), {}, f), c);
    });
    // A hand-written YAML file with the flags' names; lists as text or YAML lists.
    const f = path.join(dir, 'hand.yaml');
    fs.writeFileSync(f, 'model: lenet5\ndataset: synthetic\nepochs: 6\nprune: han\nhan-quality: "0.5,1.0"\nprune-start: "2"\nretrain-lr-factor: 0.5\n');
    const h = resolveWithSources(readConfigFile(f), {}, f);
    assert.deepEqual([h.hanQuality, h.pruneStart, h.retrainLrFactor, h.hanIterations], [[0.5, 1.0], 2, 0.5, 2]);
    fs.writeFileSync(f, 'model: lenet5\ndataset: synthetic\nprune: table\nprune-table: "2:0.5,1:0.9"\n');
    assert.throws(() => resolveWithSources(readConfigFile(f), {}, f), /^SparsetrainError: --config .*hand.yaml: key 'prune-table': sparsity 0.5 at epoch 2 is below 0.9 at epoch 1/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the default job (npm start): gradual global pruning to 90%; --prune replaces it, --epochs alone scales its window', async () => {
  const { START_JOB, startJob } = await import('../src/cli/commands/start');
  const job = resolveTrainConfig(startJob({}));
  assert.deepEqual([job.model, job.dataset, job.epochs, job.prune, job.pruneScope, job.sparsity, job.pruneStart, job.pruneEnd], ['lenet300', 'mnist', 15, 'gradual', 'global', 0.9, 2, 10]);
  const dense = resolveTrainConfig({ ...startJob({ prune: 'none' }), prune: 'none' });
  assert.equal(dense.prune, 'none');
  assert.equal(dense.sparsity, null);
  assert.deepEqual(Object.keys(startJob({ prune: 'one-shot' })).filter((k) => k.startsWith('prune') || k === 'sparsity'), []);
  for (let e = 1; e <= 20; e++) {
    const c = resolveTrainConfig({ ...startJob({ epochs: e }), epochs: e });
    assert.ok(c.pruneEnd! <= e && c.pruneStart! <= c.pruneEnd!, `epochs ${e}: ${c.pruneStart}..${c.pruneEnd}`);
  }
  assert.equal(resolveTrainConfig({ ...startJob({ epochs: 30 }), epochs: 30 }).pruneEnd, 20);
  assert.equal(START_JOB.epochs, 15);
});
