/** Reference (plain TypeScript) kernels: reduce. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const reduceKernels: Partial<Backend> = {};
