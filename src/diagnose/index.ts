/**
 * Diagnosis (issue 4, item 6): unit health per epoch (frozen and dead units,
 * sparsity), sensitivity analysis (each layer pruned alone), the thesis'
 * learning-rate attack, and the measurements they share. See each file's
 * header for the definitions and decisions.
 */
export { measurementGraph, findGroup, reluFollows, collectUnitMeasures, unitMrp } from './unit-measures';
export type { UnitMeasures, MeasureOptions } from './unit-measures';
export { unitHealth, unitHealthMetrics, formatUnitHealth, UnitHealthPlugin, unitHealthPlugin } from './unit-health';
export type { UnitHealthOptions, UnitHealthLayer, UnitHealthReport } from './unit-health';
export { sensitivityAnalysis, sensitivityTargets, checkFractions, DEFAULT_FRACTIONS } from './sensitivity';
export type { SensitivityOptions, SensitivityResult, SensitivityRow, SensitivityLayer, EvalNumbers } from './sensitivity';
export { sensitivityCsv, formatSensitivityTable, writeSensitivity, SENSITIVITY_CSV_HEADER } from './sensitivity-report';
export { LrAttackPlugin, lrAttackPlugin, attackSteps, measureUnit, attackCsv, ATTACK_CSV_COLUMNS } from './lr-attack';
export type { LrAttackOptions, AttackRow } from './lr-attack';
export { resolveDiagnoseConfig, parseAttackUnit, DIAGNOSE_FIELD_FLAGS, ATTACK_DEFAULTS, UNIT_REPORT_DEFAULT_EXAMPLES } from './config';
export type { DiagnoseConfig } from './config';
export { diagnosePlugins } from './plugins';
