/**
 * `sparsetrain eval CHECKPOINT`: loss, top-1 and top-5 accuracy of saved
 * weights on a data set's test (or train) split. CHECKPOINT is a safetensors
 * file (with --model and --dataset) or a run directory (its model.safetensors
 * and config.yaml give the defaults).
 */
import type { Command } from 'commander';
import { SparsetrainError } from '../../errors';
import { modelNames } from '../../models';
import { DATASET_NAMES, loadDataset } from '../../data/datasets';
import { setThreads } from '../../backend';
import { evaluate } from '../../train/metrics';
import { resolveCheckpoint, loadCheckpointModel } from '../checkpoint-model';
import { floatOption, intOption } from '../options';

interface EvalFlags {
  model?: string;
  dataset?: string;
  data?: string;
  split: 'test' | 'train';
  batchSize?: number;
  limit?: number;
  threads?: number;
  act?: 'relu' | 'tanh';
  batchNorm?: boolean;
  width?: number;
  json?: boolean;
}

function choice(flag: string, options: readonly string[]): (v: string) => string {
  return (v: string) => {
    if (!options.includes(v)) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected one of ${options.join(', ')}, got '${v}'`);
    return v;
  };
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate saved weights (a safetensors file, or a run directory) on a data set: loss, top-1, top-5')
    .argument('<checkpoint>', 'a .safetensors file with PyTorch key names, or a run directory')
    .option('--model <name>', `zoo model (${modelNames().join(', ')}); default: the run's`, choice('--model', modelNames()))
    .option('--dataset <name>', `data set (${DATASET_NAMES.join(', ')}); default: the run's`, choice('--dataset', DATASET_NAMES))
    .option('--data <dir>', 'directory of the data set files')
    .option('--split <split>', 'test | train', choice('--split', ['test', 'train']), 'test')
    .option('-b, --batch-size <n>', 'evaluation batch size (default 500)', intOption('--batch-size', 1, 65536))
    .option('--limit <n>', 'only the first N examples', intOption('--limit', 1))
    .option('--act <name>', 'smallcnn: relu | tanh', choice('--act', ['relu', 'tanh']))
    .option('--batch-norm', 'smallcnn: BatchNorm after each convolution')
    .option('--width <x>', 'vgg: channel multiplier', floatOption('--width', 0))
    .option('--threads <n>', 'kernel threads', intOption('--threads', 1, 1024))
    .option('--json', 'print one JSON object')
    .action((checkpoint: string, o: EvalFlags) => {
      const src = resolveCheckpoint(checkpoint, o, 'eval');
      const { file, config: c } = src;
      const { model, dataset } = c;
      if (o.threads !== undefined) setThreads(o.threads);
      const ds = loadDataset(dataset, { split: o.split, dataDir: c.data ?? undefined, ...(dataset === 'synthetic' && o.limit ? { size: o.limit } : {}) });
      const net = loadCheckpointModel(src, ds, 'eval').model;
      const n = Math.min(ds.length, o.limit ?? Infinity);
      const indices = n < ds.length ? Int32Array.from({ length: n }, (_, i) => i) : undefined;
      const r = evaluate(net, ds, { batchSize: o.batchSize ?? 500, indices });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ checkpoint: file, model, dataset, split: o.split, ...r })}\n`);
        return;
      }
      process.stdout.write(`${file}: ${model} on ${dataset} ${o.split} (${r.samples} examples): loss ${r.loss.toFixed(4)}  top-1 ${r.accuracy.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%\n`);
    });
}
