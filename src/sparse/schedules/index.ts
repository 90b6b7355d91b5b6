/** Pruning schedules as training plug-ins (TrainPlugin). */
export { PruningSchedule, kindValues } from './base';
export type { ScheduleOptions, ScheduleScope, KindTarget, ScheduledEvent, ScheduleState } from './base';
export { OneShotPruning } from './one-shot';
export type { OneShotOptions } from './one-shot';
export { EpochTablePruning, parseEpochTable } from './epoch-table';
export type { EpochTableOptions } from './epoch-table';
export { HanIterativePruning, layerStd } from './han';
export type { HanOptions } from './han';
export { GradualPruning, gradualSparsity } from './gradual';
export type { GradualOptions, GradualCurve } from './gradual';
