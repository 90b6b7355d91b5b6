/** Reference (plain TypeScript) kernels: batchnorm. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32 } from '../backend';
import { SparsetrainError } from '../../errors';
import { checkF32 } from './conv';

function checkSizes(kernel: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes))
    if (!Number.isInteger(v) || v < 0) throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: ${name} must be a non-negative integer, got ${v}`);
}

function checkEps(kernel: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new SparsetrainError('ERR_ARGUMENT', `${kernel}: eps must be a finite number >= 0, got ${eps}`);
}

/** Index of x[n, c, s] in the [N, C, S] view. */
const at = (C: number, S: number, n: number, c: number, s: number) => (n * C + c) * S + s;

export const batchnormKernels: Partial<Backend> = {
  batchNormForwardTrain(
    x: F32, gamma: F32 | null, beta: F32 | null, y: F32, N: number, C: number, S: number, eps: number,
    saveMean: F32, saveInvStd: F32, runningMean: F32 | null, runningVar: F32 | null, momentum: number, relu: boolean,
    residual: F32 | null,
  ): void {
    const k = 'batchNormForwardTrain';
    if (typeof relu !== 'boolean') throw new SparsetrainError('ERR_ARGUMENT', `${k}: relu must be a boolean`);
    checkSizes(k, { N, C, S });
    checkEps(k, eps);
    if (!Number.isFinite(momentum)) throw new SparsetrainError('ERR_ARGUMENT', `${k}: momentum must be a finite number`);
    checkF32(k, 'x', x, N * C * S);
    checkF32(k, 'gamma', gamma, C, true);
    checkF32(k, 'beta', beta, C, true);
    checkF32(k, 'y', y, N * C * S);
    checkF32(k, 'saveMean', saveMean, C);
    checkF32(k, 'saveInvStd', saveInvStd, C);
    checkF32(k, 'runningMean', runningMean, C, true);
    checkF32(k, 'runningVar', runningVar, C, true);
    checkF32(k, 'residual', residual, N * C * S, true);
    const M = N * S;
    if (M === 1) throw new SparsetrainError('ERR_SHAPE', `${k}: expected more than 1 value per channel in training mode (N*S = 1)`);
    for (let c = 0; c < C; c++) {
      if (M === 0) {
        saveMean[c] = 0;
        saveInvStd[c] = 1 / Math.sqrt(eps);
        continue;
      }
      let sum = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sum += x[at(C, S, n, c, s)];
      const mean = sum / M;
      let sq = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sq += (x[at(C, S, n, c, s)] - mean) ** 2;
      const variance = sq / M;
      const invStd = 1 / Math.sqrt(variance + eps);
      saveMean[c] = mean;
      saveInvStd[c] = invStd;
      if (runningMean) runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
      if (runningVar) runningVar[c] = (1 - momentum) * runningVar[c] + momentum * variance * (M / (M - 1));
      const gm = gamma ? gamma[c] : 1;
      const bt = beta ? beta[c] : 0;
      for (let n = 0; n < N; n++)
        for (let s = 0; s < S; s++) {
          const i = at(C, S, n, c, s);
          const v = (x[i] - mean) * invStd * gm + bt + (residual ? residual[i] : 0);
          y[i] = relu && v <= 0 ? 0 : v; // NaN stays NaN, as relu
        }
    }
  },

  batchNormForwardEval(
    x: F32, gamma: F32 | null, beta: F32 | null, runningMean: F32, runningVar: F32, y: F32,
    N: number, C: number, S: number, eps: number, relu: boolean, residual: F32 | null,
  ): void {
    const k = 'batchNormForwardEval';
    if (typeof relu !== 'boolean') throw new SparsetrainError('ERR_ARGUMENT', `${k}: relu must be a boolean`);
    checkSizes(k, { N, C, S });
    checkEps(k, eps);
    checkF32(k, 'residual', residual, N * C * S, true);
    checkF32(k, 'x', x, N * C * S);
    checkF32(k, 'gamma', gamma, C, true);
    checkF32(k, 'beta', beta, C, true);
    checkF32(k, 'runningMean', runningMean, C);
    checkF32(k, 'runningVar', runningVar, C);
    checkF32(k, 'y', y, N * C * S);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let s = 0; s < S; s++) {
          const i = at(C, S, n, c, s);
          const v = ((x[i] - runningMean[c]) / Math.sqrt(runningVar[c] + eps)) * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0) +
            (residual ? residual[i] : 0);
          y[i] = relu && v <= 0 ? 0 : v; // NaN stays NaN, as relu
        }
  },

  batchNormBackward(
    dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
    dx: F32, dgamma: F32 | null, dbeta: F32 | null, N: number, C: number, S: number, reluOut: F32 | null,
    gradOut: F32 | null,
  ): void {
    const k = 'batchNormBackward';
    checkF32(k, 'reluOut', reluOut, N * C * S, true);
    checkF32(k, 'gradOut', gradOut, N * C * S, true);
    if (gradOut && !reluOut) throw new SparsetrainError('ERR_ARGUMENT', `${k}: gradOut needs reluOut (it is dy masked by the ReLU)`);
    // With a fused ReLU, dy is the gradient of its output: the normalised values receive dy where the output is > 0.
    const grad = (i: number) => (reluOut && !(reluOut[i] > 0) ? 0 : dy[i]);
    checkSizes(k, { N, C, S });
    checkF32(k, 'dy', dy, N * C * S);
    checkF32(k, 'x', x, N * C * S);
    checkF32(k, 'gamma', gamma, C, true);
    checkF32(k, 'saveMean', saveMean, C);
    checkF32(k, 'saveInvStd', saveInvStd, C);
    checkF32(k, 'dx', dx, N * C * S);
    checkF32(k, 'dgamma', dgamma, C, true);
    checkF32(k, 'dbeta', dbeta, C, true);
    const M = N * S;
    for (let c = 0; c < C; c++) {
      // xhat = (x - mean) * invStd; y = gamma * xhat + beta.
      // dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd / M * (M dy - dbeta - xhat dgamma).
      const mean = saveMean[c];
      const invStd = saveInvStd[c];
      let sdy = 0;
      let sdyXhat = 0;
      for (let n = 0; n < N; n++)
        for (let s = 0; s < S; s++) {
          const i = at(C, S, n, c, s);
          sdy += grad(i);
          sdyXhat += grad(i) * (x[i] - mean) * invStd;
        }
      if (dgamma) dgamma[c] = sdyXhat;
      if (dbeta) dbeta[c] = sdy;
      const gm = gamma ? gamma[c] : 1;
      for (let n = 0; n < N; n++)
        for (let s = 0; s < S; s++) {
          const i = at(C, S, n, c, s);
          const xhat = (x[i] - mean) * invStd;
          if (gradOut) gradOut[i] = grad(i);
          dx[i] = ((gm * invStd) / M) * (M * grad(i) - sdy - xhat * sdyXhat);
        }
    }
  },
};
