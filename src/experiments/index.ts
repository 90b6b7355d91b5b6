/** Named experiments of the seeds, run end to end by `sparsetrain reproduce NAME`. */
export { EXPERIMENTS, experimentNames, getExperiment } from './registry';
export { startExperiment, runPhase, timedPhase, finishExperiment, check } from './experiment';
export type { Experiment, ExperimentOptions, ExperimentResult, ExperimentCheck, StartedExperiment } from './experiment';
