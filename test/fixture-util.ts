/**
 * Loading the PyTorch fixtures of test/fixtures/ (written by
 * scripts/make_fixtures.py; layout and key names in scripts/README.md).
 *
 *   const fx = loadFixture('layers', 'conv2d_3x3');
 *   fx.config.stride; fx.f32('x'); fx.shape('weight'); fx.f32('grad.x');
 */
import * as path from 'node:path';
import { readSafetensors, toFloat32, toInt32, type SafeTensor } from '../src/io/safetensors';

/** test/fixtures, from the compiled dist/test/ as well as from test/. */
export const FIXTURES_DIR = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../test/fixtures' : 'fixtures');

export interface Fixture {
  file: string;
  tensors: Map<string, SafeTensor>;
  /** The parsed `config` metadata: group, case, op, hyper-parameters, shapes. */
  config: any;
  has(name: string): boolean;
  get(name: string): SafeTensor;
  shape(name: string): number[];
  f32(name: string): Float32Array;
  i32(name: string): Int32Array;
  /** Tensor names starting with prefix, in file order, with the prefix removed. */
  keys(prefix: string): string[];
}

export function fixturePath(group: string, name: string): string {
  return path.join(FIXTURES_DIR, group, `${name}.safetensors`);
}

export function loadFixture(group: string, name: string): Fixture {
  const file = fixturePath(group, name);
  const { tensors, metadata } = readSafetensors(file);
  const config = JSON.parse(metadata.config ?? '{}');
  const get = (n: string): SafeTensor => {
    const t = tensors.get(n);
    if (!t) throw new Error(`fixture ${group}/${name} has no tensor "${n}"; it has: ${[...tensors.keys()].join(', ')}`);
    return t;
  };
  return {
    file,
    tensors,
    config,
    has: (n) => tensors.has(n),
    get,
    shape: (n) => get(n).shape,
    f32: (n) => toFloat32(get(n)),
    i32: (n) => toInt32(get(n), n),
    keys: (prefix) => [...tensors.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  };
}
