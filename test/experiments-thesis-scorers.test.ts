/**
 * `sparsetrain reproduce thesis-scorers --smoke` as a user runs it (spawned):
 * runs/thesis-scorers/ with scorers.csv (both activations, act first),
 * summary.json with the findings' checks, model.safetensors with PyTorch's
 * keys, and one phase directory per activation. The findings are computed
 * from the rows: hand-made rows where a finding holds pass, rows where it
 * does not fail.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { parseRowsCsv, ROW_COLUMNS, type ComparisonRow } from '../src/sparse/compare';
import { scorerFindings, type ActRow } from '../src/experiments/thesis-scorers-findings';
import { cliSandbox } from './cli-util';

const { TMP, cli } = cliSandbox('st-thesis-scorers-');

test('reproduce thesis-scorers --smoke writes the CSV, the summary with its checks, the model and the phases', async () => {
  const r = await cli(['reproduce', 'thesis-scorers', '--smoke', '--runs-dir', TMP, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^thesis-scorers: /m);
  assert.match(r.stdout, /\(a\) relu: \|score\| beats signed score/);
  const dir = path.join(TMP, 'thesis-scorers');
  for (const f of ['scorers.csv', 'summary.json', 'model.safetensors', 'relu/scorers.csv', 'tanh/scorers.csv', 'relu/model.safetensors', 'tanh/summary.json']) {
    assert.ok(fs.existsSync(path.join(dir, f)), f);
  }
  const text = fs.readFileSync(path.join(dir, 'scorers.csv'), 'utf8');
  assert.equal(text.split('\n')[0], ['act', ...ROW_COLUMNS].join(','));
  const rows = parseRowsCsv(text);
  assert.deepEqual([...new Set(rows.map((x) => x.act))], ['relu', 'tanh']);
  // smoke: 256 examples / batch 32 = 8 steps, measured after steps 4 and 8; 8 weight and 5 unit scorers at 2 fractions.
  for (const act of ['relu', 'tanh']) {
    const mine = rows.filter((x) => x.act === act);
    assert.deepEqual([...new Set(mine.map((x) => x.step))], [4, 8]);
    assert.equal(mine.length, 2 * (8 + 5) * 2);
    assert.deepEqual([...new Set(mine.map((x) => `${x.kind} ${x.layer}`))], ['weight conv1.weight', 'unit fc1']);
    const phase = parseRowsCsv(fs.readFileSync(path.join(dir, act, 'scorers.csv'), 'utf8'));
    assert.deepEqual(phase, mine.map(({ act: _a, ...x }) => x), `${act}/scorers.csv is the same table without the act column`);
  }
  const s = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(s.experiment, 'thesis-scorers');
  assert.equal(s.smoke, true);
  assert.equal(s.csv, 'scorers.csv');
  assert.deepEqual(s.checks.map((c: { what: string }) => c.what.split(':')[0]), ['(a) relu', '(b) relu', "(b') relu", '(a) tanh', '(b) tanh', "(b') tanh", '(c) relu']);
  assert.ok(s.checks.every((c: Record<string, unknown>) => typeof c.passed === 'boolean' && typeof c.measured === 'string' && typeof c.target === 'string'));
  assert.equal(s.passed, s.checks.every((c: { passed: boolean }) => c.passed));
  assert.equal(s.phases.relu.measurements, 2);
  assert.equal(s.series.length, 2 * 13 * 2);
  const w = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
  assert.deepEqual([...w.keys()].sort(), ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(fs.readFileSync(path.join(dir, 'relu', 'model.safetensors'))));
  assert.equal(s.finalPhase, 'relu', 'the phase the final model came from (scripts/check_run.py reads its summary)');
  // An existing run directory is not overwritten.
  const again = await cli(['reproduce', 'thesis-scorers', '--smoke', '--runs-dir', TMP, '--quiet']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists and is not empty/);
});

/** Rows of one act where each (kind, layer, scorer, fraction) series has the given deltas over steps 1, 2, 3. */
function rowsOf(act: string, series: [string, string, string, number, number[]][]): ActRow[] {
  const out: ActRow[] = [];
  for (const [kind, layer, scorer, fraction, deltas] of series) {
    deltas.forEach((d, i) => out.push({ act, step: i + 1, epoch: 0, kind: kind as ComparisonRow['kind'], layer, scorer, fraction, pruned: 1, loss_before: 1, loss_after: 1 + d, delta: d }));
  }
  return out;
}

test('the findings are computed from the rows: they pass where the data say so and fail where not', () => {
  const w = (scorer: string, d: number[]): [string, string, string, number, number[]] => ['weight', 'conv1.weight', scorer, 0.8, d];
  const u = (scorer: string, f: number, d: number[]): [string, string, string, number, number[]] => ['unit', 'fc1', scorer, f, d];
  const good = rowsOf('relu', [
    w('magnitude', [0.10, 0.11, 0.10]), w('taylor1', [0.5, 0.9, 0.4]), w('taylor2', [0.6, 0.2, 0.7]), w('hessian', [0.3, 0.3, 0.3]),
    w('taylor1-abs', [0.2, 0.4, 0.1]), w('taylor2-abs', [0.15, 0.3, 0.12]), w('hessian-abs', [0.12, 0.2, 0.25]),
    u('mrs', 0.4, [0.1, 0.1, 0.1]), u('mrp', 0.4, [0.09, 0.1, 0.1]), u('l1', 0.4, [0.2, 0.2, 0.2]), u('l2', 0.4, [0.3, 0.2, 0.2]),
    u('mrs', 0.8, [0.5, 0.5, 0.5]), u('mrp', 0.8, [0.4, 0.5, 0.5]), u('l1', 0.8, [0.6, 0.6, 0.6]), u('l2', 0.8, [0.7, 0.6, 0.6]),
    u('mrs', 0.1, [0.9, 0.9, 0.9]), u('l1', 0.1, [0.1, 0.1, 0.1]), // low fractions do not count in (c)
  ]);
  const ok = scorerFindings(good);
  assert.deepEqual(ok.map((c) => [c.what.split(':')[0], c.passed]), [['(a) relu', true], ['(b) relu', true], ["(b') relu", true], ['(c) relu', true]]);
  assert.match(ok[0].measured, /taylor1 0\.6000 vs taylor1-abs 0\.2333 \(abs lower at 100% of 3 steps\)/);
  assert.match(ok[1].measured, /^magnitude 0\.0100, /);
  assert.match(ok[3].measured, /f 0\.4: mrs 0\.1000, mrp 0\.0967 vs l1 0\.2000, l2 0\.2333; f 0\.8: /);

  // Each finding broken in turn.
  const change = (rows: ActRow[], scorer: string, fraction: number, d: number[]): ActRow[] => rows.map((r) => (r.scorer === scorer && r.fraction === fraction ? { ...r, delta: d[r.step - 1] } : r));
  const broken = (rows: ActRow[]) => Object.fromEntries(scorerFindings(rows).map((c) => [c.what.split(':')[0], c.passed]));
  assert.equal(broken(change(good, 'hessian-abs', 0.8, [0.3, 0.4, 0.3]))['(a) relu'], false, 'hessian-abs above hessian');
  assert.equal(broken(change(good, 'magnitude', 0.8, [0.0, 0.3, 0.0]))['(b) relu'], false, 'magnitude jumps');
  assert.equal(broken(change(good, 'magnitude', 0.8, [0.0, 0.3, 0.0]))["(b') relu"], true, 'jumpy but still lowest on average');
  assert.equal(broken(change(good, 'taylor2-abs', 0.8, [0.05, 0.05, 0.05]))["(b') relu"], false, 'taylor2-abs lower on average');
  assert.equal(broken(change(good, 'mrp', 0.8, [0.7, 0.7, 0.7]))['(c) relu'], false, 'mrp above l1 at 0.8');
  // A missing series is a failed check that says so, not a pass.
  const noHessian = good.filter((r) => r.scorer !== 'hessian-abs');
  const m = scorerFindings(noHessian);
  assert.equal(m[0].passed, false);
  assert.match(m[0].measured, /no data \(hessian at 0\.8\)/);
  // Tanh rows get (a), (b), (b') but no (c), which the thesis does not claim for Tanh.
  const both = [...good, ...good.map((r) => ({ ...r, act: 'tanh' }))];
  assert.deepEqual(scorerFindings(both).map((c) => c.what.split(':')[0]), ['(a) relu', '(b) relu', "(b') relu", '(a) tanh', '(b) tanh', "(b') tanh", '(c) relu']);
});
