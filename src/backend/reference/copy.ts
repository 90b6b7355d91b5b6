/** Reference (plain TypeScript) kernels: copy. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const copyKernels: Partial<Backend> = {};
