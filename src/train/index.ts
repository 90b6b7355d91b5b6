/** Training: the loop, its configuration, plug-in interface, metrics, runs and progress output. */
export { Trainer, train, buildOptimizer, buildScheduler, buildRunModel, loadRunData, countParams } from './trainer';
export type { TrainOptions, TrainResult, TrainSummary, RunStatus, RunData } from './trainer';
export { resolveTrainConfig, optimizerDefaults, CONFIG_KEYS, FIELD_FLAGS, OPTIMIZERS, LR_SCHEDULES, RESUME_OVERRIDABLE } from './config';
export type { TrainConfig, OptimizerName, LrScheduleName } from './config';
export type { TrainPlugin, TrainContext, Batch as TrainBatch } from './plugin';
export { evaluate, countCorrect } from './metrics';
export type { EvalResult } from './metrics';
export { RunDir, defaultRunName, configToYaml } from './run-dir';
export { consoleReporter, silentReporter, formatEpochLine } from './progress';
export type { Reporter, EpochLine } from './progress';
export {
  saveModelWeights, loadModelWeights, effectiveStateDict, saveCheckpoint, loadCheckpoint, writeJsonAtomic, writeTextAtomic,
} from '../io/checkpoint';
export { pruningPlugins, weightSchedule, weightSelection, firstPruningEpoch } from './pruning-plugins';
export { PRUNE_SCHEDULES, PRUNING_FLAGS, PRUNING_KEYS, resolvePruningConfig } from './pruning-config';
export type { PruningConfig, PruneScheduleName, PruneScope } from './pruning-config';
export { pruningOutcome, formatPruningOutcome } from './pruning-outcome';
export type { PruningOutcome } from './pruning-outcome';
export { pruneRun } from './prune-run';
export type { PruneRunOptions, PruneRunResult, PruneRunSummary } from './prune-run';
export { fitWidths, fileShapes } from './fit-widths';
