/** Optimizers (SGD, Adam, AdamW) with masks and per-element lr multipliers, and lr schedulers. */
export { Optimizer } from './optimizer';
export type { OptimizerStateDict, ParamGroup, ParamGroupInput, ParamState, GroupStateDict } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam, AdamW } from './adam';
export type { AdamOptions } from './adam';
export { LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, TableLR, parseLrTable } from './schedulers';
export type { SchedulerStateDict, LrTable, TableLROptions } from './schedulers';
