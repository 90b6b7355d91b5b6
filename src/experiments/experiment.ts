/**
 * Named experiments (`sparsetrain reproduce NAME`): each one runs a published
 * result of the seeds end to end on this machine and checks it against the
 * issue's target.
 *
 * Layout of runs/NAME/ (like any run, plus the phases):
 *   runs/NAME/<phase>/        one ordinary training run per phase (dense/, pruned/, ...)
 *                             with config.yaml, metrics.jsonl, model.safetensors, summary.json
 *   runs/NAME/model.safetensors  the experiment's final model (PyTorch names; a physically
 *                             shrunk model has its smaller shapes)
 *   runs/NAME/summary.json    the experiment: its checks (target, measured, passed), the
 *                             key numbers of every phase, the command, the wall time, and
 *                             finalPhase (the phase directory the final model came from)
 *   runs/NAME/*.csv           tables an experiment produces (e.g. the scorer comparison)
 *
 * `smoke` runs a tiny version (few examples, an epoch or two) so tests can
 * exercise every experiment's mechanics in seconds; its numbers mean nothing
 * and its checks are reported but not expected to pass.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SparsetrainError } from '../errors';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { pruningPlugins } from '../train/pruning-plugins';
import { Trainer, type TrainResult } from '../train/trainer';
import type { TrainPlugin } from '../train/plugin';
import type { Reporter } from '../train/progress';
import { silentReporter } from '../train/progress';
import { writeJsonAtomic } from '../io/checkpoint';

export interface ExperimentOptions {
  /** Where runs go (default ./runs); the experiment writes runsDir/name/. */
  runsDir: string;
  /** Run directory name (default: the experiment's name). */
  name: string;
  /** Kernel threads (null: SPARSETRAIN_THREADS or the core count). */
  threads: number | null;
  /** Seed of everything random (each experiment documents its default). */
  seed: number;
  /** Tiny version for tests (see the file comment). */
  smoke: boolean;
  /** Progress output of the phases (silentReporter when quiet). */
  reporter: Reporter;
  /** One line of experiment-level progress (phase started, result). */
  log(message: string): void;
}

/** One target of the issue, checked against what the run measured. */
export interface ExperimentCheck {
  /** What is checked, e.g. "non-zero weights". */
  what: string;
  /** The target in words, e.g. "<= 8.3%". */
  target: string;
  /** What was measured, formatted, e.g. "7.9%". */
  measured: string;
  passed: boolean;
}

export interface ExperimentResult {
  /** runs/NAME/. */
  runDir: string;
  checks: ExperimentCheck[];
  /** Everything else worth keeping in summary.json (phase results, counts, file names). */
  details: Record<string, unknown>;
}

export interface Experiment {
  /** The name given to `reproduce`, e.g. "han-lenet300". */
  readonly name: string;
  /** One line: what runs and what it shows. */
  readonly title: string;
  /** Which seed document and which result (e.g. "seed 004, Han et al. Table 1"). */
  readonly source: string;
  /** Default seed. */
  readonly seed: number;
  /** Minutes on the 2-core development machine with 2 threads (measured). */
  readonly minutes: number;
  run(o: ExperimentOptions): Promise<ExperimentResult>;
}

/** An experiment under way: its directory and when it started (wall clock and this process's CPU time). */
export interface StartedExperiment {
  dir: string;
  wallStart: number;
  cpuStart: NodeJS.CpuUsage;
}

/**
 * Starts an experiment: creates runs/NAME/ (an existing non-empty directory
 * is an error: nothing is overwritten) and notes the start times that
 * finishExperiment turns into wallSeconds and cpuSeconds.
 */
export function startExperiment(o: ExperimentOptions): StartedExperiment {
  const wallStart = Date.now();
  const cpuStart = process.cpuUsage();
  const dir = path.join(o.runsDir, o.name);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new SparsetrainError('ERR_ARGUMENT', `reproduce: run directory ${dir} already exists and is not empty; remove it or pass --name another-name`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new SparsetrainError('ERR_IO', `--runs-dir ${o.runsDir}: cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { dir, wallStart, cpuStart };
}

/**
 * Runs one phase as an ordinary training run in runs/NAME/<phase>/. `config`
 * is the phase's training configuration without runsDir, name and threads
 * (the experiment's are used). Plug-ins: by default the pruning plug-ins of
 * the configuration (pruningPlugins, as `sparsetrain train` builds them, so
 * the phase's config.yaml replays it); a caller that passes its own list
 * must include those (a pruning configuration without its plug-ins would
 * silently not prune, so that is an error). A phase that does not complete
 * (diverged, interrupted) is an error that names it.
 */
export async function runPhase(
  o: ExperimentOptions, experimentDir: string, phase: string, config: Partial<TrainConfig>, plugins?: TrainPlugin[], command = `sparsetrain reproduce ${path.basename(experimentDir)}`,
): Promise<TrainResult> {
  const c = resolveTrainConfig({ ...config, runsDir: experimentDir, name: phase, threads: o.threads ?? undefined } as Partial<TrainConfig>);
  const fromConfig = pruningPlugins(c);
  const missing = plugins ? fromConfig.filter((p) => !plugins.some((q) => q.name === p.name)) : [];
  if (missing.length) {
    throw new SparsetrainError('ERR_ARGUMENT', `reproduce ${path.basename(experimentDir)}: phase ${phase} configures ${missing.map((p) => p.name).join(', ')} but the plug-ins given do not include it (pass pruningPlugins(config) with the others)`);
  }
  const used = plugins ?? fromConfig;
  o.log(`phase ${phase}: ${c.model} on ${c.dataset}, ${c.epochs} epochs${used.length ? ` with ${used.map((p) => p.name).join(', ')}` : ''}`);
  const r = await new Trainer({ config: c, plugins: used, command, reporter: o.reporter }).run();
  if (r.status !== 'completed') {
    throw new SparsetrainError('ERR_RUN', `reproduce ${path.basename(experimentDir)}: phase ${phase} ${r.status}${r.message ? `: ${r.message}` : ''} (see ${r.runDir})`);
  }
  const t = r.summary.test;
  if (t) o.log(`phase ${phase}: test accuracy ${t.accuracy.toFixed(2)}%, ${r.summary.nonzeroParams} of ${r.summary.params} parameters non-zero`);
  return r;
}

/** What an experiment's summary.json keeps of a phase. */
export interface PhaseInfo {
  /** Relative to the experiment directory. */
  runDir: string;
  epochs: number;
  testAccuracy: number | null;
  testLoss: number | null;
  params: number;
  nonzeroParams: number;
  wallSeconds: number;
  /** CPU seconds of this process during the phase, all threads: other work on the machine inflates wall time, not this. */
  cpuSeconds: number;
  threads: number;
}

/** runPhase, timed: the result and its PhaseInfo. */
export async function timedPhase(
  o: ExperimentOptions, dir: string, phase: string, config: Partial<TrainConfig>, plugins?: TrainPlugin[],
): Promise<{ r: TrainResult; info: PhaseInfo }> {
  const cpu0 = process.cpuUsage();
  const r = await runPhase(o, dir, phase, config, plugins);
  const cpu = process.cpuUsage(cpu0);
  const s = r.summary;
  return {
    r,
    info: {
      runDir: path.relative(dir, r.runDir),
      epochs: s.epochs,
      testAccuracy: s.test?.accuracy ?? null,
      testLoss: s.test?.loss ?? null,
      params: s.params,
      nonzeroParams: s.nonzeroParams,
      wallSeconds: s.wallSeconds,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      threads: s.threads,
    },
  };
}

/**
 * Finishes runs/NAME/: copies the final model there (written to a temporary
 * name, then renamed) and writes summary.json with the checks, the details,
 * and the experiment's wall and CPU seconds.
 */
export function finishExperiment(
  e: Experiment, o: ExperimentOptions, started: StartedExperiment, finalModel: string, checks: ExperimentCheck[], details: Record<string, unknown>,
): ExperimentResult {
  const { dir } = started;
  const cpu = process.cpuUsage(started.cpuStart);
  const target = path.join(dir, 'model.safetensors');
  // The phase whose run produced the final model: its summary.json holds the data set,
  // normalisation and test accuracy that scripts/check_run.py checks the copy against.
  const phaseDir = path.dirname(path.resolve(finalModel));
  const finalPhase = phaseDir !== path.resolve(dir) && fs.existsSync(path.join(phaseDir, 'summary.json')) ? path.relative(dir, phaseDir) : null;
  if (path.resolve(finalModel) !== path.resolve(target)) {
    const tmp = `${target}.tmp-${process.pid}`;
    fs.copyFileSync(finalModel, tmp);
    fs.renameSync(tmp, target);
  }
  writeJsonAtomic(path.join(dir, 'summary.json'), {
    experiment: e.name,
    title: e.title,
    source: e.source,
    smoke: o.smoke,
    seed: o.seed,
    passed: checks.every((c) => c.passed),
    checks,
    ...details,
    model: 'model.safetensors',
    finalPhase,
    wallSeconds: Math.round((Date.now() - started.wallStart) / 100) / 10,
    // This process's CPU time, all threads: other work on the machine inflates wall time, far less this.
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    finishedAt: new Date().toISOString(),
  });
  return { runDir: dir, checks, details };
}

/** A check from a measured number and a comparison. */
export function check(what: string, target: string, measured: string, passed: boolean): ExperimentCheck {
  return { what, target, measured, passed };
}

export { silentReporter };
