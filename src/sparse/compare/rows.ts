/**
 * The rows of the scorer comparison and their CSV form.
 *
 * One row is one trial: at optimizer step `step` (epoch `epoch`, 0-based as in
 * metrics.jsonl), `fraction` of the units or weights of `layer` were pruned
 * with `scorer`, the loss on the fixed sample of training examples was
 * measured, and the pruning was undone.
 *
 *   step         optimizer steps taken when measured
 *   epoch        0-based epoch of that step
 *   kind         weight | unit
 *   layer        the pruned layer: a weight key ("conv1.weight") or a unit group ("fc1")
 *   scorer       magnitude, random, taylor1, ... (weights); mrs, mrp, l1, l2, random (units)
 *   fraction     the fraction asked for
 *   pruned       weights or units actually pruned (round-half-even of f times the
 *                still-unpruned weights; floor of f times the units, at least one unit left,
 *                minus units whose mean could not be folded exactly)
 *   loss_before  mean cross-entropy on the sample before pruning (the same for every row of a step)
 *   loss_after   the same after pruning
 *   delta        loss_after - loss_before (negative: pruning lowered the loss)
 *
 * Numbers are written with JavaScript's shortest round-trip form, so reading
 * them back gives the same doubles.
 */
import { SparsetrainError } from '../../errors';

export type TrialKind = 'weight' | 'unit';

export interface ComparisonRow {
  step: number;
  epoch: number;
  kind: TrialKind;
  layer: string;
  scorer: string;
  fraction: number;
  pruned: number;
  loss_before: number;
  loss_after: number;
  delta: number;
}

export const ROW_COLUMNS = ['step', 'epoch', 'kind', 'layer', 'scorer', 'fraction', 'pruned', 'loss_before', 'loss_after', 'delta'] as const;

const NUMERIC = new Set<string>(['step', 'epoch', 'fraction', 'pruned', 'loss_before', 'loss_after', 'delta']);

function cell(v: unknown): string {
  const s = String(v);
  if (/[",\n]/.test(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/**
 * CSV text of rows: a header, then one line per row. `extra` columns come
 * first (e.g. { act: 'relu' } when several runs are merged into one table).
 */
export function rowsToCsv(rows: readonly ComparisonRow[], extra: readonly { name: string; values: readonly string[] }[] = []): string {
  for (const e of extra) {
    if (e.values.length !== rows.length) throw new SparsetrainError('ERR_ARGUMENT', `rowsToCsv: column ${e.name} has ${e.values.length} values for ${rows.length} rows`);
  }
  const header = [...extra.map((e) => e.name), ...ROW_COLUMNS].join(',');
  const lines = rows.map((r, i) => [...extra.map((e) => cell(e.values[i])), ...ROW_COLUMNS.map((c) => cell(r[c]))].join(','));
  return `${[header, ...lines].join('\n')}\n`;
}

/**
 * Parses the CSV rowsToCsv writes (also with extra columns, returned as
 * strings under their names). A missing column or a bad number is an error
 * naming the source, the line and the column.
 */
export function parseRowsCsv(text: string, source = 'scorer comparison CSV'): (ComparisonRow & Record<string, string | number>)[] {
  const lines = text.split('\n').filter((l) => l.length);
  if (!lines.length) throw new SparsetrainError('ERR_IO', `${source}: empty, expected a header line`);
  const header = lines[0].split(',');
  for (const c of ROW_COLUMNS) {
    if (!header.includes(c)) throw new SparsetrainError('ERR_IO', `${source}: no column "${c}" in the header (${lines[0]})`);
  }
  return lines.slice(1).map((line, li) => {
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) throw new SparsetrainError('ERR_IO', `${source}: line ${li + 2} has ${cells.length} cells, the header ${header.length}`);
    const out: Record<string, string | number> = {};
    header.forEach((h, i) => {
      if (NUMERIC.has(h)) {
        const v = Number(cells[i]);
        if (cells[i] === '' || Number.isNaN(v)) throw new SparsetrainError('ERR_IO', `${source}: line ${li + 2}, column ${h}: expected a number, got ${JSON.stringify(cells[i])}`);
        out[h] = v;
      } else {
        out[h] = cells[i];
      }
    });
    return out as ComparisonRow & Record<string, string | number>;
  });
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
