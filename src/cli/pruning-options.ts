/**
 * The pruning flags of `sparsetrain train` and `start` (fields of
 * train/pruning-config.ts, which checks how they combine). Parsers here only
 * check each value's form; a YAML --config uses the same names as keys.
 */
import type { Command } from 'commander';
import { SparsetrainError } from '../errors';
import { floatOption, intOption } from './options';
import {
  PRUNE_CURVES, PRUNE_SCHEDULES, PRUNE_SCOPES, UNIT_REPLACEMENTS, UNIT_SCOPES, UNIT_SCORERS, WEIGHT_SCORERS,
} from '../train/pruning-config';

function choice(flag: string, options: readonly string[]): (v: string) => string {
  return (v: string) => {
    if (!options.includes(v)) throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected one of ${options.join(', ')}, got '${v}'`);
    return v;
  };
}

/** Q or Q1,Q2,... (numbers >= 0). */
function qualityList(flag: string): (v: string) => number[] {
  return (v: string) => {
    const parts = v.split(',').map((s) => s.trim());
    const out = parts.map(Number);
    if (parts.some((s) => s === '') || out.some((n) => !Number.isFinite(n) || n < 0)) {
      throw new SparsetrainError('ERR_ARGUMENT', `${flag}: expected a number >= 0 or comma-separated numbers (one per iteration), got '${v}'`);
    }
    return out;
  };
}

/** Adds the pruning flags to a command. */
export function addPruningOptions(cmd: Command): Command {
  const fraction = (flag: string) => floatOption(flag, 0, 1);
  return cmd
    .option('--prune <schedule>', `weight pruning: ${PRUNE_SCHEDULES.join(' | ')} (default none)`, choice('--prune', PRUNE_SCHEDULES))
    .option('--prune-scorer <name>', `weight scorer: ${WEIGHT_SCORERS.join(', ')} (default magnitude)`, choice('--prune-scorer', WEIGHT_SCORERS))
    .option('--prune-scope <scope>', 'layer: each layer to its target | kind: conv and fc layers pooled per kind | global: one threshold (default layer)', choice('--prune-scope', PRUNE_SCOPES))
    .option('--prune-examples <n>', 'training examples for taylor*, hessian*, loss-change* scores (default 1000)', intOption('--prune-examples', 1))
    .option('--sparsity <s>', 'one-shot, gradual: fraction of weights pruned (gradual: the final one), e.g. 0.9', fraction('--sparsity'))
    .option('--sparsity-conv <s>', 'one-shot, gradual: target of the convolutional layers', fraction('--sparsity-conv'))
    .option('--sparsity-fc <s>', 'one-shot, gradual: target of the fully connected layers', fraction('--sparsity-fc'))
    .option('--prune-at <epoch>', 'one-shot: prune after that many epochs (= --epochs: after training)', intOption('--prune-at', 0))
    .option('--prune-table <spec>', 'table: "epoch:sparsity,..." e.g. "2:0.2,3:0.5,4:0.8,5:0.9" (thesis Table 2.2)')
    .option('--prune-start <epoch>', 'gradual: first event (default 0); han: first iteration', intOption('--prune-start', 0))
    .option('--prune-end <epoch>', 'gradual: last event, where the sparsity reaches its target', intOption('--prune-end', 0))
    .option('--prune-every <n>', 'gradual: epochs between events (default 1)', intOption('--prune-every', 1))
    .option('--prune-curve <curve>', `gradual: ${PRUNE_CURVES.join(' (Zhu & Gupta) | ')} (default cubic)`, choice('--prune-curve', PRUNE_CURVES))
    .option('--han-quality <q[,q...]>', 'han: threshold = q x the layer\'s weight std; one value or one per iteration', qualityList('--han-quality'))
    .option('--han-quality-conv <q[,q...]>', 'han: quality of the convolutional layers', qualityList('--han-quality-conv'))
    .option('--han-quality-fc <q[,q...]>', 'han: quality of the fully connected layers', qualityList('--han-quality-fc'))
    .option('--han-iterations <n>', 'han: prune-and-retrain iterations (default: the number of quality values)', intOption('--han-iterations', 1))
    .option('--retrain-epochs <n>', 'han: epochs of retraining after each iteration (default 1)', intOption('--retrain-epochs', 1))
    .option('--retrain-lr-factor <x>', 'han: learning rate x this for retraining (default 0.1)', floatOption('--retrain-lr-factor', 0))
    .option('--prune-units <spec>', 'unit pruning: "epoch:fraction,..." of each layer\'s units, e.g. "2:0.1,3:0.2,4:0.4,5:0.6"; the model is shrunk at the end')
    .option('--unit-scorer <name>', `unit pruning: ${UNIT_SCORERS.join(' | ')} (default mrs)`, choice('--unit-scorer', UNIT_SCORERS))
    .option('--unit-scope <scope>', `unit pruning: ${UNIT_SCOPES.join(' | ')} (default layer)`, choice('--unit-scope', UNIT_SCOPES))
    .option('--unit-examples <n>', 'unit pruning: training examples for scores and means (default 1000)', intOption('--unit-examples', 1))
    .option('--unit-replacement <how>', 'unit pruning: mean (mean replacement with bias propagation) | zero (default mean)', choice('--unit-replacement', UNIT_REPLACEMENTS))
    .option('--remove-units-fnz <f>', 'at the end: remove units with at most this fraction of non-zero in/out weights (thesis 2.2; 0: empty units), then shrink', fraction('--remove-units-fnz'));
}
