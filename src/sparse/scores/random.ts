/** randomScorer (thesis section 2.1): S_i uniform in [0, 1) from a seeded generator, a baseline. */
import { Generator, defaultGenerator } from '../../tensor/random';
import { rand } from '../../ops/creation';
import type { PruneTarget, ScoreMap } from '../select';

export function randomScores(targets: readonly PruneTarget[], generator: Generator = defaultGenerator()): ScoreMap {
  const out: ScoreMap = new Map();
  for (const t of targets) out.set(t.key, rand([t.numel], { generator }).data as Float32Array);
  return out;
}
