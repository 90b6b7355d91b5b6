/** Reference (plain TypeScript) kernels: pool. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const poolKernels: Partial<Backend> = {};
