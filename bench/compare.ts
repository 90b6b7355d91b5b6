/**
 * Training-throughput comparison with PyTorch, in the same run.
 *
 *   npm run bench -- [--models lenet300,lenet5,...] [--rounds 3] [--steps 30] [--batch 64] [--threads 2] [--torch-blas-threads 1]
 *
 * For each round and model, runs `sparsetrain bench` and the PyTorch side
 * (bench/torch_side.py over shared/reference/torch_bench.py) one after the
 * other, each in a fresh process, alternating which goes first, then prints
 * one JSON line per model with the medians and the ratios ours / PyTorch's.
 * Both sides also report training samples per second of process CPU time
 * (ratio.train_cpu): with 1 thread it hardly moves under other load, where
 * wall time does. PyTorch runs with OPENBLAS_CORETYPE=SkylakeX (Debian's OpenBLAS otherwise
 * picks its AVX2 kernels on this CPU and is about half as fast).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.join(__dirname, '..', '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

const models = arg('models', 'lenet300,lenet5,smallcnn,resnet20,vgg19,wrn-28-2').split(',');
const rounds = Number(arg('rounds', '3'));
const steps = arg('steps', '30');
const batch = arg('batch', '64');
const threads = arg('threads', '2');
const torchBlasThreads = arg('torch-blas-threads', '1');

type Row = Record<string, number | string>;

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv): Row {
  const r = spawnSync(cmd, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${cmd} ${args.join(' ')} printed no JSON: ${r.stdout}`);
  return JSON.parse(line) as Row;
}

const ours = () => (m: string) =>
  runJson(process.execPath, [path.join(root, 'bin', 'sparsetrain.js'), 'bench', '--model', m, '--batch', batch, '--threads', threads, '--steps', steps, '--json'], {});
const theirs = () => (m: string) =>
  runJson('/usr/bin/python3', [path.join(root, 'bench', 'torch_side.py'), m, batch, steps, threads], { OPENBLAS_CORETYPE: 'SkylakeX', OPENBLAS_NUM_THREADS: torchBlasThreads, OMP_NUM_THREADS: threads });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

for (const m of models) {
  const a: Row[] = [];
  const b: Row[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a.push(ours()(m));
      b.push(theirs()(m));
    } else {
      b.push(theirs()(m));
      a.push(ours()(m));
    }
  }
  const med = (rows: Row[], k: string) => median(rows.map((x) => Number(x[k])));
  const out = {
    model: m,
    batch: Number(batch),
    threads: Number(threads),
    torch_blas_threads: Number(torchBlasThreads),
    steps: Number(steps),
    rounds,
    sparsetrain: { train_samples_per_s: med(a, 'train_samples_per_s'), train_cpu_samples_per_s: med(a, 'train_cpu_samples_per_s'), infer_samples_per_s: med(a, 'infer_samples_per_s'), peak_rss_mb: med(a, 'peak_rss_mb') },
    pytorch: { train_samples_per_s: med(b, 'train_samples_per_s'), train_cpu_samples_per_s: med(b, 'train_cpu_samples_per_s'), infer_samples_per_s: med(b, 'infer_samples_per_s'), peak_rss_mb: med(b, 'peak_rss_mb'), version: b[0].torch },
    ratio: {
      train: +(med(a, 'train_samples_per_s') / med(b, 'train_samples_per_s')).toFixed(3),
      train_cpu: +(med(a, 'train_cpu_samples_per_s') / med(b, 'train_cpu_samples_per_s')).toFixed(3),
      infer: +(med(a, 'infer_samples_per_s') / med(b, 'infer_samples_per_s')).toFixed(3),
      peak_rss: +(med(a, 'peak_rss_mb') / med(b, 'peak_rss_mb')).toFixed(3),
    },
  };
  console.log(JSON.stringify(out));
}
