/** Reference (plain TypeScript) kernels: elementwise. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const elementwiseKernels: Partial<Backend> = {};
