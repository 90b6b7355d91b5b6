/** Element types. float32 for data; int32 for labels and indices; uint8 and bool (0/1 bytes) for masks. */
export type DType = 'float32' | 'int32' | 'uint8' | 'bool';
export type Storage = Float32Array | Int32Array | Uint8Array;

export function allocate(dtype: DType, n: number): Storage {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int32':
      return new Int32Array(n);
    default:
      return new Uint8Array(n);
  }
}

/**
 * Buffers of at least this many bytes come from Buffer.allocUnsafe (malloc, not
 * zero-filled, never from Node's shared pool, which serves only requests under
 * 4 KiB): zero-filling fresh activations and gradients cost about 4% of a
 * ResNet-20 training step. Smaller ones are ordinary zeroed typed arrays.
 */
const UNINIT_MIN_BYTES = 16384;

/**
 * A float32 buffer of n elements with unspecified contents, for outputs that the
 * kernel called next overwrites entirely (every kernel and its reference twin).
 * The ArrayBuffer is the buffer's own (byteOffset 0, exactly n elements).
 */
export function uninitF32(n: number): Float32Array {
  if (n * 4 < UNINIT_MIN_BYTES) return new Float32Array(n);
  const b = Buffer.allocUnsafe(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}

/** As allocate, but float32 buffers may hold garbage (see uninitF32): only for outputs a kernel fully overwrites. */
export function allocateUninit(dtype: DType, n: number): Storage {
  return dtype === 'float32' ? uninitF32(n) : allocate(dtype, n);
}

export function dtypeOf(data: Storage, bool = false): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return bool ? 'bool' : 'uint8';
}
