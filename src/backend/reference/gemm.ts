/** Reference (plain TypeScript) kernels: gemm. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32 } from '../backend';
import { Act } from '../backend';
import { SparsetrainError } from '../../errors';

function fail(msg: string): never {
  throw new SparsetrainError('ERR_ARGUMENT', `sgemm: ${msg}`);
}

function checkSize(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 2147483647) fail(`${name} must be a non-negative integer, got ${v}`);
}

function checkArray(a: unknown, name: string, need: number): asserts a is F32 {
  if (!(a instanceof Float32Array)) fail(`${name} must be a Float32Array`);
  if (a.length < need) fail(`${name} has ${a.length} elements, needs at least ${need}`);
}

/** Elements a row-major [rows, cols] matrix with row stride ld occupies. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

/** True when the first na elements of a and the first nb of b share memory. */
function overlaps(a: F32, na: number, b: F32, nb: number): boolean {
  if (na === 0 || nb === 0 || a.buffer !== b.buffer) return false;
  const a0 = a.byteOffset, a1 = a0 + 4 * na, b0 = b.byteOffset, b1 = b0 + 4 * nb;
  return a0 < b1 && b0 < a1;
}

/**
 * C = act(alpha * op(A) @ op(B) + beta * C + bias), exactly as documented in backend.ts.
 * Each dot product is accumulated in float64 and the result rounded once to float32.
 */
function sgemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: F32, lda: number, B: F32, ldb: number, beta: number, C: F32, ldc: number,
  bias: F32 | null, biasAxis: 0 | 1, act: Act,
): void {
  if (typeof transA !== 'boolean') fail('transA must be a boolean');
  if (typeof transB !== 'boolean') fail('transB must be a boolean');
  checkSize(M, 'M');
  checkSize(N, 'N');
  checkSize(K, 'K');
  if (typeof alpha !== 'number') fail('alpha must be a number');
  if (typeof beta !== 'number') fail('beta must be a number');
  checkSize(lda, 'lda');
  checkSize(ldb, 'ldb');
  checkSize(ldc, 'ldc');
  if (biasAxis !== 0 && biasAxis !== 1) fail(`biasAxis must be 0 (per row) or 1 (per column), got ${biasAxis}`);
  if (act !== Act.None && act !== Act.Relu) fail(`act must be 0 (none) or 1 (relu), got ${act}`);
  // Stored shapes: A [M,K] or [K,M] (transA), B [K,N] or [N,K] (transB), C [M,N].
  const aRows = transA ? K : M, aCols = transA ? M : K;
  const bRows = transB ? N : K, bCols = transB ? K : N;
  if (lda < aCols) fail(`lda = ${lda} is less than the row length ${transA ? 'M (transA)' : 'K'} = ${aCols}`);
  if (ldb < bCols) fail(`ldb = ${ldb} is less than the row length ${transB ? 'K (transB)' : 'N'} = ${bCols}`);
  if (ldc < N) fail(`ldc = ${ldc} is less than the row length N = ${N}`);
  const nA = span(aRows, aCols, lda), nB = span(bRows, bCols, ldb), nC = span(M, N, ldc);
  const nBias = biasAxis === 1 ? N : M;
  checkArray(A, 'A', nA);
  checkArray(B, 'B', nB);
  checkArray(C, 'C', nC);
  if (bias !== null && bias !== undefined) checkArray(bias, 'bias', nBias);
  if (overlaps(C, nC, A, nA)) fail('C must not overlap A');
  if (overlaps(C, nC, B, nB)) fail('C must not overlap B');
  if (bias && overlaps(C, nC, bias, nBias)) fail('C must not overlap bias');

  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * lda + i] : A[i * lda + k];
        const b = transB ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
      }
      let c = alpha * s;
      if (beta !== 0) c += beta * C[i * ldc + j]; // beta = 0: C is not read
      if (bias) c += biasAxis === 1 ? bias[j] : bias[i];
      if (act === Act.Relu && c < 0) c = 0; // NaN stays NaN
      C[i * ldc + j] = c;
    }
  }
}

export const gemmKernels: Partial<Backend> = { sgemm };
