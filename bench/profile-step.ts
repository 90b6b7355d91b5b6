/**
 * Where a training step's time goes, by backend kernel.
 *
 *   npm run build && node dist/bench/profile-step.js [--model resnet20] [--batch 64] [--threads 2] [--steps 20]
 *
 * Trains the model as `sparsetrain bench` does (random inputs, SGD lr 0.01 momentum 0.9,
 * cross-entropy, 5 warm-up steps), with every kernel of the backend wrapped in a timer, and prints
 * one JSON object: the step's wall time, the kernels' summed time per step by kernel (calls and ms),
 * and the rest (JavaScript, allocation, garbage collection). The wrappers add ~1 us per call.
 */
import { backend, getThreads, setThreads } from '../src/backend';
import { benchTrainer } from '../src/bench/train-bench';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

function positive(name: string, dflt: string): number {
  const v = Number(arg(name, dflt));
  if (!Number.isInteger(v) || v < 1) throw new Error(`profile-step: --${name} must be a positive integer, got ${arg(name, dflt)}`);
  return v;
}

const modelName = arg('model', 'resnet20');
const batch = positive('batch', '64');
const steps = positive('steps', '20');
setThreads(positive('threads', '2'));

const be = backend() as unknown as Record<string, unknown>;
const stats = new Map<string, { calls: number; ns: bigint }>();
for (const k of Object.keys(be)) {
  const f = be[k];
  if (typeof f !== 'function') continue;
  const bound = (f as (...a: unknown[]) => unknown).bind(be);
  be[k] = (...a: unknown[]) => {
    const t0 = process.hrtime.bigint();
    try {
      return bound(...a);
    } finally {
      const s = stats.get(k) ?? { calls: 0, ns: 0n };
      s.calls++;
      s.ns += process.hrtime.bigint() - t0;
      stats.set(k, s);
    }
  };
}

const { step } = benchTrainer(modelName, batch);
for (let i = 0; i < 5; i++) step();
stats.clear();
const t0 = process.hrtime.bigint();
for (let i = 0; i < steps; i++) step();
const stepMs = Number(process.hrtime.bigint() - t0) / 1e6 / steps;
const round2 = (v: number) => Math.round(v * 100) / 100;
const kernels = [...stats]
  .map(([name, s]) => ({ name, calls_per_step: round2(s.calls / steps), ms_per_step: round2(Number(s.ns) / 1e6 / steps) }))
  .sort((a, b) => b.ms_per_step - a.ms_per_step);
const kernelMs = kernels.reduce((t, k) => t + k.ms_per_step, 0);
process.stdout.write(`${JSON.stringify({
  model: modelName, batch, threads: getThreads(), steps,
  step_ms: round2(stepMs), kernels_ms: round2(kernelMs), other_ms: round2(stepMs - kernelMs), kernels,
})}\n`);
