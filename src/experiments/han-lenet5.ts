/**
 * `sparsetrain reproduce han-lenet5`: Han et al. (seed 004) Table 1 /
 * Table 3 on LeNet-5 (Caffe's, no non-linearity after the convolutions) and
 * MNIST: 12x fewer weights (8% kept; conv1 66%, conv2 12%, fc1 8%, fc2 19%)
 * at 0.77% test error against 0.80% dense. Target (issue 4): at most 8.3% of
 * the parameters non-zero, at most 0.1 points of test accuracy lost against
 * the dense phase, within 15 minutes (han-common.ts).
 *
 * Recipe and why:
 * - dense: 10 epochs, batch 128, SGD lr 0.05, momentum 0.9, weight decay
 *   5e-4, cosine to 0 (an epoch costs about 10x lenet300's, so fewer epochs
 *   than han-lenet300's 15 to stay within 15 minutes).
 * - pruned: Han's iterative pruning from the dense weights with separate
 *   qualities for the convolutions and the fully connected layers (Han prunes
 *   the convolutions less: they are more sensitive and hold few weights),
 *   retraining at lr 0.005 = the dense lr / 10, constant (see han-lenet300.ts
 *   for why not cosine): three iterations, conv qualities 0.5, 0.7, 0.8 and
 *   fc qualities 0.8, 0.9, 0.95, 2 epochs of retraining after each and 4
 *   after the last (8 epochs).
 *   Measured while tuning from the same dense model (seed 0, 99.23%): fc
 *   0.8,0.9,0.95 / conv 0.5,0.7,0.8 gave 7.8% of the parameters at 99.14%;
 *   fc 0.8,0.9,0.9 / conv 0.4,0.6,0.7 9.7% at 99.15%; fc 0.8,1.0,1.1 / conv
 *   0.5,0.7,0.8 with 2 epochs after the last pruning 4.1% at 98.72%. One
 *   quality per kind prunes conv1 (500 weights) harder than Han (27% kept
 *   against 66%) and conv2 less (20% against 12%); the schedule has no
 *   per-layer qualities.
 *   Seed 1 (`--seed 1`, dense 99.23%) with this recipe: 7.80% at 99.05%, 0.18
 *   points lost (missed); the cyclic lr of han-lenet300.ts scaled to this lr
 *   (0.015, 0.005, 0.0015 per 3-epoch round, 9 epochs) from the same dense
 *   model: 7.77% at 99.06%, no better. 4 epochs after the last pruning
 *   instead of 6 (seed 0): 99.14% both.
 *   Second tuning round, seed 1 only, pruned phase from the same dense model
 *   (99.23%; /tmp/han2/try.sh = `train --model lenet5 --dataset mnist
 *   --init DENSE --prune han --prune-start 0 --retrain-lr-factor 1 -b 128
 *   --momentum 0.9 --weight-decay 5e-4 --threads 2 --retrain-epochs 2`):
 *     conv 0.5,0.7,0.8 / fc 0.8,0.9,0.95, 10 epochs, lr 0.005 then 0.003,
 *       0.0015, 0.0007, 0.0003 in the last 4: 7.80% at 99.12% (0.11 lost);
 *     same, 12 epochs (0.005 to epoch 8, then the same decay): 7.80%, 99.10%;
 *     conv 0.3,0.45,0.55 / fc 0.8,0.95,1.0 (convs kept, fc cut), 10 epochs
 *       as above: 7.52%, 99.02%;
 *     conv 0.6,0.9,1.1 / fc 0.8,0.9,0.92 (convs cut to 6%): 7.61%, 98.85%;
 *     four iterations, conv 0.4,0.55,0.7,0.8 / fc 0.7,0.8,0.9,0.95, 10
 *       epochs, decay over the last 3: 5.57%, 99.04%;
 *     four iterations, conv 0.4,0.5,0.6,0.7 / fc 0.6,0.7,0.8,0.85: 12.33%,
 *       99.06%.
 *   None reaches 99.13% on seed 1: even at 12% kept it ends at 99.06%, so the
 *   gap looks like the seed's noise (about 0.05 points) on top of a real
 *   0.05-0.1 point loss, not a matter of the schedule; the recipe stays as it
 *   was (decay at the end gives +0.07 on seed 1, still a miss; seed 0 was not
 *   rerun with it).
 */
import type { Experiment, ExperimentOptions, ExperimentResult } from './experiment';
import { runHanExperiment, type HanRecipe } from './han-common';

const SMOKE = { limitTrain: 256, limitTest: 100 };
const QUALITY_CONV = [0.5, 0.7, 0.8];
const QUALITY_FC = [0.8, 0.9, 0.95];

export const HAN_LENET5: HanRecipe = {
  model: 'lenet5',
  dense: { epochs: 10, batchSize: 128, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4, lrSchedule: 'cosine' },
  pruned: {
    epochs: 8, batchSize: 128, optimizer: 'sgd', lr: 0.005, momentum: 0.9, weightDecay: 5e-4, lrSchedule: 'constant',
    hanQualityConv: QUALITY_CONV, hanQualityFc: QUALITY_FC, retrainEpochs: 2, retrainLrFactor: 1,
  },
  smokeDense: { epochs: 1, batchSize: 64, lr: 0.05, lrSchedule: 'cosine', ...SMOKE },
  smokePruned: { epochs: 3, batchSize: 64, lr: 0.005, hanQualityConv: QUALITY_CONV, hanQualityFc: QUALITY_FC, retrainEpochs: 1, retrainLrFactor: 1, ...SMOKE },
  paper: {
    denseError: 0.80, prunedError: 0.77, keptPercent: 8,
    layerKeptPercent: { 'conv1.weight': 66, 'conv2.weight': 12, 'fc1.weight': 8, 'fc2.weight': 19 },
  },
  maxNonzeroPercent: 8.3,
  maxAccuracyDrop: 0.1,
  maxMinutes: 15,
};

export const hanLenet5: Experiment = {
  name: 'han-lenet5',
  title: 'LeNet-5 on MNIST: dense, then Han\'s iterative magnitude pruning (threshold = quality x layer std, conv and fc apart) to <= 8.3% of the weights',
  source: 'seed 004, Han et al. Tables 1 and 3',
  seed: 0,
  // Measured with --threads 2 (seed 0): 361 CPU seconds, 3.2 min wall on a quiet machine (2026-12-06);
  // 11.5 min wall while other trainings shared the 2 cores (load average about 5).
  minutes: 4,
  run(o: ExperimentOptions): Promise<ExperimentResult> {
    return runHanExperiment(this, o, HAN_LENET5);
  },
};
