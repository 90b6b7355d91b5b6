/**
 * `sparsetrain prune <run-dir | model.safetensors>`: prunes a trained model
 * (units and/or weights, optionally the f_nz clean-up and fine-tuning) into a
 * new run directory; the work is train/prune-run.ts. A run directory gives
 * the model, data set and options (its config.yaml, or the summary.json of an
 * earlier `prune`); a bare file needs --model and --dataset. The flags that
 * say what to prune have the names of `train`'s pruning flags.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { SparsetrainError } from '../../errors';
import { modelNames } from '../../models';
import { DATASET_NAMES } from '../../data/datasets';
import { resolveTrainConfig, type TrainConfig } from '../../train/config';
import { pruneRun, type PruneRunOptions, type PruneStage } from '../../train/prune-run';
import { PRUNE_SCOPES, UNIT_REPLACEMENTS, UNIT_SCOPES, UNIT_SCORERS, WEIGHT_SCORERS } from '../../train/pruning-config';
import { consoleReporter } from '../../train/progress';
import { readConfigFile } from '../config';
import { readSummaryConfig } from '../checkpoint-model';
import { floatOption, intOption } from '../options';
import { shellQuote } from './train';

interface PruneFlags {
  model?: string;
  dataset?: string;
  data?: string;
  act?: 'relu' | 'tanh';
  batchNorm?: boolean;
  width?: number;
  limitTrain?: number;
  limitTest?: number;
  sparsity?: number;
  sparsityConv?: number;
  sparsityFc?: number;
  pruneScorer?: PruneRunOptions['scorer'];
  pruneScope?: PruneRunOptions['scope'];
  pruneExamples?: number;
  unitFraction?: number;
  unitScorer?: PruneRunOptions['unitScorer'];
  unitScope?: PruneRunOptions['unitScope'];
  unitExamples?: number;
  unitReplacement?: PruneRunOptions['unitReplacement'];
  shrink?: boolean;
  removeUnitsFnz?: number;
  fineTuneEpochs?: number;
  lr?: number;
  lrSchedule?: 'constant' | 'cosine';
  batchSize?: number;
  weightDecay?: number;
  name?: string;
  runsDir?: string;
  threads?: number;
  quiet?: boolean;
  json?: boolean;
}

function choice(flag: string, options: readonly string[]): (v: string) => string {
  return (v: string) => {
    if (!options.includes(v)) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected one of ${options.join(', ')}, got '${v}'`);
    return v;
  };
}

/** The source's configuration and weights file. */
function readSource(src: string, o: PruneFlags): { config: TrainConfig; weights: string; base: string } {
  if (!fs.existsSync(src)) throw new SparsetrainError('ERR_IO', `prune ${src}: no such file or directory; expected a run directory or a .safetensors file`);
  const overrides: Partial<TrainConfig> = {};
  if (o.data !== undefined) overrides.data = o.data;
  if (o.limitTrain !== undefined) overrides.limitTrain = o.limitTrain;
  if (o.limitTest !== undefined) overrides.limitTest = o.limitTest;
  if (fs.statSync(src).isDirectory()) {
    const weights = path.join(src, 'model.safetensors');
    if (!fs.existsSync(weights)) throw new SparsetrainError('ERR_IO', `prune ${src}: the directory has no model.safetensors; expected a run directory or a .safetensors file`);
    for (const [flag, v] of [['--model', o.model], ['--dataset', o.dataset], ['--act', o.act], ['--batch-norm', o.batchNorm], ['--width', o.width]] as const) {
      if (v !== undefined) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: the run ${src} records it; give it only with a bare .safetensors file`);
    }
    const cfgFile = path.join(src, 'config.yaml');
    const saved = fs.existsSync(cfgFile) ? readConfigFile(cfgFile) : readSummaryConfig(src);
    if (!saved) throw new SparsetrainError('ERR_IO', `prune ${src}: no config.yaml or summary.json in it; expected a run directory written by sparsetrain`);
    // What the source's own run did (pruning, limits of steps, init) is not what this command does.
    const keep: (keyof TrainConfig)[] = ['model', 'dataset', 'data', 'act', 'batchNorm', 'width', 'limitTrain', 'limitTest', 'validateSet', 'augment', 'shuffle', 'seed',
      'optimizer', 'lr', 'momentum', 'nesterov', 'weightDecay', 'betas', 'eps', 'batchSize', 'evalBatchSize', 'threads'];
    const base = Object.fromEntries(keep.filter((k) => saved[k] !== undefined).map((k) => [k, saved[k]])) as Partial<TrainConfig>;
    return { config: resolveTrainConfig({ ...base, ...overrides }), weights, base: path.basename(path.resolve(src)) };
  }
  if (!o.model) throw new SparsetrainError('ERR_ARGUMENT', `--model: required for ${src} (a run directory records it); one of ${modelNames().join(', ')}`);
  if (!o.dataset) throw new SparsetrainError('ERR_ARGUMENT', `--dataset: required for ${src} (a run directory records it); one of ${DATASET_NAMES.join(', ')}`);
  const config = resolveTrainConfig({
    model: o.model, dataset: o.dataset, act: o.act ?? null, batchNorm: o.batchNorm ?? false, width: o.width ?? null, ...overrides,
  });
  return { config, weights: src, base: `${o.model}-${o.dataset}` };
}

/** One stage; non-zero weights are counted against the source model's weights. */
function describe(s: PruneStage, source: PruneStage): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `test ${s.test.accuracy.toFixed(2)}%, ${n(s.params)} parameters, ${n(s.nonzeroWeights)} of ${n(source.weights)} weights non-zero (${((100 * s.nonzeroWeights) / source.weights).toFixed(2)}%)`;
}

export function registerPrune(program: Command): void {
  const cmd = program
    .command('prune')
    .description('prune a trained model (weights and/or units, optional clean-up of empty units and fine-tuning) into a new run directory')
    .argument('<source>', 'a run directory (its model.safetensors and config.yaml) or a .safetensors file (with --model, --dataset)')
    .option('--model <name>', `zoo model of a bare file: ${modelNames().join(', ')}`, choice('--model', modelNames()))
    .option('--dataset <name>', `data set of a bare file: ${DATASET_NAMES.join(', ')}`, choice('--dataset', DATASET_NAMES))
    .option('--data <dir>', 'directory of the data set files')
    .option('--act <name>', 'smallcnn (bare file): relu | tanh', choice('--act', ['relu', 'tanh']))
    .option('--batch-norm', 'smallcnn (bare file): BatchNorm after each convolution')
    .option('--width <x>', 'vgg (bare file): channel multiplier', floatOption('--width', 0))
    .option('--limit-train <n>', 'use only the first N training examples (scores, means, fine-tuning)', intOption('--limit-train', 1))
    .option('--limit-test <n>', 'use only the first N test examples', intOption('--limit-test', 1))
    .option('--sparsity <s>', 'weights: fraction pruned in every layer, e.g. 0.9 (weights already 0 count as pruned)', floatOption('--sparsity', 0, 1))
    .option('--sparsity-conv <s>', 'weights: fraction pruned in the convolutional layers', floatOption('--sparsity-conv', 0, 1))
    .option('--sparsity-fc <s>', 'weights: fraction pruned in the fully connected layers', floatOption('--sparsity-fc', 0, 1))
    .option('--prune-scorer <name>', `weights: ${WEIGHT_SCORERS.join(', ')} (default magnitude)`, choice('--prune-scorer', WEIGHT_SCORERS))
    .option('--prune-scope <scope>', `weights: ${PRUNE_SCOPES.join(' | ')} (default layer)`, choice('--prune-scope', PRUNE_SCOPES))
    .option('--prune-examples <n>', 'weights: training examples for taylor*, hessian*, loss-change* (default 1000)', intOption('--prune-examples', 1))
    .option('--unit-fraction <f>', 'units: fraction of each layer\'s units removed (mean replacement, bias propagation; always shrinks)', floatOption('--unit-fraction', 0, 1))
    .option('--unit-scorer <name>', `units: ${UNIT_SCORERS.join(' | ')} (default mrs)`, choice('--unit-scorer', UNIT_SCORERS))
    .option('--unit-scope <scope>', `units: ${UNIT_SCOPES.join(' | ')} (default layer)`, choice('--unit-scope', UNIT_SCOPES))
    .option('--unit-examples <n>', 'units: training examples for scores and means (default 1000)', intOption('--unit-examples', 1))
    .option('--unit-replacement <how>', `units: ${UNIT_REPLACEMENTS.join(' | ')} (default mean)`, choice('--unit-replacement', UNIT_REPLACEMENTS))
    .option('--shrink', 'after pruning: remove units left without incoming or outgoing weights (f_nz 0, bias propagation) and shrink the tensors')
    .option('--remove-units-fnz <f>', 'like --shrink, removing units with at most this fraction of non-zero in/out weights', floatOption('--remove-units-fnz', 0, 1))
    .option('--fine-tune-epochs <n>', 'fine-tune the pruned model for N epochs (pruned weights stay 0)', intOption('--fine-tune-epochs', 1))
    .option('--lr <x>', 'fine-tuning learning rate (default: the run\'s lr x 0.1)', floatOption('--lr', 0))
    .option('--lr-schedule <kind>', 'fine-tuning: constant | cosine (default constant)', choice('--lr-schedule', ['constant', 'cosine']))
    .option('-b, --batch-size <n>', 'fine-tuning batch size (default: the run\'s)', intOption('--batch-size', 1, 65536))
    .option('--weight-decay <x>', 'fine-tuning weight decay (default: the run\'s)', floatOption('--weight-decay', 0))
    .option('--name <name>', 'output: runs/<name>/ (default <source>-pruned)')
    .option('--runs-dir <dir>', 'where runs go (default ./runs)')
    .option('--threads <n>', 'kernel threads', intOption('--threads', 1, 1024))
    .option('--quiet', 'only the result')
    .option('--json', 'print summary.json at the end');
  cmd.addHelpText('after', `
Examples:
  sparsetrain prune runs/lenet300-mnist --sparsity 0.9 --fine-tune-epochs 2
  sparsetrain prune runs/lenet5-mnist --sparsity-conv 0.6 --sparsity-fc 0.92 --prune-scope kind
  sparsetrain prune runs/smallcnn-mnist --unit-fraction 0.5 --unit-scorer mrs --fine-tune-epochs 1
  sparsetrain prune runs/smallcnn-mnist --sparsity 0.9 --shrink
  sparsetrain prune weights.safetensors --model lenet300 --dataset mnist --sparsity 0.8 --prune-scorer taylor1-abs`);
  cmd.action(async (src: string, o: PruneFlags) => {
    const { config, weights, base } = readSource(src, o);
    const runsDir = o.runsDir ?? 'runs';
    let name = o.name;
    if (name === undefined) {
      name = `${base}-pruned`;
      for (let i = 2; fs.existsSync(path.join(runsDir, name)) && fs.readdirSync(path.join(runsDir, name)).length > 0; i++) name = `${base}-pruned-${i}`;
    }
    const quiet = !!o.quiet || !!o.json;
    const argv = process.argv.slice(2).map(shellQuote).join(' ');
    const r = await pruneRun({
      config, weights, source: src, name, runsDir, threads: o.threads ?? null, command: `sparsetrain ${argv}`,
      sparsity: o.sparsity, sparsityConv: o.sparsityConv, sparsityFc: o.sparsityFc, scorer: o.pruneScorer, scope: o.pruneScope, examples: o.pruneExamples,
      unitFraction: o.unitFraction, unitScorer: o.unitScorer, unitScope: o.unitScope, unitExamples: o.unitExamples, unitReplacement: o.unitReplacement,
      shrink: o.shrink, fnz: o.removeUnitsFnz,
      fineTuneEpochs: o.fineTuneEpochs, lr: o.lr, lrSchedule: o.lrSchedule, batchSize: o.batchSize, weightDecay: o.weightDecay,
      reporter: consoleReporter({ quiet }),
      log: quiet ? undefined : (m) => process.stdout.write(`${m}\n`),
    });
    const s = r.summary;
    if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    else {
      process.stdout.write(`before: ${describe(s.prune.before, s.prune.before)}\n`);
      process.stdout.write(`after pruning: ${describe(s.prune.afterPruning, s.prune.before)}\n`);
      if (s.prune.afterFineTune) process.stdout.write(`after fine-tuning: ${describe(s.prune.afterFineTune, s.prune.before)}\n`);
      process.stdout.write(`run: ${r.runDir}  (model.safetensors, summary.json, prune.yaml${s.prune.fineTune ? ', fine-tune/' : ''})\n`);
    }
    if (r.status === 'diverged' || r.status === 'interrupted') {
      process.stderr.write(`sparsetrain: fine-tuning ${r.status}: ${s.message ?? ''}\n`);
      process.exitCode = 1;
    }
  });
}
