/**
 * Unit (output channel / neuron) masks, and the effective weight of a layer.
 *
 * A unit mask is a 0/1 vector over the output units of one module (dim 1 of
 * its output: a Linear's features, a Conv2d's or BatchNorm's channels). It is
 * applied by a forward hook that multiplies the module's output by the mask
 * (broadcast over the batch and spatial dimensions), recorded as the autograd
 * op 'unitMask'. A masked unit therefore outputs exactly zero whatever the
 * optimizer does to its weights (momentum and weight decay cannot revive it),
 * and its producer weights and BatchNorm parameters get zero gradients.
 *
 * Where the mask sits: on the unit's "mask point", the last module of its
 * per-channel affine chain — the producing Conv2d/Linear, or the BatchNorm
 * right after it (see graph.ts). Masking after BatchNorm makes the masked
 * model independent of BatchNorm's mode (batch statistics would turn a
 * zeroed convolution output into beta, not zero).
 *
 * The mask is not part of the state dict (PyTorch key names stay those of the
 * dense model); the unit-pruning plug-in saves masks in its own state, and
 * shrink.ts removes masked units physically.
 *
 * Composition with weight masks (src/sparse/mask.ts, weight_orig *
 * weight_mask): the two are independent. A weight mask acts on the weight
 * tensor, a unit mask on the module's output; effectiveWeight() below reads
 * weight_orig * weight_mask when a layer is reparametrised, and shrink.ts
 * slices weight, weight_orig and weight_mask alike.
 */
import { Tensor, HookHandle } from '../../tensor/tensor';
import { record } from '../../autograd/node';
import { noGrad } from '../../autograd/grad-mode';
import { mul } from '../../ops/elementwise';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';

type AnyModule = Module<any[], any>;

interface MaskState {
  mask: Float32Array;
  handle: HookHandle;
}

const MASKS = new WeakMap<AnyModule, MaskState>();

/** y = x * mask over dim 1 (x: [N, C] or [N, C, ...]); differentiable, op name 'unitMask'. */
export function applyUnitMask(x: Tensor, mask: Float32Array): Tensor {
  if (x.ndim < 2 || x.shape[1] !== mask.length) {
    throw new SparsetrainError('ERR_SHAPE', `unitMask: output of shape [${x.shape}] does not have ${mask.length} units in dim 1`);
  }
  const shape = x.shape.map((_, i) => (i === 1 ? mask.length : 1));
  const m = new Tensor(mask, shape, 'float32');
  const y = noGrad(() => mul(x, m));
  return record('unitMask', y, [x], (g) => [mul(g, m)]);
}

/**
 * Sets (or replaces) the unit mask of a module: mask[i] = 0 zeroes output
 * unit i. Values must be 0 or 1. The array is copied.
 */
export function setUnitMask(module: AnyModule, mask: ArrayLike<number>): void {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) throw new SparsetrainError('ERR_ARGUMENT', `setUnitMask: mask values must be 0 or 1, got ${mask[i]} at ${i}`);
  }
  const copy = Float32Array.from(mask);
  const prev = MASKS.get(module);
  if (prev) {
    prev.mask = copy;
    return;
  }
  const state: MaskState = { mask: copy, handle: { remove: () => {} } };
  state.handle = module.registerForwardHook((_m, _in, out) => applyUnitMask(out as Tensor, state.mask));
  MASKS.set(module, state);
}

/** The module's unit mask (a copy), or null when it has none. */
export function getUnitMask(module: AnyModule): Float32Array | null {
  const s = MASKS.get(module);
  return s ? Float32Array.from(s.mask) : null;
}

/** Removes the module's unit mask hook (the module's output is no longer masked). */
export function removeUnitMask(module: AnyModule): void {
  const s = MASKS.get(module);
  if (!s) return;
  s.handle.remove();
  MASKS.delete(module);
}

/** Zeroes units of a module's mask (creating an all-ones mask of `size` units first if there is none). */
export function maskUnits(module: AnyModule, size: number, units: Iterable<number>): void {
  const mask = getUnitMask(module) ?? new Float32Array(size).fill(1);
  if (mask.length !== size) throw new SparsetrainError('ERR_SHAPE', `maskUnits: module has a mask of ${mask.length} units, expected ${size}`);
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u >= size) throw new SparsetrainError('ERR_ARGUMENT', `maskUnits: unit ${u} out of range 0..${size - 1}`);
    mask[u] = 0;
  }
  setUnitMask(module, mask);
}

/** Units still alive (mask 1, or no mask) among `size`. */
export function aliveUnits(module: AnyModule, size: number): boolean[] {
  const m = getUnitMask(module);
  return Array.from({ length: size }, (_, i) => !m || m[i] !== 0);
}

/** A registered parameter or buffer of a module by local name, or null. */
export function localTensor(module: AnyModule, name: string): Tensor | null {
  for (const [k, t] of module.namedParameters('', false)) if (k === name) return t;
  for (const [k, t] of module.namedBuffers('', false)) if (k === name) return t;
  return null;
}

/**
 * The weight a layer applies: weight_orig * weight_mask when it is
 * reparametrised by a weight mask (torch.nn.utils.prune style), else weight.
 * Returned as a plain Float32Array (a fresh array for the product).
 */
export function effectiveWeight(module: AnyModule, name = 'weight'): { data: Float32Array; shape: readonly number[] } {
  const orig = localTensor(module, `${name}_orig`);
  const mask = localTensor(module, `${name}_mask`);
  if (orig && mask) {
    const o = orig.f32;
    const m = mask.data;
    const out = new Float32Array(o.length);
    for (let i = 0; i < o.length; i++) out[i] = o[i] * Number(m[i]);
    return { data: out, shape: orig.shape };
  }
  const w = localTensor(module, name) ?? ((module as unknown as Record<string, unknown>)[name] instanceof Tensor ? (module as unknown as Record<string, Tensor>)[name] : null);
  if (!w) throw new SparsetrainError('ERR_ARGUMENT', `effectiveWeight: ${module.constructor.name} has no ${name} (nor ${name}_orig and ${name}_mask)`);
  return { data: w.f32, shape: w.shape };
}

/**
 * The tensor that a bias change must be written to: bias_orig when the bias is
 * reparametrised, else bias; null when the layer has no bias.
 */
export function biasTarget(module: AnyModule): Tensor | null {
  return localTensor(module, 'bias_orig') ?? localTensor(module, 'bias');
}
