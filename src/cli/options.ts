/** Parsers for option values, with errors naming the flag and what is expected. */
import { SparsetrainError } from '../errors';

export function intOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`}, got '${v}'`);
    }
    return n;
  };
}

export function floatOption(flag: string, min = -Infinity, max = Infinity): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected a number in [${min}, ${max}], got '${v}'`);
    }
    return n;
  };
}
