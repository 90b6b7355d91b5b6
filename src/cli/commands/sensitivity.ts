/**
 * `sparsetrain sensitivity CHECKPOINT`: Han et al.'s sensitivity analysis
 * (src/diagnose/sensitivity.ts): each prunable layer pruned alone at several
 * fractions with a weight scorer, evaluated on the test split (or a
 * validation split), restored. Prints the layer x fraction table of
 * accuracies and writes sensitivity.csv and sensitivity.json (atomically) to
 * a new runs/<name>/ directory, or to --out DIR.
 *
 * CHECKPOINT is a run directory or a .safetensors file, read as
 * `sparsetrain eval` reads it (cli/checkpoint-model.ts). Data-dependent
 * scorers (taylor*, hessian*, loss-change*) score on the first --examples
 * training examples; --epsilon E switches the Taylor / Hessian scorers to the
 * thesis' sensitivity mode dw = -E * sign(w) (instead of dw = -w).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { SparsetrainError } from '../../errors';
import { modelNames } from '../../models';
import { DATASET_NAMES } from '../../data/datasets';
import { evalBatches } from '../../data/loader';
import { setThreads, getThreads } from '../../backend';
import { Generator } from '../../tensor/random';
import { resolveTrainConfig } from '../../train/config';
import { loadRunData } from '../../train/trainer';
import { evaluate } from '../../train/metrics';
import { defaultRunName } from '../../train/run-dir';
import { WEIGHT_SCORERS, isDataDependent, parseScorerName, type ScoreOptions } from '../../sparse/scores';
import { DEFAULT_FRACTIONS, sensitivityAnalysis, sensitivityTargets } from '../../diagnose/sensitivity';
import { formatSensitivityTable, writeSensitivity } from '../../diagnose/sensitivity-report';
import { floatOption, intOption } from '../options';
import { resolveCheckpoint, loadCheckpointModel } from '../checkpoint-model';
import { shellQuote } from './train';

interface SensitivityFlags {
  model?: string;
  dataset?: string;
  data?: string;
  act?: 'relu' | 'tanh';
  batchNorm?: boolean;
  width?: number;
  fractions?: number[];
  scorer: string;
  epsilon?: number;
  examples: number;
  layers?: string[];
  limitTest?: number;
  validateSet?: number;
  batchSize: number;
  seed: number;
  threads?: number;
  out?: string;
  name?: string;
  runsDir: string;
  quiet?: boolean;
  json?: boolean;
}

function choice(flag: string, options: readonly string[]): (v: string) => string {
  return (v: string) => {
    if (!options.includes(v)) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected one of ${options.join(', ')}, got '${v}'`);
    return v;
  };
}

function fractionList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const out = parts.map(Number);
  if (parts.some((s) => s === '') || out.some((n) => !Number.isFinite(n) || n < 0 || n > 1)) {
    throw new SparsetrainError('ERR_ARGUMENT', `--fractions: expected comma-separated numbers in [0, 1], e.g. 0.1,0.5,0.9, got '${v}'`);
  }
  return out;
}

function scorerOption(v: string): string {
  try {
    return parseScorerName(v);
  } catch {
    throw new SparsetrainError('ERR_ARGUMENT', `--scorer: expected one of ${WEIGHT_SCORERS.join(', ')}, got '${v}'`);
  }
}

export function registerSensitivity(program: Command): void {
  program
    .command('sensitivity')
    .description('prune each layer alone at several fractions, evaluate, restore (Han et al.): table layer x fraction, sensitivity.csv and .json')
    .argument('<checkpoint>', 'a run directory, or a .safetensors file with PyTorch key names (then --model and --dataset)')
    .option('--model <name>', `zoo model (${modelNames().join(', ')}); default: the run's`, choice('--model', modelNames()))
    .option('--dataset <name>', `data set (${DATASET_NAMES.join(', ')}); default: the run's`, choice('--dataset', DATASET_NAMES))
    .option('--data <dir>', 'directory of the data set files')
    .option('--act <name>', 'smallcnn: relu | tanh', choice('--act', ['relu', 'tanh']))
    .option('--batch-norm', 'smallcnn: BatchNorm after each convolution')
    .option('--width <x>', 'vgg: channel multiplier', floatOption('--width', 0))
    .option('--fractions <f1,f2,...>', `fractions of each layer's unpruned weights to prune (default ${DEFAULT_FRACTIONS.join(',')})`, fractionList)
    .option('--scorer <name>', `weight scorer: ${WEIGHT_SCORERS.join(', ')}`, scorerOption, 'magnitude')
    .option('--epsilon <e>', 'taylor1/taylor2/hessian(-abs): the thesis\' sensitivity mode dw = -e * sign(w) instead of dw = -w', floatOption('--epsilon', Number.MIN_VALUE))
    .option('--examples <n>', 'data-dependent scorers: the first N training examples (default 1000)', intOption('--examples', 1), 1000)
    .option('--layers <l1,l2,...>', 'only these layers (module paths or weight keys, e.g. conv1,fc1.weight)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--limit-test <n>', 'evaluate on the first N test examples', intOption('--limit-test', 1))
    .option('--validate-set <n>', 'evaluate on the last N training examples instead of the test split (as train --validate-set)', intOption('--validate-set', 1))
    .option('-b, --batch-size <n>', 'evaluation batch size (default 500)', intOption('--batch-size', 1, 65536), 500)
    .option('--seed <n>', 'seed of the random scorer (default 0)', intOption('--seed', 0), 0)
    .option('--threads <n>', 'kernel threads', intOption('--threads', 1, 1024))
    .option('--out <dir>', 'write the files into this directory (default: a new runs/<name>/)')
    .option('--name <name>', 'the new directory\'s name (default sensitivity-<model>-<dataset>-YYYYmmdd-HHMMSS)')
    .option('--runs-dir <dir>', 'where the new directory goes (default ./runs)', 'runs')
    .option('--quiet', 'no progress lines')
    .option('--json', 'print sensitivity.json instead of the table')
    .action((checkpoint: string, o: SensitivityFlags) => {
      const t0 = Date.now();
      const src = resolveCheckpoint(checkpoint, o, 'sensitivity');
      const scorer = parseScorerName(o.scorer);
      if (o.epsilon !== undefined && !/^(taylor1|taylor2|hessian)/.test(scorer)) {
        throw new SparsetrainError('ERR_ARGUMENT', `--epsilon: only applies to the taylor1, taylor2 and hessian scorers (and their -abs variants), not ${scorer}`);
      }
      if (o.out !== undefined && o.name !== undefined) throw new SparsetrainError('ERR_ARGUMENT', '--out and --name: give one of them (--out is a directory, --name a new directory under --runs-dir)');
      if (o.threads !== undefined) setThreads(o.threads);
      const c = resolveTrainConfig({ ...src.config, limitTest: o.limitTest ?? null, validateSet: o.validateSet ?? 0 });
      const data = loadRunData(c);
      const { model } = loadCheckpointModel(src, data.train, 'sensitivity');
      sensitivityTargets(model, o.layers, '--layers'); // layer names checked before any work
      const split = data.valIndices ? 'validation' : 'test';
      const evalFn = () => (data.valIndices
        ? evaluate(model, data.train, { batchSize: o.batchSize, indices: data.valIndices })
        : evaluate(model, data.test, { batchSize: o.batchSize, indices: data.testIndices }));
      const score: ScoreOptions = { generator: new Generator(o.seed), ...(o.epsilon !== undefined ? { delta: { epsilon: o.epsilon } } : {}) };
      if (isDataDependent(scorer)) {
        const n = Math.min(o.examples, data.trainIndices.length);
        score.batches = [...evalBatches(data.train, 100, data.trainIndices.subarray(0, n))].map((b) => ({ x: b.x, y: b.y }));
        score.numExamples = n;
      }
      // The output directory: created before the work, so that a bad --out fails at once.
      let dir: string;
      if (o.out !== undefined) {
        dir = o.out;
        try {
          fs.mkdirSync(dir, { recursive: true });
        } catch (e) {
          throw new SparsetrainError('ERR_IO', `--out ${dir}: cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      } else {
        const name = o.name ?? `sensitivity-${defaultRunName(c.model, c.dataset)}`;
        if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') throw new SparsetrainError('ERR_ARGUMENT', `--name: expected a name without path separators, got '${name}'`);
        dir = path.join(o.runsDir, name);
        if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new SparsetrainError('ERR_ARGUMENT', `--name ${name}: ${dir} already exists and is not empty; choose another --name or --out`);
        try {
          fs.mkdirSync(dir, { recursive: true });
        } catch (e) {
          throw new SparsetrainError('ERR_IO', `--runs-dir ${o.runsDir}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      const progress = !o.quiet && !o.json;
      let lastLayer = '';
      const r = sensitivityAnalysis(model, {
        evaluate: evalFn,
        fractions: o.fractions ?? DEFAULT_FRACTIONS,
        scorer,
        score,
        layers: o.layers,
        onRow: (row) => {
          if (!progress) return;
          if (row.layer !== lastLayer) process.stderr.write(`${lastLayer ? '\n' : ''}${row.layer}:`);
          lastLayer = row.layer;
          process.stderr.write(` ${row.fraction}:${row.accuracy.toFixed(2)}%`);
        },
      });
      if (progress && lastLayer) process.stderr.write('\n');
      const samples = data.valIndices ? data.valIndices.length : (data.testIndices?.length ?? data.test.length);
      const files = writeSensitivity(dir, r, {
        checkpoint: src.file, model: c.model, dataset: c.dataset, modelOptions: { act: c.act, batchNorm: c.batchNorm, width: c.width },
        split, samples, examples: score.numExamples ?? null, epsilon: o.epsilon ?? null, seed: o.seed, threads: getThreads(),
        command: `sparsetrain ${process.argv.slice(2).map(shellQuote).join(' ')}`, wallSeconds: (Date.now() - t0) / 1000,
      });
      if (o.json) {
        process.stdout.write(fs.readFileSync(files.json, 'utf8'));
        return;
      }
      process.stdout.write(`${src.file}: ${c.model} on ${c.dataset} ${split} (${samples} examples)\n${formatSensitivityTable(r)}\n`);
      process.stdout.write(`wrote ${files.csv} and ${files.json} (${r.seconds.toFixed(1)} s)\n`);
    });
}
