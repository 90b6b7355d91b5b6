/**
 * Batch normalisation over [N, C, *] (BatchNorm1d and 2d). Training mode uses
 * batch statistics and updates the running buffers in place; the backward is
 * the fused kernel, or when recording (double backward) the same formula in
 * differentiable ops.
 *
 * `relu: true` is batch norm followed by a ReLU (the pattern of ResNet, VGG and
 * WRN blocks) in one op: in training mode one kernel pass writes max(bn(x), 0)
 * and the backward kernel masks the incoming gradient by that output itself,
 * so the ReLU costs neither a pass over memory nor a buffer of its own. The
 * result equals relu(batchNorm(x)), gradients included (double backward too).
 *
 * `residual: r` adds r (same shape as x) before the ReLU: relu(batchNorm(x) + r),
 * the end of a ResNet block, in the same pass, saving the sum's and the ReLU's
 * passes and buffers. r's gradient is the masked incoming one. Evaluation mode
 * fuses both too where no gradient is wanted (inference), and is otherwise the
 * composite of differentiable ops.
 */
import { uninitF32 } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { fmt, numel, sameShape } from '../tensor/shape';
import { backend } from '../backend';
import { record } from '../autograd/node';
import { isGradEnabled } from '../autograd/grad-mode';
import { SparsetrainError } from '../errors';
import { requireFloat, mul, sub, add, rsqrt, reluBackward } from './elementwise';
import { relu as reluOp } from './activation';
import { mean, sum } from './reduce';
import { reshape } from './shape';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
  /** Apply a ReLU to the output (fused; in evaluation mode only without gradients). */
  relu?: boolean;
  /** Added to the output before the ReLU (fused likewise); x's shape. */
  residual?: Tensor | null;
}

export function batchNorm(x: Tensor, o: BatchNormOptions = {}): Tensor {
  requireFloat('batchNorm', x);
  if (x.ndim < 2) throw new SparsetrainError('ERR_SHAPE', `batchNorm: input must be [N, C, *], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  const S = numel(x.shape.slice(2));
  const eps = o.eps ?? 1e-5;
  const momentum = o.momentum ?? 0.1;
  const w = o.weight ?? null;
  const b = o.bias ?? null;
  for (const [name, t] of [['weight', w], ['bias', b], ['runningMean', o.runningMean], ['runningVar', o.runningVar]] as [string, Tensor | null | undefined][]) {
    if (t && t.dtype !== 'float32') throw new SparsetrainError('ERR_DTYPE', `batchNorm: ${name} must be float32, got ${t.dtype} of shape ${fmt(t.shape)}`);
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new SparsetrainError('ERR_SHAPE', `batchNorm: ${name} must be [${C}] for input ${fmt(x.shape)}, got ${fmt(t.shape)}`);
  }
  const training = o.training ?? true;
  const relu = o.relu ?? false;
  const res = o.residual ?? null;
  if (res) {
    requireFloat('batchNorm', res);
    if (!sameShape(res.shape, x.shape)) throw new SparsetrainError('ERR_SHAPE', `batchNorm: residual must have the input's shape ${fmt(x.shape)}, got ${fmt(res.shape)}`);
  }
  // Evaluation mode fuses the sum and the ReLU only where no gradient is wanted (inference); with
  // gradients it is the composite of differentiable ops.
  const fusedEval = !training && (relu || res !== null);
  if (fusedEval && isGradEnabled() && [x, w, b, res].some((t) => t && t.requiresGrad)) {
    const bn = batchNorm(x, { ...o, relu: false, residual: null });
    const sum = res ? add(bn, res) : bn;
    return relu ? reluOp(sum) : sum;
  }
  const y = uninitF32(x.numel);
  const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
  const chan = [1, C, ...x.shape.slice(2).map(() => 1)];
  if (training) {
    if (N * S <= 1) throw new SparsetrainError('ERR_SHAPE', `batchNorm: expected more than 1 value per channel when training, got input ${fmt(x.shape)}`);
    const saveMean = new Float32Array(C);
    const saveInvStd = new Float32Array(C);
    backend().batchNormForwardTrain(x.f32, w ? w.f32 : null, b ? b.f32 : null, y, N, C, S, eps, saveMean, saveInvStd,
      o.runningMean ? o.runningMean.f32 : null, o.runningVar ? o.runningVar.f32 : null, momentum, relu, res ? res.f32 : null);
    const out = new Tensor(y, x.shape, 'float32');
    const name = (res ? 'batchNormAdd' : 'batchNorm') + (relu ? 'Relu' : '');
    return record(name, out, [x, w, b, res], (gOut) => {
      const resGrad = res !== null && res.requiresGrad;
      if (isGradEnabled()) {
        // Through the ReLU first: its derivative is the constant mask out > 0.
        const g = relu ? reluBackward(out.detach(), gOut) : gOut;
        // Differentiable formula (statistics recomputed from x so they stay in the graph).
        const mu = mean(x, axes, true);
        const xc = sub(x, mu);
        const invstd = rsqrt(add(mean(mul(xc, xc), axes, true), eps));
        const xhat = mul(xc, invstd);
        const gxhat = w ? mul(g, reshape(w, chan)) : g;
        const gx = mul(invstd, sub(sub(gxhat, mean(gxhat, axes, true)), mul(xhat, mean(mul(gxhat, xhat), axes, true))));
        return [x.requiresGrad ? gx : null, w && w.requiresGrad ? sum(mul(g, xhat), axes) : null, b && b.requiresGrad ? sum(g, axes) : null,
          resGrad ? g : null];
      }
      // The residual's gradient is the incoming one masked by the ReLU, which the kernel writes out on its way.
      const gRes = relu && resGrad ? uninitF32(x.numel) : null;
      const dx = uninitF32(x.numel);
      const dw = w ? new Float32Array(C) : null;
      const db = b ? new Float32Array(C) : null;
      backend().batchNormBackward(gOut.f32, x.f32, w ? w.f32 : null, saveMean, saveInvStd, dx, dw, db, N, C, S, relu ? y : null, gRes);
      return [new Tensor(dx, x.shape, 'float32'), dw && new Tensor(dw, [C], 'float32'), db && new Tensor(db, [C], 'float32'),
        resGrad ? (gRes ? new Tensor(gRes, x.shape, 'float32') : gOut) : null];
    });
  }
  if (!o.runningMean || !o.runningVar) throw new SparsetrainError('ERR_ARGUMENT', 'batchNorm: evaluation mode needs runningMean and runningVar');
  const rm = o.runningMean;
  const rv = o.runningVar;
  backend().batchNormForwardEval(x.f32, w ? w.f32 : null, b ? b.f32 : null, rm.f32, rv.f32, y, N, C, S, eps, relu, res ? res.f32 : null);
  const out = new Tensor(y, x.shape, 'float32');
  if (fusedEval) return out; // (no gradient wanted: see above)
  return record('batchNorm', out, [x, w, b], (g) => {
    const invstd = reshape(rsqrt(add(rv.detach(), eps)), chan);
    const scale = w ? mul(invstd, reshape(w, chan)) : invstd;
    // x itself (not detached): the weight's gradient depends on x, which matters for second order.
    const xhat = mul(sub(x, reshape(rm.detach(), chan)), invstd);
    return [x.requiresGrad ? mul(g, scale) : null, w && w.requiresGrad ? sum(mul(g, xhat), axes) : null, b && b.requiresGrad ? sum(g, axes) : null];
  });
}
