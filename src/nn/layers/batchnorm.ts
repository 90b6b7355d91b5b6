/**
 * BatchNorm1d / BatchNorm2d, as torch.nn.BatchNorm*d: weight 1 and bias 0
 * (affine), running_mean 0, running_var 1 and num_batches_tracked 0
 * (trackRunningStats). In training mode every forward increments
 * num_batches_tracked and updates the running statistics with `momentum`
 * (momentum null: the cumulative average 1 / num_batches_tracked).
 *
 * num_batches_tracked is an int32 scalar tensor in memory, registered with
 * checkpointDtype 'int64' so checkpoints store it as I64 like PyTorch.
 *
 * callRelu(x) is relu(call(x)) with the ReLU fused into the batch-norm kernels
 * (see ops/norm.ts), and callAddRelu(x, r) relu(call(x) + r) with the sum fused
 * too; both fall back to the separate ops when the module has hooks or its
 * forward was replaced, so those always see the unfused output.
 */
import { Tensor } from '../../tensor/tensor';
import { fmt } from '../../tensor/shape';
import { batchNorm } from '../../ops/norm';
import { relu } from '../../ops/activation';
import { add } from '../../ops/elementwise';
import { SparsetrainError } from '../../errors';
import { Module, parameter } from '../module';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the newest batch in the running statistics (default 0.1); null: cumulative moving average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

export abstract class BatchNormBase extends Module {
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new SparsetrainError('ERR_ARGUMENT', `${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (!(this.eps > 0)) throw new SparsetrainError('ERR_ARGUMENT', `${name}: eps must be > 0, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new SparsetrainError('ERR_ARGUMENT', `${name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    }
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const C = numFeatures;
    this.registerParameter('weight', this.affine ? parameter(Tensor.empty([C])) : null);
    this.registerParameter('bias', this.affine ? parameter(Tensor.empty([C])) : null);
    this.registerBuffer('running_mean', this.trackRunningStats ? Tensor.empty([C]) : null);
    this.registerBuffer('running_var', this.trackRunningStats ? Tensor.empty([C]) : null);
    this.registerBuffer('num_batches_tracked', this.trackRunningStats ? Tensor.empty([], 'int32') : null, { checkpointDtype: 'int64' });
    this.resetParameters();
  }

  /** running_mean 0, running_var 1, num_batches_tracked 0. */
  resetRunningStats(): void {
    this.running_mean?.f32.fill(0);
    this.running_var?.f32.fill(1);
    this.num_batches_tracked?.data.fill(0);
  }

  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.f32.fill(1);
    this.bias?.f32.fill(0);
  }

  /** Throws unless x has a shape this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  forward(x: Tensor): Tensor {
    return this.normalize(x, false);
  }

  /** relu(this.call(x)), in one fused op when nothing observes the output in between. */
  callRelu(x: Tensor): Tensor {
    if (this.hasForwardHooks() || this.forward !== BatchNormBase.prototype.forward) return relu(this.call(x));
    return this.normalize(x, true);
  }

  /** relu(this.call(x) + residual) (a ResNet block's output), in one fused op when nothing observes the output in between. */
  callAddRelu(x: Tensor, residual: Tensor): Tensor {
    if (this.hasForwardHooks() || this.forward !== BatchNormBase.prototype.forward) return relu(add(this.call(x), residual));
    return this.normalize(x, true, residual);
  }

  private normalize(x: Tensor, fuseRelu: boolean, residual: Tensor | null = null): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new SparsetrainError('ERR_SHAPE', `${this.constructor.name}(${this.numFeatures}): input ${fmt(x.shape)} has ${x.shape[1]} channels`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      this.num_batches_tracked.data[0] += 1;
      if (this.momentum === null) factor = 1 / this.num_batches_tracked.data[0];
    }
    // Batch statistics in training mode, or when there are no running statistics to use.
    const useBatch = this.training || (this.running_mean === null && this.running_var === null);
    const useRunning = !this.training || this.trackRunningStats;
    return batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: useRunning ? this.running_mean : null,
      runningVar: useRunning ? this.running_var : null,
      training: useBatch,
      momentum: factor,
      eps: this.eps,
      relu: fuseRelu,
      residual,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch norm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new SparsetrainError('ERR_SHAPE', `BatchNorm1d: expected 2-d or 3-d input [N, C] or [N, C, L], got ${fmt(x.shape)}`);
  }
}

/** Batch norm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new SparsetrainError('ERR_SHAPE', `BatchNorm2d: expected 4-d input [N, C, H, W], got ${fmt(x.shape)}`);
  }
}
