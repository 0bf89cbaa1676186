/**
 * A run of this JupyterLab session as data: its record, receipts and checkpoints, updated from the agent's
 * progress events. DOM-free, so the rules (which event means what, how cost accrues, what a budget may be) are
 * unit-tested in Node (run-model.spec.ts).
 */
import { parseUnits } from 'ethers';
import type { Hex32 } from '../core/hash.js';
import type { IArtifact, ISignedReceipt } from '../core/receipt.js';
import { labError } from './errors.js';
import type {
  IAinCheckpointRecord,
  IAinEquivocationRecord,
  IAinReceiptRecord,
  IAinRun,
  IAinRunChange,
  IAinRunRecord
} from './tokens.js';

/** One progress event of the agent (src/agent/openapi.yaml RunEvent). */
export interface IRunEventLike {
  seq: number;
  type: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A budget in whole tokens (decimal string) as base units; LAB_BUDGET_INVALID unless it is a positive amount. */
export function parseBudget(budget: string): bigint {
  let units: bigint;
  try {
    units = parseUnits(budget.trim(), 18);
  } catch {
    throw labError(
      'LAB_BUDGET_INVALID',
      `The budget "${budget}" is not an amount of tokens: write a number such as 1 or 0.5.`,
      'checking the budget'
    );
  }
  if (units <= 0n) {
    throw labError(
      'LAB_BUDGET_INVALID',
      'The budget must be more than 0 tokens (it becomes the escrow).',
      'checking the budget'
    );
  }
  return units;
}

/** Tokens (base units) a run costs after `ms` at `pricePerHour`, never more than its escrow. */
export function costAfter(ms: number, pricePerHour: bigint, escrow: bigint): bigint {
  const cost = (pricePerHour * BigInt(Math.max(0, Math.floor(ms)))) / 3_600_000n;
  return cost < escrow ? cost : escrow;
}

/** A run: record, receipts and checkpoints, fed with the agent's events. */
/**
 * A run's checkpoints in words for the sidebar: how many are anchored and how many wait for their transaction
 * ("anchor pending": queued at the agent, e.g. while the RPC endpoint is down; they land when it is back).
 */
export function checkpointStatus(checkpoints: readonly { txHash?: string }[]): string {
  const anchored = checkpoints.filter(c => c.txHash).length;
  const pending = checkpoints.length - anchored;
  if (checkpoints.length === 0) {
    return 'none yet';
  }
  return pending ? `${anchored} anchored, ${pending} anchor pending` : `${anchored} anchored`;
}

export class AinRunModel implements IAinRun {
  readonly record: IAinRunRecord;
  path: string;
  readonly reproduces?: Hex32;
  private readonly _receipts: IAinReceiptRecord[] = [];
  private readonly _checkpoints: IAinCheckpointRecord[] = [];
  private readonly _equivocations: IAinEquivocationRecord[] = [];
  /** Receipts flagged as conflicting that arrived before the receipt of their step (by step). */
  private readonly _early = new Map<number, ISignedReceipt>();
  /** Every progress message, in order: the build log shown on request. */
  readonly log: string[] = [];
  private readonly _now: () => number;

  constructor(
    record: IAinRunRecord,
    path: string,
    now: () => number = Date.now,
    options: { reproduces?: Hex32 } = {}
  ) {
    this.record = record;
    this.path = path;
    this._now = now;
    if (options.reproduces) {
      this.reproduces = options.reproduces;
    }
  }

  get receipts(): readonly IAinReceiptRecord[] {
    return this._receipts;
  }

  get checkpoints(): readonly IAinCheckpointRecord[] {
    return this._checkpoints;
  }

  get equivocations(): readonly IAinEquivocationRecord[] {
    return this._equivocations;
  }

  /** Whether every receipt so far is covered by an anchored checkpoint (the reveal waits for it). */
  fullyAnchored(): boolean {
    const anchored = Math.max(0, ...this._checkpoints.filter(c => c.txHash).map(c => c.receiptCount));
    return anchored >= this._receipts.length;
  }

  /** Merges fields into the record (salt from the agent, the reveal); a 'state' change for the evidence side. */
  update(fields: Partial<IAinRunRecord>): IAinRunChange {
    Object.assign(this.record, fields);
    return { run: this, kind: 'state' };
  }

  spent(): string {
    const end = this.record.endedAt ? Date.parse(this.record.endedAt) : this._now();
    return costAfter(
      end - Date.parse(this.record.openedAt),
      BigInt(this.record.pricePerHour),
      BigInt(this.record.escrow)
    ).toString();
  }

  /** Sets the state (and the end time for final states); the change, or null when nothing changed. */
  setState(state: IAinRunRecord['state']): IAinRunChange | null {
    if (this.record.state === state) {
      return null;
    }
    this.record.state = state;
    if ((state === 'stopped' || state === 'failed') && !this.record.endedAt) {
      this.record.endedAt = new Date(this._now()).toISOString();
    }
    return { run: this, kind: 'state' };
  }

  /** Applies one agent event; returns what changed for IAinRuns.changed. */
  apply(e: IRunEventLike): IAinRunChange[] {
    this.log.push(`[${e.type}] ${e.message}`);
    const d = e.data ?? {};
    switch (e.type) {
      case 'kernel-ready':
        return Private.list(this.setState('running'));
      case 'receipt':
        return this.receipt(d);
      case 'anchor-queued':
      case 'anchored': {
        const receiptCount = Number(d.receiptCount);
        const root = d.root as Hex32;
        if (!Number.isInteger(receiptCount) || typeof root !== 'string') {
          return [];
        }
        let checkpoint = this._checkpoints.find(c => c.receiptCount === receiptCount && c.root === root);
        if (!checkpoint) {
          checkpoint = { runId: this.record.runId, index: this._checkpoints.length, root, receiptCount };
          this._checkpoints.push(checkpoint);
        }
        if (e.type === 'anchored') {
          if (typeof d.index === 'number') {
            checkpoint.index = d.index;
          }
          checkpoint.txHash = d.txHash as Hex32;
          checkpoint.blockNumber = Number(d.blockNumber);
        }
        return [{ run: this, kind: 'checkpoint', checkpoint }];
      }
      case 'error':
        return Private.list(this.setState('failed'));
      case 'stopped':
      case 'budget-exhausted':
        return Private.list(this.setState('stopped'));
      default:
        return [];
    }
  }

  /**
   * A receipt event. Two different receipts for one step are an equivocation: the first stays the step's receipt
   * (it is the one the provider stores and anchors), the pair is kept as evidence for a challenge. The agent flags
   * the second (`equivocation: true`); an unflagged second receipt for a step counts just the same.
   */
  private receipt(d: Record<string, unknown>): IAinRunChange[] {
    const signed = d.receipt as ISignedReceipt | undefined;
    const digest = d.digest as Hex32 | undefined;
    if (!signed || !digest || this._receipts.some(r => r.digest === digest)) {
      return [];
    }
    const step = signed.receipt.step;
    const first = this._receipts.find(r => r.signed.receipt.step === step);
    if (first || d.equivocation === true) {
      if (!first) {
        this._early.set(step, signed);
        return [];
      }
      return this.equivocation(step, first.signed, signed);
    }
    const receipt: IAinReceiptRecord = {
      runId: this.record.runId,
      ...(typeof d.cellId === 'string' ? { cellId: d.cellId } : {}),
      signed,
      digest,
      ...(Private.artifacts(d.artifacts) ? { artifacts: Private.artifacts(d.artifacts) } : {})
    };
    this._receipts.push(receipt);
    const changes: IAinRunChange[] = [{ run: this, kind: 'receipt', receipt }];
    const early = this._early.get(step);
    if (early) {
      this._early.delete(step);
      changes.push(...this.equivocation(step, signed, early));
    }
    return changes;
  }

  private equivocation(step: number, a: ISignedReceipt, b: ISignedReceipt): IAinRunChange[] {
    if (this._equivocations.some(e => e.step === step && e.b.signature === b.signature)) {
      return [];
    }
    const equivocation: IAinEquivocationRecord = { runId: this.record.runId, step, a, b };
    this._equivocations.push(equivocation);
    return [{ run: this, kind: 'equivocation', equivocation }];
  }
}

namespace Private {
  export function artifacts(value: unknown): IArtifact[] | undefined {
    return Array.isArray(value) ? (value as IArtifact[]) : undefined;
  }

  export function list(change: IAinRunChange | null): IAinRunChange[] {
    return change ? [change] : [];
  }
}
