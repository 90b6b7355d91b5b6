/** Matrix products: mm (with transposes), matmul (1-d, 2-d, batched 3-d) and the fused Linear. */
import { uninitF32 } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { fmt } from '../tensor/shape';
import { Act, backend } from '../backend';
import { record } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { requireFloat } from './elementwise';
import { sum } from './reduce';
import { reshape, squeeze, unsqueeze } from './shape';

/**
 * op(a) @ op(b) for 2-d tensors, op = transpose when the flag is set.
 * a: [M,K] (or [K,M] transposed), b: [K,N] (or [N,K] transposed) -> [M,N].
 */
export function mm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  requireFloat('matmul', a);
  requireFloat('matmul', b);
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new SparsetrainError('ERR_SHAPE', `matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: mm expects two 2-d tensors`);
  }
  const [M, Ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (Ka !== Kb) {
    const sa = transA ? `${fmt(a.shape)}^T` : fmt(a.shape);
    const sb = transB ? `${fmt(b.shape)}^T` : fmt(b.shape);
    throw new SparsetrainError('ERR_SHAPE', `matmul: ${sa} @ ${sb}: inner dimensions differ (${Ka} vs ${Kb})`);
  }
  const out = uninitF32(M * N);
  if (M * N > 0) {
    if (Ka === 0) out.fill(0);
    else backend().sgemm(transA, transB, M, N, Ka, 1, a.f32, a.shape[1], b.f32, b.shape[1], 0, out, N, null, 1, Act.None);
  }
  const y = new Tensor(out, [M, N], 'float32');
  return record('matmul', y, [a, b], (g) => [
    a.requiresGrad ? (transA ? mm(b, g, transB, true) : mm(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? mm(g, a, true, transA) : mm(a, g, !transA, false)) : null,
  ]);
}

/** torch.matmul for 1-d, 2-d and 3-d (batched, equal batch sizes) operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new SparsetrainError('ERR_SHAPE', `matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: both operands need at least one dimension`);
  if (a.ndim <= 2 && b.ndim <= 2) {
    const A = a.ndim === 1 ? unsqueeze(a, 0) : a;
    const B = b.ndim === 1 ? unsqueeze(b, 1) : b;
    if (A.shape[1] !== B.shape[0]) {
      throw new SparsetrainError('ERR_SHAPE', `matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: inner dimensions differ (${A.shape[1]} vs ${B.shape[0]})`);
    }
    let y = mm(A, B);
    if (a.ndim === 1) y = squeeze(y, 0);
    if (b.ndim === 1) y = squeeze(y, -1);
    return y;
  }
  if (a.ndim === 3 && b.ndim === 3) {
    if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
      throw new SparsetrainError('ERR_SHAPE', `matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: batch sizes or inner dimensions differ`);
    }
    return bmm(a, b);
  }
  if (a.ndim === 3 && b.ndim === 2) {
    const [B, M, K] = a.shape;
    return reshape(matmul(reshape(a, [B * M, K]), b), [B, M, b.shape[1]]);
  }
  throw new SparsetrainError('ERR_SHAPE', `matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: supported ranks are 1-d, 2-d, and 3-d @ 3-d or 2-d`);
}

/** Batched a[B,M,K] @ b[B,K,N] -> [B,M,N]. */
function bmm(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const Bn = a.shape[0];
  const [M, K] = transA ? [a.shape[2], a.shape[1]] : [a.shape[1], a.shape[2]];
  const N = transB ? b.shape[1] : b.shape[2];
  const out = K === 0 ? new Float32Array(Bn * M * N) : uninitF32(Bn * M * N);
  const sa = a.shape[1] * a.shape[2];
  const sb = b.shape[1] * b.shape[2];
  for (let i = 0; i < Bn; i++) {
    backend().sgemm(transA, transB, M, N, K, 1, a.f32.subarray(i * sa), a.shape[2], b.f32.subarray(i * sb), b.shape[2], 0, out.subarray(i * M * N), N, null, 1, Act.None);
  }
  const y = new Tensor(out, [Bn, M, N], 'float32');
  return record('bmm', y, [a, b], (g) => [
    a.requiresGrad ? (transA ? bmm(b, g, transB, true) : bmm(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? bmm(g, a, true, transA) : bmm(a, g, !transA, false)) : null,
  ]);
}

/** y = x @ w^T + b, as torch.nn.functional.linear: x [B, in], w [out, in], b [out] or null. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  requireFloat('linear', x);
  requireFloat('linear', w);
  if (b) requireFloat('linear', b);
  if (w.ndim !== 2) throw new SparsetrainError('ERR_SHAPE', `linear: weight must be 2-d [out, in], got ${fmt(w.shape)}`);
  const [O, I] = w.shape;
  if (x.ndim < 1) throw new SparsetrainError('ERR_SHAPE', `linear: input must have at least one dimension, got ${fmt(x.shape)} for weight ${fmt(w.shape)}`);
  if (x.shape[x.ndim - 1] !== I) {
    throw new SparsetrainError('ERR_SHAPE', `linear: input ${fmt(x.shape)} @ weight ${fmt(w.shape)}^T: inner dimensions differ (${x.shape[x.ndim - 1]} vs ${I})`);
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== O)) {
    throw new SparsetrainError('ERR_SHAPE', `linear: bias must be [${O}], got ${fmt(b.shape)}`);
  }
  if (x.ndim !== 2) {
    const lead = x.shape.slice(0, -1);
    return reshape(linear(reshape(x, [-1, I]), w, b), [...lead, O]);
  }
  const M = x.shape[0];
  const out = I === 0 ? new Float32Array(M * O) : uninitF32(M * O);
  if (M * O > 0) {
    if (I === 0) {
      if (b) for (let i = 0; i < M; i++) out.set(b.f32, i * O);
    } else {
      backend().sgemm(false, true, M, O, I, 1, x.f32, I, w.f32, I, 0, out, O, b ? b.f32 : null, 1, Act.None);
    }
  }
  const y = new Tensor(out, [M, O], 'float32');
  return record('linear', y, [x, w, b], (g) => [
    x.requiresGrad ? mm(g, w) : null,
    w.requiresGrad ? mm(g, x, true, false) : null,
    b && b.requiresGrad ? sum(g, 0) : null,
  ]);
}
