/** Reference (plain TypeScript) kernels: softmax. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const softmaxKernels: Partial<Backend> = {};
