/**
 * `sparsetrain train`: trains a zoo model on a data set into runs/<name>/.
 * Flags follow the dynamic sparse reparameterization code's command line
 * (--epochs, -b/--batch-size, --lr, --momentum, --nesterov, --weight-decay,
 * --validate-set, --no-augment, --data DIR, --resume, --name, ./runs/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { SparsetrainError } from '../../errors';
import { modelNames } from '../../models';
import { DATASET_NAMES } from '../../data/datasets';
import { CONFIG_KEYS, FIELD_FLAGS, LR_SCHEDULES, OPTIMIZERS, RESUME_OVERRIDABLE, type TrainConfig } from '../../train/config';
import { Trainer, type TrainResult } from '../../train/trainer';
import { consoleReporter } from '../../train/progress';
import type { TrainPlugin } from '../../train/plugin';
import { floatOption, intOption } from '../options';
import { readConfigFile, resolveWithSources } from '../config';
// ---- pruning (issue 4): flags, plug-ins from the configuration, the outcome in summary.json ----
import { addPruningOptions } from '../pruning-options';
import { pruningPlugins } from '../../train/pruning-plugins';
import { formatPruningOutcome, pruningOutcome } from '../../train/pruning-outcome';
import { writeJsonAtomic } from '../../io/checkpoint';
import { diagnosePlugins } from '../../diagnose/plugins';

function listOption(flag: string, min: number, integer: boolean): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((s) => s.trim());
    const out = parts.map((s) => Number(s));
    if (parts.some((s) => s === '') || out.some((n) => !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))) {
      throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected comma-separated ${integer ? 'integers' : 'numbers'} >= ${min}, got '${v}'`);
    }
    return out;
  };
}

function choice(flag: string, options: readonly string[]): (v: string) => string {
  return (v: string) => {
    if (!options.includes(v)) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected one of ${options.join(', ')}, got '${v}'`);
    return v;
  };
}

/** A number > 0 (learning rates). */
function positive(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected a number > 0, got '${v}'`);
    return n;
  };
}

/** A number >= 0. */
function nonNegative(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected a number >= 0, got '${v}'`);
    return n;
  };
}

/** Quotes an argument for a shell command line when it needs it. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

interface TrainFlags extends Partial<TrainConfig> {
  config?: string;
  resume?: string;
  quiet?: boolean;
  json?: boolean;
}

/** Adds the training flags to a command (shared with `start`). */
export function addTrainOptions(cmd: Command): Command {
  cmd
    .option('--model <name>', `zoo model: ${modelNames().join(', ')}`, choice('--model', modelNames()))
    .option('--dataset <name>', `data set: ${DATASET_NAMES.join(', ')}`, choice('--dataset', DATASET_NAMES))
    .option('--data <dir>', 'directory of the data set files (CIFAR: required; MNIST/Fashion-MNIST: instead of the default)')
    .option('--epochs <n>', 'epochs to train (default 10)', intOption('--epochs', 1))
    .option('-b, --batch-size <n>', 'mini-batch size (default 64)', intOption('--batch-size', 1, 65536))
    .option('--eval-batch-size <n>', 'batch size of evaluation (default 500)', intOption('--eval-batch-size', 1, 65536))
    .option('--optimizer <name>', `${OPTIMIZERS.join(' | ')} (default sgd)`, choice('--optimizer', OPTIMIZERS))
    .option('--lr <x>', 'initial learning rate (default: sgd 0.01, adam/adamw 0.001)', positive('--lr'))
    .option('--momentum <x>', 'SGD momentum (default 0.9)', floatOption('--momentum', 0, 1))
    .option('--nesterov', 'Nesterov momentum (SGD)')
    .option('--weight-decay <x>', 'weight decay (default: sgd 5e-4, adam 0, adamw 0.01)', nonNegative('--weight-decay'))
    .option('--betas <b1,b2>', 'Adam betas (default 0.9,0.999)', listOption('--betas', 0, false))
    .option('--eps <x>', 'Adam epsilon (default 1e-8)', positive('--eps'))
    .option('--lr-schedule <kind>', `${LR_SCHEDULES.join(' | ')} (default constant)`, choice('--lr-schedule', LR_SCHEDULES))
    .option('--step-size <n>', 'step: epochs between decays (default 30)', intOption('--step-size', 1))
    .option('--gamma <x>', 'step, multistep, exponential: decay factor (default 0.1)', positive('--gamma'))
    .option('--milestones <e1,e2,...>', 'multistep: epochs at which the lr is multiplied by gamma', listOption('--milestones', 1, true))
    .option('--eta-min <x>', 'cosine: final learning rate (default 0)', nonNegative('--eta-min'))
    .option('--lr-table <spec>', 'table: "epoch:lr,..." e.g. "0:0.1,30:0.01" (implies --lr-schedule table)')
    .option('--seed <n>', 'seed of everything random (default 0)', intOption('--seed', 0))
    .option('--validate-set <n>', 'hold out the last N training examples for validation (best epoch: model-best.safetensors)', intOption('--validate-set', 1))
    .option('--no-augment', 'no training augmentation (CIFAR: random crop + flip by default)')
    .option('--no-shuffle', 'feed batches in data-set order')
    .option('--max-steps <n>', 'stop after N optimizer steps in all (a resumable checkpoint is kept)', intOption('--max-steps', 1))
    .option('--limit-train <n>', 'use only the first N training examples', intOption('--limit-train', 1))
    .option('--limit-test <n>', 'use only the first N test examples', intOption('--limit-test', 1))
    .option('--init <file>', 'initial weights: a safetensors file with PyTorch key names (e.g. a run\'s model.safetensors)')
    .option('--act <name>', 'smallcnn: relu | tanh', choice('--act', ['relu', 'tanh']))
    .option('--batch-norm', 'smallcnn: BatchNorm after each convolution')
    .option('--width <x>', 'vgg: channel multiplier', positive('--width'))
    .option('--name <name>', 'run name: runs/<name>/ (default model-dataset-YYYYmmdd-HHMMSS)')
    .option('--runs-dir <dir>', 'where runs go (default ./runs)')
    .option('--threads <n>', 'kernel threads (default: SPARSETRAIN_THREADS or the core count)', intOption('--threads', 1, 1024));
  addPruningOptions(cmd);
  return cmd
    .option('--config <file>', 'YAML file of these options (keys as the flags: batch-size, lr-schedule, ...); flags override it')
    .option('--resume <dir>', 'continue the run in <dir> (its config.yaml; --epochs, --max-steps, --threads, --data may change)')
    .option('--quiet', 'no progress output; only the result')
    .option('--json', 'print summary.json on stdout at the end')
    // ---- diagnosis (src/diagnose): unit health, the thesis' learning-rate attack ----
    .addOption(new Option('--unit-report [n]', 'per epoch: frozen and dead units and sparsity per layer on N training examples (default 1000), into metrics.jsonl').preset('1000').argParser(intOption('--unit-report', 1)))
    .option('--attack-unit <layer:index>', "lr attack (thesis 3.3) on one unit, e.g. conv1:0; logs its MRP, MRS, norms to attack.csv")
    .option('--attack-factor <m>', 'lr attack: multiplier of the unit\'s weight lr (default 100)', nonNegative('--attack-factor'))
    .option('--attack-times <n>', 'lr attack: number of attacked steps (default 10)', intOption('--attack-times', 1))
    .option('--attack-every <i>', 'lr attack: steps between attacks (default 10)', intOption('--attack-every', 1))
    .option('--attack-start <s>', 'lr attack: step of the first attack, the first update being step 1 (default 50)', intOption('--attack-start', 1))
    .option('--attack-log-every <k>', 'lr attack: log the unit every K steps (default 50)', intOption('--attack-log-every', 1));
}

/** The TrainConfig fields given explicitly on the command line. */
function flagsGiven(cmd: Command, o: TrainFlags): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    if (cmd.getOptionValueSource(k) === 'cli' && (o as Record<string, unknown>)[k] !== undefined) out[k] = (o as Record<string, unknown>)[k];
  }
  return out as Partial<TrainConfig>;
}

/** The configuration of a resumed run: its config.yaml, with the few flags that may change. */
function resumeConfig(dir: string, given: Partial<TrainConfig>, configFile?: string): TrainConfig {
  if (configFile) throw new SparsetrainError('ERR_ARGUMENT', `--config: cannot be combined with --resume (the run's own ${path.join(dir, 'config.yaml')} is used)`);
  const file = path.join(dir, 'config.yaml');
  if (!fs.existsSync(file)) {
    throw new SparsetrainError('ERR_IO', `--resume ${dir}: ${fs.existsSync(dir) ? 'no config.yaml in it' : 'no such directory'}; expected a run directory written by sparsetrain train`);
  }
  const saved = readConfigFile(file);
  delete saved.maxSteps; // a step limit applies to the invocation that gave it
  for (const [k, v] of Object.entries(given) as [keyof TrainConfig, unknown][]) {
    if (RESUME_OVERRIDABLE.includes(k)) continue;
    if (JSON.stringify(saved[k]) === JSON.stringify(v)) continue;
    throw new SparsetrainError('ERR_ARGUMENT', `${FIELD_FLAGS[k]}: cannot change when resuming (the run has ${JSON.stringify(saved[k] ?? null)}); only ${RESUME_OVERRIDABLE.map((f) => FIELD_FLAGS[f]).join(', ')} may; start a new run with --init ${path.join(dir, 'model.safetensors')} instead`);
  }
  return resolveWithSources(saved, Object.fromEntries(Object.entries(given).filter(([k]) => RESUME_OVERRIDABLE.includes(k as keyof TrainConfig))), file);
}

export interface RunTrainingOptions {
  plugins?: TrainPlugin[];
  quiet?: boolean;
  json?: boolean;
}

/** Runs a training job with terminal output, Ctrl-C handling and the exit code set. */
export async function runTraining(config: TrainConfig, command: string, resume: string | undefined, o: RunTrainingOptions = {}): Promise<TrainResult> {
  const reporter = consoleReporter({ quiet: o.quiet || o.json });
  // The pruning plug-ins come from the configuration (so a resume rebuilds them from config.yaml), then the caller's.
  const trainer = new Trainer({ config, resume, command, reporter, plugins: [...pruningPlugins(config), ...(o.plugins ?? [])] });
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nsparsetrain: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
    trainer.requestStop();
  };
  process.on('SIGINT', onSigint);
  let result: TrainResult;
  try {
    result = await trainer.run();
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const s = result.summary;
  const pruned = result.status === 'completed' || result.status === 'stopped' ? pruningOutcome(config, s) : null;
  if (pruned) {
    (s as unknown as Record<string, unknown>).pruning = pruned;
    writeJsonAtomic(path.join(result.runDir, 'summary.json'), s);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  else if (result.status !== 'diverged') {
    const t = s.test;
    const mins = s.wallSeconds >= 120 ? `${(s.wallSeconds / 60).toFixed(1)} min` : `${s.wallSeconds.toFixed(1)} s`;
    if (t) {
      process.stdout.write(`test accuracy ${t.accuracy.toFixed(2)}% (loss ${t.loss.toFixed(4)}, top-5 ${t.top5.toFixed(2)}%) on ${t.samples} examples after ${s.steps} steps; ${s.trainSamplesPerSec} samples/s, ${mins}\n`);
    }
    if (pruned) process.stdout.write(`${formatPruningOutcome(pruned)}\n`);
    if (result.message) process.stdout.write(`${result.message}\n`);
    process.stdout.write(`run: ${result.runDir}  (model.safetensors, metrics.jsonl, summary.json, checkpoint for --resume)\n`);
  }
  if (result.status === 'diverged') {
    process.stderr.write(`sparsetrain: ${result.message}\n`);
    process.exitCode = 1;
  } else if (result.status === 'interrupted') {
    process.stderr.write(`sparsetrain: ${result.message}\n`);
    process.exitCode = 130;
  }
  return result;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a zoo model on a data set; everything goes to runs/<name>/ (config.yaml, metrics.jsonl, model.safetensors, checkpoint, summary.json)');
  addTrainOptions(cmd);
  cmd.addHelpText('after', `
Examples:
  sparsetrain train --model lenet300 --dataset mnist --epochs 20 --lr 0.05 --lr-schedule cosine
  sparsetrain train --model lenet5 --dataset fashion-mnist --config lenet5.yaml --epochs 30
  sparsetrain train --model resnet20 --dataset cifar10 --data ~/cifar-10-batches-bin --lr 0.1 --lr-schedule multistep --milestones 100,150 --epochs 200
  sparsetrain train --resume runs/lenet5-mnist-20250101-120000
  sparsetrain train --model lenet300 --dataset mnist --epochs 15 --lr 0.1 --lr-schedule cosine --prune gradual --sparsity 0.9 --prune-start 1 --prune-end 8
  sparsetrain train --model smallcnn --dataset mnist --epochs 10 --prune table --prune-table 2:0.2,3:0.5,4:0.8,5:0.9 --remove-units-fnz 0
  sparsetrain train --model smallcnn --dataset mnist --epochs 10 --prune-units 2:0.1,3:0.2,4:0.4,5:0.6 --unit-scorer mrs
  (docs/pruning-cli.md: every pruning flag with examples)`);
  cmd.action(async (o: TrainFlags, command: Command) => {
    const given = flagsGiven(command, o);
    let config: TrainConfig;
    if (o.resume) config = resumeConfig(o.resume, given, o.config);
    else {
      const fromFile = o.config ? readConfigFile(o.config) : {};
      config = resolveWithSources(fromFile, given, o.config);
    }
    const argv = process.argv.slice(2).map(shellQuote).join(' ');
    await runTraining(config, `sparsetrain ${argv}`, o.resume, { quiet: o.quiet, json: o.json, plugins: diagnosePlugins(config) });
  });
}
