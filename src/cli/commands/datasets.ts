/** `sparsetrain datasets`: what data sets exist, their sizes, where each comes from and whether it is here. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { listDatasets, type DatasetInfo } from '../../data/datasets';
import { FASHION_MNIST_DEFAULT_DIR, idxFileNames, mnistDataDir } from '../../data/mnist';
import { cifarDir } from '../../data/cifar';

export interface DatasetRow extends DatasetInfo {
  /** Whether the files are found (with --data: in that directory). */
  present: boolean;
  /** Where they were looked for, or why they are not. */
  location: string;
}

function idxPresent(dir: string): boolean {
  return (['train', 'test'] as const).every((s) => Object.values(idxFileNames(s)).every((f) => fs.existsSync(path.join(dir, f)) || fs.existsSync(path.join(dir, `${f}.gz`))));
}

export function datasetRows(dataDir?: string): DatasetRow[] {
  return listDatasets().map((d) => {
    let present = false;
    let location = '';
    try {
      if (d.name === 'synthetic') {
        present = true;
        location = 'generated';
      } else if (d.name === 'mnist' || d.name === 'fashion-mnist') {
        const dir = dataDir ?? (d.name === 'mnist' ? mnistDataDir() : FASHION_MNIST_DEFAULT_DIR);
        present = idxPresent(dir);
        location = dir;
      } else if (dataDir) {
        const dir = cifarDir(d.name as 'cifar10' | 'cifar100', dataDir);
        present = true;
        location = dir;
      } else {
        location = 'needs --data DIR';
      }
    } catch (e) {
      location = (e as Error).message;
    }
    return { ...d, present, location };
  });
}

export function registerDatasets(program: Command): void {
  program
    .command('datasets')
    .description('list the data sets: sizes, classes, input shapes, normalisation, where each comes from and whether it is present')
    .option('--data <dir>', 'look for the files in this directory')
    .option('--json', 'print a JSON array')
    .action((o: { data?: string; json?: boolean }) => {
      const rows = datasetRows(o.data);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      for (const r of rows) {
        process.stdout.write(
          `${r.name}  ${r.present ? 'present' : 'not present'}  (${r.location})\n` +
            `  ${r.description}; input ${r.inputShape.join('x')}, train ${r.trainSize.toLocaleString('en-US')} / test ${r.testSize.toLocaleString('en-US')}\n` +
            `  normalisation mean [${r.normalization.mean.join(', ')}] std [${r.normalization.std.join(', ')}]\n` +
            `  source: ${r.source}\n`,
        );
      }
    });
}
