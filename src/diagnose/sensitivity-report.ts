/**
 * Outputs of a sensitivity analysis (sensitivity.ts): a CSV with one row per
 * layer and fraction, a JSON document with everything (baseline, layers,
 * rows, settings), and a plain-text table layer x fraction of the accuracy
 * for the terminal. writeSensitivity writes both files atomically
 * (temporary name, then rename).
 *
 * CSV columns: layer, fraction, pruned (weights newly pruned), nonzero,
 * params, sparsity (1 - nonzero / params during the trial), accuracy (%),
 * loss, top5 (% or empty), accuracy_drop (baseline - accuracy, points),
 * loss_increase (loss - baseline loss).
 */
import * as path from 'node:path';
import { writeJsonAtomic, writeTextAtomic } from '../io/checkpoint';
import type { SensitivityResult } from './sensitivity';

export const SENSITIVITY_CSV_HEADER = 'layer,fraction,pruned,nonzero,params,sparsity,accuracy,loss,top5,accuracy_drop,loss_increase';

/** Numbers as JavaScript prints them (shortest round trip), NaN as "nan". */
function num(v: number | null): string {
  if (v === null) return '';
  return Number.isNaN(v) ? 'nan' : String(v);
}

export function sensitivityCsv(r: SensitivityResult): string {
  const lines = [SENSITIVITY_CSV_HEADER];
  for (const row of r.rows) {
    lines.push([
      row.layer, num(row.fraction), String(row.pruned), String(row.nonzero), String(row.params), num(1 - row.nonzero / row.params),
      num(row.accuracy), num(row.loss), num(row.top5), num(r.baseline.accuracy - row.accuracy), num(row.loss - r.baseline.loss),
    ].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The layer x fraction table of accuracies (%), with the baseline on top. */
export function formatSensitivityTable(r: SensitivityResult): string {
  const head = ['layer', 'params', ...r.fractions.map((f) => String(f))];
  const body = r.layers.map((L) => [
    L.layer.replace(/\.weight$/, ''), String(L.params),
    ...r.fractions.map((f) => {
      const row = r.rows.find((x) => x.layer === L.layer && x.fraction === f);
      return row ? row.accuracy.toFixed(2) : '';
    }),
  ]);
  const rows = [head, ...body];
  const widths = head.map((_, c) => Math.max(...rows.map((x) => x[c].length)));
  const text = rows.map((x) => x.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n');
  const b = r.baseline;
  return `unpruned: accuracy ${b.accuracy.toFixed(2)}%, loss ${b.loss.toFixed(4)}; accuracy (%) with each layer pruned alone by ${r.scorer} at each fraction:\n${text}`;
}

/** Writes sensitivity.csv and sensitivity.json (with `extra`, e.g. the model and data) into dir. */
export function writeSensitivity(dir: string, r: SensitivityResult, extra: Record<string, unknown> = {}): { csv: string; json: string } {
  const csv = path.join(dir, 'sensitivity.csv');
  const json = path.join(dir, 'sensitivity.json');
  writeTextAtomic(csv, sensitivityCsv(r));
  writeJsonAtomic(json, { ...extra, ...r });
  return { csv, json };
}
