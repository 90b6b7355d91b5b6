/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors).
 *
 * Layout: an 8-byte little-endian unsigned header length N, N bytes of UTF-8
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
 * {key: string}}`, then the data region; offsets are relative to the start of
 * the data region, and the tensors must tile it exactly (no gaps, no overlap,
 * nothing left over). All data is little-endian, row-major.
 *
 * The reader copies every tensor into its own freshly allocated typed array,
 * so the result never aliases the file buffer and is always aligned. F16 data
 * is kept as raw bits in a Uint16Array (see toFloat32), BOOL as a Uint8Array.
 * The writer pads the header with spaces to a multiple of 8 bytes and lays the
 * tensors out by element size (largest first), then by name, so the output is
 * deterministic and every tensor is aligned to its element size.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';

export type SafeDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL' | 'F16';
export type SafeData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: SafeData;
}

export interface SafetensorsFile {
  /** In the order of the tensors' data in the file. */
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  size: number;
  /** Typed-array constructor holding this dtype's elements. */
  ctor: { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): SafeData; readonly name: string };
}

const DTYPES: Record<SafeDtype, DtypeInfo> = {
  F64: { size: 8, ctor: Float64Array },
  I64: { size: 8, ctor: BigInt64Array },
  F32: { size: 4, ctor: Float32Array },
  I32: { size: 4, ctor: Int32Array },
  F16: { size: 2, ctor: Uint16Array },
  U8: { size: 1, ctor: Uint8Array },
  BOOL: { size: 1, ctor: Uint8Array },
};

export const SAFE_DTYPES: readonly SafeDtype[] = Object.keys(DTYPES) as SafeDtype[];

/** Header size limit, as in the reference implementation (guards against absurd allocations). */
const MAX_HEADER_BYTES = 100_000_000;

function ioError(source: string, what: string): SparsetrainError {
  return new SparsetrainError('ERR_IO', `safetensors ${source}: ${what}`);
}

function isDtype(s: unknown): s is SafeDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') {
    throw new SparsetrainError('ERR_IO', 'safetensors: this host is big-endian; only little-endian hosts are supported');
  }
}

/** Number of elements of a shape; the shape must be a list of non-negative safe integers. */
function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/**
 * Parses a safetensors file already in memory. `source` names the file in
 * error messages.
 */
export function parseSafetensors(buffer: Uint8Array, source = '<buffer>'): SafetensorsFile {
  assertLittleEndian();
  if (buffer.byteLength < 8) {
    throw ioError(source, `file too short (${buffer.byteLength} bytes); expected at least 8 bytes for the header length`);
  }
  const dv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const n64 = dv.getBigUint64(0, true);
  const available = buffer.byteLength - 8;
  if (n64 > BigInt(available)) {
    throw ioError(source, `header length ${n64} goes beyond the end of the file (${available} bytes after the 8-byte length); the file is truncated or not safetensors`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) {
    throw ioError(source, `header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (n < 2) throw ioError(source, `header length ${n} is too small; expected a JSON object of at least 2 bytes`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(8, 8 + n));
  } catch {
    throw ioError(source, 'header is not valid UTF-8; expected a UTF-8 JSON object');
  }
  if (text[0] !== '{') throw ioError(source, `header does not start with '{'; expected a JSON object`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw ioError(source, `header is not valid JSON (${(e as Error).message}); expected a JSON object`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw ioError(source, 'header is not a JSON object; expected {name: {dtype, shape, data_offsets}}');
  }

  const dataStart = 8 + n;
  const dataLen = buffer.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) {
        throw ioError(source, '__metadata__ is not an object; expected {key: string}');
      }
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') throw ioError(source, `__metadata__["${k}"] is a ${typeof v}; expected a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) {
      throw ioError(source, `entry "${name}" is not an object; expected {dtype, shape, data_offsets}`);
    }
    const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw ioError(source, `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}; expected one of ${SAFE_DTYPES.join(', ')}`);
    }
    if (!isShape(shape)) {
      throw ioError(source, `tensor "${name}" has invalid shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw ioError(source, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}; expected [begin, end], non-negative integers`);
    }
    const [begin, end] = offs as number[];
    if (begin > end) throw ioError(source, `tensor "${name}" has data_offsets [${begin}, ${end}] with begin > end`);
    if (end > dataLen) {
      throw ioError(source, `tensor "${name}" data_offsets [${begin}, ${end}] are out of bounds; the data region has ${dataLen} bytes`);
    }
    const numel = numelOf(shape);
    const want = numel * DTYPES[dtype].size;
    if (!Number.isSafeInteger(numel) || want !== end - begin) {
      throw ioError(source, `tensor "${name}" (${dtype}, shape [${shape.join(', ')}]) needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  // The tensors must tile the data region exactly.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: (typeof entries)[number] | undefined;
  for (const e of sorted) {
    if (prev && e.begin < pos) {
      throw ioError(source, `tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev.name}" [${prev.begin}, ${prev.end}]; expected disjoint ranges`);
    }
    if (e.begin > pos) {
      throw ioError(source, `data region is not contiguous: bytes [${pos}, ${e.begin}) before tensor "${e.name}" belong to no tensor`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    throw ioError(source, `data region is not contiguous: ${dataLen - pos} trailing bytes after the last tensor (tensors cover ${pos} of ${dataLen} bytes)`);
  }

  // The map follows the data order (JSON object order would put integer-like names first).
  const tensors = new Map<string, SafeTensor>();
  for (const e of sorted) {
    const info = DTYPES[e.dtype];
    const bytes = e.end - e.begin;
    const ab = new ArrayBuffer(bytes);
    new Uint8Array(ab).set(buffer.subarray(dataStart + e.begin, dataStart + e.end));
    const data = new info.ctor(ab, 0, bytes / info.size);
    if (e.dtype === 'BOOL') {
      const bad = (data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) throw ioError(source, `tensor "${e.name}" (BOOL) has byte value ${data[bad]} at element ${bad}; expected 0 or 1`);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: [...e.shape], data });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file; throws SparsetrainError ERR_IO naming the file on any problem. */
export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `safetensors ${file}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(buf, file);
}

export type SafeTensorInput = Map<string, SafeTensor> | Record<string, SafeTensor>;

function expectedCtorName(dtype: SafeDtype): string {
  return DTYPES[dtype].ctor.name;
}

/** Serialises tensors and metadata to safetensors bytes (deterministic). */
export function serializeSafetensors(tensors: SafeTensorInput, metadata?: Record<string, string>, source = '<buffer>'): Uint8Array {
  assertLittleEndian();
  const list: [string, SafeTensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === '__metadata__') throw ioError(source, 'tensor name "__metadata__" is reserved');
    if (!t || typeof t !== 'object') throw ioError(source, `tensor "${name}" is not an object; expected {dtype, shape, data}`);
    if (!isDtype(t.dtype)) throw ioError(source, `tensor "${name}" has unknown dtype ${JSON.stringify(t.dtype)}; expected one of ${SAFE_DTYPES.join(', ')}`);
    if (!isShape(t.shape)) throw ioError(source, `tensor "${name}" has invalid shape ${JSON.stringify(t.shape)}; expected an array of non-negative integers`);
    const ctor = DTYPES[t.dtype].ctor;
    if (!(t.data instanceof ctor)) {
      throw ioError(source, `tensor "${name}" (${t.dtype}) data is a ${t.data?.constructor?.name ?? typeof t.data}; expected a ${expectedCtorName(t.dtype)}`);
    }
    const numel = numelOf(t.shape);
    if (t.data.length !== numel) {
      throw ioError(source, `tensor "${name}" shape [${t.shape.join(', ')}] has ${numel} elements but data has ${t.data.length}`);
    }
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw ioError(source, `metadata["${k}"] is a ${typeof v}; expected a string`);
    }
  }
  // Largest element size first, then by name (code-unit order): deterministic and aligned.
  list.sort(([na, a], [nb, b]) => DTYPES[b.dtype].size - DTYPES[a.dtype].size || (na < nb ? -1 : na > nb ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const sortedMeta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) sortedMeta[k] = metadata[k];
    header.__metadata__ = sortedMeta;
  }
  let off = 0;
  for (const [name, t] of list) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(pad, 0x20)]);

  const out = new Uint8Array(8 + headerBytes.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: the bytes go to a temporary file in
 * the same directory, which is fsynced and then renamed over `file`, so a
 * crash leaves either the old file or the complete new one.
 */
export function writeSafetensors(file: string, tensors: SafeTensorInput, metadata?: Record<string, string>): void {
  const bytes = serializeSafetensors(tensors, metadata, file);
  writeFileAtomic(file, bytes);
}

/** Atomic file write: temporary file in the same directory, fsync, rename, fsync the directory. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* may not exist */ }
    throw new SparsetrainError('ERR_IO', `safetensors ${file}: cannot write (${(e as Error).message})`);
  }
  // Persist the rename itself; not every platform lets a directory be fsynced.
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch { /* best effort */ }
}

/** IEEE 754 half-precision bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The tensor's values as a Float32Array. For F32 this is `t.data` itself (no
 * copy); every other dtype is converted into a new array (F64 and I64 round
 * to the nearest float32; F16 is decoded from its bits).
 */
export function toFloat32(t: SafeTensor): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case 'F32':
      return d as Float32Array;
    case 'F16': {
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = halfToFloat((d as Uint16Array)[i]);
      return out;
    }
    case 'I64': {
      const out = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) out[i] = Number((d as BigInt64Array)[i]);
      return out;
    }
    case 'F64':
    case 'I32':
    case 'U8':
    case 'BOOL':
      return Float32Array.from(d as Float64Array | Int32Array | Uint8Array);
    default:
      throw new SparsetrainError('ERR_DTYPE', `toFloat32: unknown dtype ${String((t as SafeTensor).dtype)}`);
  }
}

/**
 * Integer tensor (labels, counters) as an Int32Array: I32 is returned as is,
 * I64 is narrowed with a range check, U8/BOOL are widened. Float dtypes are
 * rejected (ERR_DTYPE); an I64 value outside the int32 range is ERR_ARGUMENT.
 */
export function toInt32(t: SafeTensor, name = 'tensor'): Int32Array {
  const d = t.data;
  switch (t.dtype) {
    case 'I32':
      return d as Int32Array;
    case 'I64': {
      const src = d as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v < -2147483648n || v > 2147483647n) {
          throw new SparsetrainError('ERR_ARGUMENT', `toInt32: ${name} element ${i} = ${v} is outside the int32 range`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'U8':
    case 'BOOL':
      return Int32Array.from(d as Uint8Array);
    default:
      throw new SparsetrainError('ERR_DTYPE', `toInt32: ${name} has dtype ${t.dtype}; expected an integer dtype (I64, I32, U8, BOOL)`);
  }
}
