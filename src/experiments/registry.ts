/**
 * The experiments `sparsetrain reproduce` knows. Each lives in its own file
 * and is listed here once.
 */
import { SparsetrainError } from '../errors';
import type { Experiment } from './experiment';
import { thesisScorers } from './thesis-scorers';
import { hanLenet300 } from './han-lenet300';
import { hanLenet5 } from './han-lenet5';
import { thesisMagnitude } from './thesis-magnitude';
import { thesisMrsUnits } from './thesis-mrs-units';

export const EXPERIMENTS: readonly Experiment[] = [
  hanLenet300,
  hanLenet5,
  thesisMagnitude,
  thesisMrsUnits,
  thesisScorers,
];

export function experimentNames(): string[] {
  return EXPERIMENTS.map((e) => e.name);
}

export function getExperiment(name: string): Experiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new SparsetrainError('ERR_ARGUMENT', `reproduce: unknown experiment '${name}'; known: ${experimentNames().join(', ') || '(none)'} (sparsetrain reproduce --list)`);
  return e;
}
