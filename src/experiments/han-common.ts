/**
 * The common part of the Han et al. experiments (`reproduce han-lenet300`,
 * `han-lenet5`; seed 004, "Learning both Weights and Connections", Table 1
 * and Tables 2-3): two training phases in runs/NAME/,
 *
 *   dense/   the network trained to convergence (the baseline of the checks);
 *   pruned/  Han's iterative prune-and-retrain starting from dense/'s weights
 *            (--init): at each iteration every layer loses its still-unpruned
 *            weights with |w| < quality x (the std of its unpruned weights),
 *            then retrains at the dense lr / 10 (the `han` schedule,
 *            src/sparse/schedules/han.ts, from the phase's config keys, so
 *            pruned/config.yaml replays it with `sparsetrain train --config`).
 *
 * The masks are made permanent by the save itself: a run's model.safetensors
 * holds the effective weights (weight x mask) under PyTorch's plain keys, so
 * pruned weights are exactly 0 there and in runs/NAME/model.safetensors (a
 * copy of pruned/'s). The checks read that file, not the trainer's counts:
 *
 *   - non-zero parameters: the non-zeros of every tensor of the final file
 *     (weights and biases; biases are never pruned) over all parameters, as
 *     Han's Table 1 counts them (LeNet-300-100 "267K" = 266,200 weights + 410
 *     biases); the weights-only fraction is in summary.json too;
 *   - accuracy: pruned test accuracy >= dense test accuracy - 0.1 points;
 *   - time: the experiment's wall minutes <= 15 (CPU seconds of the process,
 *     all threads, are recorded next to it: other work on the machine
 *     inflates wall time, not CPU time).
 *
 * summary.json keeps each layer's kept fraction next to Han's.
 */
import * as path from 'node:path';
import { readSafetensors } from '../io/safetensors';
import type { TrainConfig } from '../train/config';
import { type Experiment, type ExperimentCheck, type ExperimentOptions, type ExperimentResult, check, startExperiment, finishExperiment, timedPhase } from './experiment';

/** A published result of Han et al. for one network. */
export interface HanPaper {
  /** Test error in percent, dense and pruned. */
  denseError: number;
  prunedError: number;
  /** Percent of weights kept, in all and per layer (by PyTorch key of the weight). */
  keptPercent: number;
  layerKeptPercent: Record<string, number>;
}

/** What one experiment fixes: the dense training, the pruning, the targets. */
export interface HanRecipe {
  model: string;
  /** The dense phase (model, dataset and seed are added). */
  dense: Partial<TrainConfig>;
  /** The pruning phase without init, prune, pruneStart (added here): han qualities, iterations, retraining. */
  pruned: Partial<TrainConfig>;
  /** Same, for --smoke (few examples, one epoch each). */
  smokeDense: Partial<TrainConfig>;
  smokePruned: Partial<TrainConfig>;
  paper: HanPaper;
  /** Targets: at most this percent of parameters non-zero, at most this many points of accuracy lost, minutes. */
  maxNonzeroPercent: number;
  maxAccuracyDrop: number;
  maxMinutes: number;
}

export interface NonzeroCount {
  /** Non-zero and all entries of the weights of Linear / Conv2d layers (the prunable ones). */
  weights: { nonzero: number; total: number };
  /** Of every tensor (weights and biases). */
  all: { nonzero: number; total: number };
  /** Per weight key. */
  layers: Record<string, { nonzero: number; total: number }>;
}

const pct = (n: number, d: number): number => (d ? Math.round((10000 * n) / d) / 100 : 0);

/** Counts the exact zeros of a weights file: per layer weight (keys ending in .weight with 2 or 4 dims), weights, all tensors. */
export function countFileNonzero(file: string): NonzeroCount {
  const out: NonzeroCount = { weights: { nonzero: 0, total: 0 }, all: { nonzero: 0, total: 0 }, layers: {} };
  for (const [k, t] of readSafetensors(file).tensors) {
    const d = t.data as ArrayLike<number | bigint>;
    let nz = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0 && d[i] !== 0n) nz++;
    out.all.nonzero += nz;
    out.all.total += d.length;
    if (k.endsWith('.weight') && (t.shape.length === 2 || t.shape.length === 4)) {
      out.weights.nonzero += nz;
      out.weights.total += d.length;
      out.layers[k] = { nonzero: nz, total: d.length };
    }
  }
  return out;
}

/** Runs the dense and the pruned phase of a recipe and writes runs/NAME/ with the checks. */
export async function runHanExperiment(e: Experiment, o: ExperimentOptions, recipe: HanRecipe): Promise<ExperimentResult> {
  const started = startExperiment(o);
  const { dir } = started;
  const base: Partial<TrainConfig> = { model: recipe.model, dataset: 'mnist', seed: o.seed };

  const { r: dense, info: denseInfo } = await timedPhase(o, dir, 'dense', { ...base, ...(o.smoke ? recipe.smokeDense : recipe.dense) });
  const denseModel = path.join(dense.runDir, 'model.safetensors');
  const prunedConfig: Partial<TrainConfig> = {
    ...base, ...(o.smoke ? recipe.smokePruned : recipe.pruned), init: denseModel, prune: 'han', pruneStart: 0,
  };
  // The han schedule's plug-in is built from the same keys that pruned/config.yaml records.
  const { r: pruned, info: prunedInfo } = await timedPhase(o, dir, 'pruned', prunedConfig);
  const cpuSeconds = denseInfo.cpuSeconds + prunedInfo.cpuSeconds;
  const finalModel = path.join(pruned.runDir, 'model.safetensors');

  const n = countFileNonzero(finalModel);
  const denseAcc = dense.summary.test!.accuracy;
  const prunedAcc = pruned.summary.test!.accuracy;
  const drop = Math.round((denseAcc - prunedAcc) * 100) / 100;
  const allPct = pct(n.all.nonzero, n.all.total);
  const wallMin = (Date.now() - started.wallStart) / 60000;
  const checks: ExperimentCheck[] = [
    check('non-zero parameters (weights and biases, final model)', `<= ${recipe.maxNonzeroPercent}%`,
      `${allPct}% (${n.all.nonzero} of ${n.all.total}; weights only ${pct(n.weights.nonzero, n.weights.total)}%)`, allPct <= recipe.maxNonzeroPercent),
    check('test accuracy lost to pruning', `<= ${recipe.maxAccuracyDrop} points`,
      `${drop} points (dense ${denseAcc.toFixed(2)}%, pruned ${prunedAcc.toFixed(2)}%)`, drop <= recipe.maxAccuracyDrop),
    check('wall minutes', `<= ${recipe.maxMinutes}`,
      `${wallMin.toFixed(1)} (CPU ${(cpuSeconds / 60).toFixed(1)} min with ${pruned.summary.threads} threads)`, wallMin <= recipe.maxMinutes),
  ];
  const layers = Object.entries(n.layers).map(([layer, c]) => ({
    layer, params: c.total, nonzero: c.nonzero, keptPercent: pct(c.nonzero, c.total), hanKeptPercent: recipe.paper.layerKeptPercent[layer] ?? null,
  }));
  o.log(`non-zero ${allPct}% of parameters (${layers.map((l) => `${l.layer} ${l.keptPercent}%`).join(', ')}); accuracy ${denseAcc.toFixed(2)}% -> ${prunedAcc.toFixed(2)}%`);
  return finishExperiment(e, o, started, finalModel, checks, {
    counted: 'non-zero entries of the final model.safetensors: all = every tensor (weights and biases, as Han\'s Table 1 counts parameters); weights = Linear and Conv2d weights (the pruned ones)',
    nonzero: {
      all: { ...n.all, percent: allPct },
      weights: { ...n.weights, percent: pct(n.weights.nonzero, n.weights.total) },
    },
    layers,
    han: {
      denseError: recipe.paper.denseError, prunedError: recipe.paper.prunedError, keptPercent: recipe.paper.keptPercent,
    },
    ours: {
      denseError: Math.round((100 - denseAcc) * 100) / 100, prunedError: Math.round((100 - prunedAcc) * 100) / 100, keptPercent: allPct,
    },
    phases: {
      dense: denseInfo,
      pruned: prunedInfo,
    },
    threads: pruned.summary.threads,
  });
}
