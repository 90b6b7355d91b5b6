/**
 * The thesis' scorer comparison (seed 001, sections 2.1 and 4.1): while
 * training, prune a fraction of one layer with each scorer, measure the
 * change of the training loss, undo; rows as CSV. See each file's header.
 */
export { ScorerComparisonPlugin, scorerComparisonPlugin, DEFAULT_WEIGHT_SCORERS, DEFAULT_FRACTIONS } from './plugin';
export type { ScorerComparisonOptions } from './plugin';
export { measureScorers } from './measure';
export type { MeasureOptions } from './measure';
export { ROW_COLUMNS, rowsToCsv, parseRowsCsv } from './rows';
export type { ComparisonRow, TrialKind } from './rows';
export { withTrialUndone, modelFingerprint, fingerprintDifference, assertUnchanged } from './undo';
export type { ModelFingerprint } from './undo';
export { seriesStats, findSeries, winRate } from './aggregate';
export type { SeriesStats } from './aggregate';
