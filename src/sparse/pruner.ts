/**
 * One pruning event: score the targets, select by a Selection, apply the
 * masks (reparametrising every selected target), sync the optimizer's masks.
 * The schedules call this; so can a command that prunes a trained checkpoint.
 */
import { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { noGrad } from '../autograd/grad-mode';
import type { PruneTarget, Selection, TargetOptions } from './select';
import { findTargets, selectMasks, applyMasks, checkSelection, selectionGroups } from './select';
import type { ScoreOptions, WeightScoreFn, WeightScorerName } from './scores';
import { scoreWeights } from './scores';
import { refreshEffective } from './mask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

export interface PruneModelOptions {
  selection: Selection;
  /** Default 'magnitude'. */
  scorer?: WeightScorerName | WeightScoreFn;
  /** The targets, or options to find them (default: every Linear and Conv2d weight). */
  targets?: readonly PruneTarget[] | TargetOptions;
  /** Data, generator and settings of the scorer. */
  score?: ScoreOptions;
  /** When given, its masks are synced (pruned weights and their state held at zero). */
  optimizer?: AnyOptimizer;
}

export interface PruneModelResult {
  /** Weights newly pruned by this event, per target key. */
  pruned: Map<string, number>;
  /** Masks after the event, per selected target key. */
  masks: Map<string, Float32Array>;
}

/** Scores, selects and prunes (see the file comment). */
export function pruneModel(model: AnyModule, opts: PruneModelOptions): PruneModelResult {
  const targets = Array.isArray(opts.targets) ? (opts.targets as PruneTarget[]) : findTargets(model, (opts.targets ?? {}) as TargetOptions);
  checkSelection('pruneModel', opts.selection, targets);
  // Score only the targets some group selects (the others may be large, e.g. for loss-change).
  const selected = new Set(selectionGroups(opts.selection, targets).flatMap((g) => g.targets));
  const used = targets.filter((t) => selected.has(t));
  const scores = scoreWeights(model, used, opts.scorer ?? 'magnitude', opts.score ?? {});
  const masks = selectMasks(used, scores, opts.selection);
  const pruned = applyMasks(model, masks, opts.optimizer);
  noGrad(() => refreshEffective(model));
  return { pruned, masks };
}
