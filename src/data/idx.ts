/**
 * IDX files (the MNIST format), plain or gzip-compressed.
 *
 * Layout: a 4-byte big-endian magic 0x0000TTDD (TT = element type, DD = number of
 * dimensions), DD big-endian uint32 sizes, then the elements, row-major. Only
 * unsigned bytes (TT = 0x08) are accepted, which is what every MNIST-like set uses:
 * images have magic 0x00000803 ([N, rows, cols]), labels 0x00000801 ([N]).
 * Every error is an ERR_IO SparsetrainError naming the file, what is wrong and what
 * was expected.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { SparsetrainError } from '../errors';

export const IDX_UBYTE = 0x08;
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function ioError(file: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_IO', `${file}: ${msg}`);
}

export interface IdxArray {
  dims: number[];
  /** The elements, a view into the file's bytes (no copy). */
  data: Uint8Array;
}

/** gunzips when the bytes start with the gzip magic 1f 8b, else returns them as they are. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return zlib.gunzipSync(bytes);
    } catch (e) {
      throw ioError(file, `corrupt gzip data (${(e as Error).message}); expected a gzip-compressed IDX file`);
    }
  }
  return bytes;
}

/**
 * Parses an IDX buffer of unsigned bytes. expectedMagic, if given, must match
 * exactly (it fixes the number of dimensions). `file` names the source in errors.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic?: number, what = 'IDX'): IdxArray {
  if (bytes.length < 4) throw ioError(file, `truncated: ${bytes.length} bytes, too short for an IDX header (at least 4 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw ioError(file, `wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} (${what})`);
  }
  if (magic >>> 16 !== 0) throw ioError(file, `wrong magic number ${hex(magic)}, expected 0x0000TTDD (IDX: two zero bytes, type, number of dimensions)`);
  const type = (magic >>> 8) & 0xff;
  if (type !== IDX_UBYTE) {
    throw ioError(file, `element type 0x${type.toString(16).padStart(2, '0')} is not supported, expected 0x08 (unsigned byte)`);
  }
  const ndim = magic & 0xff;
  if (ndim === 0) throw ioError(file, `wrong magic number ${hex(magic)}: 0 dimensions, expected at least 1`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    throw ioError(file, `truncated: ${bytes.length} bytes, the header of a ${ndim}-dimensional IDX file needs ${headerLen}`);
  }
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const have = bytes.length - headerLen;
  if (have !== count) {
    const decl = `${dims.join(' x ')} = ${count} bytes`;
    throw ioError(file, have < count
      ? `truncated: the header declares ${decl} of data but only ${have} follow the ${headerLen}-byte header`
      : `${have - count} unexpected trailing bytes: the header declares ${decl} of data but ${have} follow the ${headerLen}-byte header`);
  }
  return { dims, data: bytes.subarray(headerLen) };
}

function readBytes(file: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw ioError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`);
  }
  return maybeGunzip(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** [count, rows, cols] pixels. */
  pixels: Uint8Array;
}

/** Parses an IDX image buffer (magic 0x00000803). */
export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseIdx(bytes, file, IDX_IMAGES_MAGIC, 'IDX images');
  return { count: dims[0], rows: dims[1], cols: dims[2], pixels: data };
}

/** Parses an IDX label buffer (magic 0x00000801); every label must be below numClasses. */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses: number): Uint8Array {
  const { data } = parseIdx(bytes, file, IDX_LABELS_MAGIC, 'IDX labels');
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw ioError(file, `label ${data[i]} at index ${i} is out of range, expected 0..${numClasses - 1} (${numClasses} classes)`);
    }
  }
  return data;
}

export const readIdxImages = (file: string): IdxImages => parseIdxImages(readBytes(file), file);
export const readIdxLabels = (file: string, numClasses: number): Uint8Array => parseIdxLabels(readBytes(file), file, numClasses);

/** Reads an image file and its label file and checks that they hold the same number of examples. */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses: number): { images: IdxImages; labels: Uint8Array } {
  const images = readIdxImages(imagesFile);
  const labels = readIdxLabels(labelsFile, numClasses);
  if (images.count !== labels.length) {
    throw ioError(labelsFile, `holds ${labels.length} labels but ${imagesFile} holds ${images.count} images; expected the same count`);
  }
  return { images, labels };
}

/** Encodes unsigned bytes of the given shape as an IDX buffer (the inverse of parseIdx). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  if (dims.length < 1 || dims.length > 255) throw new SparsetrainError('ERR_ARGUMENT', `encodeIdx: need 1..255 dimensions, got ${dims.length}`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new SparsetrainError('ERR_ARGUMENT', `encodeIdx: data has ${data.length} bytes, shape [${dims}] needs ${count}`);
  const headerLen = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLen + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerLen);
  return out;
}

/** Writes an IDX file, gzip-compressed when the name ends in .gz. */
export function writeIdx(file: string, dims: number[], data: Uint8Array): void {
  const raw = encodeIdx(dims, data);
  fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(raw) : raw);
}
