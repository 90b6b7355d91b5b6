/**
 * Pruning on an epoch -> fraction table, as thesis Table 2.2:
 * "2:0.2,3:0.5,4:0.8,5:0.9" prunes after epochs 2, 3, 4 and 5 of training
 * (at the start of 0-based epoch e, see base.ts) to those values.
 *
 * Values are sparsity targets by default (the thesis: "setting a fraction f
 * of all parameters with the smallest magnitude to zero", cumulative, so
 * 0.9 means 90% pruned in all), per layer by default (its pytorchpruner
 * prunes each layer to f); semantics 'fraction' prunes that fraction of the
 * still-unpruned weights at each entry instead.
 */
import type { TrainContext } from '../../train/plugin';
import { PruningSchedule, ScheduleOptions, scheduleError } from './base';

export interface EpochTableOptions extends ScheduleOptions {
  /** "epoch:value,..." or entries. */
  table: string | Record<number, number> | ReadonlyMap<number, number>;
  /** 'sparsity' (default): each value is the sparsity to reach; 'fraction': of the still-unpruned weights. */
  semantics?: 'sparsity' | 'fraction';
}

/**
 * Parses "2:0.2,3:0.5" into ascending [epoch, value] pairs: epochs
 * non-negative integers, each once; values numbers in [0, 1]; spaces allowed.
 */
export function parseEpochTable(s: string, what = 'pruning table'): [number, number][] {
  const op = `parseEpochTable(${JSON.stringify(s)})`;
  if (typeof s !== 'string' || s.trim() === '') throw scheduleError(op, `the ${what} is empty; expected "epoch:value,...", e.g. "2:0.2,3:0.5,4:0.8,5:0.9"`);
  const out = new Map<number, number>();
  for (const [i, raw] of s.split(',').entries()) {
    const part = raw.trim();
    const m = /^([^:]*):([^:]*)$/.exec(part);
    if (!m) throw scheduleError(op, `entry ${i + 1} "${part}" is not "epoch:value"`);
    const [es, vs] = [m[1].trim(), m[2].trim()];
    if (!/^\d+$/.test(es)) throw scheduleError(op, `entry ${i + 1} "${part}": epoch "${es}" is not a non-negative integer`);
    const v = Number(vs);
    if (vs === '' || !Number.isFinite(v) || v < 0 || v > 1) throw scheduleError(op, `entry ${i + 1} "${part}": value "${vs}" is not a number in [0, 1]`);
    const e = Number(es);
    if (out.has(e)) throw scheduleError(op, `epoch ${e} appears twice`);
    out.set(e, v);
  }
  return [...out].sort((a, b) => a[0] - b[0]);
}

function entriesOf(op: string, t: EpochTableOptions['table']): [number, number][] {
  if (typeof t === 'string') return parseEpochTable(t);
  const raw: [unknown, unknown][] = t instanceof Map ? [...t] : Object.entries(t ?? {});
  if (!raw.length) throw scheduleError(op, 'the table is empty');
  return parseEpochTable(raw.map(([e, v]) => `${String(e)}:${String(v)}`).join(','));
}

export class EpochTablePruning extends PruningSchedule {
  readonly name = 'epoch-table-pruning';
  readonly entries: [number, number][];

  constructor(o: EpochTableOptions) {
    const op = 'EpochTablePruning';
    if (!o || o.table === undefined) throw scheduleError(op, 'a table is required, e.g. "2:0.2,3:0.5,4:0.8,5:0.9"');
    super(op, o, false);
    const semantics = o.semantics ?? 'sparsity';
    if (semantics !== 'sparsity' && semantics !== 'fraction') throw scheduleError(op, `semantics must be 'sparsity' or 'fraction', got ${JSON.stringify(semantics)}`);
    this.entries = entriesOf(op, o.table);
    if (semantics === 'sparsity') {
      for (let i = 1; i < this.entries.length; i++) {
        const [[e0, v0], [e1, v1]] = [this.entries[i - 1], this.entries[i]];
        if (v1 < v0) throw scheduleError(op, `sparsity ${v1} at epoch ${e1} is below ${v0} at epoch ${e0}; pruned weights never come back, so targets cannot decrease`);
      }
    }
    this.setEvents('epoch', this.entries.map(([e, v]) => ({
      at: e,
      describe: `${semantics} ${v}`,
      run: (ctx: TrainContext) => {
        this.pruneWith(ctx, this.selection({ conv: v, fc: v }, (x) => (semantics === 'sparsity' ? { sparsity: x } : { fraction: x })));
      },
    })));
  }
}
