/**
 * A node of the define-by-run tape: the op that produced a tensor, the input
 * tensors it needs gradients for, and its backward function. Backward
 * functions are written with ordinary ops, so when the engine runs them with
 * graph recording on (createGraph) their results are differentiable again.
 */
import type { Tensor } from '../tensor/tensor';
import { isGradEnabled } from './grad-mode';

export type BackwardFn = (gradOutput: Tensor) => (Tensor | null)[];

export class Node {
  /** Monotone creation counter: a later node never feeds an earlier one. */
  readonly seq: number;
  /** The tensor this node produced (set by record). */
  output: Tensor | null = null;
  constructor(
    readonly name: string,
    /** Inputs of the op; null where the input needs no gradient. */
    readonly inputs: (Tensor | null)[],
    readonly backward: BackwardFn,
  ) {
    this.seq = nextSeq++;
  }
}
let nextSeq = 0;

/** True when an op with these inputs must record a node. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a node to `out` if any input requires grad and recording is on.
 * `backward` receives the gradient of `out` and returns one gradient (or null)
 * per input, in order.
 */
export function record(name: string, out: Tensor, inputs: (Tensor | null | undefined)[], backward: BackwardFn): Tensor {
  if (!needsGrad(...inputs)) return out;
  const ins = inputs.map((t) => (t && t.requiresGrad ? t : null));
  out.gradFn = new Node(name, ins, backward);
  out.gradFn.output = out;
  out.requiresGrad = true;
  return out;
}
