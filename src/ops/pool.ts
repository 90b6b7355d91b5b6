/** Max, average and adaptive-average 2-d pooling (NCHW), with PyTorch's output-size rules. */
import { uninitF32 } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { fmt } from '../tensor/shape';
import { backend } from '../backend';
import { record } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { requireFloat } from './elementwise';

export interface Pool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

const pair = (v: number | [number, number] | undefined, dflt: [number, number]): [number, number] =>
  v === undefined ? dflt : typeof v === 'number' ? [v, v] : v;

function outSize(op: string, n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // As PyTorch: in ceil mode the last window must start inside the input or left padding.
  if (ceil && (o - 1) * s >= n + p) o--;
  if (o < 1) throw new SparsetrainError('ERR_SHAPE', `${op}: kernel ${k} (dilation ${d}) does not fit input size ${n} with padding ${p}`);
  return o;
}

/** Geometry [N,C,H,W,OH,OW,KH,KW,SH,SW,PH,PW,DH,DW] after validation. */
export function poolGeometry(op: string, shape: readonly number[], kernel: number | [number, number], o: Pool2dOptions): Int32Array {
  if (shape.length !== 4) throw new SparsetrainError('ERR_SHAPE', `${op}: input must be 4-d [N,C,H,W], got ${fmt(shape)}`);
  const [N, C, H, W] = shape;
  const [KH, KW] = pair(kernel, [1, 1]);
  const [SH, SW] = pair(o.stride, [KH, KW]);
  const [PH, PW] = pair(o.padding, [0, 0]);
  const [DH, DW] = pair(o.dilation, [1, 1]);
  for (const [name, v, min] of [['kernel size', KH, 1], ['kernel size', KW, 1], ['stride', SH, 1], ['stride', SW, 1], ['padding', PH, 0], ['padding', PW, 0], ['dilation', DH, 1], ['dilation', DW, 1]] as [string, number, number][]) {
    if (!Number.isInteger(v) || v < min) throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (PH * 2 > KH || PW * 2 > KW) throw new SparsetrainError('ERR_ARGUMENT', `${op}: padding ${PH}x${PW} must be at most half the kernel size ${KH}x${KW}`);
  const OH = outSize(op, H, KH, SH, PH, DH, !!o.ceilMode);
  const OW = outSize(op, W, KW, SW, PW, DW, !!o.ceilMode);
  return Int32Array.of(N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW);
}

export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  requireFloat('maxPool2d', x);
  const g = poolGeometry('maxPool2d', x.shape, kernel, opts);
  const [N, C, H, W, OH, OW] = g;
  const out = uninitF32(N * C * OH * OW);
  const idx = new Int32Array(out.length);
  if (out.length > 0) backend().maxPool2dForward(x.f32, out, idx, g);
  const y = new Tensor(out, [N, C, OH, OW], 'float32');
  return record('maxPool2d', y, [x], (gy) => [maxPoolScatter(gy, idx, g, [N, C, H, W])]);
}

/** dx = dy scattered to the argmax positions. Differentiable: its gradient gathers at the same positions. */
function maxPoolScatter(dy: Tensor, idx: Int32Array, g: Int32Array, inShape: number[]): Tensor {
  const dx = new Float32Array(inShape.reduce((a, b) => a * b, 1));
  if (dx.length > 0) backend().maxPool2dBackward(dy.f32, idx, dx, g);
  const t = new Tensor(dx, inShape, 'float32');
  return record('maxPool2dBackward', t, [dy], (gg) => [maxPoolGather(gg, idx, g, dy.shape)]);
}

/** out[n,c,i] = x[n,c,idx[n,c,i]]: the linear map whose adjoint is maxPoolScatter (second-order path only). */
function maxPoolGather(x: Tensor, idx: Int32Array, g: Int32Array, outShape: readonly number[]): Tensor {
  const [, , H, W, OH, OW] = g;
  const plane = H * W;
  const oplane = OH * OW;
  const out = new Float32Array(idx.length);
  const xd = x.f32;
  for (let i = 0; i < idx.length; i++) out[i] = xd[Math.floor(i / oplane) * plane + idx[i]];
  const t = new Tensor(out, outShape, 'float32');
  return record('maxPool2dGather', t, [x], (gg) => [maxPoolScatter(gg, idx, g, [...x.shape])]);
}

export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  requireFloat('avgPool2d', x);
  const g = poolGeometry('avgPool2d', x.shape, kernel, { ...opts, dilation: 1 });
  const include = opts.countIncludePad ?? true;
  return avgPoolForward(x, g, include);
}

function avgPoolForward(x: Tensor, g: Int32Array, include: boolean): Tensor {
  const [N, C, , , OH, OW] = g;
  const out = uninitF32(N * C * OH * OW);
  if (out.length > 0) backend().avgPool2dForward(x.f32, out, g, include);
  const y = new Tensor(out, [N, C, OH, OW], 'float32');
  return record('avgPool2d', y, [x], (gy) => [avgPoolBackward(gy, g, include, [...x.shape])]);
}

function avgPoolBackward(dy: Tensor, g: Int32Array, include: boolean, inShape: number[]): Tensor {
  const dx = new Float32Array(inShape.reduce((a, b) => a * b, 1));
  if (dx.length > 0) backend().avgPool2dBackward(dy.f32, dx, g, include);
  const t = new Tensor(dx, inShape, 'float32');
  return record('avgPool2dBackward', t, [dy], (gg) => [avgPoolForward(gg, g, include)]);
}

/** Adaptive average pooling to [OH, OW] (a number means square). */
export function adaptiveAvgPool2d(x: Tensor, size: number | [number, number]): Tensor {
  requireFloat('adaptiveAvgPool2d', x);
  if (x.ndim !== 4) throw new SparsetrainError('ERR_SHAPE', `adaptiveAvgPool2d: input must be 4-d [N,C,H,W], got ${fmt(x.shape)}`);
  const [OH, OW] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(OH) && OH >= 1 && Number.isInteger(OW) && OW >= 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `adaptiveAvgPool2d: output size must be positive integers, got ${size}`);
  }
  const [N, C, H, W] = x.shape;
  if (H === 0 || W === 0) throw new SparsetrainError('ERR_SHAPE', `adaptiveAvgPool2d: input ${fmt(x.shape)} has an empty spatial dimension; expected H and W >= 1`);
  return adaptiveForward(x, N * C, H, W, OH, OW);
}

function adaptiveForward(x: Tensor, P: number, H: number, W: number, OH: number, OW: number): Tensor {
  const out = uninitF32(P * OH * OW);
  if (out.length > 0) backend().adaptiveAvgPool2dForward(x.f32, out, P, H, W, OH, OW);
  const y = new Tensor(out, [x.shape[0], x.shape[1], OH, OW], 'float32');
  return record('adaptiveAvgPool2d', y, [x], (gy) => [adaptiveBackward(gy, P, H, W, OH, OW, [...x.shape])]);
}

function adaptiveBackward(dy: Tensor, P: number, H: number, W: number, OH: number, OW: number, inShape: number[]): Tensor {
  const dx = new Float32Array(P * H * W);
  if (dx.length > 0) backend().adaptiveAvgPool2dBackward(dy.f32, dx, P, H, W, OH, OW);
  const t = new Tensor(dx, inShape, 'float32');
  return record('adaptiveAvgPool2dBackward', t, [dy], (gg) => [adaptiveForward(gg, P, H, W, OH, OW)]);
}
