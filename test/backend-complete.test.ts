import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { KERNEL_NAMES, referenceBackend } from '../src/backend';
import { loadAddon, nativeKernelNames } from '../src/backend/native';

test('reference backend implements every kernel', () => {
  const missing = KERNEL_NAMES.filter((k) => typeof (referenceBackend as unknown as Record<string, unknown>)[k] !== 'function');
  assert.deepEqual(missing, []);
});

test('native addon loads and exports every kernel', () => {
  assert.ok(loadAddon(), 'the addon built by npm install must load');
  const have = new Set(nativeKernelNames());
  const missing = KERNEL_NAMES.filter((k) => !have.has(k));
  assert.deepEqual(missing, []);
});
