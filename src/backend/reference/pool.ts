/** Reference (plain TypeScript) kernels: pool. Naive and obviously correct; see ../backend.ts. */
import type { Backend, F32, I32 } from '../backend';
import { POOL_GEOM_LEN } from '../backend';
import { SparsetrainError } from '../../errors';
import { checkF32 } from './conv';

/** Decoded pooling geometry (see POOL_GEOM_LEN in ../backend.ts). */
export interface PoolGeom {
  N: number; C: number; H: number; W: number; OH: number; OW: number; KH: number; KW: number;
  SH: number; SW: number; PH: number; PW: number; DH: number; DW: number;
}

const NAMES = ['N', 'C', 'H', 'W', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW', 'DH', 'DW'] as const;

function fail(kernel: string, msg: string): never {
  throw new SparsetrainError('ERR_SHAPE', `${kernel}: ${msg}`);
}

function checkI32(kernel: string, name: string, a: unknown, need: number): void {
  if (!(a instanceof Int32Array)) throw new SparsetrainError('ERR_DTYPE', `${kernel}: ${name} must be an Int32Array`);
  if (a.length < need) fail(kernel, `${name} has ${a.length} elements, needs at least ${need}`);
}

/**
 * Validates a pooling geometry as the native binding does: OH/OW must be the floor-mode
 * or ceil-mode output size, and every window must contain at least one input cell.
 */
export function poolGeometry(kernel: string, geom: I32): PoolGeom {
  if (!(geom instanceof Int32Array)) throw new SparsetrainError('ERR_DTYPE', `${kernel}: geom must be an Int32Array`);
  if (geom.length !== POOL_GEOM_LEN) fail(kernel, `geom must have ${POOL_GEOM_LEN} entries [${NAMES.join(', ')}], got ${geom.length}`);
  const r = {} as Record<string, number>;
  NAMES.forEach((name, i) => {
    const mayBeZero = name === 'N' || name === 'C' || name === 'PH' || name === 'PW';
    if (geom[i] < 0 || (geom[i] === 0 && !mayBeZero)) fail(kernel, `geom ${name} must be ${mayBeZero ? '>= 0' : '>= 1'}, got ${geom[i]}`);
    r[name] = geom[i];
  });
  const g = r as unknown as PoolGeom;
  if (g.H * g.W > 2147483647) fail(kernel, 'geom: H*W must fit in an int32 index');
  const axis = (inName: string, L: number, K: number, S: number, P: number, D: number, outName: string, OL: number) => {
    const span = D * (K - 1) + 1;
    if (L + 2 * P < span) fail(kernel, `geom: the dilated window spans ${span} cells, more than the padded ${inName} + 2*pad = ${L + 2 * P}`);
    const lo = Math.floor((L + 2 * P - span) / S) + 1;
    const hi = Math.ceil((L + 2 * P - span) / S) + 1;
    if (OL < lo || OL > hi) fail(kernel, `geom: ${outName} = ${OL} is neither the floor-mode (${lo}) nor the ceil-mode (${hi}) output size`);
    for (let o = 0; o < OL; o++) {
      let inside = false;
      for (let k = 0; k < K; k++) {
        const i = o * S - P + k * D;
        if (i >= 0 && i < L) inside = true;
      }
      if (!inside) fail(kernel, `geom: window ${o} along ${inName} covers only padding (pad larger than half the window?)`);
    }
  };
  axis('H', g.H, g.KH, g.SH, g.PH, g.DH, 'OH', g.OH);
  axis('W', g.W, g.KW, g.SW, g.PW, g.DW, 'OW', g.OW);
  return g;
}

/**
 * Calls f(p, o, cells, padCount) for every window: p the plane, o the flat output index
 * within the plane, cells the flat input indices (ih*W + iw) of its in-bounds taps in
 * row-major tap order, padCount the number of taps inside the padded input.
 */
function forEachWindow(g: PoolGeom, f: (p: number, o: number, cells: number[], padCount: number) => void): void {
  for (let p = 0; p < g.N * g.C; p++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++) {
        const cells: number[] = [];
        let padCount = 0;
        for (let kh = 0; kh < g.KH; kh++)
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = oh * g.SH - g.PH + kh * g.DH;
            const iw = ow * g.SW - g.PW + kw * g.DW;
            if (ih >= -g.PH && ih < g.H + g.PH && iw >= -g.PW && iw < g.W + g.PW) padCount++;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) cells.push(ih * g.W + iw);
          }
        f(p, oh * g.OW + ow, cells, padCount);
      }
}

function adaptiveWindow(i: number, L: number, OL: number): [number, number] {
  return [Math.floor((i * L) / OL), Math.ceil(((i + 1) * L) / OL)];
}

function checkAdaptive(kernel: string, P: number, H: number, W: number, OH: number, OW: number): void {
  const sizes = { P, H, W, OH, OW };
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < (name === 'P' ? 0 : 1)) fail(kernel, `${name} must be an integer >= ${name === 'P' ? 0 : 1}, got ${v}`);
  }
}

export const poolKernels: Partial<Backend> = {
  maxPool2dForward(x: F32, y: F32, indices: I32, geom: I32): void {
    const k = 'maxPool2dForward';
    const g = poolGeometry(k, geom);
    checkF32(k, 'x', x, g.N * g.C * g.H * g.W);
    checkF32(k, 'y', y, g.N * g.C * g.OH * g.OW);
    checkI32(k, 'indices', indices, g.N * g.C * g.OH * g.OW);
    const HW = g.H * g.W;
    const OHW = g.OH * g.OW;
    forEachWindow(g, (p, o, cells) => {
      // As PyTorch: a cell replaces the max if greater or NaN; starts at -inf with the first cell's index.
      let m = -Infinity;
      let best = cells[0];
      for (const i of cells) {
        const v = x[p * HW + i];
        if (v > m || Number.isNaN(v)) {
          m = v;
          best = i;
        }
      }
      y[p * OHW + o] = m;
      indices[p * OHW + o] = best;
    });
  },

  maxPool2dBackward(dy: F32, indices: I32, dx: F32, geom: I32): void {
    const k = 'maxPool2dBackward';
    const g = poolGeometry(k, geom);
    checkF32(k, 'dy', dy, g.N * g.C * g.OH * g.OW);
    checkI32(k, 'indices', indices, g.N * g.C * g.OH * g.OW);
    checkF32(k, 'dx', dx, g.N * g.C * g.H * g.W);
    const HW = g.H * g.W;
    const OHW = g.OH * g.OW;
    const acc = new Float64Array(g.N * g.C * HW);
    let bad = 0;
    for (let p = 0; p < g.N * g.C; p++)
      for (let o = 0; o < OHW; o++) {
        const i = indices[p * OHW + o];
        if (i < 0 || i >= HW) bad++;
        else acc[p * HW + i] += dy[p * OHW + o];
      }
    dx.set(acc);
    if (bad) fail(k, `indices: ${bad} entries outside the plane [0, ${HW})`);
  },

  avgPool2dForward(x: F32, y: F32, geom: I32, countIncludePad: boolean): void {
    const k = 'avgPool2dForward';
    const g = poolGeometry(k, geom);
    checkF32(k, 'x', x, g.N * g.C * g.H * g.W);
    checkF32(k, 'y', y, g.N * g.C * g.OH * g.OW);
    const HW = g.H * g.W;
    const OHW = g.OH * g.OW;
    forEachWindow(g, (p, o, cells, padCount) => {
      let s = 0;
      for (const i of cells) s += x[p * HW + i];
      y[p * OHW + o] = s / (countIncludePad ? padCount : cells.length);
    });
  },

  avgPool2dBackward(dy: F32, dx: F32, geom: I32, countIncludePad: boolean): void {
    const k = 'avgPool2dBackward';
    const g = poolGeometry(k, geom);
    checkF32(k, 'dy', dy, g.N * g.C * g.OH * g.OW);
    checkF32(k, 'dx', dx, g.N * g.C * g.H * g.W);
    const HW = g.H * g.W;
    const OHW = g.OH * g.OW;
    const acc = new Float64Array(g.N * g.C * HW);
    forEachWindow(g, (p, o, cells, padCount) => {
      const v = dy[p * OHW + o] / (countIncludePad ? padCount : cells.length);
      for (const i of cells) acc[p * HW + i] += v;
    });
    dx.set(acc);
  },

  adaptiveAvgPool2dForward(x: F32, y: F32, P: number, H: number, W: number, OH: number, OW: number): void {
    const k = 'adaptiveAvgPool2dForward';
    checkAdaptive(k, P, H, W, OH, OW);
    checkF32(k, 'x', x, P * H * W);
    checkF32(k, 'y', y, P * OH * OW);
    for (let p = 0; p < P; p++)
      for (let oh = 0; oh < OH; oh++) {
        const [hs, he] = adaptiveWindow(oh, H, OH);
        for (let ow = 0; ow < OW; ow++) {
          const [ws, we] = adaptiveWindow(ow, W, OW);
          let s = 0;
          for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) s += x[(p * H + ih) * W + iw];
          y[(p * OH + oh) * OW + ow] = s / ((he - hs) * (we - ws));
        }
      }
  },

  adaptiveAvgPool2dBackward(dy: F32, dx: F32, P: number, H: number, W: number, OH: number, OW: number): void {
    const k = 'adaptiveAvgPool2dBackward';
    checkAdaptive(k, P, H, W, OH, OW);
    checkF32(k, 'dy', dy, P * OH * OW);
    checkF32(k, 'dx', dx, P * H * W);
    const acc = new Float64Array(P * H * W);
    for (let p = 0; p < P; p++)
      for (let oh = 0; oh < OH; oh++) {
        const [hs, he] = adaptiveWindow(oh, H, OH);
        for (let ow = 0; ow < OW; ow++) {
          const [ws, we] = adaptiveWindow(ow, W, OW);
          const v = dy[(p * OH + oh) * OW + ow] / ((he - hs) * (we - ws));
          for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) acc[(p * H + ih) * W + iw] += v;
        }
      }
    dx.set(acc);
  },
};
