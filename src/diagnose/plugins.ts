/**
 * The diagnosis plug-ins a training configuration asks for (DiagnoseConfig):
 * unit health with --unit-report, the learning-rate attack with --attack-unit.
 * The command line adds them to the run's plug-ins; a resumed run rebuilds
 * them from its config.yaml.
 */
import type { TrainPlugin } from '../train/plugin';
import { parseAttackUnit, type DiagnoseConfig } from './config';
import { UnitHealthPlugin } from './unit-health';
import { LrAttackPlugin } from './lr-attack';

export function diagnosePlugins(c: DiagnoseConfig): TrainPlugin[] {
  const out: TrainPlugin[] = [];
  if (c.unitReport !== null) out.push(new UnitHealthPlugin({ examples: c.unitReport }));
  if (c.attackUnit !== null) {
    const { layer, unit } = parseAttackUnit(c.attackUnit);
    out.push(new LrAttackPlugin({
      layer, unit, factor: c.attackFactor!, times: c.attackTimes!, every: c.attackEvery!, start: c.attackStart!, logEvery: c.attackLogEvery!,
    }));
  }
  return out;
}
