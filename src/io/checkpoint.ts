/**
 * Files of a run: atomic text/JSON writes, the effective weights
 * (model.safetensors, PyTorch key names), loading weights into a model with
 * errors that name the file and the key, and the resumable checkpoint
 * (checkpoint.safetensors for every tensor + checkpoint.json for the rest).
 *
 * Effective weights. A pruned parameter is a reparametrisation as in
 * torch.nn.utils.prune: `<name>_orig` (trained) and the buffer `<name>_mask`.
 * model.safetensors holds the product under the plain key `<name>`, so a
 * PyTorch model without pruning loads it as it is. A model may instead provide
 * `effectiveStateDict(): Map<string, Tensor>`, which is then used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { fmt, sameShape } from '../tensor/shape';
import type { Module, CheckpointDType } from '../nn/module';
import { readSafetensors, toFloat32, writeFileAtomic, writeSafetensors, type SafeTensor } from './safetensors';
import { loadPrunedStateDict } from '../sparse/mask';

/** Writes text to a temporary file in the same directory and renames it over `file`. */
export function writeTextAtomic(file: string, text: string): void {
  writeFileAtomic(file, Buffer.from(text, 'utf8'));
}

/** JSON with two-space indentation and a final newline, written atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeTextAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and parses a JSON file; errors name the file. */
export function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `${file}: not valid JSON (${(e as Error).message})`);
  }
}

interface HasEffective {
  effectiveStateDict(): Map<string, Tensor>;
}

/**
 * The weights as a PyTorch model without pruning sees them: every state-dict
 * entry, with `<k>_orig` * `<k>_mask` folded into `<k>` (at the position of
 * `<k>_orig`). Values are fresh tensors for folded keys, shared otherwise.
 */
export function effectiveStateDict(model: Module<any[], any>): Map<string, Tensor> {
  const custom = (model as unknown as Partial<HasEffective>).effectiveStateDict;
  if (typeof custom === 'function') return custom.call(model);
  const sd = model.stateDict();
  const out = new Map<string, Tensor>();
  for (const [k, t] of sd) {
    if (k.endsWith('_mask') && sd.has(`${k.slice(0, -5)}_orig`)) continue;
    if (k.endsWith('_orig') && sd.has(`${k.slice(0, -5)}_mask`)) {
      const mask = sd.get(`${k.slice(0, -5)}_mask`)!;
      if (!sameShape(mask.shape, t.shape)) {
        throw new SparsetrainError('ERR_SHAPE', `effective weights: ${k} ${fmt(t.shape)} and its mask ${fmt(mask.shape)} differ in shape`);
      }
      const a = t.data as Float32Array;
      const m = mask.data;
      const w = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) w[i] = m[i] ? a[i] : 0;
      out.set(k.slice(0, -5), new Tensor(w, t.shape, 'float32'));
      continue;
    }
    out.set(k, t);
  }
  return out;
}

/** The checkpoint dtype of each effective key (folded keys are float32). */
function effectiveDtypes(model: Module<any[], any>, keys: Iterable<string>): Map<string, CheckpointDType> {
  const dt = model.stateDictDtypes();
  const out = new Map<string, CheckpointDType>();
  for (const k of keys) out.set(k, dt.get(k) ?? 'float32');
  return out;
}

/** A tensor as a safetensors entry of the given checkpoint dtype (data copied). */
export function toSafeTensor(t: Tensor, dtype: CheckpointDType = t.dtype): SafeTensor {
  const shape = [...t.shape];
  switch (dtype) {
    case 'float32':
      return { dtype: 'F32', shape, data: Float32Array.from(t.data) };
    case 'int32':
      return { dtype: 'I32', shape, data: Int32Array.from(t.data) };
    case 'int64':
      return { dtype: 'I64', shape, data: BigInt64Array.from(Array.from(t.data, (v) => BigInt(Math.trunc(v)))) };
    case 'bool':
      return { dtype: 'BOOL', shape, data: Uint8Array.from(t.data, (v) => (v ? 1 : 0)) };
    default:
      return { dtype: 'U8', shape, data: Uint8Array.from(t.data) };
  }
}

/** Writes the effective weights (PyTorch key names, float32, int64 counters) to a safetensors file atomically. */
export function saveModelWeights(file: string, model: Module<any[], any>, metadata?: Record<string, string>): void {
  const sd = effectiveStateDict(model);
  const dtypes = effectiveDtypes(model, sd.keys());
  const tensors = new Map<string, SafeTensor>();
  for (const [k, t] of sd) tensors.set(k, toSafeTensor(t, dtypes.get(k)));
  writeSafetensors(file, tensors, metadata);
}

/**
 * Loads a weights file (a run's model.safetensors, or a PyTorch state dict
 * saved as safetensors) into a model, all keys required. A file written from a
 * pruned model (`<k>_orig` + `<k>_mask`, as torch.nn.utils.prune saves it)
 * prunes the model's `<k>` with that mask (sparse/mask.ts loadPrunedStateDict),
 * so a pruned network stays pruned. `flag` names where the file came from in
 * errors (e.g. --init). Returns the keys of the parameters it pruned.
 */
export function loadModelWeights(file: string, model: Module<any[], any>, modelName: string, flag = '--init'): string[] {
  if (!fs.existsSync(file)) throw new SparsetrainError('ERR_IO', `${flag} ${file}: file not found; expected a safetensors file of ${modelName} weights`);
  let tensors: Map<string, SafeTensor>;
  try {
    tensors = readSafetensors(file).tensors;
  } catch (e) {
    const msg = (e as Error).message.replace(`safetensors ${file}: `, '');
    throw new SparsetrainError('ERR_IO', `${flag} ${file}: not a valid safetensors file (${msg})`);
  }
  // The model's keys as the file should have them: a pruned pair in the file replaces its plain key.
  const own = new Map<string, readonly number[]>();
  const pruned: string[] = [];
  for (const [k, t] of model.stateDict()) {
    if (!k.endsWith('_orig') && !k.endsWith('_mask') && tensors.has(`${k}_orig`) && tensors.has(`${k}_mask`) && !tensors.has(k)) {
      own.set(`${k}_orig`, t.shape);
      own.set(`${k}_mask`, t.shape);
      pruned.push(k);
    } else {
      own.set(k, t.shape);
    }
  }
  const missing = [...own.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !own.has(k));
  const list = (ks: string[]) => (ks.length > 6 ? `${ks.slice(0, 6).join(', ')}, ... (${ks.length} in all)` : ks.join(', '));
  if (missing.length) {
    throw new SparsetrainError('ERR_ARGUMENT', `${flag} ${file}: missing key(s) ${list(missing)} that ${modelName} needs${unexpected.length ? `; the file has unexpected key(s) ${list(unexpected)}` : ''}`);
  }
  if (unexpected.length) throw new SparsetrainError('ERR_ARGUMENT', `${flag} ${file}: unexpected key(s) ${list(unexpected)} that ${modelName} does not have`);
  const src = new Map<string, { shape: number[]; data: Float32Array | BigInt64Array | Int32Array }>();
  for (const [k, shape] of own) {
    const t = tensors.get(k)!;
    if (!sameShape(t.shape, shape)) {
      throw new SparsetrainError('ERR_SHAPE', `${flag} ${file}: key ${k} has shape ${fmt(t.shape)} in the file but ${fmt(shape)} in ${modelName}`);
    }
    src.set(k, { shape: t.shape, data: t.dtype === 'I64' ? (t.data as BigInt64Array) : t.dtype === 'I32' ? (t.data as Int32Array) : toFloat32(t) });
  }
  try {
    loadPrunedStateDict(model, src as Map<string, { shape: number[]; data: Float32Array }>);
  } catch (e) {
    throw new SparsetrainError('ERR_ARGUMENT', `${flag} ${file}: ${(e as Error).message}`);
  }
  return pruned;
}

// ---- resumable checkpoints ------------------------------------------------------------

export const CHECKPOINT_VERSION = 1;

/**
 * Splits a JSON-able value into JSON plus typed arrays: every Float32Array,
 * Int32Array, Uint8Array or Uint32Array becomes {"$tensor": "<prefix><n>",
 * "$type": ...} and its data goes to `tensors`. unpackValue reverses it.
 */
export function packValue(v: unknown, prefix: string, tensors: Map<string, SafeTensor>): unknown {
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array || v instanceof Uint32Array || v instanceof Float64Array) {
    const name = `${prefix}${tensors.size}`;
    const type = v.constructor.name;
    if (v instanceof Float32Array) tensors.set(name, { dtype: 'F32', shape: [v.length], data: v.slice() });
    else if (v instanceof Int32Array) tensors.set(name, { dtype: 'I32', shape: [v.length], data: v.slice() });
    else if (v instanceof Uint32Array) tensors.set(name, { dtype: 'I32', shape: [v.length], data: new Int32Array(v.slice().buffer) });
    else if (v instanceof Float64Array) tensors.set(name, { dtype: 'F64', shape: [v.length], data: v.slice() });
    else tensors.set(name, { dtype: 'U8', shape: [v.length], data: v.slice() });
    return { $tensor: name, $type: type };
  }
  if (v instanceof Tensor) throw new SparsetrainError('ERR_ARGUMENT', 'checkpoint: a plug-in state holds a Tensor; store its data (a typed array) and shape instead');
  if (Array.isArray(v)) return v.map((x) => packValue(x, prefix, tensors));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = packValue(x, prefix, tensors);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  return v;
}

export function unpackValue(v: unknown, tensors: Map<string, SafeTensor>, source: string): unknown {
  if (Array.isArray(v)) return v.map((x) => unpackValue(x, tensors, source));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$tensor === 'string') {
      const t = tensors.get(o.$tensor);
      if (!t) throw new SparsetrainError('ERR_IO', `${source}: tensor ${o.$tensor} is missing from checkpoint.safetensors`);
      switch (o.$type) {
        case 'Float32Array': return (t.data as Float32Array).slice();
        case 'Int32Array': return (t.data as Int32Array).slice();
        case 'Uint32Array': return new Uint32Array((t.data as Int32Array).slice().buffer);
        case 'Float64Array': return (t.data as Float64Array).slice();
        default: return (t.data as Uint8Array).slice();
      }
    }
    if (typeof o.$number === 'string' && Object.keys(o).length === 1) return Number(o.$number);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = unpackValue(x, tensors, source);
    return out;
  }
  return v;
}

/** What a checkpoint holds besides the model weights: any JSON-able value with typed arrays. */
export interface CheckpointPayload {
  /** Model state dict (every key, masks and _orig included), in memory dtypes. */
  model: Map<string, Tensor>;
  /** Everything else (optimizer, scheduler, loader, generator, plug-ins, counters). */
  state: Record<string, unknown>;
}

/**
 * Writes checkpoint.safetensors then checkpoint.json (each atomically). The
 * JSON names the tensor file's size, so a reader detects a JSON that does not
 * belong to the tensors next to it (a crash between the two renames).
 */
export function saveCheckpoint(dir: string, payload: CheckpointPayload): void {
  const tensors = new Map<string, SafeTensor>();
  for (const [k, t] of payload.model) tensors.set(`model.${k}`, toSafeTensor(t));
  const packed = packValue(payload.state, 'state.', tensors);
  const tfile = path.join(dir, 'checkpoint.safetensors');
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  writeSafetensors(tfile, tensors, { format: 'sparsetrain-checkpoint', version: String(CHECKPOINT_VERSION), stamp });
  writeJsonAtomic(path.join(dir, 'checkpoint.json'), { version: CHECKPOINT_VERSION, stamp, state: packed });
}

export function loadCheckpoint(dir: string): CheckpointPayload {
  const jfile = path.join(dir, 'checkpoint.json');
  const tfile = path.join(dir, 'checkpoint.safetensors');
  if (!fs.existsSync(jfile) || !fs.existsSync(tfile)) {
    const why = fs.existsSync(dir) ? 'has no checkpoint.json / checkpoint.safetensors' : 'does not exist';
    throw new SparsetrainError('ERR_IO', `--resume ${dir}: the directory ${why}; expected a run directory written by sparsetrain train`);
  }
  const j = readJson(jfile) as { version?: unknown; stamp?: unknown; state?: unknown };
  if (!j || typeof j !== 'object' || j.version !== CHECKPOINT_VERSION || typeof j.state !== 'object') {
    throw new SparsetrainError('ERR_IO', `${jfile}: not a sparsetrain checkpoint of version ${CHECKPOINT_VERSION}`);
  }
  const file = readSafetensors(tfile);
  if (file.metadata.stamp !== j.stamp) {
    throw new SparsetrainError('ERR_IO', `${dir}: checkpoint.json and checkpoint.safetensors come from different saves (the run was stopped while writing); no consistent checkpoint`);
  }
  const model = new Map<string, Tensor>();
  for (const [k, t] of file.tensors) {
    if (!k.startsWith('model.')) continue;
    const data = t.dtype === 'F32' ? (t.data as Float32Array) : t.dtype === 'I32' ? (t.data as Int32Array) : Uint8Array.from(t.data as Uint8Array);
    model.set(k.slice(6), new Tensor(data, t.shape, t.dtype === 'F32' ? 'float32' : t.dtype === 'I32' ? 'int32' : t.dtype === 'BOOL' ? 'bool' : 'uint8'));
  }
  return { model, state: unpackValue(j.state, file.tensors, jfile) as Record<string, unknown> };
}
