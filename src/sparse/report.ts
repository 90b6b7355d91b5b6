/**
 * Per-layer sparsity of a model, for summaries and epoch metrics. Counts are
 * of the effective weights (orig * mask): a weight is zero when it is masked
 * or happens to be exactly 0, which is what a reader of the exported
 * checkpoint counts.
 */
import { Module } from '../nn/module';
import type { LayerKind, TargetOptions } from './select';
import { findTargets, weightValues } from './select';
import { effectiveStateDict } from './mask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export interface LayerSparsity {
  key: string;
  kind: LayerKind;
  shape: number[];
  params: number;
  nonzero: number;
  /** 1 - nonzero / params. */
  sparsity: number;
}

export interface Counts {
  params: number;
  nonzero: number;
  sparsity: number;
}

export interface SparsityReport {
  /** The prunable layers' weights (Linear and Conv2d by default). */
  layers: LayerSparsity[];
  /** Over those weights. */
  total: Counts;
  /** Over every parameter of the model (biases, BatchNorm included). */
  model: Counts;
}

function counts(params: number, nonzero: number): Counts {
  return { params, nonzero, sparsity: params ? 1 - nonzero / params : 0 };
}

function nonzeros(d: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

export function sparsityReport(model: AnyModule, opts: TargetOptions = {}): SparsityReport {
  const layers = findTargets(model, opts).map((t) => {
    const nz = nonzeros(weightValues(t));
    return { key: t.key, kind: t.kind, shape: [...t.shape], ...counts(t.numel, nz) };
  });
  const total = counts(layers.reduce((s, l) => s + l.params, 0), layers.reduce((s, l) => s + l.nonzero, 0));
  const params = new Set(model.namedParameters().map(([k]) => k.replace(/_orig$/, '')));
  let p = 0;
  let nz = 0;
  for (const [k, t] of effectiveStateDict(model)) {
    if (!params.has(k)) continue;
    p += t.numel;
    nz += nonzeros(t.data as Float32Array);
  }
  return { layers, total, model: counts(p, nz) };
}

/** Values for a metrics line: sparsity, nonzero and params of the prunable weights, and each layer's sparsity. */
export function sparsityMetrics(r: SparsityReport): Record<string, unknown> {
  return {
    sparsity: r.total.sparsity,
    nonzero: r.total.nonzero,
    prunableParams: r.total.params,
    layerSparsity: Object.fromEntries(r.layers.map((l) => [l.key, l.sparsity])),
  };
}

/** A plain-text table of a report. */
export function formatSparsityReport(r: SparsityReport): string {
  const pct = (s: number) => `${(100 * s).toFixed(2)}%`;
  const rows = [
    ['layer', 'kind', 'shape', 'params', 'nonzero', 'sparsity'],
    ...r.layers.map((l) => [l.key, l.kind, `[${l.shape.join(', ')}]`, String(l.params), String(l.nonzero), pct(l.sparsity)]),
    ['total (prunable)', '', '', String(r.total.params), String(r.total.nonzero), pct(r.total.sparsity)],
    ['model (all parameters)', '', '', String(r.model.params), String(r.model.nonzero), pct(r.model.sparsity)],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((v, c) => (c >= 3 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}
