/**
 * `sparsetrain reproduce thesis-scorers`: the thesis' scorer comparison
 * (seed 001, sections 2.1 and 4.1) on smallcnn / MNIST, with ReLU and with
 * Tanh. Each activation is one training phase (runs/thesis-scorers/relu/,
 * tanh/) with the scorer-comparison plug-in (src/sparse/compare): every
 * EVERY steps, for each scorer and fraction, prune that fraction of one
 * layer, measure the loss change on 1000 training examples, undo.
 *
 * Setup, after the thesis: SGD with lr 0.01, batch 32, no momentum, no weight
 * decay (section 2.1, "0.01 learning rate and 32 mini-batch size for 5
 * epochs"; section 4.1 adds "without using momentum or weight decay"); 5
 * epochs (chapter 4 trains 10; 5 keep the experiment within 15 minutes).
 * Weight scorers on conv1 (its 200 weights, as Figures 2.2-2.5); unit scorers
 * on fc1 (Figures 4.2-4.5), mean replacement with bias propagation, means
 * before the non-linearity. Fractions 0.1, 0.2, 0.4, 0.5 (Figure 4.3) and 0.8
 * (Figure 2.5's 160 of 200). Every 250 steps (the thesis: 50 and 100; 250
 * for time), scores on the first 1000 training examples and the loss on the
 * next 1000 (src/sparse/compare/plugin.ts, scoreOn 'disjoint').
 *
 * Output: scorers.csv (both activations, column act first), summary.json with
 * the findings' checks (thesis-scorers-findings.ts) and per-series statistics,
 * model.safetensors (the ReLU run's final dense model; tanh/model.safetensors
 * is the other). The comparison leaves training unchanged, so these are the
 * plain trained models.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTextAtomic } from '../io/checkpoint';
import { ScorerComparisonPlugin, DEFAULT_WEIGHT_SCORERS } from '../sparse/compare/plugin';
import { rowsToCsv } from '../sparse/compare/rows';
import { seriesStats } from '../sparse/compare/aggregate';
import type { TrainConfig } from '../train/config';
import { type Experiment, type ExperimentOptions, type ExperimentResult, startExperiment, runPhase, finishExperiment } from './experiment';
import { scorerFindings, type ActRow } from './thesis-scorers-findings';
import { thesisRecipe } from './thesis-smallcnn';

const ACTS = ['relu', 'tanh'] as const;
const FRACTIONS = [0.1, 0.2, 0.4, 0.5, 0.8];

const r6 = (v: number): number => Math.round(v * 1e6) / 1e6;

export const thesisScorers: Experiment = {
  name: 'thesis-scorers',
  title: 'scorer comparison on smallcnn/MNIST (ReLU, Tanh): loss change after pruning with each scorer, every 250 steps',
  source: 'seed 001, thesis sections 2.1.5-2.1.6 and 4.1',
  seed: 0,
  // Measured with --threads 2: 4.6 min wall (8.2 min of CPU time) on an idle machine (2026-12-06);
  // 16.8 min wall while the 2 cores were shared with other trainings (load average 3 to 15).
  minutes: 5,
  async run(o: ExperimentOptions): Promise<ExperimentResult> {
    const started = startExperiment(o);
    const { dir } = started;
    const every = o.smoke ? 4 : 250;
    const train: Partial<TrainConfig> = thesisRecipe(o, 5);
    const rows: ActRow[] = [];
    const phases: Record<string, unknown> = {};
    let finalModel = '';
    for (const act of ACTS) {
      const plugin = new ScorerComparisonPlugin({
        every,
        fractions: o.smoke ? [0.5, 0.8] : FRACTIONS,
        weightScorers: DEFAULT_WEIGHT_SCORERS,
        weightLayers: ['conv1.weight'],
        unitScorers: ['mrs', 'mrp', 'l1', 'l2', 'random'],
        unitLayers: ['fc1'],
        examples: o.smoke ? 40 : 1000,
        scoreExamples: o.smoke ? 40 : 1000,
        seed: o.seed,
      });
      const r = await runPhase(o, dir, act, { ...train, act }, [plugin]);
      for (const row of plugin.rows) rows.push({ act, ...row });
      if (!finalModel) finalModel = path.join(r.runDir, 'model.safetensors');
      const metrics = fs.readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trainLoss: number });
      phases[act] = {
        runDir: path.relative(dir, r.runDir),
        testAccuracy: r.summary.test?.accuracy ?? null,
        testLoss: r.summary.test?.loss ?? null,
        lastEpochTrainLoss: metrics[metrics.length - 1]?.trainLoss ?? null,
        measurements: new Set(plugin.rows.map((x) => x.step)).size,
        rows: plugin.rows.length,
        comparisonSeconds: Math.round(plugin.seconds * 10) / 10,
        wallSeconds: r.summary.wallSeconds,
        threads: r.summary.threads,
      };
      o.log(`phase ${act}: ${plugin.rows.length} comparison rows, ${plugin.seconds.toFixed(0)} s measuring`);
    }
    writeTextAtomic(path.join(dir, 'scorers.csv'), rowsToCsv(rows, [{ name: 'act', values: rows.map((r) => r.act) }]));
    const checks = scorerFindings(rows);
    const series = seriesStats(rows, ['act']).map((s) => ({
      act: s.keys.act, kind: s.kind, layer: s.layer, scorer: s.scorer, fraction: s.fraction, n: s.n,
      meanDelta: r6(s.mean), medianDelta: r6(s.median), maxDelta: r6(s.max), oscillation: r6(s.oscillation),
    }));
    return finishExperiment(this, o, started, finalModel, checks, {
      setup: {
        model: 'smallcnn', dataset: 'mnist', epochs: train.epochs, batchSize: 32, lr: 0.01, momentum: 0, weightDecay: 0,
        every, fractions: o.smoke ? [0.5, 0.8] : FRACTIONS, weightLayer: 'conv1.weight', unitLayer: 'fc1',
        scoreExamples: o.smoke ? 40 : 1000, lossExamples: o.smoke ? 40 : 1000, replacement: 'mean', site: 'pre',
      },
      phases,
      csv: 'scorers.csv',
      series,
    });
  },
};
