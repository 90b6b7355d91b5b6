/**
 * Configuration of `sparsetrain train` from a YAML file (--config) and flags:
 * the file's keys are the flags' names (batch-size, weight-decay, lr-schedule,
 * ... ; camelCase works too), flags override the file, and every value is
 * checked with an error naming the file and key, or the flag.
 *
 *   model: lenet5
 *   dataset: mnist
 *   epochs: 20
 *   lr: 0.05
 *   lr-schedule: cosine
 *   milestones: [10, 15]     # or "10,15"
 *   augment: false           # the file's form of --no-augment
 */
import * as fs from 'node:fs';
import { parse as yamlParse } from 'yaml';
import { SparsetrainError } from '../errors';
import { CONFIG_KEYS, FIELD_FLAGS, resolveTrainConfig, type TrainConfig } from '../train/config';
import { kebab } from '../train/run-dir';
import { PRUNING_LIST_KEYS, PRUNING_NUMBER_KEYS } from '../train/pruning-config';

const BY_NAME = new Map<string, keyof TrainConfig>();
for (const k of CONFIG_KEYS) {
  BY_NAME.set(k, k);
  BY_NAME.set(kebab(k), k);
}
BY_NAME.set('no-augment', 'augment');
BY_NAME.set('no-shuffle', 'shuffle');

const NUMBER_KEYS = new Set<keyof TrainConfig>(['epochs', 'batchSize', 'evalBatchSize', 'lr', 'momentum', 'weightDecay', 'eps', 'stepSize', 'gamma', 'etaMin', 'seed', 'validateSet', 'maxSteps', 'limitTrain', 'limitTest', 'width', 'threads', ...PRUNING_NUMBER_KEYS,
  'unitReport', 'attackFactor', 'attackTimes', 'attackEvery', 'attackStart', 'attackLogEvery']);
const BOOL_KEYS = new Set<keyof TrainConfig>(['nesterov', 'augment', 'shuffle', 'batchNorm']);

/** "30,60" or [30, 60] -> numbers; a list of non-numbers is returned as is (resolve rejects it). */
function numberList(v: unknown): unknown {
  if (typeof v === 'number') return [v];
  if (typeof v === 'string') return v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
  return v;
}

/** Reads a YAML configuration file into TrainConfig fields (values checked later by resolveTrainConfig). */
export function readConfigFile(file: string): Partial<TrainConfig> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `--config ${file}: cannot read (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}); expected a YAML file of training options`);
  }
  let doc: unknown;
  try {
    doc = yamlParse(text);
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `--config ${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SparsetrainError('ERR_IO', `--config ${file}: expected a mapping of option names to values (e.g. "lr: 0.1"), got a ${Array.isArray(doc) ? 'list' : typeof doc}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    const field = BY_NAME.get(key);
    if (!field) {
      throw new SparsetrainError('ERR_ARGUMENT', `--config ${file}: unknown key '${key}'; known keys: ${CONFIG_KEYS.map(kebab).join(', ')}`);
    }
    let v = raw;
    if (key === 'no-augment' || key === 'no-shuffle') {
      if (typeof v !== 'boolean') throw new SparsetrainError('ERR_ARGUMENT', `--config ${file}: key '${key}': expected true or false, got ${JSON.stringify(v)}`);
      v = !v;
    } else if (field === 'milestones') v = numberList(v);
    else if (field === 'betas') v = numberList(v);
    else if ((PRUNING_LIST_KEYS as string[]).includes(field)) v = numberList(v);
    else if (NUMBER_KEYS.has(field) && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
    else if (BOOL_KEYS.has(field) && (v === 'true' || v === 'false')) v = v === 'true';
    out[field] = v;
  }
  return out as Partial<TrainConfig>;
}

/**
 * Merges file values and flags (flags win) and resolves the result. An error
 * about a value that came from the file names the file and key instead of the flag.
 */
export function resolveWithSources(fromFile: Partial<TrainConfig>, fromFlags: Partial<TrainConfig>, file?: string): TrainConfig {
  const merged = { ...fromFile } as Record<string, unknown>;
  for (const [k, v] of Object.entries(fromFlags)) if (v !== undefined) merged[k] = v;
  try {
    return resolveTrainConfig(merged as Partial<TrainConfig>);
  } catch (e) {
    if (!file || !(e instanceof SparsetrainError)) throw e;
    for (const [field, flag] of Object.entries(FIELD_FLAGS) as [keyof TrainConfig, string][]) {
      if (e.message.startsWith(`${flag}:`) && field in fromFile && (fromFlags as Record<string, unknown>)[field] === undefined) {
        throw new SparsetrainError(e.code, `--config ${file}: key '${kebab(field)}'${e.message.slice(flag.length)}`);
      }
    }
    throw e;
  }
}
