/**
 * The training loop: a zoo model on a data set with an optimizer, an lr
 * schedule, plug-ins (plugin.ts) and a run directory (run-dir.ts).
 *
 * Randomness. Everything comes from the configured seed: the initial weights
 * from Generator(seed); the loader's shuffling and augmentation from
 * deriveSeed(seed, 'loader') (per epoch and batch, see data/loader.ts);
 * dropout from derivedGenerator(seed, 'dropout'); plug-ins from
 * derivedGenerator(seed, 'plugins') (ctx.generator). Generator states are
 * saved in checkpoints, so a resumed run takes exactly the steps of an
 * uninterrupted one and ends with the same weights, bit for bit (with the same
 * thread count: some kernels split sums by thread).
 *
 * Checkpoints are written at the start, after every epoch, and when the run
 * stops early (--max-steps, an interrupt). A step whose loss is NaN or
 * infinite stops the run before the update, so the last checkpoint stays the
 * last good one; an epoch whose evaluation or weights are not finite is not
 * checkpointed.
 *
 * Resuming: the plug-ins' states are loaded first, then onTrainStart runs
 * (ctx.resumed is true), so a plug-in can rebuild what it adds to the model;
 * then the model's state dict is loaded with sparse/mask.ts
 * loadPrunedStateDict (strict; parameters saved as weight_orig / weight_mask
 * are pruned again with their masks), and the optimizer (with its masks),
 * the scheduler and the generators are restored. A run stopped
 * mid-epoch continues at the next batch of that epoch without calling
 * onEpochStart again.
 *
 * Ends: a run that finishes its epochs or reaches --max-steps calls
 * onTrainEnd (a partial last epoch gets an evaluation and a metrics line
 * marked partial, but no onEpochEnd); an interrupted or diverged run does not.
 * summary.json's test result is always that of the final weights in
 * model.safetensors (re-evaluated after onTrainEnd when plug-ins ran).
 */
import { SparsetrainError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { Generator, defaultGenerator } from '../tensor/random';
import type { Module } from '../nn/module';
import { setDropoutGenerator } from '../nn/layers/dropout';
import { buildModel, modelInfo, type BuildOptions } from '../models';
import { loadDataset } from '../data/datasets';
import type { ImageDataset } from '../data/dataset';
import { DataLoader, evalBatches } from '../data/loader';
import { RandomCropFlip } from '../data/augment';
import { validationSplit } from '../data/split';
import { deriveSeed, derivedGenerator } from '../data/seed';
import { SGD, Adam, AdamW, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, TableLR } from '../optim';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer';
import type { LRScheduler, SchedulerStateDict } from '../optim/schedulers';
import { crossEntropy } from '../ops/loss';
import { getThreads, setThreads, backend } from '../backend';
import { loadAddon } from '../backend/native';
import { effectiveStateDict, loadCheckpoint, loadModelWeights, saveCheckpoint, saveModelWeights } from '../io/checkpoint';
import { applyMasksToOptimizer, loadPrunedStateDict } from '../sparse/mask';
import type { TrainConfig } from './config';
import type { Batch, TrainContext, TrainPlugin } from './plugin';
import { countCorrect, evaluate, type EvalResult } from './metrics';
import { RunDir, defaultRunName } from './run-dir';
import { silentReporter, type EpochLine, type Reporter } from './progress';

export interface TrainOptions {
  /** A resolved configuration (resolveTrainConfig). */
  config: TrainConfig;
  plugins?: TrainPlugin[];
  /** Continue the run in this directory (its config is `config`, as read back and overridden by the caller). */
  resume?: string;
  /** The command line, recorded in summary.json. */
  command?: string;
  reporter?: Reporter;
}

export type RunStatus = 'completed' | 'stopped' | 'interrupted' | 'diverged';

export interface TrainSummary {
  model: string;
  dataset: string;
  status: RunStatus;
  /** Configured epochs. */
  epochs: number;
  /** Epochs finished (a partial last epoch not counted). */
  epochsCompleted: number;
  steps: number;
  seed: number;
  test: { accuracy: number; loss: number; top5: number; samples: number } | null;
  validation?: { accuracy: number; loss: number; top5: number; samples: number } | null;
  best?: { epoch: number; validation: EvalResult; file: string } | null;
  /** How the model was built (torch_models.build keyword arguments, in camelCase). */
  modelOptions: { numClasses: number; inChannels: number; act: string | null; batchNorm: boolean; width: number | null };
  /** --data DIR, if given. */
  data: string | null;
  params: number;
  nonzeroParams: number;
  sparsity: number;
  normalization: { mean: number[]; std: number[] };
  trainSamplesPerSec: number;
  wallSeconds: number;
  command: string;
  runDir: string;
  threads: number;
  backend: string;
  isa: string;
  finishedAt: string;
  message?: string;
}

export interface TrainResult {
  status: RunStatus;
  runDir: string;
  summary: TrainSummary;
  /** Why the run stopped, for 'diverged' and 'interrupted'. */
  message?: string;
}

interface Progress {
  epoch: number;
  /** Next batch of `epoch` to train. */
  batch: number;
  step: number;
  /** Accumulators of the current epoch. */
  lossSum: number;
  correct: number;
  seen: number;
  epochTrainSeconds: number;
  /** Whole run, over resumes. */
  trainSeconds: number;
  trainSamples: number;
  wallSeconds: number;
  history: EpochLine[];
  best: { epoch: number; validation: EvalResult } | null;
}

type AnyOptimizer = Optimizer<any>;

/** Counts of parameter elements and of non-zero effective ones (pruned entries count as zero). */
export function countParams(model: Module<any[], any>): { params: number; nonzero: number } {
  const eff = effectiveStateDict(model);
  const paramKeys = new Set(model.namedParameters().map(([k]) => (k.endsWith('_orig') ? k.slice(0, -5) : k)));
  let params = 0;
  let nonzero = 0;
  for (const [k, t] of eff) {
    if (!paramKeys.has(k)) continue;
    const d = t.data;
    params += d.length;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) nonzero++;
  }
  return { params, nonzero };
}

function allFinite(model: Module<any[], any>): string | null {
  for (const [k, t] of model.namedParameters()) {
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return k;
  }
  return null;
}

export function buildOptimizer(c: TrainConfig, params: Tensor[]): AnyOptimizer {
  switch (c.optimizer) {
    case 'sgd':
      return new SGD(params, { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
    case 'adam':
      return new Adam(params, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay });
    default:
      return new AdamW(params, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay });
  }
}

export function buildScheduler(c: TrainConfig, opt: AnyOptimizer): LRScheduler | null {
  switch (c.lrSchedule) {
    case 'step':
      return new StepLR(opt, c.stepSize, c.gamma);
    case 'multistep':
      return new MultiStepLR(opt, c.milestones, c.gamma);
    case 'exponential':
      return new ExponentialLR(opt, c.gamma);
    case 'cosine':
      return new CosineAnnealingLR(opt, c.epochs, c.etaMin);
    case 'table':
      return new TableLR(opt, c.lrTable!);
    default:
      return null;
  }
}

/** The data of a run: training set (and its indices), evaluation set, test set. */
export interface RunData {
  train: ImageDataset;
  trainIndices: Int32Array;
  test: ImageDataset;
  testIndices: Int32Array | undefined;
  /** Validation indices into `train` (with --validate-set). */
  valIndices: Int32Array | null;
}

function range(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export function loadRunData(c: TrainConfig): RunData {
  const dataDir = c.data ?? undefined;
  const synth = c.dataset === 'synthetic';
  const train = loadDataset(c.dataset, { split: 'train', dataDir, ...(synth ? { size: c.limitTrain ?? undefined } : {}) });
  const test = loadDataset(c.dataset, { split: 'test', dataDir, ...(synth ? { size: c.limitTest ?? undefined } : {}) });
  const nTrain = Math.min(train.length, c.limitTrain ?? Infinity);
  let trainIndices = range(nTrain);
  let valIndices: Int32Array | null = null;
  if (c.validateSet > 0) {
    if (c.validateSet >= nTrain) {
      throw new SparsetrainError('ERR_ARGUMENT', `--validate-set: expected fewer than the ${nTrain} training examples, got ${c.validateSet}`);
    }
    const s = validationSplit(nTrain, c.validateSet);
    trainIndices = s.train;
    valIndices = s.val;
  }
  const testIndices = c.limitTest !== null && c.limitTest < test.length ? range(c.limitTest) : undefined;
  return { train, trainIndices, test, testIndices, valIndices };
}

/** Builds the configured model for a data set's input shape and classes, checking that they fit. */
export function buildRunModel(c: TrainConfig, ds: { channels: number; height: number; width: number; numClasses: number }, generator?: Generator): Module<any[], any> {
  const [C, H, W] = modelInfo(c.model).inputShape;
  if (H !== ds.height || W !== ds.width) {
    throw new SparsetrainError('ERR_ARGUMENT', `--model ${c.model}: takes ${C}x${H}x${W} inputs, but ${c.dataset} has ${ds.channels}x${ds.height}x${ds.width} images; choose a model for ${ds.height}x${ds.width} inputs`);
  }
  const o: BuildOptions = { numClasses: ds.numClasses, generator };
  if (ds.channels !== C) o.inChannels = ds.channels;
  if (c.act !== null) o.act = c.act;
  if (c.batchNorm) o.batchNorm = true;
  if (c.width !== null) o.width = c.width;
  return buildModel(c.model, o) as Module<any[], any>;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly plugins: TrainPlugin[];
  private readonly reporter: Reporter;
  private stopRequested = false;

  constructor(private readonly opts: TrainOptions) {
    this.config = opts.config;
    this.plugins = opts.plugins ?? [];
    this.reporter = opts.reporter ?? silentReporter;
    const names = new Set<string>();
    for (const p of this.plugins) {
      if (!p || typeof p.name !== 'string') throw new SparsetrainError('ERR_ARGUMENT', 'Trainer: every plug-in needs a string `name`');
      if (names.has(p.name)) throw new SparsetrainError('ERR_ARGUMENT', `Trainer: two plug-ins are named '${p.name}'; names key their checkpoint state and must be unique`);
      names.add(p.name);
    }
  }

  /** Asks the loop to stop after the current step and checkpoint (e.g. on Ctrl-C). */
  requestStop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<TrainResult> {
    const c = this.config;
    const t0 = Date.now();
    if (c.threads !== null) setThreads(c.threads);
    const data = loadRunData(c);
    const model = buildRunModel(c, data.train, new Generator(c.seed));
    const initPruned = c.init && !this.opts.resume ? loadModelWeights(c.init, model, c.model, '--init') : [];
    const optimizer = buildOptimizer(c, model.parameters());
    // Weights pruned in the --init file stay exactly zero through momentum and weight decay.
    if (initPruned.length) applyMasksToOptimizer(model, optimizer);
    const scheduler = buildScheduler(c, optimizer);
    const augment = c.augment && data.train.channels === 3 ? new RandomCropFlip(4) : null;
    const loader = new DataLoader(data.train, {
      batchSize: c.batchSize, shuffle: c.shuffle, indices: data.trainIndices, augment, seed: deriveSeed(c.seed, 'loader'),
    });
    const nb = loader.numBatches;
    const pluginGen = derivedGenerator(c.seed, 'plugins');
    const dropoutGen = derivedGenerator(c.seed, 'dropout');
    setDropoutGenerator(dropoutGen);
    defaultGenerator().manualSeed(deriveSeed(c.seed, 'global'));

    const run = this.opts.resume ? RunDir.open(this.opts.resume) : RunDir.create(c.runsDir, c.name ?? defaultRunName(c.model, c.dataset));
    const evalName = data.valIndices ? 'validation' : 'test';
    const evalSet = () => (data.valIndices
      ? evaluate(model, data.train, { batchSize: c.evalBatchSize, indices: data.valIndices })
      : evaluate(model, data.test, { batchSize: c.evalBatchSize, indices: data.testIndices }));

    const pr: Progress = {
      epoch: 0, batch: 0, step: 0, lossSum: 0, correct: 0, seen: 0, epochTrainSeconds: 0,
      trainSeconds: 0, trainSamples: 0, wallSeconds: 0, history: [], best: null,
    };
    const reporter = this.reporter;
    const ctx: TrainContext = {
      model,
      optimizer,
      epoch: 0,
      step: 0,
      batchIndex: 0,
      batchesPerEpoch: nb,
      totalEpochs: c.epochs,
      resumed: !!this.opts.resume,
      runDir: run.dir,
      sampleTrainBatches: (n: number, batchSize = c.batchSize): Batch[] => {
        const idx = data.trainIndices.subarray(0, Math.max(0, Math.min(n, data.trainIndices.length)));
        return [...evalBatches(data.train, batchSize, idx)].map((b) => ({ x: b.x, y: b.y }));
      },
      evaluate: () => {
        const r = evalSet();
        return { loss: r.loss, accuracy: r.accuracy };
      },
      generator: pluginGen,
      epochMetrics: {},
      log: (message: string) => {
        run.log(message);
        reporter.log(message);
      },
    };

    // ---- resume ----
    let ckpt: ReturnType<typeof loadCheckpoint> | null = null;
    if (this.opts.resume) {
      ckpt = loadCheckpoint(this.opts.resume);
      const s = ckpt.state;
      const plugStates = (s.plugins ?? {}) as Record<string, unknown>;
      for (const p of this.plugins) {
        if (p.name in plugStates && p.loadStateDict) p.loadStateDict(plugStates[p.name]);
      }
      const missing = Object.keys(plugStates).filter((n) => !this.plugins.some((p) => p.name === n));
      if (missing.length) {
        throw new SparsetrainError('ERR_ARGUMENT', `--resume ${this.opts.resume}: the checkpoint has state of plug-in(s) ${missing.join(', ')}, which this run does not use; resume with the same plug-ins`);
      }
      Object.assign(pr, s.progress as Progress);
    }
    ctx.epoch = pr.epoch;
    ctx.step = pr.step;
    ctx.batchIndex = pr.batch;
    for (const p of this.plugins) p.onTrainStart?.(ctx);
    if (ckpt) {
      const s = ckpt.state;
      try {
        loadPrunedStateDict(model, ckpt.model);
      } catch (e) {
        throw new SparsetrainError('ERR_ARGUMENT', `--resume ${this.opts.resume}: the checkpoint's weights do not fit the model (${(e as Error).message.replace(/^loadStateDict: /, '')})`);
      }
      optimizer.loadStateDict(s.optimizer as OptimizerStateDict);
      if (scheduler) scheduler.loadStateDict(s.scheduler as SchedulerStateDict);
      const g = s.generators as Record<string, number[]>;
      pluginGen.setState(g.plugins);
      dropoutGen.setState(g.dropout);
      defaultGenerator().setState(g.global);
      const ls = s.loader as { seed: number };
      if (ls.seed !== loader.seed) throw new SparsetrainError('ERR_ARGUMENT', `--resume ${this.opts.resume}: the checkpoint's loader seed differs from this configuration's; resume with the run's own config.yaml`);
      run.log(`resumed at epoch ${pr.epoch + 1}, batch ${pr.batch}, step ${pr.step}`);
    } else {
      run.log(`started: ${this.opts.command ?? '(library call)'}`);
    }
    run.writeConfig(c);

    const save = (): void => {
      const plugins: Record<string, unknown> = {};
      for (const p of this.plugins) if (p.stateDict) plugins[p.name] = p.stateDict();
      saveCheckpoint(run.dir, {
        model: model.stateDict(),
        state: {
          progress: { ...pr, wallSeconds: pr.wallSeconds + (Date.now() - t0) / 1000 },
          optimizer: optimizer.stateDict(),
          scheduler: scheduler ? scheduler.stateDict() : null,
          loader: { ...loader.state(), epoch: pr.epoch, batch: pr.batch },
          generators: { plugins: pluginGen.getState(), dropout: dropoutGen.getState(), global: defaultGenerator().getState() },
          plugins,
        },
      });
      run.flushLog();
    };
    const saveWeights = (): void => saveModelWeights(run.file('model.safetensors'), model, { format: 'pt', model: c.model, dataset: c.dataset });

    if (!ckpt) {
      save();
      saveWeights();
    }

    let status: RunStatus = 'completed';
    let message: string | undefined;
    let lastEval: EvalResult | null = null;
    let finalTestFresh = false;
    const lrNow = () => optimizer.paramGroups[0].lr as number;
    const lineOf = (ev: EvalResult, partial: boolean): EpochLine => ({
      epoch: pr.epoch,
      lr: lrNow(),
      trainLoss: pr.seen ? pr.lossSum / pr.seen : NaN,
      trainAccuracy: pr.seen ? (100 * pr.correct) / pr.seen : NaN,
      evalSplit: evalName,
      evalLoss: ev.loss,
      evalAccuracy: ev.accuracy,
      evalTop5: ev.top5,
      seconds: pr.epochTrainSeconds,
      samplesPerSec: pr.epochTrainSeconds > 0 ? pr.seen / pr.epochTrainSeconds : 0,
      ...(partial ? { partial: true } : {}),
    });
    let partialLine: EpochLine | null = null;

    model.train();
    epochs: while (pr.epoch < c.epochs) {
      const e = pr.epoch;
      ctx.epoch = e;
      ctx.epochMetrics = {};
      if (pr.batch === 0) {
        pr.lossSum = 0;
        pr.correct = 0;
        pr.seen = 0;
        pr.epochTrainSeconds = 0;
        for (const p of this.plugins) p.onEpochStart?.(ctx);
      }
      reporter.epochStart(e, c.epochs, nb, pr.batch);
      let stopReason: 'max-steps' | 'interrupt' | null = null;
      for (const b of loader.epoch(e, pr.batch)) {
        if (c.maxSteps !== null && pr.step >= c.maxSteps) {
          stopReason = 'max-steps';
          break;
        }
        if (this.stopRequested) {
          stopReason = 'interrupt';
          break;
        }
        const ts = process.hrtime.bigint();
        ctx.batchIndex = pr.batch;
        ctx.step = pr.step;
        ctx.batch = { x: b.x, y: b.y };
        ctx.loss = undefined;
        optimizer.zeroGrad();
        for (const p of this.plugins) p.beforeForward?.(ctx);
        const x = ctx.batch.x;
        const y = ctx.batch.y;
        const logits = model.call(x) as Tensor;
        const loss = crossEntropy(logits, y);
        const lv = loss.item();
        if (!Number.isFinite(lv)) {
          status = 'diverged';
          message = `the training loss became ${lv} at epoch ${e + 1}, batch ${pr.batch + 1} (step ${pr.step + 1}); the run stopped and ${run.dir} keeps the last good checkpoint (after ${pr.history.length} epoch${pr.history.length === 1 ? '' : 's'}); try a lower --lr`;
          break epochs;
        }
        loss.backward();
        ctx.loss = loss;
        for (const p of this.plugins) p.afterBackward?.(ctx);
        optimizer.step();
        pr.step += 1;
        ctx.step = pr.step;
        for (const p of this.plugins) p.afterStep?.(ctx);
        const B = y.shape[0];
        pr.lossSum += lv * B;
        pr.correct += countCorrect(logits.data as Float32Array, y.data as Int32Array, B, logits.shape[1]).top1;
        pr.seen += B;
        pr.batch += 1;
        const dt = Number(process.hrtime.bigint() - ts) / 1e9;
        pr.epochTrainSeconds += dt;
        pr.trainSeconds += dt;
        pr.trainSamples += B;
        ctx.batch = undefined;
        reporter.step(pr.batch, nb, lv);
        // Let signals (Ctrl-C) and the progress bar's timer run.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (stopReason === null && c.maxSteps !== null && pr.step >= c.maxSteps && pr.batch < nb) stopReason = 'max-steps';
      if (stopReason !== null && pr.batch < nb) {
        // Stopped inside the epoch: checkpoint here, resume continues with the next batch.
        if (stopReason === 'max-steps') {
          status = 'stopped';
          message = `stopped after ${pr.step} steps (--max-steps ${c.maxSteps}) in epoch ${e + 1}`;
          if (pr.seen > 0) {
            lastEval = evalSet();
            partialLine = lineOf(lastEval, true);
            reporter.epochEnd(partialLine, c.epochs);
            finalTestFresh = !data.valIndices && this.plugins.length === 0;
          }
        } else {
          status = 'interrupted';
          message = `interrupted at epoch ${e + 1}, batch ${pr.batch}; continue with: sparsetrain train --resume ${run.dir}`;
        }
        run.log(message);
        save();
        saveWeights();
        break;
      }
      // ---- end of a full epoch ----
      const ev = evalSet();
      const badParam = allFinite(model);
      if (!Number.isFinite(ev.loss) || badParam !== null) {
        status = 'diverged';
        message = `${badParam !== null ? `parameter ${badParam} became non-finite` : `the ${evalName} loss became ${ev.loss}`} at the end of epoch ${e + 1}; the run stopped and ${run.dir} keeps the last good checkpoint (after ${pr.history.length} epoch${pr.history.length === 1 ? '' : 's'}); try a lower --lr`;
        break;
      }
      lastEval = ev;
      const line = lineOf(ev, false);
      ctx.epochMetrics = { ...line };
      for (const p of this.plugins) p.onEpochEnd?.(ctx);
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(ctx.epochMetrics)) if (!(k in line)) extra[k] = v;
      const full = { ...line, ...extra } as EpochLine;
      scheduler?.step();
      pr.history.push(full);
      reporter.epochEnd(full, c.epochs);
      if (data.valIndices && (pr.best === null || ev.accuracy > pr.best.validation.accuracy)) {
        pr.best = { epoch: e, validation: ev };
        saveModelWeights(run.file('model-best.safetensors'), model, { format: 'pt', model: c.model, dataset: c.dataset, epoch: String(e + 1) });
      }
      pr.epoch += 1;
      pr.batch = 0;
      ctx.epoch = pr.epoch;
      run.writeMetrics(pr.history);
      save();
      saveWeights();
      finalTestFresh = !data.valIndices && this.plugins.length === 0;
      if (c.maxSteps !== null && pr.step >= c.maxSteps && pr.epoch < c.epochs) {
        status = 'stopped';
        message = `stopped after ${pr.step} steps (--max-steps ${c.maxSteps}) at the end of epoch ${e + 1}`;
        run.log(message);
        break;
      }
    }
    reporter.close();
    if (partialLine) run.writeMetrics([...pr.history, partialLine]);

    // ---- the end: plug-ins, final weights, test evaluation, summary ----
    if (status === 'completed' || status === 'stopped') {
      for (const p of this.plugins) p.onTrainEnd?.(ctx);
      if (this.plugins.length) finalTestFresh = false;
      saveWeights();
    }
    let test: EvalResult | null = null;
    if (status !== 'diverged') {
      test = finalTestFresh && lastEval ? lastEval : evaluate(model, data.test, { batchSize: c.evalBatchSize, indices: data.testIndices });
    } else if (pr.history.length && !data.valIndices) {
      const h = pr.history[pr.history.length - 1];
      test = { loss: h.evalLoss, accuracy: h.evalAccuracy, top5: h.evalTop5, samples: data.testIndices?.length ?? data.test.length };
    }
    if (status === 'completed') run.log(`completed ${pr.epoch} epochs, ${pr.step} steps`);
    if (status === 'diverged') run.log(message!);
    const { params, nonzero } = countParams(model);
    const wall = pr.wallSeconds + (Date.now() - t0) / 1000;
    const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
    const summary: TrainSummary = {
      model: c.model,
      dataset: c.dataset,
      status,
      epochs: c.epochs,
      epochsCompleted: pr.history.length,
      steps: pr.step,
      seed: c.seed,
      test: test ? { accuracy: test.accuracy, loss: test.loss, top5: test.top5, samples: test.samples } : null,
      ...(data.valIndices ? { validation: lastEval, best: pr.best ? { ...pr.best, file: 'model-best.safetensors' } : null } : {}),
      modelOptions: { numClasses: data.train.numClasses, inChannels: data.train.channels, act: c.act, batchNorm: c.batchNorm, width: c.width },
      data: c.data,
      params,
      nonzeroParams: nonzero,
      sparsity: params ? r4(1 - nonzero / params) : 0,
      normalization: { mean: [...data.train.normalization.mean], std: [...data.train.normalization.std] },
      trainSamplesPerSec: pr.trainSeconds > 0 ? Math.round((10 * pr.trainSamples) / pr.trainSeconds) / 10 : 0,
      wallSeconds: Math.round(wall * 10) / 10,
      command: this.opts.command ?? '(library call)',
      runDir: run.dir,
      threads: getThreads(),
      backend: backend().name,
      isa: loadAddon()?.getIsa() ?? 'none',
      finishedAt: new Date().toISOString(),
      ...(message ? { message } : {}),
    };
    run.writeSummary(summary);
    run.flushLog();
    setDropoutGenerator(null);
    return { status, runDir: run.dir, summary, ...(message ? { message } : {}) };
  }
}

/** Runs a training job (see Trainer). */
export function train(opts: TrainOptions): Promise<TrainResult> {
  return new Trainer(opts).run();
}
