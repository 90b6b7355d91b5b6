/**
 * The Taylor terms of thesis Table 2.1 (seed 001, section 2.1) for a set of
 * target weights: the perturbation dw, the gradient g = dL/dw and the exact
 * Hessian-vector product H dw over N examples.
 *
 *   taylor1  S_i = dw_i g_i
 *   hessian  S_i = dw_i (H dw)_i
 *   taylor2  S_i = dw_i (g_i + lambda (H dw)_i)
 *
 * dw = -w for pruning (the change that zeroes the weight), or
 * dw = -epsilon * sign(w) for sensitivity analysis (option delta: { epsilon }).
 * lambda defaults to 1, as the thesis uses for pruning (Table 2.1 caption and
 * section 2.1.4; its Eq. 2.1 drops the 1/2 of the Taylor series). The thesis'
 * sensitivity setting dw = -sign(w), lambda = epsilon gives exactly 1/epsilon
 * times our dw = -epsilon sign(w), lambda = 1: the same ranking.
 *
 * H dw sums the whole Hessian row (Eq. 2.3): with hessianScope 'joint'
 * (default) over all target weights at once, dw being the perturbation of
 * every target together; with 'layer' over the target's own weights only (the
 * diagonal block of its layer, one double-backward pass per layer). Non-target
 * parameters (biases, BatchNorm) are not perturbed.
 *
 * Pruned parameters: derivatives are taken w.r.t. `weight_orig`, which equal
 * those w.r.t. the effective weight at unpruned entries; at pruned entries w,
 * dw and so every score is 0 (selection never considers them again).
 */
import { Tensor } from '../../tensor/tensor';
import { Module } from '../../nn/module';
import { grad } from '../../autograd/engine';
import { enableGrad } from '../../autograd/grad-mode';
import { mul, add } from '../../ops/elementwise';
import { sum } from '../../ops/reduce';
import { SparsetrainError } from '../../errors';
import type { PruneTarget } from '../select';
import { trainedTensor, weightValues } from '../select';
import { ScoringData, batchShare, withMode } from './data';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** The perturbation: 'prune' (dw = -w, default) or sensitivity analysis (dw = -epsilon * sign(w)). */
export type Delta = 'prune' | { epsilon: number };

export interface TaylorOptions {
  delta?: Delta;
  hessianScope?: 'joint' | 'layer';
}

export interface TaylorTerms {
  /** Per target: dw, and g and H dw when asked for (double precision sums over the batches). */
  dw: Float32Array[];
  g: Float64Array[] | null;
  hdw: Float64Array[] | null;
}

export function checkDelta(op: string, d: unknown): Delta {
  if (d === undefined || d === 'prune') return 'prune';
  const e = (d as { epsilon?: unknown })?.epsilon;
  if (typeof d !== 'object' || typeof e !== 'number' || !Number.isFinite(e) || e <= 0) {
    throw new SparsetrainError('ERR_ARGUMENT', `${op}: delta must be 'prune' or { epsilon: number > 0 }, got ${JSON.stringify(d)}`);
  }
  return { epsilon: e };
}

/** dw of one target. */
export function perturbation(t: PruneTarget, delta: Delta): Float32Array {
  const w = weightValues(t);
  const out = new Float32Array(w.length);
  if (delta === 'prune') for (let i = 0; i < w.length; i++) out[i] = -w[i];
  else for (let i = 0; i < w.length; i++) out[i] = w[i] > 0 ? -delta.epsilon : w[i] < 0 ? delta.epsilon : 0;
  return out;
}

/** Computes dw, and g and / or H dw over the scoring data. */
export function taylorTerms(
  model: AnyModule, targets: readonly PruneTarget[], data: ScoringData, need: { grad: boolean; hvp: boolean }, opts: TaylorOptions = {},
): TaylorTerms {
  const op = 'taylorTerms';
  const delta = checkDelta(op, opts.delta);
  const scope = opts.hessianScope ?? 'joint';
  if (scope !== 'joint' && scope !== 'layer') throw new SparsetrainError('ERR_ARGUMENT', `${op}: hessianScope must be 'joint' or 'layer', got ${JSON.stringify(scope)}`);
  const leaves = targets.map((t) => trainedTensor(t));
  leaves.forEach((p, i) => {
    if (!p.requiresGrad) throw new SparsetrainError('ERR_AUTOGRAD', `${op}: "${targets[i].key}" does not require grad (frozen); data-dependent scores need its gradient`);
  });
  const dw = targets.map((t) => perturbation(t, delta));
  const dwT = dw.map((d, i) => new Tensor(d, leaves[i].shape, 'float32'));
  const g = need.grad ? leaves.map((p) => new Float64Array(p.numel)) : null;
  const hdw = need.hvp ? leaves.map((p) => new Float64Array(p.numel)) : null;
  const acc = (dst: Float64Array, t: Tensor | null) => {
    if (!t) return;
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) dst[i] += d[i];
  };
  withMode(model, data.trainMode, () => enableGrad(() => {
    for (const b of data.batches) {
      const loss = batchShare(model, data, b);
      const gs = grad(loss, leaves, undefined, { createGraph: need.hvp, allowUnused: true });
      if (g) gs.forEach((gi, i) => acc(g[i], gi));
      if (!hdw) continue;
      const dot = (idx: number[]): Tensor | null => {
        let s: Tensor | null = null;
        for (const i of idx) {
          const gi = gs[i];
          if (!gi || !gi.requiresGrad) continue;
          const term = sum(mul(gi, dwT[i]));
          s = s ? add(s, term) : term;
        }
        return s;
      };
      if (scope === 'joint') {
        const s = dot(leaves.map((_, i) => i));
        if (s) grad(s, leaves, undefined, { allowUnused: true }).forEach((h, i) => acc(hdw[i], h));
      } else {
        leaves.forEach((p, i) => {
          const s = dot([i]);
          if (s) acc(hdw[i], grad(s, [p], undefined, { allowUnused: true })[0]);
        });
      }
    }
  }));
  return { dw, g, hdw };
}
