/** Reference (plain TypeScript) kernels: batchnorm. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const batchnormKernels: Partial<Backend> = {};
