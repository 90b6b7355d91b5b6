/**
 * `sparsetrain reproduce thesis-magnitude`: the thesis' basic pruning
 * experiment (seed 001, section 2.2, Table 2.2, Figure 2.11) on smallcnn /
 * MNIST. Two phases with the same recipe and seed (thesis-smallcnn.ts):
 *
 *   dense/   the unpruned run ("we repeat the same experiment without pruning
 *            using the same initial random seed");
 *   pruned/  magnitude pruning on Table 2.2, "2:0.2,3:0.5,4:0.8,5:0.9" (after
 *            epochs 2..5 of training each weight layer is pruned to that
 *            sparsity; pruned weights stay zero), 10 epochs; at the end the
 *            Figure 2.11 sweep (FnzSweepPlugin: parameters and test accuracy
 *            after removing the units with at most f_nz non-zero incoming or
 *            outgoing weights, for several f_nz, model restored after each),
 *            then the clean-up with f_nz = 0 for good (units with no
 *            incoming weight: bias propagated to the next layer; no outgoing
 *            weight: dropped) and the model shrunk physically.
 *
 * The final model (runs/thesis-magnitude/model.safetensors, = pruned/'s) has
 * PyTorch's keys with the smaller shapes. Checks (the issue's targets, after
 * the thesis' "we can make the dense network half size without any
 * performance penalty"): the shrunk model's test accuracy within 0.3 points
 * of dense/'s, and at most half of the dense parameters.
 *
 * Decisions (measured, docs/thesis-pruning.md): the thesis' recipe with
 * one change, SGD momentum 0.9 (both phases): with the thesis' plain SGD the
 * pruned model recovers too slowly in the 5 epochs after the last pruning
 * (global scope: 98.45% against 98.83% unpruned, -0.38 points; with
 * momentum -0.12). Scope 'global' (one magnitude threshold across all
 * layers, the thesis' "a fraction f of all parameters with the smallest
 * magnitude"): per-layer pruning leaves conv1 20 of its 200 weights and
 * costs 0.7-0.9 points. The clean-up is f_nz = 0 only, the one removal that is
 * exact (with bias propagation the shrunk model computes what the pruned one
 * did); the sweep reports what larger f_nz would give. Smoke: the table
 * "0:0.8,1:0.95" fires within its single epoch.
 */
import * as path from 'node:path';
import { resolveTrainConfig, type TrainConfig } from '../train/config';
import { pruningPlugins } from '../train/pruning-plugins';
import { UnitCleanupPlugin } from '../sparse/units/cleanup-plugin';
import { FnzSweepPlugin, type FnzSweepPoint } from '../sparse/units/fnz-sweep';
import { type Experiment, type ExperimentOptions, type ExperimentResult, startExperiment, finishExperiment, check, timedPhase } from './experiment';
import { THESIS_EPOCHS, thesisRecipe } from './thesis-smallcnn';

const TABLE = '2:0.2,3:0.5,4:0.8,5:0.9';
const SMOKE_TABLE = '0:0.8,1:0.95';
const SCOPE = 'global' as const;
/** SGD momentum (the thesis: none; see the file comment). */
const MOMENTUM = 0.9;
const FNZ_SWEEP = [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.2, 0.3];
/** The targets: accuracy within this many points of the unpruned run; at most this share of its parameters. */
const MAX_ACCURACY_DROP = 0.3;
const MAX_PARAMETER_SHARE = 0.5;

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** The first point of the sweep (ascending f_nz) with at most maxParams parameters, or null. */
function halfSizePoint(points: readonly FnzSweepPoint[], maxParams: number): { fnz: number; parameters: number; testAccuracy: number } | null {
  const p = points.find((x) => x.parameters <= maxParams);
  return p ? { fnz: p.fnz, parameters: p.parameters, testAccuracy: p.accuracy } : null;
}

export const thesisMagnitude: Experiment = {
  name: 'thesis-magnitude',
  title: 'magnitude pruning on thesis Table 2.2 (smallcnn/MNIST), then removal of empty units: half the parameters at the unpruned accuracy',
  source: 'seed 001, thesis section 2.2, Table 2.2, Figure 2.11',
  seed: 0,
  // Measured with --threads 2: 1.3 min wall (147 s of CPU time) on an idle machine; 7.8 min wall while
  // other trainings loaded the 2 cores (load 5-9).
  minutes: 2,
  async run(o: ExperimentOptions): Promise<ExperimentResult> {
    const started = startExperiment(o);
    const { dir } = started;
    const recipe = thesisRecipe(o, THESIS_EPOCHS, MOMENTUM);
    const table = o.smoke ? SMOKE_TABLE : TABLE;

    const dense = await timedPhase(o, dir, 'dense', recipe);

    const prunedConfig: Partial<TrainConfig> = { ...recipe, prune: 'table', pruneTable: table, pruneScope: SCOPE, removeUnitsFnz: 0 };
    const plugins = pruningPlugins(resolveTrainConfig(prunedConfig));
    const sweep = new FnzSweepPlugin({ fnzs: FNZ_SWEEP, examples: o.smoke ? 100 : 1000 });
    const cleanupAt = plugins.findIndex((p) => p instanceof UnitCleanupPlugin);
    plugins.splice(cleanupAt, 0, sweep);
    const cleanup = plugins[cleanupAt + 1] as UnitCleanupPlugin;
    const pruned = await timedPhase(o, dir, 'pruned', prunedConfig, plugins);

    const denseAcc = dense.info.testAccuracy ?? NaN;
    const prunedAcc = pruned.info.testAccuracy ?? NaN;
    const denseParams = dense.info.params;
    const shrunkParams = pruned.info.params;
    const c = cleanup.result!;
    const maxParams = Math.floor(MAX_PARAMETER_SHARE * denseParams);
    const checks = [
      check('test accuracy after pruning and unit removal', `>= unpruned - ${MAX_ACCURACY_DROP} points (unpruned ${denseAcc.toFixed(2)}%)`,
        `${prunedAcc.toFixed(2)}% (${prunedAcc - denseAcc >= 0 ? '+' : ''}${(prunedAcc - denseAcc).toFixed(2)} points)`, prunedAcc >= denseAcc - MAX_ACCURACY_DROP),
      check('parameters of the shrunk model', `<= ${maxParams} (half of ${denseParams})`,
        `${shrunkParams} (${(100 * shrunkParams / denseParams).toFixed(1)}%)`, shrunkParams <= maxParams),
    ];
    return finishExperiment(this, o, started, path.join(pruned.r.runDir, 'model.safetensors'), checks, {
      setup: {
        ...recipe, prune: 'table', pruneTable: table, pruneScope: SCOPE, scorer: 'magnitude', removeUnitsFnz: 0, fnzSweep: FNZ_SWEEP,
      },
      thesis: {
        claim: 'section 2.2: magnitude pruning on Table 2.2 for 10 epochs, then removal of units with few non-zero weights: "we can make the dense network half size without any performance penalty" (Figure 2.11; no bias propagation there)',
        denseParameters: 20522,
      },
      phases: { dense: dense.info, pruned: pruned.info },
      // Section 2.2's numbers: each layer's sparsity after the schedule, the units removed, the sizes.
      layerSparsity: Object.fromEntries(sweep.layers.map((l) => [l.key, { params: l.params, nonzero: l.nonzero, sparsity: r4(l.sparsity) }])),
      unitsRemoved: Object.fromEntries((c.shrink?.groups ?? []).map((g) => [g.name, { before: g.before, after: g.after, removed: c.removed[g.name] ?? [] }])),
      removedHow: c.units.reduce<Record<string, number>>((a, u) => ({ ...a, [u.how]: (a[u.how] ?? 0) + 1 }), {}),
      parameters: {
        dense: denseParams,
        nonzeroBeforeRemoval: sweep.before?.nonzero ?? null,
        beforeRemoval: c.shrink?.parametersBefore ?? null,
        afterRemoval: shrunkParams,
        afterRemovalNonzero: pruned.info.nonzeroParams,
      },
      accuracyBeforeRemoval: sweep.before?.accuracy ?? null,
      // Figure 2.11: parameters and test accuracy after removing units at each f_nz (with bias propagation / mean replacement).
      figure211: sweep.points.map((p) => ({ fnz: p.fnz, parameters: p.parameters, testAccuracy: p.accuracy, testLoss: r4(p.loss), unitsRemoved: p.removed })),
      // The thesis' reading of Figure 2.11: the smallest f_nz of the sweep that reaches half size, and its accuracy (information, not a check).
      halfSize: halfSizePoint(sweep.points, maxParams),
    });
  },
};
