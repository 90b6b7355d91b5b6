/** Reference (plain TypeScript) kernels: optim. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const optimKernels: Partial<Backend> = {};
