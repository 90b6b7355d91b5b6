/**
 * Pruning a trained model after training (`sparsetrain prune`; also a library
 * call): load the weights, evaluate, prune units and/or weights, optionally
 * remove empty units (the f_nz clean-up) and fine-tune, and write a new run
 * directory:
 *
 *   runs/<name>/model.safetensors   the result: PyTorch key names, plain weights
 *                                   (pruned ones exactly 0), smaller tensors where
 *                                   units were removed
 *   runs/<name>/summary.json        like a training run's (test, params, nonzeroParams,
 *                                   sparsity, layers, normalization, modelOptions), plus
 *                                   `prune`: before / after pruning / after fine-tuning
 *   runs/<name>/prune.yaml          what was done: the source and every option, resolved
 *   runs/<name>/log.txt
 *   runs/<name>/pruned.safetensors  with fine-tuning: the pruned model it started from,
 *                                   with weight_orig / weight_mask keys (torch.nn.utils.prune's layout)
 *   runs/<name>/fine-tune/          with fine-tuning: an ordinary training run (--init
 *                                   pruned.safetensors), resumable with `train --resume`
 *
 * Order: units first (scored on the trained model, mean-replaced with bias
 * propagation, removed physically), then weights (scored on what is left, to
 * the sparsity targets), then the f_nz clean-up (units left without incoming
 * or outgoing weights), then fine-tuning.
 *
 * Decisions:
 *   - Weights that are exactly 0 in the loaded file (an earlier pruning) are
 *     treated as pruned: they are masked before scoring, count toward the
 *     sparsity targets, and stay 0 while fine-tuning.
 *   - Unit pruning always removes the units physically: a unit mask is not
 *     part of a state dict, so only the shrunk model saves what was evaluated.
 *   - Fine-tuning runs the trainer on the pruned model with the source run's
 *     optimizer, batch size, seed and data, at --lr (default: the source's lr
 *     x 0.1, Han's retraining rate) on a constant schedule unless told; its
 *     optimizer holds the masks, so pruned weights stay exactly 0.
 *   - Accuracies are on the test split (the source's --limit-test applies).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { SparsetrainError } from '../errors';
import { Generator } from '../tensor/random';
import type { Module } from '../nn/module';
import { setThreads, getThreads, backend } from '../backend';
import { loadAddon } from '../backend/native';
import { evalBatches } from '../data/loader';
import { derivedGenerator } from '../data/seed';
import { loadModelWeights, saveModelWeights, toSafeTensor, writeJsonAtomic, writeTextAtomic } from '../io/checkpoint';
import { writeSafetensors, type SafeTensor } from '../io/safetensors';
import { prune as pruneParameter } from '../sparse/mask';
import { findTargets, weightValues } from '../sparse/select';
import { pruneModel } from '../sparse/pruner';
import { isDataDependent, parseScorerName, WEIGHT_SCORERS, type WeightScorerName } from '../sparse/scores';
import { sparsityReport } from '../sparse/report';
import { UnitPruningPlugin } from '../sparse/units/schedule';
import { UNIT_SCORERS, type UnitScorer } from '../sparse/units/scores';
import { buildUnitGraph } from '../sparse/units/graph';
import { removeSparseUnits } from '../sparse/units/cleanup';
import { resolveTrainConfig, type TrainConfig } from './config';
import { PRUNE_SCOPES, UNIT_REPLACEMENTS, UNIT_SCOPES, type PruneScope } from './pruning-config';
import { weightSelection } from './pruning-plugins';
import { Trainer, buildRunModel, countParams, loadRunData, type TrainSummary, type RunStatus } from './trainer';
import { evaluate, type EvalResult } from './metrics';
import type { Batch } from './plugin';
import { silentReporter, type Reporter } from './progress';
import { fileShapes, fitWidths } from './fit-widths';
import { kebab } from './run-dir';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = Module<any[], any>;

export interface PruneRunOptions {
  /** The source: its model, data set, data options, seed and optimizer (a run's config.yaml, resolved). */
  config: TrainConfig;
  /** The weights to prune (safetensors, PyTorch names; may be shrunk). */
  weights: string;
  /** How the source is named in messages and summary.json (a run directory or the file). */
  source?: string;
  /** Weights: target sparsity of every layer, or per kind. */
  sparsity?: number;
  sparsityConv?: number;
  sparsityFc?: number;
  scorer?: WeightScorerName;
  scope?: PruneScope;
  /** Examples for a data-dependent scorer (default 1000). */
  examples?: number;
  /** Units: the fraction of each layer's units (scope layer) or of all (global) to remove. */
  unitFraction?: number;
  unitScorer?: UnitScorer;
  unitScope?: 'layer' | 'global';
  unitExamples?: number;
  unitReplacement?: 'mean' | 'zero';
  /** Remove units with at most fnz non-zero incoming or outgoing weights (shrink: fnz 0). */
  shrink?: boolean;
  fnz?: number;
  /** Fine-tuning. */
  fineTuneEpochs?: number;
  lr?: number;
  lrSchedule?: 'constant' | 'cosine';
  batchSize?: number;
  weightDecay?: number;
  /** Output: runsDir/name. */
  name: string;
  runsDir?: string;
  threads?: number | null;
  command?: string;
  /** Progress of the fine-tuning run. */
  reporter?: Reporter;
  /** Messages (also written to log.txt). */
  log?: (message: string) => void;
}

export interface PruneStage {
  test: EvalResult;
  params: number;
  nonzeroParams: number;
  /** Prunable weights (Linear and Conv2d): non-zero of all. */
  nonzeroWeights: number;
  weights: number;
}

export interface PruneRunSummary extends Omit<TrainSummary, 'epochs' | 'epochsCompleted' | 'steps' | 'seed' | 'trainSamplesPerSec' | 'validation' | 'best'> {
  source: string;
  prune: {
    options: Record<string, unknown>;
    before: PruneStage;
    afterPruning: PruneStage;
    /** After fine-tuning (null without). */
    afterFineTune: PruneStage | null;
    units: { scorer: UnitScorer; fraction: number; pruned: Record<string, number>; skipped: number; parametersAfter: number } | null;
    weights: { scorer: WeightScorerName; scope: PruneScope; newlyPruned: Record<string, number> } | null;
    cleanup: { fnz: number; removed: Record<string, number>; kept: number } | null;
    fineTune: { epochs: number; lr: number; lrSchedule: string; runDir: string; status: RunStatus } | null;
  };
}

export interface PruneRunResult {
  runDir: string;
  summary: PruneRunSummary;
  status: RunStatus;
}

function bad(flag: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${flag}: ${msg}`);
}

/** Resolved options with their defaults; errors name the command's flags. */
export function resolvePruneOptions(o: PruneRunOptions): Record<string, unknown> {
  const frac = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) throw bad(flag, `expected a number in [0, 1], got ${String(v)}`);
  };
  frac('--sparsity', o.sparsity);
  frac('--sparsity-conv', o.sparsityConv);
  frac('--sparsity-fc', o.sparsityFc);
  frac('--unit-fraction', o.unitFraction);
  frac('--remove-units-fnz', o.fnz);
  const weights = o.sparsity !== undefined || o.sparsityConv !== undefined || o.sparsityFc !== undefined;
  const units = o.unitFraction !== undefined;
  const cleanup = !!o.shrink || o.fnz !== undefined;
  if (!weights && !units && !cleanup) {
    throw bad('--sparsity', 'nothing to do: give --sparsity S (or --sparsity-conv / --sparsity-fc) to prune weights, --unit-fraction F to prune units, or --shrink to remove empty units');
  }
  if (!weights) {
    for (const [flag, v] of [['--prune-scorer', o.scorer], ['--prune-scope', o.scope], ['--prune-examples', o.examples]] as const) {
      if (v !== undefined) throw bad(flag, 'only applies when pruning weights (--sparsity, --sparsity-conv, --sparsity-fc)');
    }
  }
  if (!units) {
    for (const [flag, v] of [['--unit-scorer', o.unitScorer], ['--unit-scope', o.unitScope], ['--unit-examples', o.unitExamples], ['--unit-replacement', o.unitReplacement]] as const) {
      if (v !== undefined) throw bad(flag, 'only applies with --unit-fraction F');
    }
  }
  let scorer: WeightScorerName | null = null;
  if (weights) {
    try {
      scorer = parseScorerName(o.scorer ?? 'magnitude');
    } catch {
      throw bad('--prune-scorer', `expected one of ${WEIGHT_SCORERS.join(', ')}, got '${String(o.scorer)}'`);
    }
    if (o.scope !== undefined && !PRUNE_SCOPES.includes(o.scope)) throw bad('--prune-scope', `expected one of ${PRUNE_SCOPES.join(', ')}, got '${String(o.scope)}'`);
    if ((o.scope ?? 'layer') === 'global' && (o.sparsityConv !== undefined || o.sparsityFc !== undefined)) {
      throw bad('--prune-scope', 'global pools all layers under one threshold; give one --sparsity, or use --prune-scope layer | kind with --sparsity-conv / --sparsity-fc');
    }
    if (o.examples !== undefined && !isDataDependent(scorer)) throw bad('--prune-examples', `only applies to a data-dependent --prune-scorer (taylor*, hessian*, loss-change*), got ${scorer}`);
  }
  if (units) {
    if (o.unitScorer !== undefined && !UNIT_SCORERS.includes(o.unitScorer)) throw bad('--unit-scorer', `expected one of ${UNIT_SCORERS.join(', ')}, got '${String(o.unitScorer)}'`);
    if (o.unitScope !== undefined && !UNIT_SCOPES.includes(o.unitScope)) throw bad('--unit-scope', `expected one of ${UNIT_SCOPES.join(', ')}, got '${String(o.unitScope)}'`);
    if (o.unitReplacement !== undefined && !UNIT_REPLACEMENTS.includes(o.unitReplacement)) throw bad('--unit-replacement', `expected one of ${UNIT_REPLACEMENTS.join(', ')}, got '${String(o.unitReplacement)}'`);
  }
  const posInt = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw bad(flag, `expected an integer >= 1, got ${String(v)}`);
  };
  posInt('--prune-examples', o.examples);
  posInt('--unit-examples', o.unitExamples);
  posInt('--fine-tune-epochs', o.fineTuneEpochs);
  posInt('--batch-size', o.batchSize);
  const ft = o.fineTuneEpochs !== undefined;
  if (!ft) {
    for (const [flag, v] of [['--lr', o.lr], ['--lr-schedule', o.lrSchedule], ['--batch-size', o.batchSize], ['--weight-decay', o.weightDecay]] as const) {
      if (v !== undefined) throw bad(flag, 'only applies with --fine-tune-epochs N');
    }
  }
  if (o.lr !== undefined && !(o.lr > 0 && Number.isFinite(o.lr))) throw bad('--lr', `expected a number > 0, got ${String(o.lr)}`);
  if (o.name.includes('/') || o.name.includes('\\') || o.name === '.' || o.name === '..' || o.name === '') throw bad('--name', `expected a run name without path separators, got '${o.name}'`);
  const c = o.config;
  return {
    source: o.source ?? o.weights,
    weights: o.weights,
    ...(units ? {
      unitFraction: o.unitFraction, unitScorer: o.unitScorer ?? 'mrs', unitScope: o.unitScope ?? 'layer',
      unitExamples: o.unitExamples ?? 1000, unitReplacement: o.unitReplacement ?? 'mean',
    } : {}),
    ...(weights ? {
      sparsity: o.sparsity ?? null, sparsityConv: o.sparsityConv ?? null, sparsityFc: o.sparsityFc ?? null, pruneScorer: scorer,
      pruneScope: o.scope ?? 'layer', ...(isDataDependent(scorer!) ? { pruneExamples: o.examples ?? 1000 } : {}),
    } : {}),
    ...(cleanup ? { removeUnitsFnz: o.fnz ?? 0 } : {}),
    ...(ft ? {
      fineTuneEpochs: o.fineTuneEpochs, lr: o.lr ?? c.lr / 10, lrSchedule: o.lrSchedule ?? 'constant',
      batchSize: o.batchSize ?? c.batchSize, weightDecay: o.weightDecay ?? c.weightDecay, optimizer: c.optimizer,
    } : {}),
    seed: c.seed,
  };
}

/** Masks the Linear / Conv2d weights that are exactly 0 (see the file comment); returns how many. */
function maskZeros(model: AnyModule): number {
  let n = 0;
  for (const t of findTargets(model)) {
    const w = weightValues(t);
    const mask = new Float32Array(w.length);
    let z = 0;
    for (let i = 0; i < w.length; i++) {
      mask[i] = w[i] === 0 ? 0 : 1;
      if (w[i] === 0) z++;
    }
    if (z) pruneParameter(t.module, t.name, mask);
    n += z;
  }
  return n;
}

function stage(model: AnyModule, test: EvalResult): PruneStage {
  const { params, nonzero } = countParams(model);
  const r = sparsityReport(model);
  return { test, params, nonzeroParams: nonzero, nonzeroWeights: r.total.nonzero, weights: r.total.params };
}

/** Writes a model's own state dict (weight_orig / weight_mask kept) as safetensors. */
function saveRawState(file: string, model: AnyModule): void {
  const dt = model.stateDictDtypes();
  const tensors = new Map<string, SafeTensor>();
  for (const [k, t] of model.stateDict()) tensors.set(k, toSafeTensor(t, dt.get(k)));
  writeSafetensors(file, tensors, { format: 'pt' });
}

function counts(m: Map<string, number[]> | Record<string, number[]>): Record<string, number> {
  return Object.fromEntries((m instanceof Map ? [...m] : Object.entries(m)).map(([k, v]) => [k, v.length]));
}

/** Runs the pruning (see the file comment). */
export async function pruneRun(o: PruneRunOptions): Promise<PruneRunResult> {
  const t0 = Date.now();
  const options = resolvePruneOptions(o);
  const c = o.config;
  const runsDir = o.runsDir ?? 'runs';
  const dir = path.join(runsDir, o.name);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw bad('--name', `${dir} already exists and is not empty; choose another --name`);
  if (o.threads != null) setThreads(o.threads);
  else if (c.threads !== null) setThreads(c.threads);
  const logLines: string[] = [];
  const log = (m: string) => {
    logLines.push(`${new Date().toISOString()} ${m}`);
    o.log?.(m);
  };
  const source = String(options.source);

  // ---- load ----
  const data = loadRunData(c);
  const model = buildRunModel(c, data.train, new Generator(c.seed));
  const inputShape = [data.train.channels, data.train.height, data.train.width];
  fitWidths(model, fileShapes(o.weights), inputShape, source);
  loadModelWeights(o.weights, model, c.model, source);
  const zeros = maskZeros(model);
  const evalTest = () => evaluate(model, data.test, { batchSize: c.evalBatchSize, indices: data.testIndices });
  const before = stage(model, evalTest());
  log(`loaded ${c.model} from ${source}: test accuracy ${before.test.accuracy.toFixed(2)}% on ${before.test.samples} examples; ${before.params} parameters, ${before.nonzeroWeights} of ${before.weights} weights non-zero${zeros ? ` (${zeros} zeros kept as pruned)` : ''}`);
  const sample = (n: number): Batch[] => [...evalBatches(data.train, 100, data.trainIndices.subarray(0, Math.min(n, data.trainIndices.length)))].map((b) => ({ x: b.x, y: b.y }));
  const generator = derivedGenerator(c.seed, 'prune');

  // ---- units ----
  let unitsDone: PruneRunSummary['prune']['units'] = null;
  if (options.unitFraction !== undefined) {
    const p = new UnitPruningPlugin({
      schedule: { 0: options.unitFraction as number }, scorer: options.unitScorer as UnitScorer, scope: options.unitScope as 'layer' | 'global',
      examples: options.unitExamples as number, replacement: options.unitReplacement as 'mean' | 'zero',
    });
    const round = p.prune(model, sample(options.unitExamples as number), options.unitFraction as number, generator);
    const sh = p.shrink(model);
    unitsDone = { scorer: round.scorer, fraction: round.fraction, pruned: counts(round.pruned), skipped: round.skipped.length, parametersAfter: sh.parametersAfter };
    log(`units (${round.scorer}, ${options.unitReplacement} replacement, fraction ${round.fraction}): removed ${Object.entries(unitsDone.pruned).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; ${sh.parametersBefore} -> ${sh.parametersAfter} parameters${round.skipped.length ? `; ${round.skipped.length} kept: ${round.skipped[0].reason}` : ''}`);
  }

  // ---- weights ----
  let weightsDone: PruneRunSummary['prune']['weights'] = null;
  if (options.pruneScorer) {
    const scorer = options.pruneScorer as WeightScorerName;
    const selection = weightSelection({
      sparsity: options.sparsity as number | null, sparsityConv: options.sparsityConv as number | null, sparsityFc: options.sparsityFc as number | null,
      pruneScope: options.pruneScope as PruneScope, pruneScorer: scorer, pruneExamples: (options.pruneExamples as number | undefined) ?? null,
    });
    const needs = isDataDependent(scorer);
    const n = (options.pruneExamples as number | undefined) ?? 1000;
    const r = pruneModel(model, { selection, scorer, score: { generator, ...(needs ? { batches: sample(n), numExamples: n } : {}) } });
    weightsDone = { scorer, scope: options.pruneScope as PruneScope, newlyPruned: Object.fromEntries(r.pruned) };
    const rep = sparsityReport(model);
    log(`weights (${scorer}, scope ${options.pruneScope}): ${rep.total.nonzero} of ${rep.total.params} non-zero (${rep.layers.map((l) => `${l.key} ${(100 * l.sparsity).toFixed(1)}%`).join(', ')})`);
  }

  // ---- f_nz clean-up ----
  let cleanupDone: PruneRunSummary['prune']['cleanup'] = null;
  if (options.removeUnitsFnz !== undefined) {
    const fnz = options.removeUnitsFnz as number;
    const r = removeSparseUnits(model, buildUnitGraph(model, inputShape), { fnz, batches: sample(1000) });
    cleanupDone = { fnz, removed: counts(r.removed), kept: r.units.filter((u) => u.how === 'kept').length };
    log(`clean-up (f_nz ${fnz}): removed ${Object.entries(cleanupDone.removed).map(([k, v]) => `${k} ${v}`).join(', ') || 'no unit'}; ${r.shrink!.parametersBefore} -> ${r.shrink!.parametersAfter} parameters`);
  }
  const afterPruning = stage(model, evalTest());
  log(`after pruning: test accuracy ${afterPruning.test.accuracy.toFixed(2)}%; ${afterPruning.params} parameters, ${afterPruning.nonzeroWeights} of ${before.weights} weights non-zero`);

  // ---- output directory, fine-tuning ----
  fs.mkdirSync(dir, { recursive: true });
  writeTextAtomic(path.join(dir, 'prune.yaml'), `# sparsetrain prune: what was done (resolved options)\n${yamlStringify(Object.fromEntries(Object.entries(options).map(([k, v]) => [kebab(k), v])))}`);
  let final = afterPruning;
  let fineTune: PruneRunSummary['prune']['fineTune'] = null;
  let status: RunStatus = 'completed';
  let message: string | undefined;
  let layers: TrainSummary['layers'];
  const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
  if (options.fineTuneEpochs !== undefined) {
    const init = path.join(dir, 'pruned.safetensors');
    saveRawState(init, model);
    const ftConfig = resolveTrainConfig({
      model: c.model, dataset: c.dataset, data: c.data, act: c.act, batchNorm: c.batchNorm, width: c.width,
      limitTrain: c.limitTrain, limitTest: c.limitTest, validateSet: c.validateSet, augment: c.augment, shuffle: c.shuffle, seed: c.seed,
      optimizer: c.optimizer, momentum: c.momentum, nesterov: c.nesterov, betas: c.betas, eps: c.eps, evalBatchSize: c.evalBatchSize,
      weightDecay: options.weightDecay as number, batchSize: options.batchSize as number, lr: options.lr as number,
      lrSchedule: options.lrSchedule as 'constant' | 'cosine', epochs: options.fineTuneEpochs as number,
      init, runsDir: dir, name: 'fine-tune', threads: o.threads ?? c.threads,
    });
    log(`fine-tuning ${ftConfig.epochs} epoch(s) at lr ${ftConfig.lr} (${ftConfig.lrSchedule}) in ${path.join(dir, 'fine-tune')}`);
    const r = await new Trainer({ config: ftConfig, command: o.command, reporter: o.reporter ?? silentReporter }).run();
    status = r.status;
    message = r.message;
    fineTune = { epochs: ftConfig.epochs, lr: ftConfig.lr, lrSchedule: ftConfig.lrSchedule, runDir: r.runDir, status: r.status };
    const s = r.summary;
    final = {
      test: s.test ? { ...s.test } as EvalResult : afterPruning.test, params: s.params, nonzeroParams: s.nonzeroParams,
      nonzeroWeights: Object.values(s.layers).reduce((a, l) => a + l.nonzero, 0), weights: Object.values(s.layers).reduce((a, l) => a + l.params, 0),
    };
    layers = s.layers;
    fs.copyFileSync(path.join(r.runDir, 'model.safetensors'), path.join(dir, 'model.safetensors.tmp'));
    fs.renameSync(path.join(dir, 'model.safetensors.tmp'), path.join(dir, 'model.safetensors'));
    log(`after fine-tuning: test accuracy ${final.test.accuracy.toFixed(2)}% (${r.status})`);
  } else {
    saveModelWeights(path.join(dir, 'model.safetensors'), model, { format: 'pt', model: c.model, dataset: c.dataset });
    layers = Object.fromEntries(sparsityReport(model).layers.map((l) => [l.key, { shape: l.shape, params: l.params, nonzero: l.nonzero, sparsity: r4(l.sparsity) }]));
  }

  const summary: PruneRunSummary = {
    model: c.model,
    dataset: c.dataset,
    status,
    source,
    test: { accuracy: final.test.accuracy, loss: final.test.loss, top5: final.test.top5, samples: final.test.samples },
    modelOptions: { numClasses: data.train.numClasses, inChannels: data.train.channels, act: c.act, batchNorm: c.batchNorm, width: c.width },
    data: c.data,
    params: final.params,
    nonzeroParams: final.nonzeroParams,
    sparsity: final.params ? r4(1 - final.nonzeroParams / final.params) : 0,
    layers,
    normalization: { mean: [...data.train.normalization.mean], std: [...data.train.normalization.std] },
    prune: {
      options, before, afterPruning, afterFineTune: fineTune ? final : null, units: unitsDone, weights: weightsDone, cleanup: cleanupDone, fineTune,
    },
    wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
    command: o.command ?? '(library call)',
    runDir: dir,
    threads: getThreads(),
    backend: backend().name,
    isa: loadAddon()?.getIsa() ?? 'none',
    finishedAt: new Date().toISOString(),
    ...(message ? { message } : {}),
  };
  writeJsonAtomic(path.join(dir, 'summary.json'), summary);
  writeTextAtomic(path.join(dir, 'log.txt'), logLines.map((l) => `${l}\n`).join(''));
  return { runDir: dir, summary, status };
}
