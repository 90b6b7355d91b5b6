/**
 * Reverse-mode differentiation over the tape. Nodes are visited in reverse
 * creation order (a node is always created after the nodes of its inputs),
 * so every gradient contribution to a tensor has arrived before its node runs.
 *
 * backward(): accumulates into `.grad` of leaves (and of tensors that called
 * retainGrad()). grad(): returns the gradients of chosen tensors and touches
 * no `.grad`. With createGraph the backward functions record their own graph,
 * so the results can be differentiated again (Hessian-vector products).
 */
import type { Tensor } from '../tensor/tensor';
import type { Node } from './node';
import { withGradMode } from './grad-mode';
import { SparsetrainError } from '../errors';
import { fmt, sameShape } from '../tensor/shape';
import * as E from '../ops/elementwise';
import { backend } from '../backend';

export interface BackwardOptions {
  createGraph?: boolean;
  /** Accepted for PyTorch compatibility; saved tensors are kept until garbage-collected. */
  retainGraph?: boolean;
}

function collectNodes(roots: Tensor[]): Node[] {
  const seen = new Set<Node>();
  const stack: Node[] = [];
  for (const r of roots) if (r.gradFn) stack.push(r.gradFn);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) if (t && t.gradFn && !seen.has(t.gradFn)) stack.push(t.gradFn);
  }
  return [...seen].sort((a, b) => b.seq - a.seq);
}

function applyHooks(t: Tensor, g: Tensor): Tensor {
  for (const h of t.hooks) {
    const r = h(g);
    if (r !== undefined && r !== null) {
      if (!sameShape(r.shape, g.shape)) {
        throw new SparsetrainError('ERR_AUTOGRAD', `gradient hook returned shape ${fmt(r.shape)}, expected ${fmt(g.shape)}`);
      }
      g = r;
    }
  }
  return g;
}

function checkRoot(root: Tensor, grad: Tensor | undefined, what: string): Tensor {
  if (!root.requiresGrad) {
    throw new SparsetrainError('ERR_AUTOGRAD', `${what}: tensor of shape ${fmt(root.shape)} does not require grad and has no grad_fn`);
  }
  if (grad === undefined) {
    if (root.numel !== 1) {
      throw new SparsetrainError('ERR_AUTOGRAD', `${what}: grad can be implicitly created only for scalar outputs, got shape ${fmt(root.shape)}; pass a gradient`);
    }
    return E.onesLikeTensor(root);
  }
  if (!sameShape(grad.shape, root.shape)) {
    throw new SparsetrainError('ERR_AUTOGRAD', `${what}: gradient shape ${fmt(grad.shape)} does not match output shape ${fmt(root.shape)}`);
  }
  return grad;
}

/**
 * Core traversal. Calls `onGrad(t, g)` with the total gradient of every tensor
 * that gets one (after hooks), non-leaves before their node runs, leaves last.
 */
function traverse(roots: Tensor[], rootGrads: Tensor[], createGraph: boolean, onGrad: (t: Tensor, g: Tensor) => void): void {
  withGradMode(createGraph, () => {
    const pending = new Map<Tensor, Tensor>();
    const add = (t: Tensor, g: Tensor) => {
      const prev = pending.get(t);
      pending.set(t, prev ? E.add(prev, g) : g);
    };
    roots.forEach((r, i) => add(r, rootGrads[i]));
    for (const node of collectNodes(roots)) {
      const out = node.output!;
      let g = pending.get(out);
      if (!g) continue;
      pending.delete(out);
      g = applyHooks(out, g);
      onGrad(out, g);
      const grads = node.backward(g);
      node.inputs.forEach((t, i) => {
        const gi = grads[i];
        if (!t || !gi) return;
        if (!sameShape(gi.shape, t.shape)) {
          throw new SparsetrainError('ERR_AUTOGRAD', `internal: backward of ${node.name} gave gradient ${fmt(gi.shape)} for input ${fmt(t.shape)}`);
        }
        add(t, gi);
      });
    }
    for (const [t, g] of pending) onGrad(t, applyHooks(t, g));
  });
}

/** Accumulates d(root)/d(leaf) into leaf.grad for every leaf that requires grad. */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  const g0 = checkRoot(root, grad, 'backward');
  const createGraph = !!opts.createGraph;
  // Buffers already handed to a .grad: the same gradient can reach two leaves
  // (e.g. through add), and a user's gradient tensor must not be mutated later.
  const stored = new Set<unknown>();
  if (grad !== undefined) stored.add(grad.data);
  traverse([root], [g0], createGraph, (t, g) => {
    if (t.gradFn && !t.retainsGrad) return;
    if (!t.requiresGrad) return;
    if (!createGraph) g = g.detach();
    if (t.grad === null) {
      t.grad = stored.has(g.data) ? g.clone() : g;
      stored.add(t.grad.data);
    } else if (createGraph || t.grad.requiresGrad) {
      t.grad = E.add(t.grad, g);
    } else {
      backend().axpy(t.numel, 1, g.data as Float32Array, t.grad.data as Float32Array);
    }
  });
}

export interface GradOptions extends BackwardOptions {
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/** The gradients of sum_i <outputs[i], gradOutputs[i]> w.r.t. each input, as torch.autograd.grad. */
export function grad(
  outputs: Tensor | Tensor[], inputs: Tensor[], gradOutputs?: (Tensor | undefined)[], opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const gouts = outs.map((o, i) => checkRoot(o, gradOutputs?.[i], 'grad'));
  const wanted = new Map<Tensor, number>();
  inputs.forEach((t, i) => {
    if (!t.requiresGrad) throw new SparsetrainError('ERR_AUTOGRAD', `grad: input ${i} (shape ${fmt(t.shape)}) does not require grad`);
    wanted.set(t, i);
  });
  const result: (Tensor | null)[] = inputs.map(() => null);
  traverse(outs, gouts, !!opts.createGraph, (t, g) => {
    const i = wanted.get(t);
    if (i !== undefined) result[i] = opts.createGraph ? g : g.detach();
  });
  if (!opts.allowUnused) {
    const unused = result.findIndex((r) => r === null);
    if (unused >= 0) {
      throw new SparsetrainError('ERR_AUTOGRAD', `grad: input ${unused} (shape ${fmt(inputs[unused].shape)}) was not used to compute the outputs; pass allowUnused: true`);
    }
  }
  return result;
}
