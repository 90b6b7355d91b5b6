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
 * Valid geometry (checked, else a thrown error naming the kernel): N >= 0 (N = 0: nothing to
 * do, dw and dbias are zeroed), PH, PW >= 0, every other entry >= 1, C and O divisible by G,
 * the dilated kernel fits in the padded input, and OH/OW equal to the formula above.
 */
export const CONV_GEOM_LEN = 16;

/**
 * Pooling geometry, an Int32Array of 14 entries in this order:
 * [N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW]
 * x [N, C, H, W], y [N, C, OH, OW]. Padding cells are -inf for max pooling
 * and, for average pooling, counted or not according to countIncludePad.
 * OH/OW are computed by the caller (floor or ceil mode as PyTorch does).
 * Valid geometry (checked): N, C, PH, PW >= 0, every other entry >= 1, H*W < 2^31, OH/OW equal
 * to the floor- or the ceil-mode size, and every window holds at least one input cell (so a
 * ceil-mode window starting in the right padding, which PyTorch drops, is an error).
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
  /**
   * y = max over each window; indices = argmax as a flat index ih*W + iw into the H*W plane.
   * As PyTorch: a cell replaces the running max (which starts at -inf, index of the window's
   * first input cell) when it is greater or NaN, so ties keep the first cell in row-major
   * order and a NaN propagates (the last NaN of the window gives the index).
   */
  maxPool2dForward(x: F32, y: F32, indices: I32, geom: I32): void;
  /**
   * dx (overwritten) = scatter-add of dy at indices. An index outside [0, H*W) throws (after
   * the valid entries have been added).
   */
  maxPool2dBackward(dy: F32, indices: I32, dx: F32, geom: I32): void;
  /**
   * Average over the window's input cells. Divisor, as PyTorch: with countIncludePad, the number
   * of window cells inside the padded input [-PH, H+PH) x [-PW, W+PW) (so a ceil-mode window that
   * hangs past the padding counts less than KH*KW); without, the number of input cells.
   */
  avgPool2dForward(x: F32, y: F32, geom: I32, countIncludePad: boolean): void;
  /** dx overwritten. */
  avgPool2dBackward(dy: F32, dx: F32, geom: I32, countIncludePad: boolean): void;
  /**
   * x [P, H, W] -> y [P, OH, OW], P = N*C, windows as torch.nn.AdaptiveAvgPool2d: rows
   * [floor(i*H/OH), ceil((i+1)*H/OH)), likewise columns. P >= 0; H, W, OH, OW >= 1.
   */
  adaptiveAvgPool2dForward(x: F32, y: F32, P: number, H: number, W: number, OH: number, OW: number): void;
  /** dx overwritten. */
  adaptiveAvgPool2dBackward(dy: F32, dx: F32, P: number, H: number, W: number, OH: number, OW: number): void;

  // ---- batch normalisation: x viewed as [N, C, S] (S = H*W, or 1) -----------
  /**
   * Training mode: per-channel batch mean and biased variance; y = (x-mean)*invStd*gamma + beta.
   * Writes saveMean[C] and saveInvStd[C] = 1/sqrt(var+eps). If runningMean/runningVar are
   * not null they are updated in place: r = (1-momentum)*r + momentum*stat, with the
   * unbiased variance (n/(n-1)) for runningVar, as PyTorch does.
   * gamma/beta null mean 1/0. n = N*S values per channel: n = 1 throws (as PyTorch's "expected more than 1 value per
   * channel when training"); n = 0 writes saveMean = 0, saveInvStd = 1/sqrt(eps) and leaves the
   * running stats untouched. eps must be finite and >= 0. Statistics are accumulated in double
   * precision (two passes: mean, then the squared deviations).
   * residual [N*C*S] or null: added to y (a ResNet block's shortcut), before
   * relu: a ReLU fused in the same pass, y = max(y, 0) (NaN stays NaN).
   */
  batchNormForwardTrain(
    x: F32, gamma: F32 | null, beta: F32 | null, y: F32, N: number, C: number, S: number, eps: number,
    saveMean: F32, saveInvStd: F32, runningMean: F32 | null, runningVar: F32 | null, momentum: number, relu: boolean,
    residual: F32 | null,
  ): void;
  /**
   * Eval mode: y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta (gamma/beta null: 1/0; eps >= 0),
   * plus residual [N*C*S] unless null, then max(y, 0) if relu (as in training mode).
   */
  batchNormForwardEval(
    x: F32, gamma: F32 | null, beta: F32 | null, runningMean: F32, runningVar: F32, y: F32,
    N: number, C: number, S: number, eps: number, relu: boolean, residual: F32 | null,
  ): void;
  /**
   * Gradients of the training-mode forward, from its saveMean/saveInvStd; dx overwritten,
   * dgamma/dbeta overwritten when not null (zeros when N*S = 0). gamma null means 1.
   * reluOut [N*C*S] or null: the forward ran with relu and this is its output y; dy is then the
   * gradient of y, and the normalised values receive dy where reluOut > 0, else 0.
   * gradOut [N*C*S] or null (needs reluOut): overwritten with that masked dy, the gradient of a
   * residual added before the ReLU.
   */
  batchNormBackward(
    dy: F32, x: F32, gamma: F32 | null, saveMean: F32, saveInvStd: F32,
    dx: F32, dgamma: F32 | null, dbeta: F32 | null, N: number, C: number, S: number, reluOut: F32 | null,
    gradOut: F32 | null,
  ): void;

  // ---- elementwise ---------------------------------------------------------
  /**
   * y[i] = op(x[i]; alpha) for i < n. y may be x (in place).
   * Decided semantics: alpha is used as a float32 (the native kernels round it); NaN
   * propagates through every op except Step / LeakyReluStep (0 / alpha for NaN), Relu(NaN)
   * is NaN, Sign keeps +-0 and NaN (as Math.sign); PowScalar and Pow follow C pow (as torch):
   * pow(1, y) = pow(x, 0) = 1 and pow(-1, +-inf) = 1 even for NaN.
   */
  unary(op: UnaryOp, x: F32, y: F32, n: number, alpha: number): void;
  /**
   * out[idx] = op(a[idx . aStrides], b[idx . bStrides]) over every index of outShape.
   * Strides are in elements; a stride of 0 broadcasts. out is contiguous; F32 for
   * arithmetic ops, U8 (0/1) for comparisons. out may be a or b when their strides
   * are the contiguous strides of outShape.
   * Decided semantics: strides must be >= 0 and outShape has at most 16 dimensions; Max/Min
   * propagate NaN (torch.maximum); comparisons with NaN are false except Ne; ReluBackward
   * is (a > 0 ? b : 0), so a NaN a gives 0 (torch's threshold_backward).
   */
  binary(op: BinaryOp, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32 | U8, outShape: I32): void;
  /** out = cond ? a : b, with broadcasting strides as in binary; cond is U8. */
  where(cond: U8, condStrides: I32, a: F32, aStrides: I32, b: F32, bStrides: I32, out: F32, outShape: I32): void;
  /**
   * y[i] = clamp(x[i], lo, hi) (use -Infinity/Infinity for one-sided). y may be x.
   * A NaN x stays NaN, a NaN bound is ignored, lo > hi gives hi (as torch.clamp).
   */
  clamp(x: F32, y: F32, n: number, lo: number, hi: number): void;
  /** y[i] = a*x[i] + y[i]: accumulates into y (gradient accumulation). */
  axpy(n: number, a: number, x: F32, y: F32): void;

  // ---- reductions ------------------------------------------------------------
  /**
   * x viewed as [outer, n, inner]; out [outer, inner]. Mean of n = 0 is NaN, Max/Min of n = 0 throw.
   * Also: Sum/SumSquares/SumAbs/CountNonzero of n = 0 are 0, Prod 1; sums accumulate with at
   * least double-precision block totals; Max/Min propagate NaN; CountNonzero counts NaN.
   */
  reduce(op: ReduceOp, x: F32, outer: number, n: number, inner: number, out: F32): void;
  /**
   * Index (0..n-1) of the first max (or min) along the middle axis; out [outer, inner].
   * A NaN counts as the extreme (the first NaN wins, as torch.argmax); n = 0 throws.
   */
  argReduce(isMax: boolean, x: F32, outer: number, n: number, inner: number, out: I32): void;
  /** Sum of all n elements, accumulated in double precision. */
  sumAll(x: F32, n: number): number;

  // ---- softmax and losses (rows x cols, softmax along cols) ----------------
  /** y may be x. A row holding NaN or +Infinity comes out all NaN (as PyTorch). */
  softmax(x: F32, y: F32, rows: number, cols: number, log: boolean): void;
  /** dx from y = softmax (or log-softmax) output and dy; dx overwritten; dx may be dy. */
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, log: boolean): void;
  /**
   * Cross-entropy of logits [rows, cols] with int labels [rows] (each 0..cols-1, or
   * ignoreIndex to skip a row). Writes lossPerRow[rows] (0 for ignored rows) and
   * the softmax probabilities probs[rows, cols] for the backward. Throws on a
   * label out of range (the message names the row and the value). probs is written for
   * every row, ignored ones included.
   */
  crossEntropyForward(logits: F32, labels: I32, rows: number, cols: number, ignoreIndex: number, lossPerRow: F32, probs: F32): void;
  /**
   * dlogits[r, c] = dlossPerRow[r] * (probs[r, c] - [c == labels[r]]), 0 for ignored rows.
   * Labels are checked as in the forward; dlogits may be probs.
   */
  crossEntropyBackward(probs: F32, labels: I32, dlossPerRow: F32, rows: number, cols: number, ignoreIndex: number, dlogits: F32): void;

  // ---- random numbers --------------------------------------------------------
  /**
   * A seeded generator whose state is a Uint32Array(4) (xoshiro128**), advanced in
   * place so it can be saved and restored. Both backends produce the same sequence
   * for the integer and uniform kernels (normal may differ in the last ulp).
   * Uniform floats use the top 24 bits: u = (next() >>> 8) * 2^-24, in [0, 1).
   * The kernels are sequential (no threads): a stream never depends on the thread count.
   * Every kernel throws when state is not a Uint32Array of length 4, or (except rngSeed)
   * is all zero.
   *
   * rngSeed: state = two splitmix64 outputs, [lo, hi, lo, hi], of the counter `seed` (a safe
   * integer, taken as a 64-bit two's complement value); nearby seeds give unrelated
   * streams and the state is never all zero.
   */
  rngSeed(state: Uint32Array, seed: number): void;
  /**
   * out[i] = float32(low + (high - low) * u), computed in double, one next() per value;
   * low <= high, both finite. The rounding to float32 can give exactly high for some
   * ranges; for low = 0, high = 1 every value is < 1.
   */
  rngUniform(state: Uint32Array, out: F32, n: number, low: number, high: number): void;
  /**
   * Box-Muller on pairs of uniforms: z0 = sqrt(-2 ln(1-u1)) cos(2 pi u2), z1 = ... sin(...).
   * Here u1 = next() * 2^-32 and u2 = next() * 2^-32 (full 32 bits, for finer tails).
   * out[2j] = mean + std*z0, out[2j+1] = mean + std*z1, in double, rounded to float32.
   * Every pair consumes exactly two next(); for odd n the last pair's z1 is dropped, so
   * n values always consume 2*ceil(n/2) outputs. std >= 0, both finite.
   */
  rngNormal(state: Uint32Array, out: F32, n: number, mean: number, std: number): void;
  /** out[i] = (u < p) ? 1 : 0, u the 24-bit uniform above, one next() per value; 0 <= p <= 1. */
  rngBernoulli(state: Uint32Array, out: F32, n: number, p: number): void;
  /**
   * Uniform integers in [low, high) without modulo bias: Lemire's multiply-shift with
   * rejection on 32-bit outputs (high - low = 2^32 takes next() as is). Integers with
   * -2^31 <= low < high <= 2^31.
   */
  rngInt(state: Uint32Array, out: I32, n: number, low: number, high: number): void;
  /**
   * out = a random permutation of 0..n-1 (Fisher-Yates, from the last index down):
   * out = identity, then for i = n-1 .. 1 swap out[i] with out[j], j uniform in [0, i]
   * drawn as rngInt draws it.
   */
  rngPermutation(state: Uint32Array, out: I32, n: number): void;

  // ---- optimizer updates (in place, masked) --------------------------------
  /**
   * SGD as torch.optim.SGD: g' = g + wd*p; buf = firstStep ? g' : momentum*buf + (1-dampening)*g';
   * step = nesterov ? g' + momentum*buf : buf; p -= lr*step. buf is null when momentum = 0.
   * If mask is not null, p, buf and the effective gradient are zero where mask is 0,
   * so pruned weights stay exactly zero.
   * Arithmetic: hyperparameters rounded to float32 (1 - dampening computed in double
   * first), each float32 op rounded on its own, no FMA, in torch's order:
   * g' = g + wd*p (only when wd != 0); buf = momentum*buf + (1-dampening)*g';
   * nesterov step = g' + momentum*buf; p = p - lr*step. Native and reference agree bit
   * for bit.
   * buf may be null when momentum == 0 (it is then ignored); all hyperparameters finite.
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
   * Arithmetic: float32, one rounding per op, no FMA, in this order:
   * m = b1*m + (1-b1)*g'; v = b2*v + ((1-b2)*g')*g'; denom = sqrt(v^)/sqrt(1-b2^step) + eps;
   * p = p - (lr/(1-b1^step)) * (m/denom), the scalars 1-b1, 1-b2, 1-lr*wd, lr/(1-b1^step)
   * and sqrt(1-b2^step) computed in double and rounded to float32. vmax = max(vmax, v)
   * is stored; vmax may be null unless amsgrad. 0 <= beta < 1, step an integer >= 1.
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
   * dst elements must be distinct: a dst stride of 0 on a dim of size > 1 throws, and
   * other overlapping dst layouts give an unspecified (but in-bounds) result. src and
   * dst must not overlap. A rank-0 shape copies one element. Offsets plus the largest
   * index the strides reach must lie inside each buffer (nothing is checked against a
   * shape with a 0, which copies nothing).
   */
  stridedCopy(src: F32, srcOffset: number, srcStrides: I32, dst: F32, dstOffset: number, dstStrides: I32, shape: I32): void;
  /** Same for Int32Array data. */
  stridedCopyI32(src: I32, srcOffset: number, srcStrides: I32, dst: I32, dstOffset: number, dstStrides: I32, shape: I32): void;
  /** Same for Uint8Array data. */
  stridedCopyU8(src: U8, srcOffset: number, srcStrides: I32, dst: U8, dstOffset: number, dstStrides: I32, shape: I32): void;
  /**
   * Rows of x [rows, rowLen] gathered: out[i] = x[index[i]] for i < count; index checked:
   * any index outside [0, rows) (negative ones too) throws, naming its position and value,
   * before anything is written.
   */
  gatherRows(x: F32, rows: number, rowLen: number, index: I32, count: number, out: F32): void;
  /**
   * Backward of gatherRows: dx[index[i]] += dout[i] (accumulates, dx not cleared).
   * Index checked as in gatherRows; contributions to a row are added in order of i.
   */
  scatterAddRows(dout: F32, index: I32, count: number, rowLen: number, dx: F32, rows: number): void;

  // ---- selection (pruning thresholds over millions of values) ----------------
  /**
   * The k-th smallest (1-based, 1 <= k <= n) of x[0..n); x is not modified. A NaN
   * throws, naming its position. -0 ranks below +0 (as TypedArray sort does).
   */
  kthValue(x: F32, n: number, k: number): number;
  /**
   * Per row of x [rows, cols]: the k largest (or smallest), sorted, with their column
   * indices; values, indices [rows, k], 0 <= k <= cols. Largest: descending; smallest:
   * ascending. Ties: lower index first. -0 equals +0; NaN counts as larger than +Infinity
   * (first among the largest, as torch.topk).
   */
  topk(x: F32, rows: number, cols: number, k: number, largest: boolean, values: F32, indices: I32): void;
  /**
   * Ascending (or descending) sort of each row of x [rows, cols] into values, with the
   * permutation in indices (stable: equal values keep column order, in both directions).
   * Order as topk: -0 equals +0, NaN above +Infinity (last ascending, first descending).
   */
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
