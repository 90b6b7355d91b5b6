/** magnitudeScorer (thesis Table 2.1, Han et al.): S_i = |w_i| of the effective weight; pruned entries score 0. */
import type { PruneTarget, ScoreMap } from '../select';
import { weightValues } from '../select';

export function magnitudeScores(targets: readonly PruneTarget[]): ScoreMap {
  const out: ScoreMap = new Map();
  for (const t of targets) {
    const w = weightValues(t);
    for (let i = 0; i < w.length; i++) w[i] = Math.abs(w[i]);
    out.set(t.key, w);
  }
  return out;
}
