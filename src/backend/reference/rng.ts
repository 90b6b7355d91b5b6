/** Reference (plain TypeScript) kernels: rng. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const rngKernels: Partial<Backend> = {};
