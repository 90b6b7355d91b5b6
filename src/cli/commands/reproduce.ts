/**
 * `sparsetrain reproduce NAME`: runs a named experiment of the seeds end to
 * end into runs/NAME/ and prints its checks (target, measured, passed).
 * A missed target is a result, not an error: the exit code is 0 when the
 * experiment ran, whatever it measured (summary.json has `passed`).
 */
import type { Command } from 'commander';
import { EXPERIMENTS, getExperiment } from '../../experiments/registry';
import type { ExperimentOptions } from '../../experiments/experiment';
import { consoleReporter } from '../../train/progress';
import { setThreads } from '../../backend';
import { intOption } from '../options';

interface ReproduceFlags {
  list?: boolean;
  runsDir?: string;
  name?: string;
  threads?: number;
  seed?: number;
  smoke?: boolean;
  quiet?: boolean;
  json?: boolean;
}

function listText(): string {
  return EXPERIMENTS.map((e) => `  ${e.name.padEnd(18)} ${e.title} (${e.source}; about ${e.minutes} min)`).join('\n');
}

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .argument('[name]', 'experiment to run (see --list)')
    .description('run a named experiment of the seeds end to end into runs/NAME/ and check its result against the published one')
    .option('--list', 'list the experiments')
    .option('--runs-dir <dir>', 'where runs go (default ./runs)')
    .option('--name <name>', 'run directory name (default: the experiment name)')
    .option('--threads <n>', 'kernel threads (default: SPARSETRAIN_THREADS or the core count)', intOption('--threads', 1, 1024))
    .option('--seed <n>', 'seed (default: the experiment\'s own)', intOption('--seed', 0))
    .option('--smoke', 'a tiny version that only exercises the mechanics (seconds; numbers mean nothing)')
    .option('--quiet', 'no progress output; only the result')
    .option('--json', 'print summary.json on stdout at the end')
    .addHelpText('after', `\nExperiments:\n${listText()}\n\nExample:\n  sparsetrain reproduce han-lenet300`)
    .action(async (name: string | undefined, o: ReproduceFlags) => {
      if (o.list || !name) {
        process.stdout.write(`${listText()}\n`);
        return;
      }
      const e = getExperiment(name);
      const quiet = !!o.quiet || !!o.json;
      const opts: ExperimentOptions = {
        runsDir: o.runsDir ?? 'runs',
        name: o.name ?? e.name,
        threads: o.threads ?? null,
        seed: o.seed ?? e.seed,
        smoke: !!o.smoke,
        reporter: consoleReporter({ quiet }),
        log: (m: string) => {
          if (!quiet) process.stdout.write(`[${e.name}] ${m}\n`);
        },
      };
      if (opts.threads !== null) setThreads(opts.threads);
      opts.log(`${e.title} (${e.source})${opts.smoke ? ' [smoke: tiny version, numbers mean nothing]' : ''}`);
      const t0 = Date.now();
      const r = await e.run(opts);
      if (o.json) {
        const fs = await import('node:fs');
        const path = await import('node:path');
        process.stdout.write(fs.readFileSync(path.join(r.runDir, 'summary.json'), 'utf8'));
        return;
      }
      const w = Math.max(...r.checks.map((c) => c.what.length), 4);
      process.stdout.write(`${e.name}: ${((Date.now() - t0) / 60000).toFixed(1)} min\n`);
      for (const c of r.checks) process.stdout.write(`  ${c.passed ? 'met   ' : 'MISSED'} ${c.what.padEnd(w)}  ${c.measured} (target ${c.target})\n`);
      process.stdout.write(`run: ${r.runDir}  (summary.json, model.safetensors, one directory per phase)\n`);
    });
}
