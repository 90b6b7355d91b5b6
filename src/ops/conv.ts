/**
 * 2-d convolution (cross-correlation, as PyTorch) with stride, padding,
 * dilation and groups. The two backward passes are ops of their own whose
 * gradients are each other and the forward, so double backward is exact.
 */
import { uninitF32 } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { fmt } from '../tensor/shape';
import { backend } from '../backend';
import { record } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { requireFloat } from './elementwise';
import { sum } from './reduce';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

const pair = (v: number | [number, number] | undefined, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;

/** Geometry [N,C,H,W,O,KH,KW,OH,OW,SH,SW,PH,PW,DH,DW,G] after full validation. */
export function convGeometry(op: string, xShape: readonly number[], wShape: readonly number[], o: Conv2dOptions): Int32Array {
  if (xShape.length !== 4) throw new SparsetrainError('ERR_SHAPE', `${op}: input must be 4-d [N,C,H,W], got ${fmt(xShape)}`);
  if (wShape.length !== 4) throw new SparsetrainError('ERR_SHAPE', `${op}: weight must be 4-d [O,C/groups,KH,KW], got ${fmt(wShape)}`);
  const [N, C, H, W] = xShape;
  const [O, Cg, KH, KW] = wShape;
  const [SH, SW] = pair(o.stride, 1);
  const [PH, PW] = pair(o.padding, 0);
  const [DH, DW] = pair(o.dilation, 1);
  const G = o.groups ?? 1;
  for (const [name, v, min] of [['stride', SH, 1], ['stride', SW, 1], ['padding', PH, 0], ['padding', PW, 0], ['dilation', DH, 1], ['dilation', DW, 1], ['groups', G, 1]] as [string, number, number][]) {
    if (!Number.isInteger(v) || v < min) throw new SparsetrainError('ERR_ARGUMENT', `${op}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (C % G !== 0 || O % G !== 0) throw new SparsetrainError('ERR_SHAPE', `${op}: input channels ${C} and output channels ${O} must be divisible by groups ${G}`);
  if (Cg !== C / G) throw new SparsetrainError('ERR_SHAPE', `${op}: input ${fmt(xShape)} has ${C} channels but weight ${fmt(wShape)} expects ${Cg * G} (${Cg} per group x ${G} groups)`);
  const OH = Math.floor((H + 2 * PH - DH * (KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - DW * (KW - 1) - 1) / SW) + 1;
  if (OH < 1 || OW < 1 || KH < 1 || KW < 1) {
    throw new SparsetrainError('ERR_SHAPE', `${op}: kernel ${KH}x${KW} (dilation ${DH}x${DW}) does not fit input ${H}x${W} with padding ${PH}x${PW}`);
  }
  return Int32Array.of(N, C, H, W, O, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, G);
}

/** y = conv2d(x, w) + b; x [N,C,H,W], w [O,C/G,KH,KW], b [O] or null -> y [N,O,OH,OW]. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  requireFloat('conv2d', x);
  requireFloat('conv2d', w);
  const g = convGeometry('conv2d', x.shape, w.shape, opts);
  if (b) requireFloat('conv2d', b);
  if (b && (b.ndim !== 1 || b.shape[0] !== g[4])) throw new SparsetrainError('ERR_SHAPE', `conv2d: bias must be [${g[4]}], got ${fmt(b.shape)}`);
  return convForward(x, w, b, g);
}

function convForward(x: Tensor, w: Tensor, b: Tensor | null, g: Int32Array): Tensor {
  const [N, , , , O, , , OH, OW] = g;
  const out = uninitF32(N * O * OH * OW);
  if (out.length > 0) backend().conv2dForward(x.f32, w.f32, b ? b.f32 : null, out, g);
  const y = new Tensor(out, [N, O, OH, OW], 'float32');
  return record('conv2d', y, [x, w, b], (gy) => [
    x.requiresGrad ? convInputGrad(gy, w, g) : null,
    w.requiresGrad ? convWeightGrad(gy, x, g) : null,
    b && b.requiresGrad ? sum(gy, [0, 2, 3]) : null,
  ]);
}

/** Gradient w.r.t. the input: dx [N,C,H,W] from dy [N,O,OH,OW] and w. */
export function convInputGrad(dy: Tensor, w: Tensor, g: Int32Array): Tensor {
  const [N, C, H, W] = g;
  const out = uninitF32(N * C * H * W);
  if (out.length > 0) backend().conv2dBackwardInput(dy.f32, w.f32, out, g);
  const dx = new Tensor(out, [N, C, H, W], 'float32');
  return record('conv2dBackwardInput', dx, [dy, w], (gg) => [
    dy.requiresGrad ? convForward(gg, w, null, g) : null,
    w.requiresGrad ? convWeightGrad(dy, gg, g) : null,
  ]);
}

/** Gradient w.r.t. the weight: dw [O,C/G,KH,KW] from dy and the input x. */
export function convWeightGrad(dy: Tensor, x: Tensor, g: Int32Array): Tensor {
  const [, C, , , O, KH, KW, , , , , , , , , G] = g;
  const out = uninitF32(O * (C / G) * KH * KW);
  if (out.length > 0) backend().conv2dBackwardWeight(dy.f32, x.f32, out, null, g);
  const dw = new Tensor(out, [O, C / G, KH, KW], 'float32');
  return record('conv2dBackwardWeight', dw, [dy, x], (gg) => [
    dy.requiresGrad ? convForward(x, gg, null, g) : null,
    x.requiresGrad ? convInputGrad(dy, gg, g) : null,
  ]);
}
