/**
 * What the thesis' pruning experiments on smallcnn / MNIST share (seed 001,
 * section 2.2 and chapter 4.2, "the same experimental setup in Section 2.2"):
 * the training recipe, its smoke version, and a phase runner that also
 * measures the phase's CPU time (wall time on this shared 2-core machine
 * depends on what else runs; CPU time does not, much).
 *
 * Recipe: SGD, lr 0.01, batch 32, no momentum, no weight decay (section 2.1,
 * "0.01 learning rate and 32 mini-batch size"; section 4.1 "without using
 * momentum or weight decay"), 10 epochs (section 2.2 "overall we perform 10
 * epochs of training"; Figure 4.6 "after 10 epochs"; the scorer comparison
 * of section 2.1 trains 5). Smoke: 256 training and 100 test examples, 1
 * epoch.
 */
import type { TrainConfig } from '../train/config';
import type { TrainPlugin } from '../train/plugin';
import type { TrainResult } from '../train/trainer';
import { type ExperimentOptions, runPhase } from './experiment';

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

/** What summary.json keeps of a phase. */
export interface PhaseInfo {
  runDir: string;
  testAccuracy: number | null;
  testLoss: number | null;
  params: number;
  nonzeroParams: number;
  wallSeconds: number;
  /** CPU seconds of this process during the phase (all threads). */
  cpuSeconds: number;
  threads: number;
}

/** runPhase, timed: the result and its PhaseInfo (runDir relative to the experiment directory). */
export async function timedPhase(
  o: ExperimentOptions, dir: string, phase: string, config: Partial<TrainConfig>, plugins: TrainPlugin[] = [],
): Promise<{ r: TrainResult; info: PhaseInfo }> {
  const cpu0 = process.cpuUsage();
  const r = await runPhase(o, dir, phase, config, plugins);
  const cpu = process.cpuUsage(cpu0);
  const s = r.summary;
  return {
    r,
    info: {
      runDir: phase,
      testAccuracy: s.test?.accuracy ?? null,
      testLoss: s.test?.loss ?? null,
      params: s.params,
      nonzeroParams: s.nonzeroParams,
      wallSeconds: s.wallSeconds,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      threads: s.threads,
    },
  };
}
