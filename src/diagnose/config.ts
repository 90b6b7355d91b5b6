/**
 * The diagnosis fields of a training configuration (TrainConfig extends
 * DiagnoseConfig): the unit-health report and the learning-rate attack, with
 * their flags and checks. Kept here so that train/config.ts only spreads them
 * in (one line per place).
 *
 *   --unit-report [N]          unit health at every epoch end on N examples (default 1000)
 *   --attack-unit LAYER:INDEX  the thesis' learning-rate attack on one unit, with
 *   --attack-factor M          lr multiplier (default 100)
 *   --attack-times N           attacks (default 10)
 *   --attack-every I           steps between attacks (default 10)
 *   --attack-start S           step of the first attack (default 50; the first update is step 1)
 *   --attack-log-every K       unit values every K steps (default 50)
 *
 * Without --attack-unit the other attack fields stay null (config.yaml
 * records null), and giving one of them alone is an error.
 */
import { SparsetrainError } from '../errors';

export interface DiagnoseConfig {
  /** Examples of the per-epoch unit-health report; null: off. */
  unitReport: number | null;
  /** "LAYER:INDEX" of the attacked unit; null: no attack. */
  attackUnit: string | null;
  attackFactor: number | null;
  attackTimes: number | null;
  attackEvery: number | null;
  attackStart: number | null;
  attackLogEvery: number | null;
}

export const DIAGNOSE_FIELD_FLAGS: Record<keyof DiagnoseConfig, string> = {
  unitReport: '--unit-report', attackUnit: '--attack-unit', attackFactor: '--attack-factor', attackTimes: '--attack-times',
  attackEvery: '--attack-every', attackStart: '--attack-start', attackLogEvery: '--attack-log-every',
};

/** Defaults of the attack when --attack-unit is given (thesis section 3.4: from step 50, 10 times, every 10 steps, x100). */
export const ATTACK_DEFAULTS = { attackFactor: 100, attackTimes: 10, attackEvery: 10, attackStart: 50, attackLogEvery: 50 } as const;

export const UNIT_REPORT_DEFAULT_EXAMPLES = 1000;

function bad(field: keyof DiagnoseConfig, what: string, v: unknown): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `${DIAGNOSE_FIELD_FLAGS[field]}: expected ${what}, got ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`);
}

function intOrNull(field: keyof DiagnoseConfig, v: unknown, min: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(field, `an integer >= ${min}`, v);
  return v;
}

/** Parses "LAYER:INDEX" (e.g. "conv1:0", "features.0:3"). */
export function parseAttackUnit(s: string): { layer: string; unit: number } {
  const m = /^([A-Za-z_][\w.]*):(\d+)$/.exec(String(s).trim());
  if (!m) throw bad('attackUnit', 'LAYER:INDEX, e.g. conv1:0', s);
  return { layer: m[1], unit: Number(m[2]) };
}

/** Checks the diagnosis fields of a partial configuration and fills the attack's defaults. */
export function resolveDiagnoseConfig(p: Record<string, unknown>): DiagnoseConfig {
  const unitReport = p.unitReport === true ? UNIT_REPORT_DEFAULT_EXAMPLES : intOrNull('unitReport', p.unitReport, 1);
  const attackUnit = p.attackUnit === undefined || p.attackUnit === null ? null : String(p.attackUnit);
  const keys = ['attackFactor', 'attackTimes', 'attackEvery', 'attackStart', 'attackLogEvery'] as const;
  if (attackUnit === null) {
    const given = keys.find((k) => p[k] !== undefined && p[k] !== null);
    if (given) throw new SparsetrainError('ERR_ARGUMENT', `${DIAGNOSE_FIELD_FLAGS[given]}: only applies with --attack-unit LAYER:INDEX`);
    return { unitReport, attackUnit, attackFactor: null, attackTimes: null, attackEvery: null, attackStart: null, attackLogEvery: null };
  }
  if (typeof p.attackUnit !== 'string') throw bad('attackUnit', 'LAYER:INDEX, e.g. conv1:0', p.attackUnit);
  parseAttackUnit(attackUnit);
  const f = p.attackFactor ?? ATTACK_DEFAULTS.attackFactor;
  if (typeof f !== 'number' || !Number.isFinite(f) || f < 0) throw bad('attackFactor', 'a number >= 0', f);
  return {
    unitReport,
    attackUnit,
    attackFactor: f,
    attackTimes: intOrNull('attackTimes', p.attackTimes ?? ATTACK_DEFAULTS.attackTimes, 1),
    attackEvery: intOrNull('attackEvery', p.attackEvery ?? ATTACK_DEFAULTS.attackEvery, 1),
    attackStart: intOrNull('attackStart', p.attackStart ?? ATTACK_DEFAULTS.attackStart, 1),
    attackLogEvery: intOrNull('attackLogEvery', p.attackLogEvery ?? ATTACK_DEFAULTS.attackLogEvery, 1),
  };
}
