/**
 * The native backend: the C++ addon built by `npm install` (build/Release).
 * Kernels the addon does not export are taken from the reference backend;
 * test/backend-complete.test.ts asserts that none is missing.
 */
import * as path from 'path';
import type { Backend } from './backend';
import { KERNEL_NAMES } from './backend';
import { referenceBackend } from './reference';

export interface NativeAddon {
  getThreads(): number;
  setThreads(n: number): void;
  getIsa(): string;
  setIsa(isa: string): void;
  [kernel: string]: unknown;
}

export const ADDON_PATH = path.join(__dirname, '..', '..', '..', 'build', 'Release', 'sparsetrain_native.node');

let addon: NativeAddon | null | undefined;
let loadError: Error | null = null;

/** The addon, or null when it is not built or fails to load (loadError says why). */
export function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  // libgomp's idle workers spin ~10 ms after each parallel region by default; when
  // another process holds a core, that starves the late thread and two-thread
  // training ran 5x slower in our measurements (lenet5: 470 vs 2,700 samples/s under
  // load). 10k spins keep workers hot between back-to-back kernels and yield soon
  // after. Read by libgomp when the addon loads it; a user's own setting wins.
  if (process.env.GOMP_SPINCOUNT === undefined) process.env.GOMP_SPINCOUNT = '10000';
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    addon = require(ADDON_PATH) as NativeAddon;
  } catch (e) {
    loadError = e as Error;
    addon = null;
  }
  return addon;
}

export function addonLoadError(): Error | null {
  return loadError;
}

/** Kernel names the addon exports itself (the rest fall back to reference). */
export function nativeKernelNames(): string[] {
  const a = loadAddon();
  if (!a) return [];
  return KERNEL_NAMES.filter((k) => typeof a[k] === 'function');
}

export function createNativeBackend(): Backend | null {
  const a = loadAddon();
  if (!a) return null;
  const b: Record<string, unknown> = { ...referenceBackend, name: 'native' };
  b.getThreads = () => a.getThreads();
  b.setThreads = (n: number) => a.setThreads(n);
  for (const k of KERNEL_NAMES) if (typeof a[k] === 'function') b[k] = a[k];
  return b as unknown as Backend;
}
