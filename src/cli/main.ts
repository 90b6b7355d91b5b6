/**
 * The `sparsetrain` command. Each subcommand lives in commands/<name>.ts and
 * registers itself on the program. Errors print one line naming what is wrong
 * and exit non-zero; --debug prints the stack too.
 */
import { Command, CommanderError } from 'commander';
import { SparsetrainError } from '../errors';
import { registerBench } from './commands/bench';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerModels } from './commands/models';
import { registerDatasets } from './commands/datasets';
import { registerStart } from './commands/start';
import { registerReproduce } from './commands/reproduce';
import { registerPrune } from './commands/prune';
import { registerSensitivity } from './commands/sensitivity';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sparsetrain')
    .description('Train neural networks with sparsity, fast on an ordinary CPU.')
    .option('--debug', 'print stack traces on errors')
    .configureOutput({
      // Commander's own errors (unknown option, missing value) as one line.
      outputError: (str, write) => write(`sparsetrain: ${str.replace(/^error: /, '').trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' ')} (see --help)\n`),
    })
    .exitOverride();
  registerTrain(program);
  registerEval(program);
  registerModels(program);
  registerDatasets(program);
  registerStart(program);
  registerBench(program);
  registerReproduce(program);
  registerPrune(program);
  registerSensitivity(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `sparsetrain ... | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (unknown option, missing argument, help).
      process.exitCode = e.exitCode;
      return;
    }
    const err = e as Error;
    const known = err instanceof SparsetrainError || (err as { code?: string }).code === 'ERR_SPARSETRAIN';
    process.stderr.write(`sparsetrain: ${known ? err.message : `internal error: ${err.message}`}\n`);
    if (debug || !known) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
