/**
 * What the thesis' pruning experiments on smallcnn / MNIST share (seed 001,
 * section 2.2 and chapter 4.2, "the same experimental setup in Section 2.2"):
 * the training recipe and its smoke version (phases run with timedPhase,
 * experiment.ts, which also measures their CPU time).
 *
 * Recipe: SGD, lr 0.01, batch 32, no momentum, no weight decay (section 2.1,
 * "0.01 learning rate and 32 mini-batch size"; section 4.1 "without using
 * momentum or weight decay"), 10 epochs (section 2.2 "overall we perform 10
 * epochs of training"; Figure 4.6 "after 10 epochs"; the scorer comparison
 * of section 2.1 trains 5). Smoke: 256 training and 100 test examples, 1
 * epoch.
 */
import type { TrainConfig } from '../train/config';
import type { ExperimentOptions } from './experiment';

export const THESIS_EPOCHS = 10;

/**
 * The thesis' training setup for smallcnn on MNIST (smoke: the tiny
 * version, 1 epoch); `momentum` for the experiments that deviate (each says
 * why in its header).
 */
export function thesisRecipe(o: ExperimentOptions, epochs = THESIS_EPOCHS, momentum = 0): Partial<TrainConfig> {
  return {
    model: 'smallcnn', dataset: 'mnist', epochs: o.smoke ? 1 : epochs, batchSize: 32, lr: 0.01, momentum, weightDecay: 0, seed: o.seed,
    ...(o.smoke ? { limitTrain: 256, limitTest: 100 } : {}),
  };
}
