/** Reference (plain TypeScript) kernels: gemm. Naive and obviously correct; see ../backend.ts. */
import type { Backend } from '../backend';

export const gemmKernels: Partial<Backend> = {};
