/**
 * What pruning did to a finished run, for its summary.json (`pruning`) and
 * the line the train / start commands print: the accuracy just before the
 * first pruning (the evaluation at the end of the epoch before it, from
 * metrics.jsonl), the final test accuracy, and the non-zero weights of the
 * prunable layers (Linear and Conv2d weights; biases and BatchNorm are never
 * pruned) out of the dense model's count.
 *
 * Decisions: the "before" accuracy is the run's own evaluation split
 * (validation with --validate-set, else test), measured on the same weights
 * the first pruning event then changed; it is null when pruning starts before
 * any training. "Of how many" counts the dense model's prunable weights, so a
 * shrunk model's count is against the model it started as.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainConfig } from './config';
import type { TrainSummary } from './trainer';
import { firstPruningEpoch } from './pruning-plugins';
import { prunes } from './pruning-config';
import { buildRunModel } from './trainer';
import { sparsityReport } from '../sparse/report';
import { modelInfo } from '../models';

export interface PruningOutcome {
  /** The first epoch (after that many epochs of training) at which anything was pruned; epochs = only after training. */
  firstPruningEpoch: number | null;
  /** The evaluation after the epoch before the first pruning. */
  before: { epochsTrained: number; split: string; accuracy: number } | null;
  /** Final test accuracy (summary.json's test.accuracy). */
  after: { split: 'test'; accuracy: number } | null;
  /** Non-zero weights of the prunable layers, and their count in the dense model. */
  nonzeroWeights: number;
  denseWeights: number;
  /** nonzeroWeights / denseWeights. */
  density: number;
  /** Parameters (all: biases, BatchNorm included) before and after, when units were removed. */
  denseParams: number;
  params: number;
}

/** Reads metrics.jsonl of a run ([] when absent). */
export function readMetrics(runDir: string): Record<string, unknown>[] {
  const f = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The outcome of a pruned run from its configuration, summary and run directory (null when the configuration prunes nothing). */
export function pruningOutcome(config: TrainConfig, summary: TrainSummary): PruningOutcome | null {
  if (!prunes(config)) return null;
  const first = firstPruningEpoch(config);
  const lines = readMetrics(summary.runDir);
  const line = first !== null && first > 0 ? lines.find((l) => l.epoch === first - 1 && !l.partial) : undefined;
  // The dense model's prunable weights: a model built from the configuration (no weights loaded).
  const [, H, W] = modelInfo(config.model).inputShape;
  const dense = buildRunModel(config, { channels: summary.modelOptions.inChannels, height: H, width: W, numClasses: summary.modelOptions.numClasses });
  const denseRep = sparsityReport(dense);
  const layers = Object.values(summary.layers ?? {});
  const nonzero = layers.reduce((s, l) => s + l.nonzero, 0);
  return {
    firstPruningEpoch: first,
    before: line ? { epochsTrained: first!, split: String(line.evalSplit), accuracy: Number(line.evalAccuracy) } : null,
    after: summary.test ? { split: 'test', accuracy: summary.test.accuracy } : null,
    nonzeroWeights: nonzero,
    denseWeights: denseRep.total.params,
    density: denseRep.total.params ? Math.round((1e6 * nonzero) / denseRep.total.params) / 1e6 : 0,
    denseParams: dense.numParameters(),
    params: summary.params,
  };
}

/** One line for the terminal. */
export function formatPruningOutcome(o: PruningOutcome): string {
  const pct = (v: number) => `${v.toFixed(2)}%`;
  const before = o.before ? `${pct(o.before.accuracy)} ${o.before.split} accuracy before pruning (after ${o.before.epochsTrained} epoch${o.before.epochsTrained === 1 ? '' : 's'})` : 'pruning started before training';
  const after = o.after ? `${pct(o.after.accuracy)} after` : 'no final accuracy';
  const ratio = o.nonzeroWeights ? `${(o.denseWeights / o.nonzeroWeights).toFixed(1)}x fewer` : 'none left';
  const shrunk = o.params < o.denseParams ? `; units removed: ${o.params.toLocaleString('en-US')} of ${o.denseParams.toLocaleString('en-US')} parameters remain` : '';
  return `pruning: ${before}, ${after}; ${o.nonzeroWeights.toLocaleString('en-US')} of ${o.denseWeights.toLocaleString('en-US')} weights non-zero (${pct(100 * o.density)}, ${ratio})${shrunk}`;
}
