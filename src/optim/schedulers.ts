/**
 * Learning-rate schedulers, stepped once per epoch (after the optimizer's
 * steps of that epoch), as torch.optim.lr_scheduler in torch 1.13: they set
 * `lr` of every parameter group. Construction records each group's
 * `initialLr` (if not already set by another scheduler) as the base lr and
 * performs the initial step to epoch 0. StepLR, MultiStepLR, ExponentialLR
 * and CosineAnnealingLR use torch's recursive (chainable) forms, which read
 * the group's current lr, so their values are torch's to the last bit of a
 * double (up to Math.cos). TableLR sets values from an epoch -> lr table.
 */
import { SparsetrainError } from '../errors';
import type { Optimizer } from './optimizer';
import { argError, checkRange } from './optimizer';

export interface SchedulerStateDict {
  name: string;
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  [option: string]: unknown;
}

type AnyOptimizer = Optimizer<{ lr: number }>;

export abstract class LRScheduler {
  /** The epoch the current lr belongs to (0 after construction). */
  lastEpoch = -1;
  baseLrs: number[];
  protected lastLr: number[] = [];
  protected abstract readonly name: string;

  constructor(readonly optimizer: AnyOptimizer) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw argError('LRScheduler', 'expected an optimizer');
    for (const g of optimizer.paramGroups) {
      if (g.initialLr === undefined) g.initialLr = g.lr;
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** Subclasses call this at the end of their constructor (torch's initial step). */
  protected init(): void {
    this.step();
  }

  /** The lr of each group for epoch this.lastEpoch (already incremented). */
  protected abstract computeLr(): number[];

  /** Advances one epoch and sets every group's lr. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = [...lrs];
  }

  /** The lr of each group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Options specific to the scheduler, saved in the state dict. */
  protected abstract options(): Record<string, unknown>;

  stateDict(): SchedulerStateDict {
    return { name: this.name, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr], ...structuredClone(this.options()) };
  }

  /**
   * Restores the epoch counter and base lrs (as torch, the groups' lr comes
   * from the optimizer's own state dict).
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (!sd || typeof sd !== 'object') throw argError(op, 'expected a scheduler state dict');
    if (sd.name !== this.name) throw argError(op, `the state dict is of a ${String(sd.name)}, not of a ${this.name}`);
    if (!Number.isInteger(sd.lastEpoch) || sd.lastEpoch < 0) throw argError(op, `invalid lastEpoch ${String(sd.lastEpoch)}`);
    const n = this.optimizer.paramGroups.length;
    for (const k of ['baseLrs', 'lastLr'] as const) {
      if (!Array.isArray(sd[k]) || sd[k].length !== n || sd[k].some((v) => typeof v !== 'number')) {
        throw argError(op, `${k} must hold ${n} numbers (one per parameter group), got ${JSON.stringify(sd[k])}`);
      }
    }
    this.lastEpoch = sd.lastEpoch;
    this.baseLrs = [...sd.baseLrs];
    this.lastLr = [...sd.lastLr];
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** lr = base * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  protected readonly name = 'StepLR';
  constructor(optimizer: AnyOptimizer, readonly stepSize: number, readonly gamma = 0.1) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize < 1) throw argError('StepLR', `stepSize must be a positive integer, got ${stepSize}`);
    checkRange('StepLR', 'gamma', gamma, 0);
    this.init();
  }
  protected computeLr(): number[] {
    const e = this.lastEpoch;
    if (e === 0 || e % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected options(): Record<string, unknown> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }
}

/** lr = base * gamma^(number of milestones <= epoch); a milestone listed twice counts twice. */
export class MultiStepLR extends LRScheduler {
  protected readonly name = 'MultiStepLR';
  readonly milestones: number[];
  constructor(optimizer: AnyOptimizer, milestones: number[], readonly gamma = 0.1) {
    super(optimizer);
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m) || m < 0)) {
      throw argError('MultiStepLR', `milestones must be non-negative integers, got ${JSON.stringify(milestones)}`);
    }
    this.milestones = [...milestones].sort((a, b) => a - b);
    checkRange('MultiStepLR', 'gamma', gamma, 0);
    this.init();
  }
  protected computeLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma ** hits);
  }
  protected options(): Record<string, unknown> {
    return { milestones: [...this.milestones], gamma: this.gamma };
  }
}

/** lr = base * gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  protected readonly name = 'ExponentialLR';
  constructor(optimizer: AnyOptimizer, readonly gamma: number) {
    super(optimizer);
    checkRange('ExponentialLR', 'gamma', gamma, 0);
    this.init();
  }
  protected computeLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected options(): Record<string, unknown> {
    return { gamma: this.gamma };
  }
}

/**
 * Cosine annealing from the base lr to etaMin over tMax epochs, by torch's
 * recursion (closed form: etaMin + (base - etaMin) (1 + cos(pi e / tMax)) / 2
 * for e <= tMax; past tMax the recursion makes the lr rise again, as torch).
 */
export class CosineAnnealingLR extends LRScheduler {
  protected readonly name = 'CosineAnnealingLR';
  constructor(optimizer: AnyOptimizer, readonly tMax: number, readonly etaMin = 0) {
    super(optimizer);
    if (!Number.isInteger(tMax) || tMax < 1) throw argError('CosineAnnealingLR', `tMax must be a positive integer, got ${tMax}`);
    checkRange('CosineAnnealingLR', 'etaMin', etaMin, 0);
    this.init();
  }
  protected computeLr(): number[] {
    const e = this.lastEpoch;
    const T = this.tMax;
    const lrs = this.groupLrs();
    if (e === 0) return lrs;
    if ((e - 1 - T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] - this.etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map((lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - this.etaMin) + this.etaMin);
  }
  protected options(): Record<string, unknown> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }
}

/** Sorted [epoch, value] entries. */
export type LrTable = [number, number][];

function tableError(spec: string, msg: string): SparsetrainError {
  return new SparsetrainError('ERR_ARGUMENT', `lr table "${spec}": ${msg}; expected "epoch:value,epoch:value,..." e.g. "0:0.1,30:0.01"`);
}

/**
 * Parses "0:0.1,30:0.01" into [[0, 0.1], [30, 0.01]]: each value holds from
 * its epoch on. Epochs are non-negative integers, each listed once; values are
 * finite numbers >= 0; entries may come in any order and carry spaces.
 */
export function parseLrTable(spec: string): LrTable {
  if (typeof spec !== 'string' || spec.trim() === '') throw tableError(String(spec), 'the table is empty');
  const out: LrTable = [];
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') throw tableError(spec, 'an entry is empty (two commas in a row, or a trailing comma)');
    const parts = entry.split(':');
    if (parts.length !== 2) throw tableError(spec, `entry "${entry}" is not of the form epoch:value`);
    const [es, vs] = parts.map((s) => s.trim());
    if (!/^\d+$/.test(es)) throw tableError(spec, `epoch "${es}" in "${entry}" is not a non-negative integer`);
    const v = Number(vs);
    if (vs === '' || !Number.isFinite(v) || v < 0) throw tableError(spec, `value "${vs}" in "${entry}" is not a finite number >= 0`);
    out.push([Number(es), v]);
  }
  return checkTable(spec, out);
}

function checkTable(spec: string, t: LrTable): LrTable {
  const sorted = [...t].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][0] === sorted[i - 1][0]) throw tableError(spec, `epoch ${sorted[i][0]} is listed twice`);
  }
  return sorted;
}

export interface TableLROptions {
  /** Values multiply each group's base lr instead of replacing it. */
  relative?: boolean;
}

/**
 * lr from an epoch -> value table ("0:0.1,30:0.01", or [[0, 0.1], [30, 0.01]]):
 * the value of the last entry at or before the epoch holds; before the first
 * entry each group keeps its base lr. With relative, values are factors of
 * each group's base lr.
 */
export class TableLR extends LRScheduler {
  protected readonly name = 'TableLR';
  readonly table: LrTable;
  readonly relative: boolean;
  constructor(optimizer: AnyOptimizer, table: string | LrTable, opts: TableLROptions = {}) {
    super(optimizer);
    if (typeof table === 'string') this.table = parseLrTable(table);
    else {
      const spec = JSON.stringify(table);
      if (!Array.isArray(table) || table.length === 0) throw tableError(spec, 'the table is empty');
      for (const e of table) {
        if (!Array.isArray(e) || e.length !== 2 || !Number.isInteger(e[0]) || e[0] < 0 || !Number.isFinite(e[1]) || e[1] < 0) {
          throw tableError(spec, `entry ${JSON.stringify(e)} is not [non-negative integer epoch, finite value >= 0]`);
        }
      }
      this.table = checkTable(spec, table.map(([a, b]) => [a, b]));
    }
    this.relative = !!opts.relative;
    this.init();
  }
  /** The table's value for an epoch, or null before the first entry. */
  valueAt(epoch: number): number | null {
    let v: number | null = null;
    for (const [e, val] of this.table) if (e <= epoch) v = val;
    return v;
  }
  protected computeLr(): number[] {
    const v = this.valueAt(this.lastEpoch);
    return this.baseLrs.map((b) => (v === null ? b : this.relative ? b * v : v));
  }
  protected options(): Record<string, unknown> {
    return { table: this.table.map((e) => [...e]), relative: this.relative };
  }
}
