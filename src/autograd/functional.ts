/** Higher-order autograd helpers built on grad(): Hessian-vector products. */
import type { Tensor } from '../tensor/tensor';
import { grad } from './engine';
import { SparsetrainError } from '../errors';
import { fmt, sameShape } from '../tensor/shape';
import * as E from '../ops/elementwise';
import { sum } from '../ops/reduce';

/**
 * Exact Hessian-vector product H v of the scalar fn() w.r.t. params, by double
 * backward: g = dL/dp with createGraph, then d(sum_i <g_i, v_i>)/dp.
 * Returns one tensor per parameter (zeros where the Hessian row is zero).
 */
export function hvp(fn: () => Tensor, params: Tensor[], v: Tensor[]): Tensor[] {
  if (v.length !== params.length) throw new SparsetrainError('ERR_ARGUMENT', `hvp: got ${v.length} vectors for ${params.length} parameters`);
  params.forEach((p, i) => {
    if (!sameShape(p.shape, v[i].shape)) throw new SparsetrainError('ERR_SHAPE', `hvp: vector ${i} has shape ${fmt(v[i].shape)}, parameter has ${fmt(p.shape)}`);
  });
  const loss = fn();
  if (loss.numel !== 1) throw new SparsetrainError('ERR_SHAPE', `hvp: fn must return a scalar, got shape ${fmt(loss.shape)}`);
  const g = grad(loss, params, undefined, { createGraph: true, allowUnused: true });
  let dot: Tensor | null = null;
  g.forEach((gi, i) => {
    if (!gi || !gi.requiresGrad) return;
    const term = sum(E.mul(gi, v[i].detach()));
    dot = dot ? E.add(dot, term) : term;
  });
  if (!dot) return params.map((p) => E.zerosLikeTensor(p));
  const hv = grad(dot, params, undefined, { allowUnused: true });
  return hv.map((h, i) => h ?? E.zerosLikeTensor(params[i]));
}
