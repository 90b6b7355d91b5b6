/**
 * Stochastic gradient descent as torch.optim.SGD (torch 1.13):
 *   g' = g + weightDecay * p
 *   buf = g' on the first step, else momentum * buf + (1 - dampening) * g'
 *   step = nesterov ? g' + momentum * buf : buf   (g' when momentum = 0)
 *   p -= lr * step
 * run by the backend's sgdUpdate kernel (masks and lr multipliers: see Optimizer).
 */
import type { Tensor } from '../tensor/tensor';
import { backend } from '../backend';
import { Optimizer, ParamGroup, ParamGroupInput, argError, checkRange } from './optimizer';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  /** lr is required (as torch); the rest default to 0 / false. */
  constructor(params: Tensor[] | ParamGroupInput<SGDOptions>[], opts: Partial<SGDOptions> & { lr: number }) {
    if (!opts || opts.lr === undefined) throw argError('SGD', 'a learning rate `lr` is required');
    const defaults: SGDOptions = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts };
    validate(defaults);
    super('SGD', params, defaults);
  }

  protected validateGroup(g: ParamGroup<SGDOptions>): void {
    validate(g);
  }

  protected update(): void {
    const be = backend();
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, weightDecay, nesterov } = group;
      for (const p of group.params) {
        if (!p.grad) continue;
        const g = this.gradData(p);
        const st = this.stateOf(p);
        let buf: Float32Array | null = null;
        let first = false;
        if (momentum !== 0) {
          if (!(st.momentumBuffer instanceof Float32Array)) {
            st.momentumBuffer = new Float32Array(p.numel);
            first = true;
          }
          buf = st.momentumBuffer as Float32Array;
        }
        const old = this.beforeUpdate(p);
        be.sgdUpdate(p.data as Float32Array, g, buf, this.masks.get(p) ?? null, p.numel, lr, momentum, dampening, weightDecay, nesterov, first);
        this.afterUpdate(p, old);
      }
    }
  }
}

function validate(o: SGDOptions): void {
  checkRange('SGD', 'learning rate lr', o.lr, 0);
  checkRange('SGD', 'momentum', o.momentum, 0);
  checkRange('SGD', 'dampening', o.dampening, 0, 1, true);
  checkRange('SGD', 'weightDecay', o.weightDecay, 0);
  if (typeof o.nesterov !== 'boolean') throw argError('SGD', `nesterov must be a boolean, got ${String(o.nesterov)}`);
  if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
    throw argError('SGD', `Nesterov momentum requires momentum > 0 and dampening 0, got momentum ${o.momentum} and dampening ${o.dampening}`);
  }
}
