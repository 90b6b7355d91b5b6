/**
 * Loading physically shrunk weights: a model whose units were removed
 * (sparse/units shrink.ts, `sparsetrain prune --shrink`, --prune-units,
 * --remove-units-fnz) is saved with smaller tensors under the zoo model's key
 * names. A freshly built zoo model takes the widths of such weights here,
 * before they are loaded: the unit graph of the model is traced, and each
 * prunable layer keeps as many units as the saved `<layer>.weight` (or
 * `.weight_orig`) has rows (units/shrink.ts resizeToStateDict).
 *
 * Decisions: nothing is traced when every saved shape already fits (the usual
 * case costs one comparison per key); a layer that is not prunable (the
 * classifier, a residual stream) keeps its width, so a file that differs
 * there still fails with the strict loader's error naming the key. Call it
 * before an optimizer is built over model.parameters(): resizing replaces
 * the parameter tensors.
 */
import * as fs from 'node:fs';
import { SparsetrainError } from '../errors';
import type { Module, StateDictValue } from '../nn/module';
import { readSafetensors } from '../io/safetensors';
import { buildUnitGraph } from '../sparse/units/graph';
import { resizeToStateDict } from '../sparse/units/shrink';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

/** The tensor shapes of a safetensors file (null when it cannot be read: the loader reports that). */
export function fileShapes(file: string): Map<string, readonly number[]> | null {
  if (!fs.existsSync(file)) return null;
  try {
    return new Map([...readSafetensors(file).tensors].map(([k, t]) => [k, t.shape]));
  } catch {
    return null;
  }
}

/**
 * Resizes `model` (built at full width) to the unit counts of `shapes` when
 * they are smaller; returns the layers resized (empty when nothing changed).
 * `source` names the file or flag in errors; `inputShape` is one example's
 * [C, H, W].
 */
export function fitWidths(
  model: AnyModule, shapes: Map<string, readonly number[] | { shape: readonly number[] }> | null, inputShape: readonly number[], source: string,
): { name: string; before: number; after: number }[] {
  if (!shapes) return [];
  const shapeOf = (v: readonly number[] | { shape: readonly number[] }): readonly number[] => (Array.isArray(v) ? v : (v as { shape: readonly number[] }).shape);
  const own = model.stateDict();
  // Only a file with the model's keys (a pruned pair <k>_orig/<k>_mask for <k>) whose shapes are no larger is a shrunk
  // version of it; anything else is left to the strict loader's error, which names the keys.
  const ownShape = (k: string) => own.get(k) ?? own.get(k.replace(/_(orig|mask)$/, ''));
  const plain = (k: string) => k.replace(/_(orig|mask)$/, '');
  const fileKeys = new Set([...shapes.keys()].map(plain));
  const ownKeys = new Set([...own.keys()].map(plain));
  if (fileKeys.size !== ownKeys.size || [...fileKeys].some((k) => !ownKeys.has(k))) return [];
  let differs = false;
  for (const [k, v] of shapes) {
    const t = ownShape(k);
    const s = shapeOf(v);
    if (!t || t.shape.length !== s.length || t.shape.some((d, i) => s[i] > d)) return [];
    if (t.shape.some((d, i) => d !== s[i])) differs = true;
  }
  if (!differs) return [];
  const state = new Map<string, StateDictValue>();
  for (const [k, v] of shapes) state.set(k, { shape: shapeOf(v), data: [] });
  try {
    return resizeToStateDict(model, buildUnitGraph(model, inputShape), state);
  } catch (e) {
    throw new SparsetrainError('ERR_SHAPE', `${source}: ${(e as Error).message.replace(/^resizeToStateDict: /, '')}`);
  }
}
