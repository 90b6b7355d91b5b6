/**
 * A model and its configuration from a checkpoint given on the command line,
 * as `sparsetrain eval` reads it: a run directory (its model.safetensors, and
 * config.yaml for the model, data set and model options) or a bare
 * .safetensors file (then --model and --dataset are required). Flags override
 * the run's values; model options (--act, --batch-norm, --width) are taken
 * from the run only when the model is the run's.
 *
 * A run directory without config.yaml (a `sparsetrain prune` output) names
 * them in its summary.json.
 *
 * Weights load with loadModelWeights (PyTorch key names; a pruned state dict
 * with weight_orig / weight_mask prunes the model with its masks). A
 * checkpoint of a physically shrunk model (fewer units) is loaded by first
 * fitting the zoo model to the file's widths (train/fit-widths.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { modelNames } from '../models';
import { DATASET_NAMES } from '../data/datasets';
import type { Module } from '../nn/module';
import { loadModelWeights, readJson } from '../io/checkpoint';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { buildRunModel } from '../train/trainer';
import { fileShapes, fitWidths } from '../train/fit-widths';
import { readConfigFile } from './config';

export interface CheckpointFlags {
  model?: string;
  dataset?: string;
  data?: string;
  act?: 'relu' | 'tanh';
  batchNorm?: boolean;
  width?: number;
}

export interface CheckpointSource {
  /** The weights file. */
  file: string;
  /** The run directory, when one was given. */
  runDir: string | null;
  /** The run's recorded configuration ({} for a bare file). */
  saved: Partial<TrainConfig>;
  /** Model, data set and model options resolved (other fields default). */
  config: TrainConfig;
}

/**
 * The model, data set and model options named by a run directory's
 * summary.json (a `sparsetrain prune` output has no config.yaml); null when
 * there is none.
 */
export function readSummaryConfig(dir: string): Partial<TrainConfig> | null {
  const file = path.join(dir, 'summary.json');
  if (!fs.existsSync(file)) return null;
  const s = readJson(file) as { model?: string; dataset?: string; data?: string | null; modelOptions?: { act?: 'relu' | 'tanh' | null; batchNorm?: boolean; width?: number | null } };
  return { model: s.model, dataset: s.dataset, data: s.data ?? null, act: s.modelOptions?.act ?? null, batchNorm: s.modelOptions?.batchNorm ?? false, width: s.modelOptions?.width ?? null };
}

/** Resolves a checkpoint argument (op names the command in errors, e.g. 'sensitivity'). */
export function resolveCheckpoint(checkpoint: string, o: CheckpointFlags, op: string): CheckpointSource {
  if (!fs.existsSync(checkpoint)) throw new SparsetrainError('ERR_IO', `${op} ${checkpoint}: no such file or directory; expected a .safetensors file or a run directory`);
  let file = checkpoint;
  let runDir: string | null = null;
  let saved: Partial<TrainConfig> = {};
  if (fs.statSync(checkpoint).isDirectory()) {
    runDir = checkpoint;
    file = path.join(checkpoint, 'model.safetensors');
    const cfg = path.join(checkpoint, 'config.yaml');
    if (!fs.existsSync(file)) throw new SparsetrainError('ERR_IO', `${op} ${checkpoint}: the directory has no model.safetensors; expected a run directory or a .safetensors file`);
    if (fs.existsSync(cfg)) saved = readConfigFile(cfg);
    else saved = readSummaryConfig(checkpoint) ?? {};
  }
  const model = o.model ?? saved.model;
  const dataset = o.dataset ?? saved.dataset;
  if (!model) throw new SparsetrainError('ERR_ARGUMENT', `--model: required for ${file} (a run directory records it); one of ${modelNames().join(', ')}`);
  if (!dataset) throw new SparsetrainError('ERR_ARGUMENT', `--dataset: required for ${file} (a run directory records it); one of ${DATASET_NAMES.join(', ')}`);
  const sameModel = model === saved.model;
  const config = resolveTrainConfig({
    model,
    dataset,
    data: o.data ?? (dataset === saved.dataset ? saved.data : null),
    act: o.act ?? (sameModel ? saved.act : null),
    batchNorm: o.batchNorm ?? (sameModel ? saved.batchNorm : false),
    width: o.width ?? (sameModel ? saved.width : null),
  });
  return { file, runDir, saved, config };
}

/**
 * Builds the configured model for a data set's shapes and loads the file's
 * weights; a shrunk checkpoint's widths are fitted first (train/fit-widths.ts).
 * Returns the keys loaded as pruned pairs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadCheckpointModel(src: CheckpointSource, ds: { channels: number; height: number; width: number; numClasses: number }, op: string): { model: Module<any[], any>; pruned: string[] } {
  const model = buildRunModel(src.config, ds);
  fitWidths(model, fileShapes(src.file), [ds.channels, ds.height, ds.width], `${op} ${src.file}`);
  const pruned = loadModelWeights(src.file, model, src.config.model, op);
  return { model, pruned };
}
