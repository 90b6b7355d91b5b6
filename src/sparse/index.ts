/**
 * Weight pruning: masks as reparametrisation (mask.ts), saliency scores
 * (scores/), where and how much (select.ts), one pruning event (pruner.ts),
 * schedules as training plug-ins (schedules/), sparsity reports (report.ts),
 * the thesis' scorer comparison while training (compare/).
 */
export {
  prune, remove, removeAll, isPruned, getMask, getOrig, effectiveValues, prunedParameters, refreshEffective,
  applyMasksToOptimizer, effectiveStateDict, effectiveStateDictDtypes, loadPrunedStateDict,
} from './mask';
export type { MaskInput, PrunedParameter } from './mask';
export {
  findTargets, currentMask, trainedTensor, weightValues, roundHalfEven, checkAmount, checkSelection, selectionGroups,
  pruneCount, pruneLowest, selectMasks, applyMasks, LAYER_KINDS,
} from './select';
export type { LayerKind, PruneTarget, TargetOptions, Amount, Selection, ScoreMap } from './select';
export * from './scores';
export { pruneModel } from './pruner';
export type { PruneModelOptions, PruneModelResult } from './pruner';
export * from './schedules';
export { snapshotPruning, restorePruning, withPruningUndone } from './trial';
export type { PruningSnapshot } from './trial';
export { sparsityReport, sparsityMetrics, formatSparsityReport } from './report';
export type { SparsityReport, LayerSparsity, Counts } from './report';
export * from './compare';
