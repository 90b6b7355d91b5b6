/** Weight pruning: masks as reparametrisation, saliency scores, selection, schedules (training plug-ins), reports. */
export {
  prune, remove, removeAll, isPruned, getMask, getOrig, effectiveValues, prunedParameters, refreshEffective,
  applyMasksToOptimizer, effectiveStateDict, effectiveStateDictDtypes, loadPrunedStateDict,
} from './mask';
export type { MaskInput, PrunedParameter } from './mask';
