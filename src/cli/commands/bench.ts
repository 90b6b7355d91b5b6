/** `sparsetrain bench`: training/inference throughput of a zoo model on random data. */
import type { Command } from 'commander';
import { runTrainBench } from '../../bench/train-bench';
import { intOption } from '../options';
import { modelNames } from '../../models';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure training and inference throughput of a zoo model on random inputs (SGD lr 0.01, momentum 0.9, cross-entropy)')
    .requiredOption('--model <name>', `zoo model (${modelNames().join(', ')})`)
    .option('--batch <n>', 'batch size', intOption('--batch', 1, 65536), 64)
    .option('--threads <n>', 'kernel threads (default: SPARSETRAIN_THREADS or the core count)', intOption('--threads', 1, 1024))
    .option('--steps <n>', 'timed steps (after 5 warm-up steps)', intOption('--steps', 1), 30)
    .option('--json', 'print one JSON object instead of a table')
    .action((o: { model: string; batch: number; threads?: number; steps: number; json?: boolean }) => {
      const r = runTrainBench({ model: o.model, batch: o.batch, threads: o.threads, steps: o.steps });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        `${r.model}: batch ${r.batch}, ${r.threads} threads (${r.backend}, ${r.isa})\n` +
          `  train  ${r.train_samples_per_s} samples/s (${r.train_step_ms} ms/step; ${r.train_cpu_samples_per_s} per CPU-second)\n` +
          `  infer  ${r.infer_samples_per_s} samples/s\n` +
          `  peak RSS ${r.peak_rss_mb} MB\n`,
      );
    });
}
