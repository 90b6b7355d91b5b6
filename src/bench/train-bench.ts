/**
 * Training and inference throughput of a zoo model on random inputs, the
 * same protocol as shared/reference/torch_bench.py: SGD (lr 0.01, momentum
 * 0.9), cross-entropy, `warmup` untimed steps then `steps` timed ones;
 * inference in eval mode without gradients.
 */
import { buildModel, inputShape } from '../models';
import { SGD } from '../optim';
import { crossEntropy } from '../ops/loss';
import { randn, randint } from '../ops/creation';
import { Generator } from '../tensor/random';
import { noGrad } from '../autograd/grad-mode';
import { backend, getThreads, setThreads } from '../backend';
import { loadAddon } from '../backend/native';
import type { Tensor } from '../tensor/tensor';
import type { Module } from '../nn/module';

export interface TrainBenchOptions {
  model: string;
  batch: number;
  steps: number;
  threads?: number;
  warmup?: number;
}

export interface TrainBenchResult {
  model: string;
  batch: number;
  threads: number;
  train_samples_per_s: number;
  /** Samples per second of process CPU time (user + system, all threads) while training: far less sensitive to other load than wall time. */
  train_cpu_samples_per_s: number;
  infer_samples_per_s: number;
  peak_rss_mb: number;
  train_step_ms: number;
  backend: string;
  isa: string;
}

/** The benchmark's training step on a fresh model (seeded random batch, SGD, cross-entropy), the model in train mode. */
export interface BenchTrainer {
  model: Module;
  x: Tensor;
  forward(t: Tensor): Tensor;
  step(): void;
}

export function benchTrainer(modelName: string, batch: number): BenchTrainer {
  const gen = new Generator(0);
  const model = buildModel(modelName, { generator: gen });
  const x = randn([batch, ...inputShape(modelName)], { generator: gen });
  const y = randint(0, 10, [batch], { generator: gen });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const forward = (t: Tensor) => model.call(t) as Tensor;
  const step = () => {
    opt.zeroGrad();
    crossEntropy(forward(x), y).backward();
    opt.step();
  };
  model.train();
  return { model, x, forward, step };
}

export function runTrainBench(o: TrainBenchOptions): TrainBenchResult {
  if (o.threads !== undefined) setThreads(o.threads);
  const { model, x, forward, step } = benchTrainer(o.model, o.batch);
  const warmup = o.warmup ?? 5;
  for (let i = 0; i < warmup; i++) step();
  let t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < o.steps; i++) step();
  const cpu = process.cpuUsage(cpu0);
  const trainSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const trainCpuSec = (cpu.user + cpu.system) / 1e6;
  model.eval();
  const infer = noGrad(() => {
    for (let i = 0; i < 3; i++) forward(x);
    t0 = process.hrtime.bigint();
    for (let i = 0; i < o.steps; i++) forward(x);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  });
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return {
    model: o.model,
    batch: o.batch,
    threads: getThreads(),
    train_samples_per_s: round1((o.batch * o.steps) / trainSec),
    train_cpu_samples_per_s: round1((o.batch * o.steps) / trainCpuSec),
    infer_samples_per_s: round1((o.batch * o.steps) / infer),
    peak_rss_mb: round1(process.resourceUsage().maxRSS / 1024),
    train_step_ms: Math.round((trainSec / o.steps) * 1e4) / 10,
    backend: backend().name,
    isa: loadAddon()?.getIsa() ?? 'none',
  };
}
