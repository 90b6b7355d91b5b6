// uninitF32 / allocateUninit: the buffer is the tensor's own (offset 0, exact length), small and
// large, so nothing else can alias it (Node's shared Buffer pool must never be used).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { uninitF32, allocateUninit } from '../src/tensor/dtype';

test('uninitF32 returns an unshared buffer of exactly n floats, small or large', () => {
  for (const n of [0, 1, 7, 1023, 4095, 4096, 4097, 100000]) {
    const a = uninitF32(n);
    assert.ok(a instanceof Float32Array);
    assert.equal(a.length, n);
    assert.equal(a.byteOffset, 0);
    assert.equal(a.buffer.byteLength, 4 * n);
    const b = uninitF32(n);
    if (n > 0) assert.notEqual(a.buffer, b.buffer);
  }
});

test('allocateUninit: float32 from uninitF32, other dtypes zeroed', () => {
  assert.ok(allocateUninit('float32', 5000) instanceof Float32Array);
  const i = allocateUninit('int32', 5000);
  assert.ok(i instanceof Int32Array && i.every((v) => v === 0));
  const u = allocateUninit('bool', 70000);
  assert.ok(u instanceof Uint8Array && u.length === 70000 && u.every((v) => v === 0));
});
