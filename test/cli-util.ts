/**
 * Running the `sparsetrain` command as a user does (a spawned process) from a
 * temporary directory removed at exit. One thread, so spawned runs do not
 * fight the test runner for the cores.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
export const BIN = path.join(ROOT, 'bin', 'sparsetrain.js');

export interface CliOutput { code: number; stdout: string; stderr: string }

/** A fresh temporary directory (removed when the process exits) and a `cli(args)` that runs there. */
export function cliSandbox(prefix: string): { TMP: string; cli: (args: string[]) => Promise<CliOutput> } {
  const TMP = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));
  const cli = (args: string[]): Promise<CliOutput> => new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: TMP, env: { ...process.env, SPARSETRAIN_THREADS: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
  return { TMP, cli };
}
