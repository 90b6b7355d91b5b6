/**
 * The one error class of sparsetrain. `code` is a stable machine-readable
 * identifier; the message names the operation, the shapes or the file, and
 * what would be right.
 */
export type ErrorCode =
  | 'ERR_SHAPE' // shapes do not fit the op
  | 'ERR_DTYPE' // wrong element type
  | 'ERR_ARGUMENT' // a value out of range or of the wrong kind
  | 'ERR_AUTOGRAD' // misuse of backward / grad
  | 'ERR_IO' // a file missing, corrupt or of the wrong format
  | 'ERR_NATIVE' // the native addon rejected its input
  | 'ERR_RUN' // a training run of an experiment did not complete (diverged, interrupted)
  | 'ERR_SPARSETRAIN'; // thrown by the native addon's own checks

export class SparsetrainError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SparsetrainError';
    this.code = code;
  }
}

/** Throws a SparsetrainError with the given code when cond is false. */
export function check(cond: unknown, code: ErrorCode, message: string | (() => string)): asserts cond {
  if (!cond) throw new SparsetrainError(code, typeof message === 'string' ? message : message());
}
