/**
 * The unit dependency graph of a model (after Torch-Pruning's idea): which
 * layer produces a unit, which modules must be sliced with it, and which
 * layers consume it and how.
 *
 * Derived by tracing, not by per-model tables, so it follows the model's real
 * forward: one forward pass in eval mode on a zero input that requires grad,
 * with forward hooks on every Conv2d, Linear and BatchNorm recording their
 * input and output tensors. From each layer's input (and from the model's
 * output) the autograd tape is walked backwards until it reaches the output
 * of another Conv2d/Linear — the producer. The ops met on the way form the
 * chain from producer to consumer:
 *
 *   - BatchNorm modules right after the producer: sliced with it, part of the
 *     unit's affine output (the unit's mask sits after the last of them);
 *   - per-unit ops that map a constant plane to a constant plane: relu, tanh,
 *     sigmoid, leakyRelu, maxPool2d, adaptiveAvgPool2d, clone, and the unit
 *     mask itself;
 *   - flatten ([N, C, H, W] -> [N, C*H*W]): unit c becomes the block of
 *     consumer columns c*H*W .. (c+1)*H*W - 1.
 *
 * A group of units (one producer's outputs) is prunable only when every path
 * from it ends in a Conv2d/Linear consumer through such ops. Otherwise it is
 * kept, with the reason recorded:
 *   - its units are the model's outputs (the last classifier);
 *   - a residual addition joins them with other layers' units (ResNet, WRN
 *     residual streams): all producers of the sum, every consumer of the
 *     stream and the option-A shortcut's zero-channel padding would have to
 *     change together. We leave these channels alone; the channels inside a
 *     block (conv1 -> bn1 -> relu -> conv2) are prunable;
 *   - any other op on the way (avgPool2d may pad, a reshape that is not a
 *     flatten, channel padding, slicing ...), a BatchNorm that is not right
 *     after the producer, grouped convolutions, a module called twice.
 */
import { Tensor } from '../../tensor/tensor';
import { enableGrad } from '../../autograd/grad-mode';
import { zeros } from '../../ops/creation';
import { SparsetrainError } from '../../errors';
import { Module } from '../../nn/module';
import { Linear } from '../../nn/layers/linear';
import { Conv2d } from '../../nn/layers/conv';
import { BatchNormBase } from '../../nn/layers/batchnorm';

type AnyModule = Module<any[], any>;

export type LayerKind = 'conv' | 'linear';

/** How one consumer layer reads a group's units. */
export interface ConsumerLink {
  /** Module path of the consuming Conv2d/Linear. */
  consumer: string;
  kind: LayerKind;
  /** Ops from the producer's output to the consumer's input, in forward order ('bn:<path>', 'relu', 'maxPool2d', 'flatten', ...). */
  ops: string[];
  /** Consumer input columns (Linear) or channels (Conv2d) per unit: H*W after a flatten, else 1. */
  block: number;
  /** A Conv2d consumer with non-zero (or 'same') padding: a constant input is not a constant contribution at the borders. */
  padded: boolean;
  /** The consumer has a bias to fold constants into. */
  hasBias: boolean;
}

/** The units of one producing layer. */
export interface UnitGroup {
  /** The producer's module path (also the group's name). */
  name: string;
  producer: string;
  kind: LayerKind;
  /** Number of units (output features or channels). */
  size: number;
  /** BatchNorm modules right after the producer, sliced with it. */
  bns: string[];
  /** Module whose output carries the unit mask: the last of bns, or the producer. */
  maskAt: string;
  consumers: ConsumerLink[];
  prunable: boolean;
  /** Why the group is not prunable. */
  reason?: string;
}

export interface UnitGraph {
  /** Shape of one example given to the trace (without the batch dimension). */
  inputShape: number[];
  groups: UnitGroup[];
}

/** Per-unit ops that map a constant plane to a constant plane of the same unit. */
const PER_UNIT_OPS = new Set(['relu', 'tanh', 'sigmoid', 'leakyRelu', 'maxPool2d', 'adaptiveAvgPool2d', 'clone', 'unitMask']);

const isLayer = (m: AnyModule): m is Conv2d | Linear => m instanceof Conv2d || m instanceof Linear;

interface Reach {
  producer: string | null; // null: the model's input
  ops: string[]; // consumer -> producer order
  block: number;
  viaAdd: boolean;
  badOp: string | null;
}

/** The graph of a model for examples of shape inputShape (e.g. [1, 28, 28]). The model's modes are restored. */
export function buildUnitGraph(model: AnyModule, inputShape: readonly number[]): UnitGraph {
  if (!inputShape.length || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `buildUnitGraph: inputShape must be the shape of one example, e.g. [1, 28, 28], got [${inputShape}]`);
  }
  const named = model.namedModules();
  const outputOf = new Map<Tensor, string>();
  const inputOf = new Map<string, Tensor>();
  const calls = new Map<string, number>();
  const handles = named
    .filter(([, m]) => isLayer(m) || m instanceof BatchNormBase)
    .map(([p, m]) => m.registerForwardHook((_m, input, out) => {
      calls.set(p, (calls.get(p) ?? 0) + 1);
      if (out instanceof Tensor) outputOf.set(out, p);
      if (input[0] instanceof Tensor) inputOf.set(p, input[0]);
    }));
  const modes = named.map(([, m]) => m.training);
  const x = zeros([1, ...inputShape]).requiresGrad_(true);
  let y: unknown;
  try {
    model.eval();
    y = enableGrad(() => model.call(x));
  } finally {
    handles.forEach((h) => h.remove());
    named.forEach(([, m], i) => { m.training = modes[i]; });
  }
  if (!(y instanceof Tensor)) throw new SparsetrainError('ERR_ARGUMENT', 'buildUnitGraph: the model must return one tensor');

  const walk = (t: Tensor | null, acc: Reach, out: Reach[], seen: Set<Tensor>): void => {
    if (!t || seen.has(t)) return;
    seen.add(t);
    const p = outputOf.get(t);
    if (p !== undefined) {
      const m = model.getSubmodule(p);
      if (isLayer(m)) {
        out.push({ ...acc, producer: p });
        return;
      }
      walk(inputOf.get(p) ?? null, { ...acc, ops: [...acc.ops, `bn:${p}`] }, out, seen);
      return;
    }
    if (t === x) {
      out.push({ ...acc, producer: null });
      return;
    }
    const node = t.gradFn;
    if (!node) return; // a parameter or constant: no units upstream
    const ins = node.inputs.filter((i): i is Tensor => i !== null);
    if (PER_UNIT_OPS.has(node.name) && ins.length === 1) {
      walk(ins[0], { ...acc, ops: [...acc.ops, node.name] }, out, seen);
    } else if (node.name === 'reshape' && ins.length === 1) {
      const s = ins[0].shape;
      const isFlatten = t.ndim === 2 && s.length >= 2 && s[0] === t.shape[0] && s.slice(1).reduce((a, b) => a * b, 1) === t.shape[1];
      const block = s.slice(2).reduce((a, b) => a * b, 1);
      const ok = isFlatten && acc.block === 1;
      walk(ins[0], { ...acc, ops: [...acc.ops, 'flatten'], block: ok ? block : acc.block, badOp: ok ? acc.badOp : (acc.badOp ?? 'reshape') }, out, seen);
    } else if (node.name === 'add' && ins.length === 2) {
      for (const i of ins) walk(i, { ...acc, ops: [...acc.ops, 'add'], viaAdd: true }, out, seen);
    } else {
      for (const i of ins) walk(i, { ...acc, ops: [...acc.ops, node.name], badOp: acc.badOp ?? node.name }, out, seen);
    }
  };
  const start = (): Reach => ({ producer: null, ops: [], block: 1, viaAdd: false, badOp: null });

  // Reaches per producer: (consumer path or null for the model output, reach).
  const reaches = new Map<string, { consumer: string | null; r: Reach }[]>();
  const note = (consumer: string | null, rs: Reach[]) => {
    for (const r of rs) {
      if (r.producer === null) continue;
      if (!reaches.has(r.producer)) reaches.set(r.producer, []);
      reaches.get(r.producer)!.push({ consumer, r });
    }
  };
  for (const [p, m] of named) {
    if (!isLayer(m) || !inputOf.has(p)) continue;
    const rs: Reach[] = [];
    walk(inputOf.get(p)!, start(), rs, new Set());
    note(p, rs);
  }
  const outRs: Reach[] = [];
  walk(y, start(), outRs, new Set());
  note(null, outRs);

  const groups: UnitGroup[] = [];
  for (const [p, m] of named) {
    if (!isLayer(m) || !calls.has(p)) continue;
    const kind: LayerKind = m instanceof Conv2d ? 'conv' : 'linear';
    const size = m instanceof Conv2d ? m.outChannels : m.outFeatures;
    const rs = reaches.get(p) ?? [];
    const reasons: string[] = [];
    let bns: string[] | null = null;
    const consumers: ConsumerLink[] = [];
    if ((calls.get(p) ?? 0) > 1) reasons.push(`${p} is called more than once per forward`);
    if (m instanceof Conv2d && m.groups !== 1) reasons.push(`${p} is a grouped convolution`);
    if (!rs.length) reasons.push(`the output of ${p} is not used by any layer`);
    for (const { consumer, r } of rs) {
      const ops = [...r.ops].reverse();
      if (consumer === null) {
        reasons.push(r.viaAdd ? `${p}'s units reach the model output through a residual addition` : `${p}'s units are outputs of the model`);
        continue;
      }
      if (r.viaAdd) reasons.push(`${p}'s units are joined with other layers' units by a residual addition on the way to ${consumer}: every producer of the sum, every consumer of the stream and the shortcut's channel padding would have to be pruned together, so they are left alone`);
      if (r.badOp) reasons.push(`op '${r.badOp}' between ${p} and ${consumer} is not a per-unit op that keeps constants constant`);
      const lead: string[] = [];
      let i = 0;
      while (i < ops.length && ops[i].startsWith('bn:')) lead.push(ops[i++].slice(3));
      if (ops.slice(i).some((o) => o.startsWith('bn:'))) reasons.push(`a BatchNorm between ${p} and ${consumer} is not right after ${p}`);
      if (bns === null) bns = lead;
      else if (bns.join() !== lead.join()) reasons.push(`${p} reaches its consumers through different BatchNorms`);
      const cm = model.getSubmodule(consumer) as Conv2d | Linear;
      if ((calls.get(consumer) ?? 0) > 1) reasons.push(`consumer ${consumer} is called more than once per forward`);
      if (cm instanceof Conv2d && cm.groups !== 1) reasons.push(`consumer ${consumer} is a grouped convolution`);
      const width = cm instanceof Conv2d ? cm.inChannels : cm.inFeatures;
      if (!r.viaAdd && !r.badOp && width !== size * r.block) reasons.push(`consumer ${consumer} takes ${width} inputs, not ${size} units x ${r.block}`);
      const padded = cm instanceof Conv2d && (cm.padding === 'same' || (cm.padding !== 'valid' && (cm.padding[0] !== 0 || cm.padding[1] !== 0)));
      consumers.push({ consumer, kind: cm instanceof Conv2d ? 'conv' : 'linear', ops, block: r.block, padded, hasBias: cm.bias !== null });
    }
    for (const b of bns ?? []) {
      if ((calls.get(b) ?? 0) > 1) reasons.push(`BatchNorm ${b} is called more than once per forward`);
      const bn = model.getSubmodule(b) as BatchNormBase;
      if (bn.numFeatures !== size) reasons.push(`BatchNorm ${b} has ${bn.numFeatures} features, ${p} has ${size} units`);
    }
    const uniq = [...new Set(reasons)];
    const b = bns ?? [];
    groups.push({
      name: p, producer: p, kind, size, bns: b, maskAt: b.length ? b[b.length - 1] : p, consumers,
      prunable: uniq.length === 0, ...(uniq.length ? { reason: uniq.join('; ') } : {}),
    });
  }
  return { inputShape: [...inputShape], groups };
}

/** The group of a producer by name; throws with the known names otherwise. */
export function getGroup(graph: UnitGraph, name: string): UnitGroup {
  const g = graph.groups.find((x) => x.name === name);
  if (!g) throw new SparsetrainError('ERR_ARGUMENT', `no unit group "${name}"; groups: ${graph.groups.map((x) => x.name).join(', ')}`);
  return g;
}

/** The prunable groups (optionally only those named). A named group that is not prunable is an error with its reason. */
export function prunableGroups(graph: UnitGraph, names?: readonly string[]): UnitGroup[] {
  if (!names) return graph.groups.filter((g) => g.prunable);
  return names.map((n) => {
    const g = getGroup(graph, n);
    if (!g.prunable) throw new SparsetrainError('ERR_ARGUMENT', `unit group "${n}" cannot be pruned: ${g.reason}`);
    return g;
  });
}

/** Current number of units of each group's producer (after shrinking, sizes change: re-read them). */
export function refreshSizes(model: AnyModule, graph: UnitGraph): void {
  for (const g of graph.groups) {
    const m = model.getSubmodule(g.producer) as Conv2d | Linear;
    g.size = m instanceof Conv2d ? m.outChannels : m.outFeatures;
  }
}
