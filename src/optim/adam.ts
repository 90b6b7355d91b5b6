/**
 * Adam and AdamW as torch.optim.Adam / AdamW (torch 1.13), run by the
 * backend's adamUpdate kernel. With t the step count (from 1):
 *   Adam:  g' = g + weightDecay * p          AdamW: p *= 1 - lr * weightDecay, g' = g
 *   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;  vmax = max(vmax, v) (amsgrad)
 *   p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
 * State per parameter: step, expAvg, expAvgSq and (amsgrad) maxExpAvgSq.
 * Masks and lr multipliers: see Optimizer.
 */
import type { Tensor } from '../tensor/tensor';
import { backend } from '../backend';
import { Optimizer, ParamGroup, ParamGroupInput, argError, checkRange } from './optimizer';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

function validate(op: string, o: AdamOptions): void {
  checkRange(op, 'learning rate lr', o.lr, 0);
  checkRange(op, 'eps', o.eps, 0);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) throw argError(op, `betas must be a pair [beta1, beta2], got ${JSON.stringify(o.betas)}`);
  checkRange(op, 'beta1 (betas[0])', o.betas[0], 0, 1);
  checkRange(op, 'beta2 (betas[1])', o.betas[1], 0, 1);
  checkRange(op, 'weightDecay', o.weightDecay, 0);
  if (typeof o.amsgrad !== 'boolean') throw argError(op, `amsgrad must be a boolean, got ${String(o.amsgrad)}`);
}

/** Shared by Adam and AdamW: `decoupled` selects AdamW's weight decay. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  constructor(name: string, params: Tensor[] | ParamGroupInput<AdamOptions>[], defaults: AdamOptions) {
    validate(name, defaults);
    super(name, params, { ...defaults, betas: [defaults.betas[0], defaults.betas[1]] });
  }

  protected validateGroup(g: ParamGroup<AdamOptions>): void {
    validate(this.opName, g);
  }

  protected update(): void {
    const be = backend();
    for (const group of this.paramGroups) {
      const { lr, betas, eps, weightDecay, amsgrad } = group;
      for (const p of group.params) {
        if (!p.grad) continue;
        const g = this.gradData(p);
        const st = this.stateOf(p);
        if (st.step === undefined) {
          st.step = 0;
          st.expAvg = new Float32Array(p.numel);
          st.expAvgSq = new Float32Array(p.numel);
        }
        if (amsgrad && !(st.maxExpAvgSq instanceof Float32Array)) st.maxExpAvgSq = new Float32Array(p.numel);
        st.step = (st.step as number) + 1;
        const old = this.beforeUpdate(p);
        be.adamUpdate(
          p.data as Float32Array, g, st.expAvg as Float32Array, st.expAvgSq as Float32Array,
          amsgrad ? (st.maxExpAvgSq as Float32Array) : null, this.masks.get(p) ?? null, p.numel,
          lr, betas[0], betas[1], eps, weightDecay, this.decoupled, amsgrad, st.step,
        );
        this.afterUpdate(p, old);
      }
    }
  }
}

/** Adam: L2 weight decay added to the gradient. Defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], opts: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...opts });
  }
}

/** AdamW: decoupled weight decay. Defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], opts: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, ...opts });
  }
}
