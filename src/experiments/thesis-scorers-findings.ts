/**
 * The thesis' qualitative findings on saliency scorers (seed 001), checked
 * against measured scorer-comparison rows (src/sparse/compare). Pure
 * functions of the rows: every verdict is computed from the data.
 *
 * The thesis' statements and how each is made a number (mean delta = the
 * mean over the measurement steps of the loss change after pruning, lower is
 * better):
 *
 *   (a) "Absolute values of S_i and its approximations work much better than
 *       the raw saliency scores" (section 2.1.5, Figure 2.5: conv1, 160 of 200
 *       weights, ReLU and Tanh). Check, per activation: at the weight fraction
 *       `weightFraction` (0.8) of `weightLayer` (conv1.weight), the mean delta
 *       of taylor1-abs, taylor2-abs and hessian-abs is each below that of its
 *       signed version.
 *   (b) "magnitudeScorer seems to be quite stable throughout the training"
 *       while "the unexpected oscillations and peaks are problematic for most
 *       of the saliency scores" (section 2.1.6, Figure 2.5). Stability is
 *       taken as the oscillation of the delta curve, the mean absolute change
 *       of delta between consecutive measurements (aggregate.ts). Check, per
 *       activation: magnitude has the smallest oscillation among magnitude
 *       and the absolute-valued scores (same layer and fraction as (a)).
 *   (b') "we see that magnitudeScorer performs best among all other absolute
 *       value based scores" (same figure). Check, per activation: magnitude
 *       has the lowest mean delta among them.
 *   (c) "Increasing the pruning factor we observe the superiority of the MRP
 *       and MRS ... They almost constantly get the lowest scores" (section
 *       4.1.3, Figure 4.3: fc1 units, ReLU). Check, ReLU only: at every high
 *       fraction (>= 0.4) the mean deltas of mrs and of mrp are each below
 *       those of l1 and l2. With Tanh the thesis itself found norms better at
 *       0.4 and 0.5 (section 4.1.4), so Tanh's numbers are reported, not checked.
 */
import { check, type ExperimentCheck } from './experiment';
import { seriesStats, winRate, type SeriesStats } from '../sparse/compare/aggregate';
import type { ComparisonRow } from '../sparse/compare/rows';

export type ActRow = ComparisonRow & { act: string };

export interface FindingsOptions {
  /** Weight layer of (a), (b) (default conv1.weight). */
  weightLayer?: string;
  /** Weight fraction of (a), (b) (default 0.8, the thesis' 160 of 200). */
  weightFraction?: number;
  /** Unit layer of (c) (default fc1). */
  unitLayer?: string;
  /** Fractions at least this are "high" in (c) (default 0.4). */
  highFraction?: number;
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : String(v));
const pct = (v: number): string => (Number.isFinite(v) ? `${Math.round(100 * v)}%` : 'n/a');

function get(stats: SeriesStats[], act: string, kind: string, layer: string, scorer: string, fraction: number): SeriesStats | undefined {
  return stats.find((s) => s.keys.act === act && s.kind === kind && s.layer === layer && s.scorer === scorer && s.fraction === fraction);
}

/** The checks of (a), (b), (b') and (c) on rows of one or more activations (column act). */
export function scorerFindings(rows: readonly ActRow[], opts: FindingsOptions = {}): ExperimentCheck[] {
  const layer = opts.weightLayer ?? 'conv1.weight';
  const wf = opts.weightFraction ?? 0.8;
  const unitLayer = opts.unitLayer ?? 'fc1';
  const high = opts.highFraction ?? 0.4;
  const stats = seriesStats(rows, ['act']);
  const acts = [...new Set(rows.map((r) => r.act))];
  const checks: ExperimentCheck[] = [];
  const missing = (what: string): string => `no data (${what})`;

  for (const act of acts) {
    // (a) absolute-valued beat signed
    const parts: string[] = [];
    let ok = true;
    let have = true;
    for (const base of ['taylor1', 'taylor2', 'hessian']) {
      const s = get(stats, act, 'weight', layer, base, wf);
      const a = get(stats, act, 'weight', layer, `${base}-abs`, wf);
      if (!s || !a) {
        have = false;
        parts.push(missing(`${base} at ${wf}`));
        continue;
      }
      const w = winRate(rows, (r) => r.act === act && r.kind === 'weight' && r.layer === layer && r.fraction === wf, `${base}-abs`, base);
      parts.push(`${base} ${f3(s.mean)} vs ${base}-abs ${f3(a.mean)} (abs lower at ${pct(w.rate)} of ${w.steps} steps)`);
      if (!(a.mean < s.mean)) ok = false;
    }
    checks.push(check(
      `(a) ${act}: |score| beats signed score`,
      `mean loss increase of taylor1-abs, taylor2-abs, hessian-abs each below its signed scorer's (${layer}, fraction ${wf})`,
      parts.join('; '), have && ok,
    ));

    // (b) stability and (b') best on average among magnitude and the absolute-valued scores
    const cands = ['magnitude', 'taylor1-abs', 'taylor2-abs', 'hessian-abs'].map((sc) => [sc, get(stats, act, 'weight', layer, sc, wf)] as const);
    const present = cands.filter(([, s]) => s) as (readonly [string, SeriesStats])[];
    const complete = present.length === cands.length;
    const byOsc = [...present].sort((x, y) => x[1].oscillation - y[1].oscillation);
    checks.push(check(
      `(b) ${act}: magnitude most stable`,
      `magnitude has the lowest oscillation, the mean |delta_t - delta_t-1| of the loss increase between consecutive measurements, among magnitude, taylor1-abs, taylor2-abs, hessian-abs (${layer}, fraction ${wf})`,
      complete ? byOsc.map(([n, s]) => `${n} ${f3(s.oscillation)}`).join(', ') : missing('magnitude and |score| series'),
      complete && byOsc[0][0] === 'magnitude',
    ));
    const byMean = [...present].sort((x, y) => x[1].mean - y[1].mean);
    checks.push(check(
      `(b') ${act}: magnitude best of the |scores|`,
      `magnitude has the lowest mean loss increase among magnitude, taylor1-abs, taylor2-abs, hessian-abs (${layer}, fraction ${wf})`,
      complete ? byMean.map(([n, s]) => `${n} ${f3(s.mean)}`).join(', ') : missing('magnitude and |score| series'),
      complete && byMean[0][0] === 'magnitude',
    ));
  }

  // (c) ReLU: MRS and MRP beat the norms at high fractions
  if (acts.includes('relu')) {
    const fr = [...new Set(rows.filter((r) => r.act === 'relu' && r.kind === 'unit' && r.layer === unitLayer).map((r) => r.fraction))].filter((f) => f >= high).sort((a, b) => a - b);
    const parts: string[] = [];
    let ok = fr.length > 0;
    for (const f of fr) {
      const m = Object.fromEntries(['mrs', 'mrp', 'l1', 'l2'].map((sc) => [sc, get(stats, 'relu', 'unit', unitLayer, sc, f)?.mean ?? NaN]));
      const pass = Math.max(m.mrs, m.mrp) < Math.min(m.l1, m.l2);
      if (!pass) ok = false;
      parts.push(`f ${f}: mrs ${f3(m.mrs)}, mrp ${f3(m.mrp)} vs l1 ${f3(m.l1)}, l2 ${f3(m.l2)}`);
    }
    checks.push(check(
      '(c) relu: MRS, MRP beat L1, L2 (units)',
      `mean loss increase of mrs and of mrp each below l1's and l2's at every fraction >= ${high} (${unitLayer} units, mean replacement with bias propagation)`,
      parts.length ? parts.join('; ') : missing(`${unitLayer} units at fractions >= ${high}`), ok,
    ));
  }
  return checks;
}
