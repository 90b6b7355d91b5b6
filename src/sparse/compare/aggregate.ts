/**
 * Summaries of scorer-comparison rows (rows.ts): per series (kind, layer,
 * scorer, fraction) over the measurement steps, and head-to-head comparisons
 * of two scorers on the same steps.
 *
 *   mean         mean delta over the steps (the average loss increase)
 *   median       median delta
 *   max          the worst (highest) delta: the size of the peaks
 *   oscillation  mean |delta_t - delta_{t-1}| between consecutive measurements:
 *                how much the curve jumps from one measurement to the next
 *                (the thesis' "oscillations and peaks", section 2.1.6); the
 *                slow drift of a curve over training adds little to it
 *
 * Rows may carry extra string columns (e.g. act) that key separate series:
 * pass them in `by`.
 */
import type { ComparisonRow } from './rows';

export interface SeriesStats {
  kind: string;
  layer: string;
  scorer: string;
  fraction: number;
  /** Values of the extra `by` columns. */
  keys: Record<string, string>;
  n: number;
  mean: number;
  median: number;
  max: number;
  oscillation: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One SeriesStats per (by..., kind, layer, scorer, fraction), in first-seen order; steps sorted. */
export function seriesStats<R extends ComparisonRow>(rows: readonly R[], by: readonly (keyof R & string)[] = []): SeriesStats[] {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const k = JSON.stringify([...by.map((b) => String(r[b])), r.kind, r.layer, r.scorer, r.fraction]);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const s = [...g].sort((a, b) => a.step - b.step);
    const d = s.map((r) => r.delta);
    let osc = 0;
    for (let i = 1; i < d.length; i++) osc += Math.abs(d[i] - d[i - 1]);
    return {
      kind: s[0].kind,
      layer: s[0].layer,
      scorer: s[0].scorer,
      fraction: s[0].fraction,
      keys: Object.fromEntries(by.map((b) => [b, String(s[0][b])])),
      n: d.length,
      mean: d.reduce((a, v) => a + v, 0) / d.length,
      median: median(d),
      max: Math.max(...d),
      oscillation: d.length > 1 ? osc / (d.length - 1) : 0,
    };
  });
}

/** The series matching a filter (every given field equal). */
export function findSeries(stats: readonly SeriesStats[], q: Partial<Omit<SeriesStats, 'keys'>> & { keys?: Record<string, string> }): SeriesStats | undefined {
  return stats.find((s) => (Object.keys(q) as (keyof typeof q)[]).every((k) => {
    if (k === 'keys') return Object.entries(q.keys!).every(([kk, v]) => s.keys[kk] === v);
    return s[k as keyof SeriesStats] === q[k];
  }));
}

/**
 * Head to head on the steps both measured: the share of steps where a's
 * delta is lower than b's (ties count half), and the step count.
 */
export function winRate<R extends ComparisonRow>(rows: readonly R[], filter: (r: R) => boolean, a: string, b: string): { rate: number; steps: number } {
  const da = new Map<number, number>();
  const db = new Map<number, number>();
  for (const r of rows) {
    if (!filter(r)) continue;
    if (r.scorer === a) da.set(r.step, r.delta);
    else if (r.scorer === b) db.set(r.step, r.delta);
  }
  let wins = 0;
  let steps = 0;
  for (const [step, x] of da) {
    const y = db.get(step);
    if (y === undefined) continue;
    steps++;
    wins += x < y ? 1 : x === y ? 0.5 : 0;
  }
  return { rate: steps ? wins / steps : NaN, steps };
}
