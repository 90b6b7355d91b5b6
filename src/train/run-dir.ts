/**
 * The run directory runs/<name>/ and its files, each written to a temporary
 * name and renamed:
 *   config.yaml            the resolved configuration (kebab-case keys, as the flags)
 *   metrics.jsonl          one JSON line per epoch
 *   log.txt                messages of the run (plug-ins, resumes, stops)
 *   model.safetensors      effective float32 weights, PyTorch key names
 *   model-best.safetensors with --validate-set: the epoch of best validation accuracy
 *   checkpoint.safetensors + checkpoint.json   everything needed to resume
 *   summary.json           the outcome
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { SparsetrainError } from '../errors';
import { writeJsonAtomic, writeTextAtomic } from '../io/checkpoint';
import type { TrainConfig } from './config';

/** model-dataset-YYYYmmdd-HHMMSS in local time. */
export function defaultRunName(model: string, dataset: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${model}-${dataset}-${stamp}`;
}

/** camelCase -> kebab-case (batchSize -> batch-size). */
export function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The configuration as YAML with the flags' kebab-case names. */
export function configToYaml(c: TrainConfig): string {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) o[kebab(k)] = v;
  return `# sparsetrain train configuration (resolved); usable with --config\n${yamlStringify(o)}`;
}

export class RunDir {
  readonly dir: string;
  private logLines: string[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates a new run directory; an existing non-empty one is an error (use --resume or another --name). */
  static create(runsDir: string, name: string): RunDir {
    const dir = path.join(runsDir, name);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new SparsetrainError('ERR_ARGUMENT', `--name ${name}: run directory ${dir} already exists and is not empty; continue it with --resume ${dir}, or choose another --name`);
    }
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new SparsetrainError('ERR_IO', `--runs-dir ${runsDir}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return new RunDir(dir);
  }

  /** An existing run directory (resume); keeps its log. */
  static open(dir: string): RunDir {
    const r = new RunDir(dir);
    const log = path.join(dir, 'log.txt');
    if (fs.existsSync(log)) r.logLines = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    return r;
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  writeConfig(c: TrainConfig): void {
    writeTextAtomic(this.file('config.yaml'), configToYaml(c));
  }

  writeMetrics(lines: readonly object[]): void {
    writeTextAtomic(this.file('metrics.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }

  writeSummary(summary: object): void {
    writeJsonAtomic(this.file('summary.json'), summary);
  }

  log(message: string): void {
    this.logLines.push(`${new Date().toISOString()} ${message}`);
  }

  flushLog(): void {
    writeTextAtomic(this.file('log.txt'), this.logLines.map((l) => `${l}\n`).join(''));
  }
}
