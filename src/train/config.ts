/**
 * The configuration of a training run: every field, its flag, its default and
 * its check. `resolveTrainConfig` fills defaults and validates; the resolved
 * object is what a run records in config.yaml and what --resume reads back.
 * Error messages name the command-line flag of the field.
 */
import { SparsetrainError } from '../errors';
import { modelInfo, modelNames } from '../models';
import { DATASET_NAMES } from '../data/datasets';
import { parseLrTable } from '../optim/schedulers';
import { PRUNING_FLAGS, resolvePruningConfig, type PruningConfig } from './pruning-config';
import { DIAGNOSE_FIELD_FLAGS, resolveDiagnoseConfig, type DiagnoseConfig } from '../diagnose/config';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const LR_SCHEDULES = ['constant', 'step', 'multistep', 'exponential', 'cosine', 'table'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type LrScheduleName = (typeof LR_SCHEDULES)[number];

/** The pruning fields (--prune, --sparsity, --prune-units, ...) are in pruning-config.ts; diagnosis fields (--unit-report, --attack-*) in src/diagnose/config.ts. */
export interface TrainConfig extends PruningConfig, DiagnoseConfig {
  model: string;
  dataset: string;
  /** --data DIR (data sets read from files); null: the data set's default location. */
  data: string | null;
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  lrSchedule: LrScheduleName;
  /** step: epochs between decays. */
  stepSize: number;
  /** step, multistep, exponential: decay factor. */
  gamma: number;
  /** multistep: epochs at which the lr is multiplied by gamma. */
  milestones: number[];
  /** cosine: final lr. */
  etaMin: number;
  /** table: "epoch:value,..." (absolute learning rates). */
  lrTable: string | null;
  seed: number;
  /** Training examples held out for validation (0: evaluate on the test split). */
  validateSet: number;
  /** Training augmentation where the data set defines one (CIFAR: random crop + flip). */
  augment: boolean;
  shuffle: boolean;
  /** Stop after this many optimizer steps of the run (null: run all epochs). */
  maxSteps: number | null;
  /** Only the first N training / test examples (smoke tests); null: all. */
  limitTrain: number | null;
  limitTest: number | null;
  /** Initial weights (safetensors, PyTorch names). */
  init: string | null;
  /** smallcnn: activation and batch norm; vgg: width multiplier. */
  act: 'relu' | 'tanh' | null;
  batchNorm: boolean;
  width: number | null;
  name: string | null;
  runsDir: string;
  threads: number | null;
}

/** Which fields of TrainConfig each flag sets, and the flag each field is named by in errors. */
export const FIELD_FLAGS: Record<keyof TrainConfig, string> = {
  model: '--model', dataset: '--dataset', data: '--data', epochs: '--epochs', batchSize: '--batch-size',
  evalBatchSize: '--eval-batch-size', optimizer: '--optimizer', lr: '--lr', momentum: '--momentum',
  nesterov: '--nesterov', weightDecay: '--weight-decay', betas: '--betas', eps: '--eps', lrSchedule: '--lr-schedule',
  stepSize: '--step-size', gamma: '--gamma', milestones: '--milestones', etaMin: '--eta-min', lrTable: '--lr-table',
  seed: '--seed', validateSet: '--validate-set', augment: '--no-augment', shuffle: '--no-shuffle', maxSteps: '--max-steps',
  limitTrain: '--limit-train', limitTest: '--limit-test', init: '--init', act: '--act', batchNorm: '--batch-norm',
  width: '--width', name: '--name', runsDir: '--runs-dir', threads: '--threads',
  ...PRUNING_FLAGS,
  ...DIAGNOSE_FIELD_FLAGS,
};

export const CONFIG_KEYS = Object.keys(FIELD_FLAGS) as (keyof TrainConfig)[];

/** Defaults that do not depend on other fields. */
export const DEFAULTS = {
  data: null, epochs: 10, batchSize: 64, evalBatchSize: 500, optimizer: 'sgd', momentum: 0.9, nesterov: false,
  betas: [0.9, 0.999], eps: 1e-8, lrSchedule: 'constant', stepSize: 30, gamma: 0.1, milestones: [], etaMin: 0,
  lrTable: null, seed: 0, validateSet: 0, augment: true, shuffle: true, maxSteps: null, limitTrain: null, limitTest: null,
  init: null, act: null, batchNorm: false, width: null, name: null, runsDir: 'runs', threads: null,
} as const;

/** Optimizer-dependent defaults: lr and weight decay (as torch for adam/adamw). */
export function optimizerDefaults(o: OptimizerName): { lr: number; weightDecay: number; momentum: number } {
  if (o === 'sgd') return { lr: 0.01, weightDecay: 5e-4, momentum: 0.9 };
  return { lr: 1e-3, weightDecay: o === 'adamw' ? 1e-2 : 0, momentum: 0 };
}

function bad(field: keyof TrainConfig, what: string, v: unknown): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${FIELD_FLAGS[field]}: expected ${what}, got ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`);
}

function num(field: keyof TrainConfig, v: unknown, min: number, max = Infinity, minExclusive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minExclusive && v === min) || v > max) {
    throw bad(field, `a number ${minExclusive ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}`, v);
  }
  return v;
}

function int(field: keyof TrainConfig, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw bad(field, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`, v);
  }
  return v;
}

function bool(field: keyof TrainConfig, v: unknown): boolean {
  if (typeof v !== 'boolean') throw bad(field, 'true or false', v);
  return v;
}

function str(field: keyof TrainConfig, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw bad(field, 'a non-empty string', v);
  return v;
}

function oneOf<T extends string>(field: keyof TrainConfig, v: unknown, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) throw bad(field, `one of ${options.join(', ')}`, v);
  return v as T;
}

/** Fills defaults into a partial configuration and checks every value. */
export function resolveTrainConfig(partial: Partial<TrainConfig>): TrainConfig {
  for (const k of Object.keys(partial)) {
    if (!(CONFIG_KEYS as string[]).includes(k)) throw new SparsetrainError('ERR_ARGUMENT', `unknown configuration key '${k}'; known keys: ${CONFIG_KEYS.join(', ')}`);
  }
  const p: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) p[k] = v;
  if (p.model === undefined) throw new SparsetrainError('ERR_ARGUMENT', `--model: required; one of ${modelNames().join(', ')}`);
  if (p.dataset === undefined) throw new SparsetrainError('ERR_ARGUMENT', `--dataset: required; one of ${DATASET_NAMES.join(', ')}`);
  const model = oneOf('model', p.model, modelNames());
  const dataset = oneOf('dataset', p.dataset, DATASET_NAMES);
  const optimizer = oneOf('optimizer', p.optimizer ?? DEFAULTS.optimizer, OPTIMIZERS);
  const od = optimizerDefaults(optimizer);
  const c: Omit<TrainConfig, keyof PruningConfig> = {
    model,
    dataset,
    data: p.data === undefined || p.data === null ? null : str('data', p.data),
    epochs: int('epochs', p.epochs ?? DEFAULTS.epochs, 1),
    batchSize: int('batchSize', p.batchSize ?? DEFAULTS.batchSize, 1, 65536),
    evalBatchSize: int('evalBatchSize', p.evalBatchSize ?? DEFAULTS.evalBatchSize, 1, 65536),
    optimizer,
    lr: num('lr', p.lr ?? od.lr, 0, Infinity, true),
    momentum: num('momentum', p.momentum ?? od.momentum, 0, 1),
    nesterov: bool('nesterov', p.nesterov ?? DEFAULTS.nesterov),
    weightDecay: num('weightDecay', p.weightDecay ?? od.weightDecay, 0),
    betas: [0.9, 0.999],
    eps: num('eps', p.eps ?? DEFAULTS.eps, 0, Infinity, true),
    lrSchedule: oneOf('lrSchedule', p.lrSchedule ?? (p.lrTable ? 'table' : DEFAULTS.lrSchedule), LR_SCHEDULES),
    stepSize: int('stepSize', p.stepSize ?? DEFAULTS.stepSize, 1),
    gamma: num('gamma', p.gamma ?? DEFAULTS.gamma, 0, Infinity, true),
    milestones: [],
    etaMin: num('etaMin', p.etaMin ?? DEFAULTS.etaMin, 0),
    lrTable: p.lrTable === undefined || p.lrTable === null ? null : str('lrTable', p.lrTable),
    seed: int('seed', p.seed ?? DEFAULTS.seed, 0),
    validateSet: int('validateSet', p.validateSet ?? DEFAULTS.validateSet, 0),
    augment: bool('augment', p.augment ?? DEFAULTS.augment),
    shuffle: bool('shuffle', p.shuffle ?? DEFAULTS.shuffle),
    maxSteps: p.maxSteps === undefined || p.maxSteps === null ? null : int('maxSteps', p.maxSteps, 1),
    limitTrain: p.limitTrain === undefined || p.limitTrain === null ? null : int('limitTrain', p.limitTrain, 1),
    limitTest: p.limitTest === undefined || p.limitTest === null ? null : int('limitTest', p.limitTest, 1),
    init: p.init === undefined || p.init === null ? null : str('init', p.init),
    act: p.act === undefined || p.act === null ? null : oneOf('act', p.act, ['relu', 'tanh'] as const),
    batchNorm: bool('batchNorm', p.batchNorm ?? DEFAULTS.batchNorm),
    width: p.width === undefined || p.width === null ? null : num('width', p.width, 0, 64, true),
    name: p.name === undefined || p.name === null ? null : str('name', p.name),
    runsDir: str('runsDir', p.runsDir ?? DEFAULTS.runsDir),
    threads: p.threads === undefined || p.threads === null ? null : int('threads', p.threads, 1, 1024),
    ...resolveDiagnoseConfig(p),
  };
  const betas = p.betas ?? DEFAULTS.betas;
  if (!Array.isArray(betas) || betas.length !== 2) throw bad('betas', 'two numbers in [0, 1), e.g. 0.9,0.999', betas);
  c.betas = [num('betas', betas[0], 0, 1), num('betas', betas[1], 0, 1)];
  if (c.betas[0] >= 1 || c.betas[1] >= 1) throw bad('betas', 'two numbers in [0, 1), e.g. 0.9,0.999', betas);
  const ms = p.milestones ?? DEFAULTS.milestones;
  if (!Array.isArray(ms)) throw bad('milestones', 'a list of epochs, e.g. 30,60,90', ms);
  c.milestones = ms.map((m) => int('milestones', m, 1));
  if (c.nesterov && (c.optimizer !== 'sgd' || c.momentum <= 0)) {
    throw new SparsetrainError('ERR_ARGUMENT', `--nesterov: needs --optimizer sgd with --momentum > 0 (got ${c.optimizer}, momentum ${c.momentum})`);
  }
  if (c.lrSchedule === 'table') {
    if (!c.lrTable) throw new SparsetrainError('ERR_ARGUMENT', '--lr-schedule table: needs --lr-table "epoch:value,...", e.g. "0:0.1,30:0.01"');
    try {
      parseLrTable(c.lrTable);
    } catch (e) {
      throw new SparsetrainError('ERR_ARGUMENT', `--lr-table: ${(e as Error).message}`);
    }
  } else if (c.lrTable) {
    throw new SparsetrainError('ERR_ARGUMENT', `--lr-table: only applies with --lr-schedule table (got --lr-schedule ${c.lrSchedule})`);
  }
  if (c.lrSchedule === 'multistep' && c.milestones.length === 0) {
    throw new SparsetrainError('ERR_ARGUMENT', '--lr-schedule multistep: needs --milestones, e.g. --milestones 30,60');
  }
  const opts = modelInfo(model).options as string[];
  if (c.act !== null && !opts.includes('act')) throw new SparsetrainError('ERR_ARGUMENT', `--act: model ${model} has no activation option (smallcnn and smallcnn-cifar do)`);
  if (c.batchNorm && !opts.includes('batchNorm')) throw new SparsetrainError('ERR_ARGUMENT', `--batch-norm: model ${model} has no batch-norm option (smallcnn and smallcnn-cifar do)`);
  if (c.width !== null && !opts.includes('width')) throw new SparsetrainError('ERR_ARGUMENT', `--width: model ${model} has no width option (the vgg models do)`);
  if (c.name !== null && (c.name.includes('/') || c.name.includes('\\') || c.name === '.' || c.name === '..')) {
    throw bad('name', 'a run name without path separators', c.name);
  }
  return { ...c, ...resolvePruningConfig(p, c) };
}

/** The fields a resumed run may change (its identity and numbers stay those of the checkpoint). */
export const RESUME_OVERRIDABLE: (keyof TrainConfig)[] = ['epochs', 'maxSteps', 'threads', 'data', 'evalBatchSize'];
