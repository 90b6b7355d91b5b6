/** Reference (plain TypeScript) kernels: select. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const selectKernels: Partial<Backend> = {};
