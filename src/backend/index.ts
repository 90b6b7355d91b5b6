/**
 * Backend selection. The native addon is used when it loads; otherwise the
 * reference backend, with one warning. SPARSETRAIN_BACKEND=reference forces
 * the reference backend (tests use both).
 */
import type { Backend } from './backend';
import { referenceBackend } from './reference';
import { createNativeBackend, addonLoadError, loadAddon } from './native';
import { SparsetrainError } from '../errors';

export * from './backend';
export { referenceBackend };

let current: Backend | null = null;
let native: Backend | null | undefined;

function nativeBackend(): Backend | null {
  if (native === undefined) native = createNativeBackend();
  return native;
}

/** The backend ops run on. */
export function backend(): Backend {
  if (current) return current;
  const want = process.env.SPARSETRAIN_BACKEND;
  if (want === 'reference') {
    current = referenceBackend;
  } else {
    const n = nativeBackend();
    if (n) current = n;
    else {
      if (want === 'native') throw new SparsetrainError('ERR_NATIVE', `SPARSETRAIN_BACKEND=native but the addon failed to load: ${addonLoadError()?.message}`);
      process.emitWarning(`sparsetrain: native addon not available (${addonLoadError()?.message}); using the slow reference backend. Run \`npm install\` to build it.`);
      current = referenceBackend;
    }
  }
  return current;
}

/** Switch backend: 'native' or 'reference'. */
export function setBackend(name: 'native' | 'reference'): void {
  if (name === 'reference') current = referenceBackend;
  else {
    const n = nativeBackend();
    if (!n) throw new SparsetrainError('ERR_NATIVE', `setBackend('native'): the addon failed to load: ${addonLoadError()?.message}`);
    current = n;
  }
}

export function nativeAvailable(): boolean {
  return loadAddon() !== null;
}

/** Threads used by native kernels (SPARSETRAIN_THREADS, else the core count). */
export function getThreads(): number {
  return backend().getThreads();
}
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new SparsetrainError('ERR_ARGUMENT', `setThreads: thread count must be a positive integer, got ${n}`);
  nativeBackend()?.setThreads(n);
  referenceBackend.setThreads(n);
}
