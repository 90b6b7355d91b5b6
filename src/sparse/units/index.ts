/**
 * Unit (neuron / channel) pruning: unit statistics and scores (MRS, MRP,
 * norms, random), mean replacement with bias propagation, the unit
 * dependency graph, physical removal of units, the thesis' f_nz clean-up and
 * a schedule plug-in. See each file's header for the decisions taken.
 */
export { buildUnitGraph, getGroup, prunableGroups, refreshSizes } from './graph';
export type { UnitGraph, UnitGroup, ConsumerLink, LayerKind } from './graph';
export {
  setUnitMask, getUnitMask, removeUnitMask, maskUnits, aliveUnits, applyUnitMask, effectiveWeight, biasTarget, localTensor,
} from './mask';
export {
  collectUnitStats, perExampleLosses, replaceAtSite, takeExamples, withEval, crossEntropyPerExample, siteModule, siteLayout,
} from './stats';
export type { UnitSite, UnitStats, UnitDataOptions, PerExampleLoss } from './stats';
export { scoreUnits, mrpScores, normScores, randomScores, selectUnits, forEachOutgoing, UNIT_SCORERS } from './scores';
export type { UnitScorer, UnitScoreOptions, SelectOptions } from './scores';
export { pruneUnits, feedConstants, foldIntoConsumer, foldProblem } from './replace';
export type { PruneUnitsOptions, PruneUnitsResult } from './replace';
export { shrinkModel, shrunkParameterCount, keepUnits, selectAlong, loadShrunkStateDict, resizeToStateDict } from './shrink';
export type { ShrinkResult } from './shrink';
export { removeSparseUnits, nonZeroFractions } from './cleanup';
export type { CleanupOptions, CleanupResult, CleanupUnit } from './cleanup';
export { UnitPruningPlugin, unitPruningPlugin, parseFractionSchedule } from './schedule';
export type { UnitPruningOptions, UnitPruningRound, FractionSchedule } from './schedule';
export { UnitCleanupPlugin } from './cleanup-plugin';
export type { UnitCleanupOptions } from './cleanup-plugin';
export { fnzSweep, FnzSweepPlugin } from './fnz-sweep';
export type { FnzSweepPoint, FnzSweepOptions, LayerSparsity } from './fnz-sweep';
