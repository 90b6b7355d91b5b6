/**
 * The pruning plug-ins of a training configuration (pruning-config.ts): the
 * one function `sparsetrain train`, `sparsetrain start` and library users
 * call to turn the --prune* options into TrainPlugins.
 *
 *   const config = resolveTrainConfig({ model: 'lenet300', dataset: 'mnist', epochs: 10,
 *     prune: 'gradual', sparsity: 0.9, pruneStart: 1, pruneEnd: 6 });
 *   await train({ config, plugins: pruningPlugins(config) });
 *
 * Order: the weight schedule, then unit pruning, then the f_nz clean-up; all
 * act at onTrainEnd in that order (a schedule's event at the last epoch, the
 * unit plug-in's shrink, the clean-up), so the clean-up sees the final
 * weights. The same configuration always gives the same plug-ins with the
 * same names, which is what a resumed run needs to load their states.
 *
 * Scope mapping (see pruning-config.ts for the user's view):
 *   --prune-scope layer, one --sparsity      -> { scope: 'layer' }
 *   --prune-scope layer, --sparsity-conv/-fc -> { scope: 'kind', within: 'layer' }
 *   --prune-scope kind                       -> { scope: 'kind', within: 'global' }
 *   --prune-scope global                     -> { scope: 'global' }
 */
import type { TrainPlugin } from './plugin';
import type { PruningConfig } from './pruning-config';
import { SparsetrainError } from '../errors';
import { OneShotPruning, EpochTablePruning, GradualPruning, HanIterativePruning } from '../sparse/schedules';
import type { KindTarget, ScheduleOptions } from '../sparse/schedules';
import type { Selection } from '../sparse/select';
import { findTargets, currentMask } from '../sparse/select';
import { DEFAULT_MAX_LOSS_CHANGE_WEIGHTS } from '../sparse/scores';
import { UnitPruningPlugin } from '../sparse/units/schedule';
import { UnitCleanupPlugin } from '../sparse/units/cleanup-plugin';
import { parseEpochTable } from '../sparse/schedules/epoch-table';
import { parseFractionSchedule } from '../sparse/units/schedule';

/** The fields that say which weights go and how they are scored. */
export type WeightAmount = Pick<PruningConfig, 'sparsity' | 'sparsityConv' | 'sparsityFc' | 'pruneScope' | 'pruneScorer' | 'pruneExamples'>;

/** The sparsity target of one-shot / gradual: one number, or per kind. */
export function sparsityTarget(c: WeightAmount): KindTarget {
  if (c.sparsityConv === null && c.sparsityFc === null) {
    if (c.sparsity === null) throw new SparsetrainError('ERR_ARGUMENT', '--sparsity: required (or --sparsity-conv / --sparsity-fc)');
    return c.pruneScope === 'kind' ? { conv: c.sparsity, fc: c.sparsity } : c.sparsity;
  }
  const t: { conv?: number; fc?: number } = {};
  const conv = c.sparsityConv ?? c.sparsity;
  const fc = c.sparsityFc ?? c.sparsity;
  if (conv !== null) t.conv = conv;
  if (fc !== null) t.fc = fc;
  return t;
}

/** Scorer, scope and examples of a weight schedule, as the library's ScheduleOptions. */
export function scheduleOptions(c: WeightAmount, perKindTarget: boolean): ScheduleOptions {
  const o: ScheduleOptions = { scorer: c.pruneScorer ?? 'magnitude' };
  const scope = c.pruneScope ?? 'layer';
  if (scope === 'global') o.scope = 'global';
  else if (scope === 'kind') {
    o.scope = 'kind';
    o.within = 'global';
  } else if (perKindTarget) {
    o.scope = 'kind';
    o.within = 'layer';
  } else o.scope = 'layer';
  if (c.pruneExamples !== null) o.scoreExamples = c.pruneExamples;
  return o;
}

/** The Selection (select.ts) of one pruning to the sparsity target, with the scope mapping above. */
export function weightSelection(c: WeightAmount): Selection {
  const t = sparsityTarget(c);
  const o = scheduleOptions(c, typeof t === 'object');
  if (o.scope === 'kind') {
    const k = t as { conv?: number; fc?: number };
    return {
      scope: 'kind', within: o.within,
      ...(k.conv !== undefined ? { conv: { sparsity: k.conv } } : {}),
      ...(k.fc !== undefined ? { fc: { sparsity: k.fc } } : {}),
    };
  }
  return { scope: o.scope === 'global' ? 'global' : 'layer', amount: { sparsity: t as number } };
}

/** The weight-pruning schedule of a configuration, or null for --prune none. */
export function weightSchedule(c: PruningConfig): TrainPlugin | null {
  switch (c.prune) {
    case 'none':
      return null;
    case 'one-shot': {
      const t = sparsityTarget(c);
      return new OneShotPruning({ ...scheduleOptions(c, typeof t === 'object'), at: { epoch: c.pruneAt! }, sparsity: t });
    }
    case 'table':
      return new EpochTablePruning({ ...scheduleOptions(c, false), table: c.pruneTable! });
    case 'gradual': {
      const t = sparsityTarget(c);
      return new GradualPruning({
        ...scheduleOptions(c, typeof t === 'object'), unit: 'epoch', start: c.pruneStart!, end: c.pruneEnd!, every: c.pruneEvery!,
        finalSparsity: t, curve: c.pruneCurve!,
      });
    }
    case 'han': {
      const perKind = c.hanQualityConv !== null || c.hanQualityFc !== null;
      const conv = c.hanQualityConv ?? c.hanQuality;
      const fc = c.hanQualityFc ?? c.hanQuality;
      const q = perKind ? { ...(conv ? { conv } : {}), ...(fc ? { fc } : {}) } : c.hanQuality!;
      return new HanIterativePruning({
        quality: q, startEpoch: c.pruneStart!, retrainEpochs: c.retrainEpochs!, iterations: c.hanIterations!, lrFactor: c.retrainLrFactor!,
      });
    }
    default:
      throw new SparsetrainError('ERR_ARGUMENT', `--prune: unknown schedule ${JSON.stringify(c.prune)}`);
  }
}

/**
 * loss-change zeroes every still-unpruned weight one by one (a pass over the
 * examples each) and refuses more than DEFAULT_MAX_LOSS_CHANGE_WEIGHTS: say
 * so when training starts, not at the first pruning event epochs later.
 */
function checkLossChangeAtStart(p: TrainPlugin, scorer: string): void {
  const start = p.onTrainStart?.bind(p);
  p.onTrainStart = (ctx) => {
    const n = findTargets(ctx.model).reduce((a, t) => a + currentMask(t).reduce((x, v) => x + v, 0), 0);
    if (n > DEFAULT_MAX_LOSS_CHANGE_WEIGHTS) {
      throw new SparsetrainError('ERR_ARGUMENT', `--prune-scorer ${scorer}: the model has ${n} unpruned weights to zero one by one, more than the scorer's limit of ${DEFAULT_MAX_LOSS_CHANGE_WEIGHTS}; use it from the library on small layers, or another scorer`);
    }
    start?.(ctx);
  };
}

/** Every pruning plug-in of a configuration, in the order they must run (see the file comment). */
export function pruningPlugins(c: PruningConfig): TrainPlugin[] {
  const out: TrainPlugin[] = [];
  const w = weightSchedule(c);
  if (w && c.pruneScorer?.startsWith('loss-change')) checkLossChangeAtStart(w, c.pruneScorer);
  if (w) out.push(w);
  if (c.pruneUnits !== null) {
    out.push(new UnitPruningPlugin({
      schedule: c.pruneUnits, scorer: c.unitScorer ?? 'mrs', scope: c.unitScope ?? 'layer', examples: c.unitExamples ?? 1000,
      replacement: c.unitReplacement ?? 'mean', shrinkAtEnd: true,
    }));
  }
  if (c.removeUnitsFnz !== null) out.push(new UnitCleanupPlugin({ fnz: c.removeUnitsFnz }));
  return out;
}

/** The first epoch at which anything is pruned during training (null: only at the end, or nothing). */
export function firstPruningEpoch(c: PruningConfig & { epochs: number }): number | null {
  const firsts: number[] = [];
  if (c.prune === 'one-shot') firsts.push(c.pruneAt!);
  if (c.prune === 'table') firsts.push(parseEpochTable(c.pruneTable!).find(([, v]) => v > 0)?.[0] ?? c.epochs);
  if (c.prune === 'han') firsts.push(c.pruneStart!);
  if (c.prune === 'gradual') {
    // Event 0 prunes to the initial sparsity (0): the first event that prunes is the next one.
    firsts.push(c.pruneEnd! > c.pruneStart! ? c.pruneStart! + c.pruneEvery! : c.pruneStart!);
  }
  if (c.pruneUnits !== null) firsts.push(parseFractionSchedule(c.pruneUnits).find(([, f]) => f > 0)?.[0] ?? c.epochs);
  if (c.removeUnitsFnz !== null) firsts.push(c.epochs);
  return firsts.length ? Math.min(...firsts) : null;
}
