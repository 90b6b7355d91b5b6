/**
 * A model and its configuration from a checkpoint given on the command line,
 * as `sparsetrain eval` reads it: a run directory (its model.safetensors, and
 * config.yaml for the model, data set and model options) or a bare
 * .safetensors file (then --model and --dataset are required). Flags override
 * the run's values; model options (--act, --batch-norm, --width) are taken
 * from the run only when the model is the run's.
 *
 * Weights load with loadModelWeights (PyTorch key names; a pruned state dict
 * with weight_orig / weight_mask prunes the model with its masks). A
 * checkpoint of a physically shrunk model (fewer units, sparse/units
 * shrink.ts) is loaded by first resizing the zoo model to the file's unit
 * counts (resizeToStateDict), then loading as usual.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { modelNames } from '../models';
import { DATASET_NAMES } from '../data/datasets';
import type { Module } from '../nn/module';
import { loadModelWeights } from '../io/checkpoint';
import { readSafetensors } from '../io/safetensors';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { buildRunModel } from '../train/trainer';
import { buildUnitGraph, resizeToStateDict } from '../sparse/units';
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
 * weights (shrunk checkpoints resized first). Returns the keys loaded as pruned pairs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadCheckpointModel(src: CheckpointSource, ds: { channels: number; height: number; width: number; numClasses: number }, op: string): { model: Module<any[], any>; pruned: string[] } {
  const model = buildRunModel(src.config, ds);
  let tensors: Map<string, { shape: number[] }> | null = null;
  try {
    tensors = readSafetensors(src.file).tensors;
  } catch {
    tensors = null; // loadModelWeights reports the problem with the file
  }
  if (tensors) {
    const own = new Map([...model.stateDict()].map(([k, t]) => [k, t.shape]));
    const differs = [...tensors].some(([k, t]) => {
      const s = own.get(k) ?? own.get(k.replace(/_(orig|mask)$/, ''));
      return s !== undefined && (s.length !== t.shape.length || s.some((d, i) => d !== t.shape[i]));
    });
    if (differs) {
      try {
        resizeToStateDict(model, buildUnitGraph(model, [ds.channels, ds.height, ds.width]), tensors as Map<string, { shape: number[]; data: number[] }>);
      } catch (e) {
        throw new SparsetrainError('ERR_ARGUMENT', `${op} ${src.file}: the tensor shapes fit neither ${src.config.model} nor a shrunk ${src.config.model} (${(e as Error).message})`);
      }
    }
  }
  const pruned = loadModelWeights(src.file, model, src.config.model, op);
  return { model, pruned };
}
