/**
 * The pruning fields of a training configuration (TrainConfig extends
 * PruningConfig): which schedule prunes weights, with which scorer, where and
 * how much; unit pruning; the f_nz clean-up at the end. Like every other
 * field they are recorded in config.yaml, read from a YAML --config (keys as
 * the flags: prune-scorer, sparsity-fc, ...) and read back by --resume, so a
 * resumed run rebuilds the same plug-ins (pruning-plugins.ts builds them).
 *
 * Decisions:
 *   - Options that do not apply are null in the resolved configuration and an
 *     error when given ("--prune-table: only applies with --prune table"), so
 *     config.yaml shows only what acts and a misspelt intent never passes
 *     silently. Defaults are filled only for the schedule chosen.
 *   - Times are epochs: epoch e means "after e epochs of training" (the start
 *     of the 0-based epoch e); e = --epochs means after the last epoch. An
 *     event after the last epoch would never fire, so it is an error.
 *   - Amounts: --sparsity for every prunable layer, or --sparsity-conv /
 *     --sparsity-fc per kind (seed 002's --prune-target-sparsity-conv / -fc);
 *     with both, --sparsity is the value of the kind not given. A kind
 *     without a value is not pruned.
 *   - Scope: 'layer' (default) each layer reaches its target; 'kind' the
 *     conv layers together and the fc layers together (one threshold per
 *     kind); 'global' one threshold across all layers (one --sparsity only).
 *   - Unit pruning always ends with the model shrunk physically: a unit mask
 *     is not part of a state dict, so a model.safetensors of a masked model
 *     would not be the model that was evaluated.
 */
import { SparsetrainError } from '../errors';
import { WEIGHT_SCORERS, isDataDependent, parseScorerName, type WeightScorerName } from '../sparse/scores';
import { parseEpochTable } from '../sparse/schedules/epoch-table';
import { parseFractionSchedule } from '../sparse/units/schedule';
import { UNIT_SCORERS, type UnitScorer } from '../sparse/units/scores';

export const PRUNE_SCHEDULES = ['none', 'one-shot', 'table', 'han', 'gradual'] as const;
export type PruneScheduleName = (typeof PRUNE_SCHEDULES)[number];
export const PRUNE_SCOPES = ['layer', 'kind', 'global'] as const;
export type PruneScope = (typeof PRUNE_SCOPES)[number];
export const PRUNE_CURVES = ['cubic', 'exponential'] as const;
export const UNIT_SCOPES = ['layer', 'global'] as const;
export const UNIT_REPLACEMENTS = ['mean', 'zero'] as const;
export { WEIGHT_SCORERS, UNIT_SCORERS };

export interface PruningConfig {
  /** Weight-pruning schedule (--prune). */
  prune: PruneScheduleName;
  /** Weight scorer (thesis Table 2.1); Han's threshold is on magnitudes. */
  pruneScorer: WeightScorerName | null;
  pruneScope: PruneScope | null;
  /** Training examples for a data-dependent scorer (taylor*, hessian*, loss-change*). */
  pruneExamples: number | null;
  /** Target sparsity (one-shot; gradual: the final one) of every layer, or of conv / fc layers. */
  sparsity: number | null;
  sparsityConv: number | null;
  sparsityFc: number | null;
  /** one-shot: the epoch (after that many epochs of training). */
  pruneAt: number | null;
  /** table: "epoch:sparsity,..." (thesis Table 2.2: "2:0.2,3:0.5,4:0.8,5:0.9"). */
  pruneTable: string | null;
  /** gradual: first and last event; han: first iteration. */
  pruneStart: number | null;
  pruneEnd: number | null;
  /** gradual: epochs between events. */
  pruneEvery: number | null;
  pruneCurve: 'cubic' | 'exponential' | null;
  /** han: threshold = quality x the layer's weight std; one value, or one per iteration; per kind. */
  hanQuality: number[] | null;
  hanQualityConv: number[] | null;
  hanQualityFc: number[] | null;
  hanIterations: number | null;
  /** han: epochs of retraining after each iteration, and the lr factor for retraining. */
  retrainEpochs: number | null;
  retrainLrFactor: number | null;
  /** Unit pruning: "epoch:fraction,..." of units pruned in total (thesis Table 4.2: "2:0.1,3:0.2,4:0.4,5:0.6"). */
  pruneUnits: string | null;
  unitScorer: UnitScorer | null;
  unitScope: 'layer' | 'global' | null;
  unitExamples: number | null;
  unitReplacement: 'mean' | 'zero' | null;
  /** At the end: remove units with at most this fraction of non-zero incoming or outgoing weights (thesis 2.2). */
  removeUnitsFnz: number | null;
}

export const PRUNING_FLAGS: Record<keyof PruningConfig, string> = {
  prune: '--prune', pruneScorer: '--prune-scorer', pruneScope: '--prune-scope', pruneExamples: '--prune-examples',
  sparsity: '--sparsity', sparsityConv: '--sparsity-conv', sparsityFc: '--sparsity-fc', pruneAt: '--prune-at',
  pruneTable: '--prune-table', pruneStart: '--prune-start', pruneEnd: '--prune-end', pruneEvery: '--prune-every',
  pruneCurve: '--prune-curve', hanQuality: '--han-quality', hanQualityConv: '--han-quality-conv', hanQualityFc: '--han-quality-fc',
  hanIterations: '--han-iterations', retrainEpochs: '--retrain-epochs', retrainLrFactor: '--retrain-lr-factor',
  pruneUnits: '--prune-units', unitScorer: '--unit-scorer', unitScope: '--unit-scope', unitExamples: '--unit-examples',
  unitReplacement: '--unit-replacement', removeUnitsFnz: '--remove-units-fnz',
};

export const PRUNING_KEYS = Object.keys(PRUNING_FLAGS) as (keyof PruningConfig)[];

/** Fields read as numbers (from YAML strings too) and as number lists. */
export const PRUNING_NUMBER_KEYS: (keyof PruningConfig)[] = [
  'pruneExamples', 'sparsity', 'sparsityConv', 'sparsityFc', 'pruneAt', 'pruneStart', 'pruneEnd', 'pruneEvery', 'hanIterations',
  'retrainEpochs', 'retrainLrFactor', 'unitExamples', 'removeUnitsFnz',
];
export const PRUNING_LIST_KEYS: (keyof PruningConfig)[] = ['hanQuality', 'hanQualityConv', 'hanQualityFc'];

/** What the rest of the configuration tells the pruning checks. */
export interface PruningContext {
  epochs: number;
  lrSchedule: string;
}

const SCHEDULE_FIELDS: Record<Exclude<PruneScheduleName, 'none'>, (keyof PruningConfig)[]> = {
  'one-shot': ['pruneScorer', 'pruneScope', 'pruneExamples', 'sparsity', 'sparsityConv', 'sparsityFc', 'pruneAt'],
  table: ['pruneScorer', 'pruneScope', 'pruneExamples', 'pruneTable'],
  gradual: ['pruneScorer', 'pruneScope', 'pruneExamples', 'sparsity', 'sparsityConv', 'sparsityFc', 'pruneStart', 'pruneEnd', 'pruneEvery', 'pruneCurve'],
  han: ['pruneScorer', 'pruneScope', 'hanQuality', 'hanQualityConv', 'hanQualityFc', 'hanIterations', 'pruneStart', 'retrainEpochs', 'retrainLrFactor'],
};
const UNIT_FIELDS: (keyof PruningConfig)[] = ['unitScorer', 'unitScope', 'unitExamples', 'unitReplacement'];

function err(field: keyof PruningConfig, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${PRUNING_FLAGS[field]}: ${msg}`);
}

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
}

function given(p: Record<string, unknown>, k: keyof PruningConfig): boolean {
  return p[k] !== undefined && p[k] !== null;
}

function num(field: keyof PruningConfig, v: unknown, min: number, max: number, minExclusive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minExclusive && v === min) || v > max) {
    throw err(field, `expected a number ${minExclusive ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}, got ${shown(v)}`);
  }
  return v;
}

function int(field: keyof PruningConfig, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw err(field, `expected an integer >= ${min}, got ${shown(v)}`);
  return v;
}

function oneOf<T extends string>(field: keyof PruningConfig, v: unknown, options: readonly T[]): T {
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) throw err(field, `expected one of ${options.join(', ')}, got ${shown(v)}`);
  return v as T;
}

function numList(field: keyof PruningConfig, v: unknown): number[] {
  const arr = typeof v === 'number' ? [v] : Array.isArray(v) ? v : null;
  if (!arr || !arr.length || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0)) {
    throw err(field, `expected a number >= 0 or a comma-separated list of them (one per iteration), got ${shown(v)}`);
  }
  return [...arr] as number[];
}

/** The library's message without its "Op(...): " prefix, after the flag. */
function libMessage(e: unknown): string {
  return (e as Error).message.replace(/^[\w.]+(\([^)]*\))?: /, '');
}

function afterLast(field: keyof PruningConfig, e: number, c: PruningContext, what: string): void {
  if (e > c.epochs) throw err(field, `${what} at epoch ${e} comes after the run's last epoch (--epochs ${c.epochs}) and would never happen`);
}

const NONE: PruningConfig = {
  prune: 'none', pruneScorer: null, pruneScope: null, pruneExamples: null, sparsity: null, sparsityConv: null, sparsityFc: null,
  pruneAt: null, pruneTable: null, pruneStart: null, pruneEnd: null, pruneEvery: null, pruneCurve: null, hanQuality: null,
  hanQualityConv: null, hanQualityFc: null, hanIterations: null, retrainEpochs: null, retrainLrFactor: null, pruneUnits: null,
  unitScorer: null, unitScope: null, unitExamples: null, unitReplacement: null, removeUnitsFnz: null,
};

/** Fills the defaults of the chosen schedule and checks every pruning field (see the file comment). */
export function resolvePruningConfig(partial: Record<string, unknown>, c: PruningContext): PruningConfig {
  const p = partial;
  const out: PruningConfig = { ...NONE };
  out.prune = oneOf('prune', p.prune ?? 'none', PRUNE_SCHEDULES);
  const schedule = out.prune;
  const allowed = new Set(schedule === 'none' ? [] : SCHEDULE_FIELDS[schedule]);
  for (const k of PRUNING_KEYS) {
    if (k === 'prune' || k === 'pruneUnits' || k === 'removeUnitsFnz' || UNIT_FIELDS.includes(k) || !given(p, k) || allowed.has(k)) continue;
    const users = (Object.keys(SCHEDULE_FIELDS) as Exclude<PruneScheduleName, 'none'>[]).filter((s) => SCHEDULE_FIELDS[s].includes(k));
    throw err(k, `only applies with --prune ${users.join(' | ')}${schedule === 'none' ? ' (no --prune given)' : ` (got --prune ${schedule})`}`);
  }

  if (schedule !== 'none') {
    // Scorer, scope, examples.
    let scorer: WeightScorerName = 'magnitude';
    if (given(p, 'pruneScorer')) {
      try {
        scorer = parseScorerName(String(p.pruneScorer));
      } catch {
        throw err('pruneScorer', `expected one of ${WEIGHT_SCORERS.join(', ')}, got ${shown(p.pruneScorer)}`);
      }
    }
    out.pruneScorer = scorer;
    out.pruneScope = oneOf('pruneScope', p.pruneScope ?? 'layer', PRUNE_SCOPES);
    if (schedule === 'han') {
      if (scorer !== 'magnitude') throw err('pruneScorer', `--prune han thresholds weight magnitudes (quality x the layer's std); got ${scorer}`);
      if (out.pruneScope !== 'layer') throw err('pruneScope', `--prune han prunes each layer by its own threshold (scope layer); got ${out.pruneScope}`);
    }
    if (isDataDependent(scorer)) out.pruneExamples = int('pruneExamples', p.pruneExamples ?? 1000, 1);
    else if (given(p, 'pruneExamples')) throw err('pruneExamples', `only applies to a data-dependent --prune-scorer (taylor*, hessian*, loss-change*), got ${scorer}`);

    // Amounts.
    if (schedule === 'one-shot' || schedule === 'gradual') {
      if (given(p, 'sparsity')) out.sparsity = num('sparsity', p.sparsity, 0, 1);
      if (given(p, 'sparsityConv')) out.sparsityConv = num('sparsityConv', p.sparsityConv, 0, 1);
      if (given(p, 'sparsityFc')) out.sparsityFc = num('sparsityFc', p.sparsityFc, 0, 1);
      if (out.sparsity === null && out.sparsityConv === null && out.sparsityFc === null) {
        throw err('sparsity', `--prune ${schedule} needs a target: --sparsity S, or --sparsity-conv / --sparsity-fc (fractions of weights pruned, e.g. 0.9)`);
      }
      if (out.pruneScope === 'global' && (out.sparsityConv !== null || out.sparsityFc !== null)) {
        throw err('pruneScope', 'global pools all layers under one threshold; give one --sparsity, or use --prune-scope layer | kind with --sparsity-conv / --sparsity-fc');
      }
    }
    if (schedule === 'one-shot') {
      if (!given(p, 'pruneAt')) throw err('pruneAt', `--prune one-shot needs --prune-at EPOCH (prune after that many epochs; --prune-at ${c.epochs} prunes after training)`);
      out.pruneAt = int('pruneAt', p.pruneAt, 0);
      afterLast('pruneAt', out.pruneAt, c, 'the pruning');
    }
    if (schedule === 'table') {
      if (!given(p, 'pruneTable')) throw err('pruneTable', '--prune table needs --prune-table "epoch:sparsity,...", e.g. "2:0.2,3:0.5,4:0.8,5:0.9"');
      if (typeof p.pruneTable !== 'string') throw err('pruneTable', `expected "epoch:sparsity,...", got ${shown(p.pruneTable)}`);
      let entries: [number, number][];
      try {
        entries = parseEpochTable(p.pruneTable);
      } catch (e) {
        throw err('pruneTable', libMessage(e));
      }
      for (let i = 1; i < entries.length; i++) {
        if (entries[i][1] < entries[i - 1][1]) throw err('pruneTable', `sparsity ${entries[i][1]} at epoch ${entries[i][0]} is below ${entries[i - 1][1]} at epoch ${entries[i - 1][0]}; pruned weights never come back, so targets cannot decrease`);
      }
      afterLast('pruneTable', entries[entries.length - 1][0], c, 'an entry');
      out.pruneTable = p.pruneTable;
    }
    if (schedule === 'gradual') {
      out.pruneStart = int('pruneStart', p.pruneStart ?? 0, 0);
      if (!given(p, 'pruneEnd')) throw err('pruneEnd', `--prune gradual needs --prune-end EPOCH (the last pruning event; the sparsity rises from --prune-start ${out.pruneStart} to it)`);
      out.pruneEnd = int('pruneEnd', p.pruneEnd, out.pruneStart);
      out.pruneEvery = int('pruneEvery', p.pruneEvery ?? 1, 1);
      if ((out.pruneEnd - out.pruneStart) % out.pruneEvery !== 0) {
        throw err('pruneEnd', `${out.pruneEnd} is not --prune-start ${out.pruneStart} plus a multiple of --prune-every ${out.pruneEvery}`);
      }
      afterLast('pruneEnd', out.pruneEnd, c, 'the last pruning event');
      out.pruneCurve = oneOf('pruneCurve', p.pruneCurve ?? 'cubic', PRUNE_CURVES);
    }
    if (schedule === 'han') {
      if (given(p, 'hanQuality')) out.hanQuality = numList('hanQuality', p.hanQuality);
      if (given(p, 'hanQualityConv')) out.hanQualityConv = numList('hanQualityConv', p.hanQualityConv);
      if (given(p, 'hanQualityFc')) out.hanQualityFc = numList('hanQualityFc', p.hanQualityFc);
      const lists = (['hanQuality', 'hanQualityConv', 'hanQualityFc'] as const).filter((k) => out[k] !== null);
      if (!lists.length) throw err('hanQuality', '--prune han needs --han-quality Q (threshold = Q x each layer\'s weight std; Q,Q,... for one per iteration), or --han-quality-conv / --han-quality-fc');
      if (!given(p, 'pruneStart')) throw err('pruneStart', '--prune han needs --prune-start EPOCH (epochs of dense training before the first pruning)');
      out.pruneStart = int('pruneStart', p.pruneStart, 0);
      const longest = Math.max(...lists.map((k) => out[k]!.length));
      out.hanIterations = int('hanIterations', p.hanIterations ?? longest, 1);
      for (const k of lists) {
        const n = out[k]!.length;
        if (n > 1 && n !== out.hanIterations) throw err(k, `has ${n} values for ${out.hanIterations} iterations (--han-iterations); give one value, or one per iteration`);
      }
      out.retrainEpochs = int('retrainEpochs', p.retrainEpochs ?? 1, 1);
      out.retrainLrFactor = num('retrainLrFactor', p.retrainLrFactor ?? 0.1, 0, Infinity, true);
      const last = out.pruneStart + (out.hanIterations - 1) * out.retrainEpochs;
      afterLast('hanIterations', last, c, `iteration ${out.hanIterations} (--prune-start ${out.pruneStart} + ${out.hanIterations - 1} x --retrain-epochs ${out.retrainEpochs})`);
      if (c.lrSchedule === 'table' && out.retrainLrFactor !== 1) {
        throw err('retrainLrFactor', 'cannot act with --lr-schedule table, which sets the lr of every epoch; lower the lr in the table and give --retrain-lr-factor 1');
      }
    }
  }

  // Unit pruning.
  if (given(p, 'pruneUnits')) {
    if (typeof p.pruneUnits !== 'string') throw err('pruneUnits', `expected "epoch:fraction,...", got ${shown(p.pruneUnits)}`);
    let entries: [number, number][];
    try {
      entries = parseFractionSchedule(p.pruneUnits);
    } catch (e) {
      throw err('pruneUnits', libMessage(e).replace(/^schedule: /, ''));
    }
    const last = entries[entries.length - 1][0];
    if (last >= c.epochs) throw err('pruneUnits', `the round at epoch ${last} would never happen: units are pruned at the start of an epoch, and the run has ${c.epochs} (epochs 0..${c.epochs - 1})`);
    out.pruneUnits = p.pruneUnits;
    out.unitScorer = oneOf('unitScorer', p.unitScorer ?? 'mrs', UNIT_SCORERS);
    out.unitScope = oneOf('unitScope', p.unitScope ?? 'layer', UNIT_SCOPES);
    out.unitExamples = int('unitExamples', p.unitExamples ?? 1000, 1);
    out.unitReplacement = oneOf('unitReplacement', p.unitReplacement ?? 'mean', UNIT_REPLACEMENTS);
  } else {
    for (const k of UNIT_FIELDS) if (given(p, k)) throw err(k, 'only applies with --prune-units "epoch:fraction,..."');
  }
  if (given(p, 'removeUnitsFnz')) out.removeUnitsFnz = num('removeUnitsFnz', p.removeUnitsFnz, 0, 1);
  return out;
}

/** Whether a configuration prunes anything (weights, units, or the f_nz clean-up). */
export function prunes(c: PruningConfig): boolean {
  return c.prune !== 'none' || c.pruneUnits !== null || c.removeUnitsFnz !== null;
}
