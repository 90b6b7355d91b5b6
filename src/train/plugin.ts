/**
 * Training-loop plug-ins. Every sparsity method (pruning schedules, dynamic
 * sparse training, freezing, gradient pruning, diagnostics) is a TrainPlugin:
 * a small object with hooks that owns its state. The trainer calls the hooks
 * of all plug-ins in order and knows nothing of any one method.
 *
 * Order within one optimizer step:
 *   beforeForward -> forward -> loss -> backward -> afterBackward -> optimizer.step -> afterStep
 * Around epochs:
 *   onTrainStart (once, also after a resume) -> [onEpochStart -> steps -> evaluation -> onEpochEnd]* -> onTrainEnd
 */
import type { Tensor } from '../tensor/tensor';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import type { Generator } from '../tensor/random';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface TrainContext {
  model: Module;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  optimizer: Optimizer<any>;
  /** Current epoch, 0-based. */
  epoch: number;
  /** Optimizer steps taken so far in the whole run (0 before the first). */
  step: number;
  /** Batch index within the epoch. */
  batchIndex: number;
  /** Batches per epoch. */
  batchesPerEpoch: number;
  totalEpochs: number;
  /**
   * True when this run continues a checkpoint (--resume). Plug-in states are
   * loaded before onTrainStart, and the model's weights, the optimizer and the
   * generators are restored after it (pruned parameters, weight_orig /
   * weight_mask, are pruned again by the trainer), so onTrainStart can rebuild
   * anything else a plug-in adds to the model. Optional field added by the
   * trainer; absent means false.
   */
  resumed?: boolean;
  /** The run's directory (runs/<name>/), for plug-ins that write files of their own. Optional field filled by the trainer. */
  runDir?: string;
  /** The current batch (during step hooks). */
  batch?: Batch;
  /** The loss of the current batch (afterBackward, afterStep). */
  loss?: Tensor;
  /**
   * Up to n training examples in a fixed order (no augmentation), for
   * data-dependent scores (Taylor, Hessian, MRS): batches of at most batchSize.
   */
  sampleTrainBatches(n: number, batchSize?: number): Batch[];
  /** Evaluates the model on the evaluation split (validation or test): loss and top-1 accuracy in percent. */
  evaluate(): { loss: number; accuracy: number };
  /** Run-wide seeded generator for plug-ins that need randomness (state saved with checkpoints). */
  generator: Generator;
  /** Extra values for this epoch's metrics line (metrics.jsonl), e.g. { sparsity: 0.9 }. */
  epochMetrics: Record<string, unknown>;
  /** A message for the run log (and the terminal). */
  log(message: string): void;
}

export interface TrainPlugin {
  readonly name: string;
  onTrainStart?(ctx: TrainContext): void;
  onEpochStart?(ctx: TrainContext): void;
  beforeForward?(ctx: TrainContext): void;
  afterBackward?(ctx: TrainContext): void;
  afterStep?(ctx: TrainContext): void;
  /** After the epoch's evaluation; ctx.epochMetrics already holds train/test metrics. */
  onEpochEnd?(ctx: TrainContext): void;
  onTrainEnd?(ctx: TrainContext): void;
  /** JSON-able state saved in checkpoints, so a resumed run equals an uninterrupted one. */
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
}
