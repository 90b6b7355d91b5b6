/** Reference (plain TypeScript) kernels: conv. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const convKernels: Partial<Backend> = {};
