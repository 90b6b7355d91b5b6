/**
 * The reference backend: every kernel in plain TypeScript, written for
 * clarity, not speed. It is the oracle the native kernels are tested against
 * and the fallback when the addon cannot be loaded.
 */
import type { Backend } from '../backend';
import { gemmKernels } from './gemm';
import { convKernels } from './conv';
import { poolKernels } from './pool';
import { batchnormKernels } from './batchnorm';
import { elementwiseKernels } from './elementwise';
import { reduceKernels } from './reduce';
import { softmaxKernels } from './softmax';
import { rngKernels } from './rng';
import { optimKernels } from './optim';
import { copyKernels } from './copy';
import { selectKernels } from './select';

let threads = 1;

export const referenceBackend = {
  name: 'reference',
  getThreads: () => threads,
  setThreads: (n: number) => {
    threads = n;
  },
  ...gemmKernels,
  ...convKernels,
  ...poolKernels,
  ...batchnormKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...softmaxKernels,
  ...rngKernels,
  ...optimKernels,
  ...copyKernels,
  ...selectKernels,
} as Backend;
