/**
 * The kernel interface. Two implementations: `native` (the C++ addon, fast)
 * and `reference` (plain TypeScript, naive and obviously correct: the test
 * oracle, and the fallback where the addon is missing).
 *
 * Conventions for every kernel:
 * - float32 data, row-major, NCHW; sizes are plain numbers.
 * - outputs are written in full (overwritten) unless the doc says "accumulates".
 * - an output may alias an input only where the doc says so.
 * - kernels check that every buffer is long enough for the sizes given and
 *   throw a SparsetrainError naming the kernel otherwise; the ops layer
 *   (src/tensor/ops) has already produced a friendlier, shape-level message.
 * - offsets into a buffer are expressed with `subarray` (zero copy).
 */

export type F32 = Float32Array;
export type I32 = Int32Array;
export type U8 = Uint8Array;

/** Fused activation applied by sgemm after alpha/beta/bias. */
export enum Act {
  None = 0,
  Relu = 1,
}

/** Elementwise unary ops: y = f(x; alpha). */
export enum UnaryOp {
  Neg = 0,
  Exp = 1,
  Log = 2,
  Sqrt = 3,
  Rsqrt = 4,
  Abs = 5,
  Sign = 6, // -1, 0, 1
  Relu = 7,
  Sigmoid = 8,
  Tanh = 9,
  Square = 10,
  Reciprocal = 11,
  LeakyRelu = 12, // x > 0 ? x : alpha * x
  PowScalar = 13, // x ** alpha
  AddScalar = 14, // x + alpha
  MulScalar = 15, // x * alpha
  Step = 16, // x > 0 ? 1 : 0
  LeakyReluStep = 17, // x > 0 ? 1 : alpha (derivative of LeakyRelu)
  Log1p = 18,
  Expm1 = 19,
  Floor = 20,
  Ceil = 21,
  Round = 22, // half to even, as torch.round
  RSubScalar = 23, // alpha - x
}

/** Elementwise binary ops with broadcasting: out = f(a, b). */
export enum BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Pow = 4,
  Max = 5,
  Min = 6,
  // comparisons: out is a Uint8Array of 0/1 (bool)
  Eq = 7,
  Ne = 8,
  Lt = 9,
  Le = 10,
  Gt = 11,
  Ge = 12,
  // fused backward helpers (a = forward input or output, b = upstream gradient)
  ReluBackward = 13, // b * (a > 0), a = x
  TanhBackward = 14, // b * (1 - a*a), a = tanh(x)
  SigmoidBackward = 15, // b * a * (1 - a), a = sigmoid(x)
}

/** Reductions over the middle axis of x viewed as [outer, n, inner]. */
export enum ReduceOp {
  Sum = 0,
  Mean = 1,
  Max = 2,
  Min = 3,
  Prod = 4,
  SumSquares = 5,
  SumAbs = 6,
  CountNonzero = 7,
}

/**
 * Convolution geometry, an Int32Array of 16 entries in this order:
 * [N, C, H, W, O, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, G]
 * x [N, C, H, W], w [O, C/G, KH, KW], bias [O], y [N, O, OH, OW].
 * OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1, likewise OW.
 */
export const CONV_GEOM_LEN = 16;

/**
 * Pooling geometry, an Int32Array of 14 entries in this order:
 * [N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW]
 * x [N, C, H, W], y [N, C, OH, OW]. Padding cells are -inf for max pooling
 * and, for average pooling, counted or not according to countIncludePad.
 * OH/OW are computed by the caller (floor or ceil mode as PyTorch does).
 */
export const POOL_GEOM_LEN = 14;

export interface Backend {
  readonly name: 'native' | 'reference';

  // ---- runtime -----------------------------------------------------------
  getThreads(): number;
  setThreads(n: number): void;

  // ---- GEMM --------------------------------------------------------------
  /**
   * C[M,N] = act(alpha * op(A) @ op(B) + beta * C + bias).
   * op(A) is [M,K]: A is stored [M,K] with row stride lda (>= K), or when
   * transA, A is stored [K,M] with lda >= M. op(B) is [K,N]: B stored [K,N]
   * (ldb >= N) or, when transB, [N,K] (ldb >= K). C is [M,N] with ldc >= N.
   * beta = 0 means C is not read (may hold NaN). bias is null, a length-N
   * vector added to every row (biasAxis 1, Linear) or a length-M vector added
   * to every column (biasAxis 0, convolution output channels).
   * Details: each buffer must hold at least (rows-1)*ld + cols elements of its
   * stored shape (0 when rows or cols is 0); K = 0 gives C = act(beta*C + bias);
   * C must not overlap A, B or bias (throws). Native accumulates in float32
   * (FMA), the reference in float64; both round the result to float32.
   */
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: F32, lda: number, B: F32, ldb: number, beta: number, C: F32, ldc: number,
    bias: F32 | null, biasAxis: 0 | 1, act: Act,
  ): void;

  // ---- convolution (geometry: CONV_GEOM_LEN) --------------------------------
  /** y = conv2d(x, w) + bias. */
  conv2dForward(x: F32, w: F32, bias: F32 | null, y: F32, geom: I32): void;
  /** dx = gradient of conv2d w.r.t. its input (overwritten). */
  conv2dBackwardInput(dy: F32, w: F32, dx: F32, geom: I32): void;
  /** dw (and dbias if not null) = gradients w.r.t. weight and bias (overwritten). */
  conv2dBackwardWeight(dy: F32, x: F32, dw: F32, dbias: F32 | null, geom: I32): void;

  // ---- pooling (geometry: POOL_GEOM_LEN) ------------------------------------
  /** y = max over each window; indices = argmax as a flat index oh*W + ow into the H*W plane. */
  maxPool2dForward(x: F32, y: F32, indices: I32, geom: I32): void;
  /** dx (overwritten) = scatter-add of dy at indices. */
  maxPool2dBackward(dy: F32, indices: I32, dx: F32, geom: I32): void;
  avgPool2dForward(x: F32, y: F32, geom: I32, countIncludePad: boolean): void;
  /** dx overwritten. */
  avgPool2dBackward(dy: F32, dx: F32, geom: I32, countIncludePad: boolean): void;
  /** x [P, H, W] -> y [P, OH, OW], P = N*C, windows as torch.nn.AdaptiveAvgPool2d. */
  adaptiveAvgPool2dForward(x: F32, y: F32, P: number, H: number, W: number, OH: number, OW: number): void;
  /** dx overwritten. */
  adaptiveAvgPool2dBackward(dy: F32, dx: F32, P: number, H: number, W: number, OH: number, OW: number): void;

  // ---- batch normalisation: x viewed as [N, C, S] (S = H*W, or 1) -----------
  /**
   * Training mode: per-channel batch mean and biased variance; y = (x-mean)*invStd*gamma + beta.
   * Writes saveMean[C] and saveInvStd[C] = 1/sqrt(var+eps). If runningMean/runningVar are
   * not null they are updated in place: r = (1-momentum)*r + momentum*stat, with the
   * unbiased variance (n/(n-1)) for runningVar, as PyTorch does.
   */
  batchNormForwardTrain(
    x: F32, gamma: F32 | null, beta: F32 | null, y: F32, N: number, C: number, S: number, eps: number,
    saveMean: F32, saveInvStd: F32, runningMean: F32 | null, runningVar: F32 | null, momentum: number,
  ): void;
  /** Eval mode: y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta. */
  batchNormForwardEval(
    x: F32, gamma: F32 | null, beta: F32 | null, runningMean: F32, runningVar: F32, y: F32,
    N: number, C: number, S: number, eps: number,
  ): void;
  /** Gradients of the training-mode forward; dx overwritten, dgamma/dbeta overwritten when not null. */
  batchNormBackward(
    dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
    dx: F32, dgamma: F32 | null, dbeta: F32 | null, N: number, C: number, S: number,
  ): void;

  // ---- elementwise ---------------------------------------------------------
  /** y[i] = op(x[i]; alpha) for i < n. y may be x (in place). */
  unary(op: UnaryOp, x: F32, y: F32, n: number, alpha: number): void;
  /**
   * out[idx] = op(a[idx . aStrides], b[idx . bStrides]) over every index of outShape.
   * Strides are in elements; a stride of 0 broadcasts. out is contiguous; F32 for
   * arithmetic ops, U8 (0/1) for comparisons. out may be a or b when their strides
   * are the contiguous strides of outShape.
   */
  binary(op: BinaryOp, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32 | U8, outShape: I32): void;
  /** out = cond ? a : b, with broadcasting strides as in binary; cond is U8. */
  where(cond: U8, condStrides: I32, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, outShape: I32): void;
  /** y[i] = clamp(x[i], lo, hi) (use -Infinity/Infinity for one-sided). y may be x. */
  clamp(x: F32, y: F32, n: number, lo: number, hi: number): void;
  /** y[i] = a*x[i] + y[i]: accumulates into y (gradient accumulation). */
  axpy(n: number, a: number, x: F32, y: F32): void;

  // ---- reductions ------------------------------------------------------------
  /** x viewed as [outer, n, inner]; out [outer, inner]. Mean of n = 0 is NaN, Max/Min of n = 0 throw. */
  reduce(op: ReduceOp, x: F32, outer: number, n: number, inner: number, out: F32): void;
  /** Index (0..n-1) of the first max (or min) along the middle axis; out [outer, inner]. */
  argReduce(isMax: boolean, x: F32, outer: number, n: number, inner: number, out: I32): void;
  /** Sum of all n elements, accumulated in double precision. */
  sumAll(x: F32, n: number): number;

  // ---- softmax and losses (rows x cols, softmax along cols) ----------------
  softmax(x: F32, y: F32, rows: number, cols: number, log: boolean): void;
  /** dx from y = softmax (or log-softmax) output and dy; dx overwritten. */
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void;
  /**
   * Cross-entropy of logits [rows, cols] with int labels [rows] (each 0..cols-1, or
   * ignoreIndex to skip a row). Writes lossPerRow[rows] (0 for ignored rows) and
   * the softmax probabilities probs[rows, cols] for the backward. Throws on a
   * label out of range.
   */
  crossEntropyForward(logits: F32, labels: I32, rows: number, cols: number, ignoreIndex: number, lossPerRow: F32, probs: F32): void;
  /** dlogits[r, c] = dlossPerRow[r] * (probs[r, c] - [c == labels[r]]), 0 for ignored rows. */
  crossEntropyBackward(probs: F32, labels: I32, dlossPerRow: F32, rows: number, cols: number, ignoreIndex: number, dlogits: F32): void;

  // ---- random numbers --------------------------------------------------------
  /**
   * A seeded generator whose state is a Uint32Array(4) (xoshiro128**), advanced in
   * place so it can be saved and restored. Both backends produce the same sequence
   * for the integer and uniform kernels (normal may differ in the last ulp).
   * Uniform floats use the top 24 bits: u = (next() >>> 8) * 2^-24, in [0, 1).
   */
  rngSeed(state: Uint32Array, seed: number): void;
  rngUniform(state: Uint32Array, out: F32, n: number, low: number, high: number): void;
  /** Box-Muller on pairs of uniforms: z0 = sqrt(-2 ln(1-u1)) cos(2 pi u2), z1 = ... sin(...). */
  rngNormal(state: Uint32Array, out: F32, n: number, mean: number, std: number): void;
  /** out[i] = (u < p) ? 1 : 0. */
  rngBernoulli(state: Uint32Array, out: F32, n: number, p: number): void;
  /** Uniform integers in [low, high) without modulo bias. */
  rngInt(state: Uint32Array, out: I32, n: number, low: number, high: number): void;
  /** out = a random permutation of 0..n-1 (Fisher-Yates, from the last index down). */
  rngPermutation(state: Uint32Array, out: I32, n: number): void;

  // ---- optimizer updates (in place, masked) --------------------------------
  /**
   * SGD as torch.optim.SGD: g' = g + wd*p; buf = firstStep ? g' : momentum*buf + (1-dampening)*g';
   * step = nesterov ? g' + momentum*buf : buf; p -= lr*step. buf is null when momentum = 0.
   * If mask is not null, p, buf and the effective gradient are zero where mask is 0,
   * so pruned weights stay exactly zero.
   */
  sgdUpdate(
    p: F32, g: F32, buf: F32 | null, mask: F32 | null, n: number,
    lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
  ): void;
  /**
   * Adam / AdamW as torch.optim: decoupled (AdamW) applies p *= 1 - lr*wd, else g' = g + wd*p.
   * m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; vmax = max(vmax, v) if amsgrad;
   * p -= lr / (1-b1^step) * m / (sqrt(v or vmax) / sqrt(1-b2^step) + eps). step counts from 1.
   * Masked entries of p, m, v (and vmax) are held at zero.
   */
  adamUpdate(
    p: F32, g: F32, m: F32, v: F32, vmax: F32 | null, mask: F32 | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    decoupled: boolean, amsgrad: boolean, step: number,
  ): void;

  // ---- data movement ---------------------------------------------------------
  /**
   * Strided copy of every index of shape: dst[dOff + idx . dStrides] = src[sOff + idx . sStrides].
   * Strides may be 0 or negative-free positive numbers; covers permute, slicing with
   * steps, padding (copy into the inner window of a filled dst), cat and broadcast-expand.
   */
  stridedCopy(src: F32, srcOffset: number, srcStrides: I32, dst: F32, dstOffset: number, dstStrides: I32, shape: I32): void;
  /** Same for Int32Array data. */
  stridedCopyI32(src: I32, srcOffset: number, srcStrides: I32, dst: I32, dstOffset: number, dstStrides: I32, shape: I32): void;
  /** Same for Uint8Array data. */
  stridedCopyU8(src: U8, srcOffset: number, srcStrides: I32, dst: U8, dstOffset: number, dstStrides: I32, shape: I32): void;
  /** Rows of x [rows, rowLen] gathered: out[i] = x[index[i]] for i < count; index checked. */
  gatherRows(x: F32, rows: number, rowLen: number, index: I32, count: number, out: F32): void;
  /** Backward of gatherRows: dx[index[i]] += dout[i] (accumulates, dx not cleared). */
  scatterAddRows(dout: F32, index: I32, count: number, rowLen: number, dx: F32, rows: number): void;

  // ---- selection (pruning thresholds over millions of values) ----------------
  /** The k-th smallest (1-based) of x[0..n), NaN-free input; x is not modified. */
  kthValue(x: F32, n: number, k: number): number;
  /** Per row of x [rows, cols]: the k largest (or smallest), sorted, with their column indices. */
  topk(x: F32, rows: number, cols: number, k: number, largest: boolean, values: F32, indices: I32): void;
  /** Ascending sort of each row of x [rows, cols] into values, with the permutation in indices (stable). */
  sortRows(x: F32, rows: number, cols: number, descending: boolean, values: F32, indices: I32): void;
}

/** Every kernel of the interface, for completeness checks of a backend at run time. */
export const KERNEL_NAMES = [
  'sgemm',
  'conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardWeight',
  'maxPool2dForward', 'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward',
  'adaptiveAvgPool2dForward', 'adaptiveAvgPool2dBackward',
  'batchNormForwardTrain', 'batchNormForwardEval', 'batchNormBackward',
  'unary', 'binary', 'where', 'clamp', 'axpy',
  'reduce', 'argReduce', 'sumAll',
  'softmax', 'softmaxBackward', 'crossEntropyForward', 'crossEntropyBackward',
  'rngSeed', 'rngUniform', 'rngNormal', 'rngBernoulli', 'rngInt', 'rngPermutation',
  'sgdUpdate', 'adamUpdate',
  'stridedCopy', 'stridedCopyI32', 'stridedCopyU8', 'gatherRows', 'scatterAddRows',
  'kthValue', 'topk', 'sortRows',
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
