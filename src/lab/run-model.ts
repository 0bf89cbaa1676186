/**
 * A run of this JupyterLab session as data: its record, receipts and checkpoints, updated from the agent's
 * progress events. DOM-free, so the rules (which event means what, how cost accrues, what a budget may be) are
 * unit-tested in Node (run-model.spec.ts).
 */
import { parseUnits } from 'ethers';
import type { Hex32 } from '../core/hash.js';
import type { ISignedReceipt } from '../core/receipt.js';
import { labError } from './errors.js';
import type {
  IAinCheckpointRecord,
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
export class AinRunModel implements IAinRun {
  readonly record: IAinRunRecord;
  path: string;
  private readonly _receipts: IAinReceiptRecord[] = [];
  private readonly _checkpoints: IAinCheckpointRecord[] = [];
  /** Every progress message, in order: the build log shown on request. */
  readonly log: string[] = [];
  private readonly _now: () => number;

  constructor(record: IAinRunRecord, path: string, now: () => number = Date.now) {
    this.record = record;
    this.path = path;
    this._now = now;
  }

  get receipts(): readonly IAinReceiptRecord[] {
    return this._receipts;
  }

  get checkpoints(): readonly IAinCheckpointRecord[] {
    return this._checkpoints;
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
      case 'receipt': {
        const signed = d.receipt as ISignedReceipt | undefined;
        const digest = d.digest as Hex32 | undefined;
        if (!signed || !digest || this._receipts.some(r => r.digest === digest)) {
          return [];
        }
        const receipt: IAinReceiptRecord = {
          runId: this.record.runId,
          ...(typeof d.cellId === 'string' ? { cellId: d.cellId } : {}),
          signed,
          digest
        };
        this._receipts.push(receipt);
        return [{ run: this, kind: 'receipt', receipt }];
      }
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
}

namespace Private {
  export function list(change: IAinRunChange | null): IAinRunChange[] {
    return change ? [change] : [];
  }
}
