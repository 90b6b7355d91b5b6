/**
 * Reference (plain TypeScript) kernels: optim. Naive and obviously correct; see ../backend.ts.
 *
 * Float32 arithmetic is emulated by rounding after every operation (Math.fround);
 * for +, -, *, / and sqrt this gives exactly the float32 result. The order of the
 * operations is the one torch.optim's single-tensor code runs, and the native loops
 * (native/src/misc/optim_kernel.inc) follow it op by op, so both agree bit for bit.
 * Hyperparameters are rounded to float32; derived scalars (1 - dampening, 1 - beta,
 * lr / (1 - beta1^step), ...) are computed in double first, as PyTorch's Python floats.
 */
import type { Backend, F32 } from '../backend';
import { SparsetrainError } from '../../errors';

const f = Math.fround;

function fail(op: string, msg: string): never {
  throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${msg}`);
}
function checkN(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 2147483647) fail(op, `n must be a non-negative integer, got ${n}`);
}
function checkArr(op: string, name: string, a: unknown, n: number): asserts a is F32 {
  if (!(a instanceof Float32Array)) fail(op, `${name} must be a Float32Array`);
  if (a.length < n) fail(op, `${name} has ${a.length} elements, needs at least ${n}`);
}
function finite(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be finite, got ${v}`);
  return v;
}

export const optimKernels: Partial<Backend> = {
  sgdUpdate(
    p: F32, g: F32, buf: F32 | null, mask: F32 | null, n: number,
    lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
  ): void {
    const op = 'sgdUpdate';
    checkN(op, n);
    checkArr(op, 'p', p, n);
    checkArr(op, 'g', g, n);
    if (mask !== null) checkArr(op, 'mask', mask, n);
    for (const [name, v] of [['lr', lr], ['momentum', momentum], ['dampening', dampening], ['weightDecay', weightDecay]] as const) {
      finite(op, name, v);
    }
    if (typeof nesterov !== 'boolean' || typeof firstStep !== 'boolean') fail(op, 'nesterov and firstStep must be booleans');
    const useMomentum = momentum !== 0;
    if (useMomentum) {
      if (buf === null) fail(op, 'buf must be a Float32Array when momentum != 0');
      checkArr(op, 'buf', buf, n);
    }
    const lrF = f(lr), mom = f(momentum), omd = f(1 - dampening), wd = f(weightDecay);
    for (let i = 0; i < n; i++) {
      let d = g[i];
      if (wd !== 0) d = f(d + f(wd * p[i])); // g' = g + wd * p
      let step = d;
      if (useMomentum) {
        const b = firstStep ? d : f(f(mom * buf![i]) + f(omd * d)); // buf = momentum*buf + (1-dampening)*g'
        step = nesterov ? f(d + f(mom * b)) : b;
        buf![i] = b;
      }
      p[i] = f(p[i] - f(lrF * step));
      if (mask !== null && mask[i] === 0) {
        p[i] = 0;
        if (useMomentum) buf![i] = 0;
      }
    }
  },

  adamUpdate(
    p: F32, g: F32, m: F32, v: F32, vmax: F32 | null, mask: F32 | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    decoupled: boolean, amsgrad: boolean, step: number,
  ): void {
    const op = 'adamUpdate';
    checkN(op, n);
    checkArr(op, 'p', p, n);
    checkArr(op, 'g', g, n);
    checkArr(op, 'm', m, n);
    checkArr(op, 'v', v, n);
    if (mask !== null) checkArr(op, 'mask', mask, n);
    for (const [name, x] of [['lr', lr], ['beta1', beta1], ['beta2', beta2], ['eps', eps], ['weightDecay', weightDecay]] as const) {
      finite(op, name, x);
    }
    if (typeof decoupled !== 'boolean' || typeof amsgrad !== 'boolean') fail(op, 'decoupled and amsgrad must be booleans');
    if (!Number.isSafeInteger(step) || step < 1) fail(op, `step must be an integer >= 1, got ${step}`);
    if (!(beta1 >= 0 && beta1 < 1)) fail(op, `beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) fail(op, `beta2 must be in [0, 1), got ${beta2}`);
    if (amsgrad) {
      if (vmax === null) fail(op, 'vmax must be a Float32Array when amsgrad is true');
      checkArr(op, 'vmax', vmax, n);
    }
    const b1 = f(beta1), b2 = f(beta2), omb1 = f(1 - beta1), omb2 = f(1 - beta2), epsF = f(eps), wd = f(weightDecay);
    const decay = f(1 - lr * weightDecay);
    const stepSize = f(lr / (1 - Math.pow(beta1, step)));
    const bias2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, step)));
    for (let i = 0; i < n; i++) {
      let pi = p[i];
      let gi = g[i];
      if (wd !== 0) {
        if (decoupled) pi = f(pi * decay); // AdamW: p *= 1 - lr*wd
        else gi = f(gi + f(wd * pi)); // Adam: g' = g + wd*p
      }
      const mi = f(f(b1 * m[i]) + f(omb1 * gi));
      const vi = f(f(b2 * v[i]) + f(f(omb2 * gi) * gi));
      let vh = vi;
      if (amsgrad) vh = vmax![i] > vi ? vmax![i] : vi;
      const denom = f(f(f(Math.sqrt(vh)) / bias2Sqrt) + epsF);
      pi = f(pi - f(stepSize * f(mi / denom)));
      const keep = mask === null || mask[i] !== 0;
      p[i] = keep ? pi : 0;
      m[i] = keep ? mi : 0;
      v[i] = keep ? vi : 0;
      if (amsgrad) vmax![i] = keep ? vh : 0;
    }
  },
};
