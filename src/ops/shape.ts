/**
 * Shape ops. Reshapes share the buffer (the data is contiguous); everything
 * else copies with one strided-copy kernel (permute, expand, slice, pad, cat).
 */
import { Tensor } from '../tensor/tensor';
import { allocate, Storage } from '../tensor/dtype';
import { fmt, normAxis, numel, sameShape, Shape, stridesOf } from '../tensor/shape';
import { backend } from '../backend';
import { record } from '../autograd/node';
import { SparsetrainError } from '../errors';
import { sumToShape } from './reduce';

/** dst[dOff + idx.dSt] = src[sOff + idx.sSt] over shape, for any dtype. */
export function copyStrided(src: Storage, sOff: number, sSt: ArrayLike<number>, dst: Storage, dOff: number, dSt: ArrayLike<number>, shape: ArrayLike<number>): void {
  if (numel(Array.from(shape)) === 0) return;
  const ss = Int32Array.from(sSt);
  const ds = Int32Array.from(dSt);
  const sh = Int32Array.from(shape);
  const b = backend();
  if (src instanceof Float32Array) b.stridedCopy(src, sOff, ss, dst as Float32Array, dOff, ds, sh);
  else if (src instanceof Int32Array) b.stridedCopyI32(src, sOff, ss, dst as Int32Array, dOff, ds, sh);
  else b.stridedCopyU8(src, sOff, ss, dst as Uint8Array, dOff, ds, sh);
}

/** Same data, new shape; one dimension may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (infer >= 0) {
    if (out.indexOf(-1, infer + 1) >= 0) throw new SparsetrainError('ERR_SHAPE', `reshape: only one dimension can be -1, got ${fmt(shape)}`);
    const rest = numel(out.filter((_, i) => i !== infer));
    if (rest === 0 || x.numel % rest !== 0) {
      throw new SparsetrainError('ERR_SHAPE', `reshape: cannot reshape ${fmt(x.shape)} (${x.numel} elements) into ${fmt(shape)}`);
    }
    out[infer] = x.numel / rest;
  }
  for (const d of out) {
    if (!Number.isInteger(d) || d < 0) throw new SparsetrainError('ERR_SHAPE', `reshape: invalid target shape ${fmt(shape)}`);
  }
  if (numel(out) !== x.numel) {
    throw new SparsetrainError('ERR_SHAPE', `reshape: cannot reshape ${fmt(x.shape)} (${x.numel} elements) into ${fmt(shape)} (${numel(out)} elements)`);
  }
  if (sameShape(out, x.shape)) return x;
  const y = new Tensor(x.data, out, x.dtype);
  return record('reshape', y, [x], (g) => [reshape(g, x.shape)]);
}

/** Merges dims start..end into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim);
  const e = normAxis('flatten', endDim, x.ndim);
  if (s > e) throw new SparsetrainError('ERR_ARGUMENT', `flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normAxis('squeeze', dim, x.ndim);
  if (x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis('unsqueeze', dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Reorders dimensions: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new SparsetrainError('ERR_ARGUMENT', `permute: got ${dims.length} dims [${dims}] for a ${x.ndim}-d tensor of shape ${fmt(x.shape)}`);
  const p = dims.map((d) => normAxis('permute', d, x.ndim));
  if (new Set(p).size !== p.length) throw new SparsetrainError('ERR_ARGUMENT', `permute: repeated dimension in [${dims}]`);
  if (p.every((d, i) => d === i)) return x;
  const shape = p.map((d) => x.shape[d]);
  const st = stridesOf(x.shape);
  const out = allocate(x.dtype, x.numel);
  copyStrided(x.data, 0, p.map((d) => st[d]), out, 0, stridesOf(shape), shape);
  const y = new Tensor(out, shape, x.dtype);
  const inv = new Array<number>(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return record('permute', y, [x], (g) => [permute(g, inv)]);
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normAxis('transpose', d0, x.ndim);
  const b = normAxis('transpose', d1, x.ndim);
  const p = x.shape.map((_, i) => i);
  p[a] = b;
  p[b] = a;
  return permute(x, p);
}

/** Broadcasts x to shape (size-1 dims repeat; -1 keeps a dim), copying. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) throw new SparsetrainError('ERR_SHAPE', `expand: target ${fmt(shape)} has fewer dimensions than ${fmt(x.shape)}`);
  const off = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  const st = stridesOf(x.shape);
  const src = target.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    if (x.shape[j] === d) return st[j];
    if (x.shape[j] === 1) return 0;
    throw new SparsetrainError('ERR_SHAPE', `expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)} (dimension ${i}: ${x.shape[j]} vs ${d})`);
  });
  if (sameShape(target, x.shape)) return x;
  const out = allocate(x.dtype, numel(target));
  copyStrided(x.data, 0, src, out, 0, stridesOf(target), target);
  const y = new Tensor(out, target, x.dtype);
  return record('expand', y, [x], (g) => [sumToShape(g, x.shape)]);
}

/** Python-style slice bounds for a dim of size n. */
function sliceBounds(n: number, start: number | undefined, end: number | undefined, step: number): [number, number] {
  let s = start ?? 0;
  let e = end ?? n;
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, s), n);
  return [s, Math.ceil((e - s) / step)];
}

/** x[..., start:end:step, ...] along dim (copy). */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  if (x.ndim === 0) throw new SparsetrainError('ERR_SHAPE', 'slice: cannot slice a 0-d tensor (shape [])');
  const d = normAxis('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step < 1) throw new SparsetrainError('ERR_ARGUMENT', `slice: step must be a positive integer, got ${step}`);
  const [s, len] = sliceBounds(x.shape[d], start, end, step);
  const shape = [...x.shape];
  shape[d] = len;
  const st = stridesOf(x.shape);
  const src = [...st];
  src[d] = st[d] * step;
  const out = allocate(x.dtype, numel(shape));
  copyStrided(x.data, s * st[d], src, out, 0, stridesOf(shape), shape);
  const y = new Tensor(out, shape, x.dtype);
  return record('slice', y, [x], (g) => [sliceBackward(g, x.shape, d, s, step)]);
}

/** Gradient of slice: g placed into a zero tensor of the input's shape. Differentiable (its gradient is the slice). */
function sliceBackward(g: Tensor, inShape: Shape, d: number, s: number, step: number): Tensor {
  const st = stridesOf(inShape);
  const dst = [...st];
  dst[d] = st[d] * step;
  const out = new Float32Array(numel(inShape));
  copyStrided(g.data, 0, stridesOf(g.shape), out, s * st[d], dst, g.shape);
  const y = new Tensor(out, inShape, 'float32');
  return record('sliceBackward', y, [g], (gg) => [slice(gg, d, s, s + (g.shape[d] - 1) * step + 1, step)]);
}

/** x[..., index, ...] along dim, removing that dimension. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  if (x.ndim === 0) throw new SparsetrainError('ERR_SHAPE', 'select: cannot index a 0-d tensor (shape [])');
  const d = normAxis('select', dim, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new SparsetrainError('ERR_ARGUMENT', `select: index ${index} is out of range for dimension ${dim} of size ${n}`);
  }
  const i = index < 0 ? index + n : index;
  return squeeze(slice(x, d, i, i + 1), d);
}

/** Concatenation along dim; all other sizes must agree. */
export function cat(xs: Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new SparsetrainError('ERR_ARGUMENT', 'cat: expected a non-empty list of tensors');
  const first = xs[0];
  const zeroD = xs.findIndex((t) => t.ndim === 0);
  if (zeroD >= 0) throw new SparsetrainError('ERR_SHAPE', `cat: tensor ${zeroD} is 0-d (shape []); 0-d tensors cannot be concatenated (use stack)`);
  const d = normAxis('cat', dim, first.ndim);
  for (const [i, t] of xs.entries()) {
    if (t.dtype !== first.dtype) throw new SparsetrainError('ERR_DTYPE', `cat: tensor ${i} has dtype ${t.dtype}, expected ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new SparsetrainError('ERR_SHAPE', `cat: tensor ${i} has shape ${fmt(t.shape)}, incompatible with ${fmt(first.shape)} along dimension ${d}`);
    }
  }
  const shape = [...first.shape];
  shape[d] = xs.reduce((p, t) => p + t.shape[d], 0);
  const out = allocate(first.dtype, numel(shape));
  const ost = stridesOf(shape);
  let pos = 0;
  for (const t of xs) {
    copyStrided(t.data, 0, stridesOf(t.shape), out, pos * ost[d], ost, t.shape);
    pos += t.shape[d];
  }
  const y = new Tensor(out, shape, first.dtype);
  return record('cat', y, xs, (g) => {
    let p = 0;
    return xs.map((t) => {
      const gi = t.requiresGrad ? slice(g, d, p, p + t.shape[d]) : null;
      p += t.shape[d];
      return gi;
    });
  });
}

export function stack(xs: Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new SparsetrainError('ERR_ARGUMENT', 'stack: expected a non-empty list of tensors');
  const d = normAxis('stack', dim, xs[0].ndim + 1);
  return cat(xs.map((t) => unsqueeze(t, d)), d);
}

/** Splits into pieces of `size` along dim (the last may be smaller). */
export function split(x: Tensor, size: number, dim = 0): Tensor[] {
  if (x.ndim === 0) throw new SparsetrainError('ERR_SHAPE', 'split: cannot split a 0-d tensor (shape [])');
  const d = normAxis('split', dim, x.ndim);
  if (!Number.isInteger(size) || size < 1) throw new SparsetrainError('ERR_ARGUMENT', `split: size must be a positive integer, got ${size}`);
  if (x.shape[d] === 0) return [x]; // as torch: one empty piece
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[d]; s += size) out.push(slice(x, d, s, s + size));
  return out;
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (x.ndim === 0) throw new SparsetrainError('ERR_SHAPE', 'chunk: cannot split a 0-d tensor (shape [])');
  const d = normAxis('chunk', dim, x.ndim);
  if (!Number.isInteger(chunks) || chunks < 1) throw new SparsetrainError('ERR_ARGUMENT', `chunk: chunks must be a positive integer, got ${chunks}`);
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

/**
 * Constant padding as torch.nn.functional.pad: pads = [left, right] for the last
 * dim, then [top, bottom] for the one before, and so on. Negative pads are not supported.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new SparsetrainError('ERR_ARGUMENT', `pad: expected an even number of pads, at most 2 per dimension of ${fmt(x.shape)}, got [${pads}]`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new SparsetrainError('ERR_ARGUMENT', `pad: pads must be non-negative integers, got [${pads}]`);
  const shape = [...x.shape];
  const before = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    before[d] = pads[2 * i];
    shape[d] += pads[2 * i] + pads[2 * i + 1];
  }
  const out = allocate(x.dtype, numel(shape));
  if (value !== 0) out.fill(value);
  const ost = stridesOf(shape);
  const off = before.reduce((p, b, i) => p + b * ost[i], 0);
  copyStrided(x.data, 0, stridesOf(x.shape), out, off, ost, x.shape);
  const y = new Tensor(out, shape, x.dtype);
  return record('pad', y, [x], (g) => {
    let r = g;
    for (let d = 0; d < x.ndim; d++) if (shape[d] !== x.shape[d]) r = slice(r, d, before[d], before[d] + x.shape[d]);
    return [r];
  });
}

/** Rows of x (along dim 0) picked by an int32 index tensor: out[i] = x[index[i]]. */
export function indexSelect(x: Tensor, index: Tensor): Tensor {
  if (index.dtype !== 'int32' || index.ndim !== 1) {
    throw new SparsetrainError('ERR_DTYPE', `indexSelect: index must be a 1-d int32 tensor, got ${index.dtype} of shape ${fmt(index.shape)}`);
  }
  if (x.ndim === 0) throw new SparsetrainError('ERR_SHAPE', 'indexSelect: x must have at least one dimension');
  const rows = x.shape[0];
  const rowLen = numel(x.shape.slice(1));
  const idx = index.data as Int32Array;
  const shape = [idx.length, ...x.shape.slice(1)];
  if (x.dtype !== 'float32') {
    const out = allocate(x.dtype, numel(shape));
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (r < 0 || r >= rows) throw new SparsetrainError('ERR_ARGUMENT', `indexSelect: index ${r} at position ${i} is out of range for ${rows} rows`);
      out.set(x.data.subarray(r * rowLen, (r + 1) * rowLen), i * rowLen);
    }
    return new Tensor(out, shape, x.dtype);
  }
  const out = new Float32Array(numel(shape));
  backend().gatherRows(x.f32, rows, rowLen, idx, idx.length, out);
  const y = new Tensor(out, shape, 'float32');
  return record('indexSelect', y, [x], (g) => [indexSelectBackward(g, index, x.shape)]);
}

/** Rows of g scatter-added back to a tensor of shape xShape; differentiable (its gradient gathers the rows again). */
function indexSelectBackward(g: Tensor, index: Tensor, xShape: Shape): Tensor {
  const idx = index.data as Int32Array;
  const rowLen = numel(xShape.slice(1));
  const gx = new Float32Array(numel(xShape));
  backend().scatterAddRows(g.f32, idx, idx.length, rowLen, gx, xShape[0]);
  const t = new Tensor(gx, xShape, 'float32');
  return record('indexSelectBackward', t, [g], (gg) => [indexSelect(gg, index)]);
}
