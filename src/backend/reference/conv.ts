/** Reference (plain TypeScript) kernels: conv. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32 } from '../backend';
import { CONV_GEOM_LEN } from '../backend';
import { SparsetrainError } from '../../errors';

/** Decoded convolution geometry (see CONV_GEOM_LEN in ../backend.ts). */
export interface ConvGeom {
  N: number; C: number; H: number; W: number; O: number; KH: number; KW: number; OH: number; OW: number;
  SH: number; SW: number; PH: number; PW: number; DH: number; DW: number; G: number;
}

const NAMES = ['N', 'C', 'H', 'W', 'O', 'KH', 'KW', 'OH', 'OW', 'SH', 'SW', 'PH', 'PW', 'DH', 'DW', 'G'] as const;

function fail(kernel: string, msg: string): never {
  throw new SparsetrainError('ERR_SHAPE', `${kernel}: ${msg}`);
}

/** A Float32Array (or, when nullable, null) with at least `need` elements. */
export function checkF32(kernel: string, name: string, a: unknown, need: number, nullable = false): void {
  if (a === null && nullable) return;
  if (!(a instanceof Float32Array)) throw new SparsetrainError('ERR_DTYPE', `${kernel}: ${name} must be a Float32Array`);
  if (a.length < need) fail(kernel, `${name} has ${a.length} elements, needs at least ${need}`);
}

/** Validates a conv geometry exactly as the native binding does; returns it decoded. */
export function convGeometry(kernel: string, geom: I32): ConvGeom {
  if (!(geom instanceof Int32Array)) throw new SparsetrainError('ERR_DTYPE', `${kernel}: geom must be an Int32Array`);
  if (geom.length !== CONV_GEOM_LEN) fail(kernel, `geom must have ${CONV_GEOM_LEN} entries [${NAMES.join(', ')}], got ${geom.length}`);
  const g = {} as Record<string, number>;
  NAMES.forEach((name, i) => {
    const mayBeZero = name === 'N' || name === 'PH' || name === 'PW';
    if (geom[i] < 0 || (geom[i] === 0 && !mayBeZero)) fail(kernel, `geom ${name} must be ${mayBeZero ? '>= 0' : '>= 1'}, got ${geom[i]}`);
    g[name] = geom[i];
  });
  const c = g as unknown as ConvGeom;
  if (c.C % c.G !== 0) fail(kernel, `geom: C = ${c.C} is not divisible by G = ${c.G}`);
  if (c.O % c.G !== 0) fail(kernel, `geom: O = ${c.O} is not divisible by G = ${c.G}`);
  const axis = (inName: string, L: number, K: number, S: number, P: number, D: number, outName: string, OL: number) => {
    const span = D * (K - 1) + 1;
    if (L + 2 * P < span) fail(kernel, `geom: the dilated kernel spans ${span} cells, more than the padded ${inName} + 2*pad = ${L + 2 * P}`);
    const want = Math.floor((L + 2 * P - span) / S) + 1;
    if (OL !== want) fail(kernel, `geom: ${outName} = ${OL} but (${inName} + 2*pad - dilation*(kernel-1) - 1)/stride + 1 = ${want}`);
  };
  axis('H', c.H, c.KH, c.SH, c.PH, c.DH, 'OH', c.OH);
  axis('W', c.W, c.KW, c.SW, c.PW, c.DW, 'OW', c.OW);
  return c;
}

const xLen = (g: ConvGeom) => g.N * g.C * g.H * g.W;
const yLen = (g: ConvGeom) => g.N * g.O * g.OH * g.OW;
const wLen = (g: ConvGeom) => g.O * (g.C / g.G) * g.KH * g.KW;

/**
 * Calls f(xi, wi, yi) for every (input cell, weight, output cell) triple of the convolution
 * that touches an input cell (padding contributes nothing): the 7-deep loop over
 * n, o, oh, ow, c, kh, kw shared by the forward and both backward kernels.
 */
function forEachTap(g: ConvGeom, f: (xi: number, wi: number, yi: number) => void): void {
  const Cg = g.C / g.G;
  const Og = g.O / g.G;
  for (let n = 0; n < g.N; n++)
    for (let o = 0; o < g.O; o++) {
      const grp = Math.floor(o / Og);
      for (let oh = 0; oh < g.OH; oh++)
        for (let ow = 0; ow < g.OW; ow++) {
          const yi = ((n * g.O + o) * g.OH + oh) * g.OW + ow;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.SH - g.PH + kh * g.DH;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.SW - g.PW + kw * g.DW;
                if (iw < 0 || iw >= g.W) continue;
                const xi = ((n * g.C + grp * Cg + c) * g.H + ih) * g.W + iw;
                const wi = ((o * Cg + c) * g.KH + kh) * g.KW + kw;
                f(xi, wi, yi);
              }
            }
        }
    }
}

export const convKernels: Partial<Backend> = {
  conv2dForward(x: F32, w: F32, bias: F32 | null, y: F32, geom: I32): void {
    const k = 'conv2dForward';
    const g = convGeometry(k, geom);
    checkF32(k, 'x', x, xLen(g));
    checkF32(k, 'w', w, wLen(g));
    checkF32(k, 'bias', bias, g.O, true);
    checkF32(k, 'y', y, yLen(g));
    const acc = new Float64Array(yLen(g));
    forEachTap(g, (xi, wi, yi) => {
      acc[yi] += x[xi] * w[wi];
    });
    const plane = g.OH * g.OW;
    for (let i = 0; i < acc.length; i++) y[i] = acc[i] + (bias ? bias[Math.floor(i / plane) % g.O] : 0);
  },

  conv2dBackwardInput(dy: F32, w: F32, dx: F32, geom: I32): void {
    const k = 'conv2dBackwardInput';
    const g = convGeometry(k, geom);
    checkF32(k, 'dy', dy, yLen(g));
    checkF32(k, 'w', w, wLen(g));
    checkF32(k, 'dx', dx, xLen(g));
    const acc = new Float64Array(xLen(g));
    forEachTap(g, (xi, wi, yi) => {
      acc[xi] += dy[yi] * w[wi];
    });
    dx.set(acc);
  },

  conv2dBackwardWeight(dy: F32, x: F32, dw: F32, dbias: F32 | null, geom: I32): void {
    const k = 'conv2dBackwardWeight';
    const g = convGeometry(k, geom);
    checkF32(k, 'dy', dy, yLen(g));
    checkF32(k, 'x', x, xLen(g));
    checkF32(k, 'dw', dw, wLen(g));
    checkF32(k, 'dbias', dbias, g.O, true);
    const acc = new Float64Array(wLen(g));
    forEachTap(g, (xi, wi, yi) => {
      acc[wi] += dy[yi] * x[xi];
    });
    dw.set(acc);
    if (dbias) {
      const plane = g.OH * g.OW;
      for (let o = 0; o < g.O; o++) {
        let s = 0;
        for (let n = 0; n < g.N; n++) for (let p = 0; p < plane; p++) s += dy[(n * g.O + o) * plane + p];
        dbias[o] = s;
      }
    }
  },
};
