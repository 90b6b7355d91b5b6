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

export function dtypeOf(data: Storage, bool = false): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  return bool ? 'bool' : 'uint8';
}
