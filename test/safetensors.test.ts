import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, toFloat32, toInt32, halfToFloat,
  type SafeTensor,
} from '../src/io/safetensors';
import { SparsetrainError } from '../src/errors';
import { assertClose } from './util';
import { fixturePath } from './fixture-util';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'st-safetensors-'));
}

function sample(): Record<string, SafeTensor> {
  return {
    'w.f32': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, 1e-30, -7]) },
    'x.f64': { dtype: 'F64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 0.1]) },
    'n.i64': { dtype: 'I64', shape: [], data: BigInt64Array.from([-9007199254740993n]) },
    'i.i32': { dtype: 'I32', shape: [2, 2], data: Int32Array.from([-2147483648, 2147483647, 0, -1]) },
    'u.u8': { dtype: 'U8', shape: [5], data: Uint8Array.from([0, 1, 127, 128, 255]) },
    'b.bool': { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    'h.f16': { dtype: 'F16', shape: [1, 3], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff]) },
    'empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

function assertSameTensors(got: Map<string, SafeTensor>, want: Record<string, SafeTensor>): void {
  assert.deepEqual([...got.keys()].sort(), Object.keys(want).sort());
  for (const [k, w] of Object.entries(want)) {
    const g = got.get(k)!;
    assert.equal(g.dtype, w.dtype, k);
    assert.deepEqual(g.shape, w.shape, k);
    assert.equal(g.data.constructor, w.data.constructor, k);
    assert.deepEqual(Array.from(g.data as ArrayLike<number | bigint>), Array.from(w.data as ArrayLike<number | bigint>), k);
  }
}

/** A safetensors byte image from a raw header (object or text) and a data region. */
function image(header: unknown, data: Uint8Array = new Uint8Array(0), headerLen?: bigint): Uint8Array {
  const h = header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function throwsIo(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SparsetrainError, `expected SparsetrainError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_IO');
    assert.match(e.message, pattern);
    return true;
  });
}

test('round trip of every dtype, scalars and empty tensors, with metadata', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'a.safetensors');
  writeSafetensors(file, sample(), { note: 'hé', config: '{"a":1}' });
  const back = readSafetensors(file);
  assertSameTensors(back.tensors, sample());
  assert.deepEqual(back.metadata, { config: '{"a":1}', note: 'hé' });
  // From a Map, in another insertion order: the same bytes.
  const m = new Map(Object.entries(sample()).reverse());
  assert.deepEqual(Buffer.from(serializeSafetensors(m, { config: '{"a":1}', note: 'hé' })), fs.readFileSync(file));
  fs.rmSync(dir, { recursive: true });
});

test('writer layout: header padded to 8, tensors aligned and ordered by element size then name', () => {
  const bytes = serializeSafetensors(sample());
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  assert.ok(!('__metadata__' in header), 'no metadata entry when none is given');
  const order = Object.entries(header as Record<string, { dtype: string; data_offsets: number[] }>)
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1]);
  const size: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, U8: 1, BOOL: 1 };
  for (const [name, info] of order) assert.equal((8 + n + info.data_offsets[0]) % size[info.dtype], 0, `${name} aligned`);
  assert.deepEqual(order.map(([k]) => k), ['n.i64', 'x.f64', 'empty', 'i.i32', 'w.f32', 'h.f16', 'b.bool', 'u.u8']);
});

test('parse copies into aligned arrays from an unaligned buffer and does not alias it', () => {
  const bytes = serializeSafetensors(sample());
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const view = shifted.subarray(3);
  const got = parseSafetensors(view);
  assertSameTensors(got.tensors, sample());
  for (const t of got.tensors.values()) assert.notEqual(t.data.buffer, shifted.buffer);
  shifted.fill(0);
  assert.equal((got.tensors.get('w.f32')!.data as Float32Array)[0], 1.5);
});

test('reads a file written by the Python writer (layers/linear): y = x W^T + b', () => {
  const { tensors, metadata } = readSafetensors(fixturePath('layers', 'linear'));
  const cfg = JSON.parse(metadata.config);
  assert.equal(cfg.op, 'linear');
  const x = tensors.get('x')!;
  const w = tensors.get('weight')!;
  const b = tensors.get('bias')!;
  const y = tensors.get('y')!;
  assert.equal(x.dtype, 'F32');
  const [n, k] = x.shape;
  const [m] = w.shape;
  assert.deepEqual(y.shape, [n, m]);
  const want = new Float32Array(n * m);
  const xd = toFloat32(x), wd = toFloat32(w), bd = toFloat32(b);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = bd[j];
      for (let q = 0; q < k; q++) s += xd[i * k + q] * wd[j * k + q];
      want[i * m + j] = s;
    }
  }
  assertClose(toFloat32(y), want, { rtol: 1e-5, atol: 1e-5 });
});

test('reads I64 labels written by Python (layers/cross_entropy_ignore_index)', () => {
  const { tensors } = readSafetensors(fixturePath('layers', 'cross_entropy_ignore_index'));
  const t = tensors.get('target')!;
  assert.equal(t.dtype, 'I64');
  const labels = toInt32(t);
  assert.equal(labels.length, 6);
  assert.equal(labels.filter((v) => v === -100).length, 2);
  assert.ok(labels.every((v) => v === -100 || (v >= 0 && v < 5)));
  const loss = tensors.get('y')!;
  assert.deepEqual(loss.shape, []);
  assert.equal(loss.data.length, 1);
});

test('corrupt files give ERR_IO with what is wrong', () => {
  const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const data8 = new Uint8Array(8);
  throwsIo(() => parseSafetensors(new Uint8Array(5), 'short.st'), /short\.st: file too short \(5 bytes\)/);
  throwsIo(() => parseSafetensors(image({}, new Uint8Array(0), 1000n)), /header length 1000 goes beyond the end of the file/);
  throwsIo(() => parseSafetensors(image({}, new Uint8Array(0), 2n ** 63n)), /goes beyond the end/);
  throwsIo(() => parseSafetensors(image('{"a": ')), /header is not valid JSON/);
  throwsIo(() => parseSafetensors(image('[1, 2]')), /does not start with '\{'/);
  throwsIo(() => parseSafetensors(image('{"a": 1}')), /entry "a" is not an object/);
  throwsIo(() => parseSafetensors(image(Uint8Array.from([0x7b, 0xff, 0x7d]))), /header is not valid UTF-8/);
  throwsIo(() => parseSafetensors(image('{')), /header length 1 is too small/);
  throwsIo(() => parseSafetensors(image({ a: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, data8)), /tensor "a" has unknown dtype "F8"; expected one of/);
  throwsIo(() => parseSafetensors(image({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data8)), /invalid shape/);
  throwsIo(() => parseSafetensors(image({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8)), /invalid data_offsets/);
  throwsIo(() => parseSafetensors(image({ a: f32([3], 0, 8) }, data8)), /tensor "a" \(F32, shape \[3\]\) needs 12 bytes but data_offsets \[0, 8\] span 8 bytes/);
  throwsIo(() => parseSafetensors(image({ a: f32([2], 4, 12) }, data8)), /tensor "a" data_offsets \[4, 12\] are out of bounds; the data region has 8 bytes/);
  throwsIo(() => parseSafetensors(image({ a: f32([1], 8, 4) }, data8)), /begin > end/);
  throwsIo(() => parseSafetensors(image({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, data8)), /tensor "b" data_offsets \[4, 8\] overlap tensor "a" \[0, 8\]/);
  throwsIo(() => parseSafetensors(image({ a: f32([1], 4, 8) }, data8)), /not contiguous: bytes \[0, 4\) before tensor "a"/);
  throwsIo(() => parseSafetensors(image({ a: f32([1], 0, 4) }, data8)), /not contiguous: 4 trailing bytes/);
  throwsIo(() => parseSafetensors(image({ __metadata__: { k: 3 } })), /__metadata__\["k"\] is a number; expected a string/);
  throwsIo(() => parseSafetensors(image({ __metadata__: [] })), /__metadata__ is not an object/);
  throwsIo(() => parseSafetensors(image({ b: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, Uint8Array.from([1, 2]))), /BOOL\) has byte value 2/);
});

test('a corrupt or missing file is named in the error', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'bad.safetensors');
  fs.writeFileSync(file, image({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)));
  throwsIo(() => readSafetensors(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tensor "a"`));
  throwsIo(() => readSafetensors(path.join(dir, 'nope.safetensors')), /nope\.safetensors: cannot read/);
  fs.rmSync(dir, { recursive: true });
});

test('the writer rejects inconsistent tensors', () => {
  throwsIo(() => serializeSafetensors({ a: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }), /shape \[2, 2\] has 4 elements but data has 3/);
  throwsIo(() => serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }), /data is a Float64Array; expected a Float32Array/);
  throwsIo(() => serializeSafetensors({ a: { dtype: 'I64', shape: [2], data: new Int32Array(2) } }), /expected a BigInt64Array/);
  throwsIo(() => serializeSafetensors({ a: { dtype: 'Q4' as 'F32', shape: [1], data: new Float32Array(1) } }), /unknown dtype "Q4"/);
  throwsIo(() => serializeSafetensors({ a: { dtype: 'F32', shape: [1.5], data: new Float32Array(1) } }), /invalid shape/);
  throwsIo(() => serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), /reserved/);
  throwsIo(() => serializeSafetensors({}, { k: 1 as unknown as string }), /metadata\["k"\] is a number/);
});

test('atomic write: no temporary file left, old file replaced, failures leave the old file intact', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'ckpt.safetensors');
  writeSafetensors(file, { a: { dtype: 'F32', shape: [1], data: Float32Array.from([1]) } });
  writeSafetensors(file, { a: { dtype: 'F32', shape: [1], data: Float32Array.from([2]) } });
  assert.deepEqual(fs.readdirSync(dir), ['ckpt.safetensors']);
  assert.equal((readSafetensors(file).tensors.get('a')!.data as Float32Array)[0], 2);
  const before = fs.readFileSync(file);
  // Invalid input fails before anything is written.
  assert.throws(() => writeSafetensors(file, { a: { dtype: 'F32', shape: [2], data: new Float32Array(1) } }));
  // A failing rename (the target is a directory) removes the temporary file.
  const sub = path.join(dir, 'sub.safetensors');
  fs.mkdirSync(path.join(sub, 'x'), { recursive: true });
  throwsIo(() => writeSafetensors(sub, { a: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), /sub\.safetensors: cannot write/);
  throwsIo(() => writeSafetensors(path.join(dir, 'missing', 'f.safetensors'), {}), /cannot write/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ckpt.safetensors', 'sub.safetensors']);
  assert.deepEqual(fs.readFileSync(file), before);
  fs.rmSync(dir, { recursive: true });
});

test('an empty file of tensors round-trips', () => {
  const got = parseSafetensors(serializeSafetensors({}, { a: 'b' }));
  assert.equal(got.tensors.size, 0);
  assert.deepEqual(got.metadata, { a: 'b' });
});

test('toFloat32 converts every dtype; F32 is returned without a copy', () => {
  const s = sample();
  assert.equal(toFloat32(s['w.f32']), s['w.f32'].data);
  assert.deepEqual(Array.from(toFloat32(s['h.f16'])), [1, -2, 65504]);
  assert.deepEqual(Array.from(toFloat32(s['u.u8'])), [0, 1, 127, 128, 255]);
  assert.deepEqual(Array.from(toFloat32(s['b.bool'])), [1, 0, 1]);
  assert.deepEqual(Array.from(toFloat32(s['i.i32'])), [-2147483648, 2147483648, 0, -1]); // float32 rounds 2^31-1 up
  assert.deepEqual(Array.from(toFloat32(s['x.f64'])), Array.from(Float32Array.from([Math.PI, -Infinity, 0.1])));
  assert.deepEqual(Array.from(toFloat32(s['n.i64'])), [-9007199254740992]);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x0400), 2 ** -14);
  assert.equal(halfToFloat(0x8000), -0);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.equal(halfToFloat(0x3555), 0.333251953125);
});

test('toInt32 narrows I64 with a range check and rejects float dtypes', () => {
  const t = (v: bigint[]): SafeTensor => ({ dtype: 'I64', shape: [v.length], data: BigInt64Array.from(v) });
  assert.deepEqual(Array.from(toInt32(t([0n, -100n, 2147483647n, -2147483648n]))), [0, -100, 2147483647, -2147483648]);
  assert.throws(() => toInt32(t([1n, 2147483648n]), 'labels'), (e: unknown) =>
    e instanceof SparsetrainError && e.code === 'ERR_ARGUMENT' && /labels element 1 = 2147483648 is outside the int32 range/.test(e.message));
  assert.throws(() => toInt32({ dtype: 'F32', shape: [1], data: new Float32Array(1) }), (e: unknown) =>
    e instanceof SparsetrainError && e.code === 'ERR_DTYPE');
  const i32: SafeTensor = { dtype: 'I32', shape: [2], data: Int32Array.from([3, 4]) };
  assert.equal(toInt32(i32), i32.data);
  assert.deepEqual(Array.from(toInt32({ dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) })), [0, 255]);
});
