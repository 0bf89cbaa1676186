/**
 * The anchoring queue: checkpoints (Merkle roots over a run's receipts so far, core ReceiptTree) waiting to be
 * anchored on-chain, kept in SQLite so that an agent killed at any moment resumes where it stopped.
 *
 * A checkpoint is queued every N receipts, every T seconds (when there are new receipts), on request and at the
 * end of a run; it is keyed by (run, receipt count), so queuing twice is a no-op. Before sending, the worker reads
 * the run on-chain: a count the chain already holds is marked anchored without a transaction (a crash between
 * sending and recording, or a resubmission, can never anchor twice; the contract refuses a count that does not
 * grow anyway). While the RPC endpoint is down it retries with exponential backoff; checkpoints of one run land in
 * order. The `withhold-anchor` fault records checkpoints as withheld and never sends them.
 *
 * A chain reorganisation can drop an anchor transaction after it was recorded. So the worker also reconciles: for
 * every run with a recently anchored checkpoint (every `reconcileSeconds`, and for a run before anchoring its next
 * checkpoint), it compares the run's on-chain receipt count with the largest anchored one recorded, and queues
 * again every checkpoint the chain no longer holds, which then lands in order like any other.
 */
import { isAinError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { ReceiptTree } from '../core/merkle.js';
import type { RunRegistryClient } from '../chain/run-registry.js';
import type { AgentDatabase } from './database.js';
import type { AgentMetrics, ILogger } from './metrics.js';
import type { IRunEvent, IRunStore } from './tokens.js';

/** Why a checkpoint was queued. */
export type AnchorReason = 'receipts' | 'timer' | 'request' | 'final';

/** A queued checkpoint. */
export interface IQueuedCheckpoint {
  runId: Hex32;
  receiptCount: number;
  root: Hex32;
  reason: AnchorReason;
  state: 'pending' | 'anchored' | 'withheld' | 'failed';
  index: number | null;
  txHash: string | null;
  blockNumber: number | null;
  attempts: number;
  lastError: string | null;
  createdAt: number;
}

/** Options of the queue. */
export interface IAnchorQueueOptions {
  db: AgentDatabase;
  store: IRunStore;
  /** The provider's RunRegistry client (with its signer). */
  registry: RunRegistryClient;
  /** Queue a checkpoint once this many receipts are not yet queued (0: never by count). */
  everyReceipts: number;
  /** Queue a checkpoint this many seconds after the last one when there are new receipts (0: never by time). */
  everySeconds: number;
  /** The withhold-anchor fault: record, never send. */
  withhold?: boolean;
  /** Active runs and since when (ms) each has been waiting for its first timed checkpoint. */
  activeRuns: () => { runId: Hex32; since: number }[];
  onEvent: (runId: Hex32, type: IRunEvent['type'], message: string, data?: Record<string, unknown>) => void;
  logger: ILogger;
  metrics: AgentMetrics;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Reconcile recorded anchors with the chain every this many seconds (default 30; 0: only before anchoring). */
  reconcileSeconds?: number;
  /** Reconcile runs with a checkpoint anchored less than this many seconds ago (default one day). */
  reorgWindowSeconds?: number;
}

/** Checkpoints to anchor, persisted, sent by one worker (one checkpoint of each run at a time, runs together). */
export class AnchorQueue {
  private readonly o: IAnchorQueueOptions;
  private timer: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private reconcileDue = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  /** The attempt in flight of each run, and what wakes the worker when a checkpoint is queued meanwhile. */
  private readonly inFlight = new Map<Hex32, Promise<void>>();
  private wake: () => void = () => undefined;
  private stopped = false;

  constructor(options: IAnchorQueueOptions) {
    this.o = options;
    options.db.exec(`
      CREATE TABLE IF NOT EXISTS anchor_queue (
        run_id TEXT NOT NULL,
        receipt_count INTEGER NOT NULL,
        root TEXT NOT NULL,
        reason TEXT NOT NULL,
        state TEXT NOT NULL,
        checkpoint_index INTEGER,
        tx_hash TEXT,
        block_number INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, receipt_count)
      );
    `);
  }

  /** Starts the timer of timed checkpoints and sends whatever a previous process left pending. */
  start(): void {
    this.stopped = false;
    if (this.o.everySeconds > 0) {
      this.timer = setInterval(() => this.tick(), Math.min(1000, this.o.everySeconds * 1000));
      this.timer.unref();
    }
    const every = this.o.reconcileSeconds ?? 30;
    if (every > 0) {
      this.reconcileTimer = setInterval(() => {
        this.reconcileDue = true;
        this.kick();
      }, every * 1000);
      this.reconcileTimer.unref();
    }
    this.kick();
  }

  /** Stops the timers and waits for an attempt in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.timer, this.retryTimer, this.reconcileTimer]) {
      if (t) {
        clearInterval(t);
        clearTimeout(t);
      }
    }
    this.timer = this.retryTimer = this.reconcileTimer = null;
    this.wake();
    await this.draining;
  }

  /** Called when a run has a new receipt: queues a checkpoint once N receipts wait. */
  noteReceipt(runId: Hex32): void {
    const n = this.o.everyReceipts;
    if (n > 0 && this.o.store.receipts(runId).length - this.lastQueuedCount(runId) >= n) {
      this.enqueue(runId, 'receipts');
    }
  }

  /** Queues a checkpoint over every receipt so far; nothing when there is nothing new. */
  enqueue(runId: Hex32, reason: AnchorReason): { queued: boolean; receiptCount: number } {
    const receipts = this.o.store.receipts(runId);
    const count = receipts.length;
    if (count === 0 || count <= this.lastQueuedCount(runId)) {
      return { queued: false, receiptCount: count };
    }
    const root = new ReceiptTree(receipts.map(r => r.digest)).root;
    const state = this.o.withhold ? 'withheld' : 'pending';
    const now = Date.now();
    const info = this.o.db
      .prepare(
        `INSERT OR IGNORE INTO anchor_queue (run_id, receipt_count, root, reason, state, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`
      )
      .run(runId, count, root, reason, state, now, now);
    if (info.changes === 1) {
      this.o.onEvent(
        runId,
        'anchor-queued',
        `checkpoint over ${count} receipt(s) queued (${reason})${this.o.withhold ? ', withheld (fault)' : ''}`,
        { receiptCount: count, root, reason }
      );
      if (this.o.withhold) {
        this.o.metrics.anchorsTotal.inc({ result: 'withheld' });
      }
      this.updateLag();
      this.kick();
    }
    return { queued: info.changes === 1, receiptCount: count };
  }

  /** The run's checkpoints, oldest first. */
  checkpoints(runId: Hex32): IQueuedCheckpoint[] {
    const rows = this.o.db
      .prepare('SELECT * FROM anchor_queue WHERE run_id = ? ORDER BY receipt_count')
      .all(runId) as Record<string, unknown>[];
    return rows.map(r => ({
      runId: r.run_id as Hex32,
      receiptCount: r.receipt_count as number,
      root: r.root as Hex32,
      reason: r.reason as AnchorReason,
      state: r.state as IQueuedCheckpoint['state'],
      index: r.checkpoint_index as number | null,
      txHash: r.tx_hash as string | null,
      blockNumber: r.block_number as number | null,
      attempts: r.attempts as number,
      lastError: r.last_error as string | null,
      createdAt: r.created_at as number
    }));
  }

  /** Checkpoints not yet anchored (over all runs). */
  pendingCount(): number {
    return (
      this.o.db.prepare("SELECT COUNT(*) AS n FROM anchor_queue WHERE state = 'pending'").get() as {
        n: number;
      }
    ).n;
  }

  /** Resolves once nothing is pending that can be sent now (tests, and the end of a run). */
  async idle(): Promise<void> {
    while (this.draining) {
      await this.draining;
    }
  }

  private lastQueuedCount(runId: Hex32): number {
    const row = this.o.db
      .prepare('SELECT MAX(receipt_count) AS n FROM anchor_queue WHERE run_id = ?')
      .get(runId) as { n: number | null };
    return row.n ?? 0;
  }

  private tick(): void {
    const now = Date.now();
    for (const { runId, since } of this.o.activeRuns()) {
      const last = this.o.db
        .prepare('SELECT MAX(created_at) AS t FROM anchor_queue WHERE run_id = ?')
        .get(runId) as { t: number | null };
      if (now - (last.t ?? since) >= this.o.everySeconds * 1000) {
        this.enqueue(runId, 'timer');
      }
    }
  }

  private kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.draining) {
      this.again = true;
      this.wake();
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      this.scheduleRetry();
    });
  }

  /**
   * Sends the oldest due checkpoint of every run that has none in flight, side by side, and looks again whenever
   * one finishes or a new one is queued. A one-at-a-time worker lands one checkpoint a block for all runs together
   * (20 runs on a 12 s chain: 4 minutes behind); side by side they share blocks. A run's own stay in order.
   */
  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      if (this.reconcileDue && !this.stopped && this.inFlight.size === 0) {
        // Between attempts: a run's recorded anchors and its on-chain count are then both settled.
        this.reconcileDue = false;
        await this.reconcileAll();
      }
      const due = this.stopped
        ? []
        : (this.o.db
            .prepare(
              `SELECT q.run_id, q.receipt_count, q.root, q.attempts FROM anchor_queue q
               WHERE q.state = 'pending' AND q.receipt_count = (
                 SELECT MIN(receipt_count) FROM anchor_queue WHERE run_id = q.run_id AND state = 'pending')
               AND q.next_attempt_at <= ?`
            )
            .all(Date.now()) as { run_id: Hex32; receipt_count: number; root: Hex32; attempts: number }[]);
      for (const row of due.filter(r => !this.inFlight.has(r.run_id))) {
        const attempt = this.attempt(row.run_id, row.receipt_count, row.root, row.attempts).then(
          moved => moved,
          () => false
        );
        this.inFlight.set(
          row.run_id,
          attempt.then(moved => {
            this.inFlight.delete(row.run_id);
            this.again ||= moved;
          })
        );
      }
      if (this.inFlight.size === 0) {
        if (this.again && !this.stopped) {
          continue;
        }
        return;
      }
      const woken = new Promise<void>(r => (this.wake = r));
      await Promise.race([...this.inFlight.values(), woken]);
    }
  }

  /** One try at one checkpoint; true when the queue moved on (anchored, found, failed for good). */
  private async attempt(runId: Hex32, count: number, root: Hex32, attempts: number): Promise<boolean> {
    const set = (fields: string, ...values: unknown[]) =>
      this.o.db
        .prepare(`UPDATE anchor_queue SET ${fields} WHERE run_id = ? AND receipt_count = ?`)
        .run(...values, runId, count);
    try {
      const run = await this.o.registry.getRun(runId);
      if (this.reconcile(runId, run.receiptCount)) {
        // An earlier checkpoint of this run is gone from the chain: it goes first.
        return true;
      }
      if (run.receiptCount >= count) {
        set("state = 'anchored', last_error = NULL");
        this.o.metrics.anchorsTotal.inc({ result: 'already' });
        this.updateLag();
        return true;
      }
      if (run.status !== 'open') {
        set("state = 'failed', last_error = ?", `the run is ${run.status} on-chain`);
        this.o.onEvent(
          runId,
          'anchor-failed',
          `checkpoint over ${count} receipt(s) not anchored: the run is ${run.status} on-chain`
        );
        this.o.metrics.anchorsTotal.inc({ result: 'failed' });
        this.updateLag();
        return true;
      }
      const index = run.checkpointCount;
      const tx = await this.o.registry.anchor(runId, { index, root, receiptCount: count });
      set(
        "state = 'anchored', checkpoint_index = ?, tx_hash = ?, block_number = ?, last_error = NULL",
        index,
        tx.hash,
        tx.blockNumber
      );
      this.o.metrics.anchorsTotal.inc({ result: 'landed' });
      this.o.logger.log('info', 'anchored', { runId, index, receiptCount: count, tx: tx.hash });
      this.o.onEvent(
        runId,
        'anchored',
        `anchored checkpoint ${index} (${count} receipts) in block ${tx.blockNumber}`,
        {
          index,
          root,
          receiptCount: count,
          txHash: tx.hash,
          blockNumber: tx.blockNumber
        }
      );
      this.updateLag();
      return true;
    } catch (e) {
      const error = isAinError(e) ? String(e.info.error ?? e.code) : '';
      const message = (e as Error).message;
      if (
        isAinError(e, 'CHAIN_REVERTED') &&
        !['ReceiptCountNotIncreasing', 'CheckpointIndexMismatch'].includes(error)
      ) {
        set("state = 'failed', last_error = ?", message);
        this.o.onEvent(runId, 'anchor-failed', `checkpoint over ${count} receipt(s) refused: ${message}`);
        this.o.metrics.anchorsTotal.inc({ result: 'failed' });
        this.o.logger.log('error', 'anchor-refused', { runId, receiptCount: count, error: message });
        this.updateLag();
        return true;
      }
      // Unreachable endpoint, a dropped transaction or a race with our own earlier send: read the chain again later.
      const base = this.o.retryBaseMs ?? 500;
      const delay = Math.min(base * 2 ** attempts, this.o.retryMaxMs ?? 30_000);
      set('attempts = attempts + 1, next_attempt_at = ?, last_error = ?', Date.now() + delay, message);
      this.o.metrics.anchorsTotal.inc({ result: 'retry' });
      this.o.logger.log('warn', 'anchor-retry', {
        runId,
        receiptCount: count,
        attempt: attempts + 1,
        delay,
        error: message
      });
      if (attempts === 0) {
        this.o.onEvent(runId, 'anchor-failed', `anchoring ${count} receipt(s) failed, retrying: ${message}`, {
          retrying: true
        });
      }
      return false;
    }
  }

  /** Reconciles every run with a checkpoint anchored within the window; an unreachable chain waits for next time. */
  private async reconcileAll(): Promise<void> {
    const since = Date.now() - (this.o.reorgWindowSeconds ?? 86_400) * 1000;
    const runs = this.o.db
      .prepare("SELECT DISTINCT run_id FROM anchor_queue WHERE state = 'anchored' AND created_at >= ?")
      .all(since) as { run_id: Hex32 }[];
    for (const { run_id: runId } of runs) {
      try {
        if (this.reconcile(runId, (await this.o.registry.getRun(runId)).receiptCount)) {
          this.again = true;
        }
      } catch (e) {
        this.o.logger.log('warn', 'anchor-reconcile-failed', { runId, error: (e as Error).message });
      }
    }
  }

  /**
   * Queues again the run's anchored checkpoints over more receipts than the chain holds (`onChain`): their
   * transactions were dropped by a reorganisation. True when there were any.
   */
  private reconcile(runId: Hex32, onChain: number): boolean {
    const gone = this.checkpoints(runId).filter(c => c.state === 'anchored' && c.receiptCount > onChain);
    if (gone.length === 0) {
      return false;
    }
    this.o.db
      .prepare(
        `UPDATE anchor_queue SET state = 'pending', attempts = 0, next_attempt_at = ?, checkpoint_index = NULL,
           tx_hash = NULL, block_number = NULL, last_error = ?
         WHERE run_id = ? AND state = 'anchored' AND receipt_count > ?`
      )
      .run(Date.now(), `no longer on-chain (the chain holds ${onChain} receipts)`, runId, onChain);
    for (const c of gone) {
      this.o.metrics.anchorsTotal.inc({ result: 'reorged' });
      this.o.logger.log('warn', 'anchor-reorged', { runId, receiptCount: c.receiptCount, tx: c.txHash });
      this.o.onEvent(
        runId,
        'anchor-queued',
        `checkpoint over ${c.receiptCount} receipt(s) is no longer on-chain (transaction ${c.txHash} dropped by a ` +
          'chain reorganisation): queued again',
        { receiptCount: c.receiptCount, root: c.root, reason: 'reorg' }
      );
    }
    this.updateLag();
    return true;
  }

  private scheduleRetry(): void {
    if (this.stopped) {
      return;
    }
    if (this.again) {
      this.kick();
      return;
    }
    const row = this.o.db
      .prepare("SELECT MIN(next_attempt_at) AS t FROM anchor_queue WHERE state = 'pending'")
      .get() as { t: number | null };
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (row.t !== null) {
      this.retryTimer = setTimeout(() => this.kick(), Math.max(0, row.t - Date.now()));
      this.retryTimer.unref();
    }
  }

  private updateLag(): void {
    const lag = this.o.db
      .prepare(
        `SELECT COALESCE(SUM(p.n - COALESCE(a.n, 0)), 0) AS receipts, MIN(p.t) AS oldest FROM
           (SELECT run_id, MAX(receipt_count) AS n, MIN(created_at) AS t FROM anchor_queue WHERE state = 'pending'
            GROUP BY run_id) p
         LEFT JOIN (SELECT run_id, MAX(receipt_count) AS n FROM anchor_queue WHERE state = 'anchored' GROUP BY run_id) a
         ON a.run_id = p.run_id`
      )
      .get() as { receipts: number; oldest: number | null };
    this.o.metrics.anchorLagReceipts.set(lag.receipts);
    this.o.metrics.anchorLagSeconds.set(lag.oldest === null ? 0 : (Date.now() - lag.oldest) / 1000);
  }
}
