/** `sparsetrain models`: the zoo with parameter counts, input shapes and descriptions. */
import type { Command } from 'commander';
import { buildModel, modelInfo, modelNames } from '../../models';
import { Generator } from '../../tensor/random';

export interface ModelRow {
  name: string;
  params: number;
  inputShape: [number, number, number];
  description: string;
}

/** Builds each model once (10 classes) to count its parameters. */
export function modelRows(): ModelRow[] {
  return modelNames().map((name) => {
    const info = modelInfo(name);
    const params = buildModel(name, { generator: new Generator(0) }).numParameters();
    return { name, params, inputShape: info.inputShape, description: info.description };
  });
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the model zoo: names, parameter counts (10 classes), input shapes, descriptions')
    .option('--json', 'print a JSON array')
    .action((o: { json?: boolean }) => {
      const rows = modelRows();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const w = Math.max(...rows.map((r) => r.name.length));
      process.stdout.write(`${'model'.padEnd(w)}  ${'params'.padStart(10)}  input     description\n`);
      for (const r of rows) {
        process.stdout.write(`${r.name.padEnd(w)}  ${r.params.toLocaleString('en-US').padStart(10)}  ${r.inputShape.join('x').padEnd(8)}  ${r.description}\n`);
      }
    });
}
