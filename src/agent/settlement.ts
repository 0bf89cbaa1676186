/**
 * Getting paid: the agent closes and settles its ended runs on-chain itself, so its pay (and its stake, which every
 * open run keeps locked against unbonding) never depends on the client coming back.
 *
 * For every run that ended on this agent (stopped, budget exhausted, limit, failed), once its checkpoints are all
 * anchored (closing ends anchoring, and the contract pays only up to the last anchor): an open run is closed (the
 * provider is a party to it), and a closed run is settled as soon as the chain's clock has passed its challenge
 * window. A run settled or slashed by anyone is done. The worker looks every `everySeconds`; the chain is the
 * state, so a restarted agent simply looks again, and a failed transaction is tried again next time.
 */
import { EventLog, Interface, Log } from 'ethers';
import type { Hex32 } from '../core/hash.js';
import { RUN_REGISTRY_ABI } from '../chain/abi.js';
import type { RunRegistryClient } from '../chain/run-registry.js';
import type { AnchorQueue } from './anchor-queue.js';
import type { AgentDatabase } from './database.js';
import type { ILogger } from './metrics.js';
import { ACTIVE_STATES, RunRecordStore } from './store-runs.js';
import type { IRunEvent } from './tokens.js';

/** Options of the settlement worker. */
export interface ISettlementOptions {
  db: AgentDatabase;
  runs: RunRecordStore;
  registry: RunRegistryClient;
  anchors: AnchorQueue;
  /** Look this often, seconds (0: never). */
  everySeconds: number;
  onEvent: (runId: Hex32, type: IRunEvent['type'], message: string, data?: Record<string, unknown>) => void;
  logger: ILogger;
}

const registryInterface = new Interface(RUN_REGISTRY_ABI);

/** Closes and settles ended runs on-chain; see the file comment. */
export class SettlementWorker {
  private readonly o: ISettlementOptions;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private windowSeconds: number | null = null;

  constructor(options: ISettlementOptions) {
    this.o = options;
    options.db.exec(`
      CREATE TABLE IF NOT EXISTS settlements (
        run_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        tx_hash TEXT,
        payment TEXT,
        refund TEXT,
        at INTEGER NOT NULL
      );
    `);
  }

  start(): void {
    if (this.o.everySeconds <= 0 || this.timer) {
      return;
    }
    this.timer = setInterval(() => void this.runOnce(), this.o.everySeconds * 1000);
    this.timer.unref();
    void this.runOnce();
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.pass;
  }

  /** One look at every ended run not yet done (a pass already under way is joined, not repeated). */
  runOnce(): Promise<void> {
    this.pass ??= this.look().finally(() => (this.pass = null));
    return this.pass;
  }

  /** The run's final on-chain outcome as recorded by this agent, if it has one. */
  outcome(runId: Hex32): { status: string; txHash: string | null; payment: string | null } | undefined {
    const row = this.o.db
      .prepare('SELECT status, tx_hash, payment FROM settlements WHERE run_id = ?')
      .get(runId) as { status: string; tx_hash: string | null; payment: string | null } | undefined;
    return row && { status: row.status, txHash: row.tx_hash, payment: row.payment };
  }

  private async look(): Promise<void> {
    const done = new Set(
      (this.o.db.prepare('SELECT run_id FROM settlements').all() as { run_id: string }[]).map(r => r.run_id)
    );
    const due = this.o.runs.list().filter(r => !ACTIVE_STATES.includes(r.state) && !done.has(r.runId));
    for (const run of due) {
      try {
        await this.advance(run.runId);
      } catch (e) {
        this.o.logger.log('warn', 'settlement-retry', { runId: run.runId, error: (e as Error).message });
      }
    }
  }

  /** Moves one run a step: close it, settle it, or record that someone else did. */
  private async advance(runId: Hex32): Promise<void> {
    if (this.o.anchors.checkpoints(runId).some(c => c.state === 'pending')) {
      return; // its last checkpoint first
    }
    const onChain = await this.o.registry.getRun(runId);
    if (onChain.status === 'settled' || onChain.status === 'slashed' || onChain.status === 'none') {
      this.record(runId, onChain.status, null);
      return;
    }
    if (onChain.status === 'open') {
      const tx = await this.o.registry.closeRun(runId);
      this.o.onEvent(
        runId,
        'closed',
        `closed the run on-chain (block ${tx.blockNumber}); settles after the challenge window`,
        {
          txHash: tx.hash
        }
      );
      this.o.logger.log('info', 'run-closed', { runId, tx: tx.hash });
      return;
    }
    // Closed: settle once the chain's clock has passed the challenge window.
    this.windowSeconds ??= await this.o.registry.challengeWindow();
    const latest = await this.o.registry.session.provider.getBlock('latest');
    if (!latest || latest.timestamp < onChain.closedAt + this.windowSeconds) {
      return;
    }
    const tx = await this.o.registry.settle(runId);
    const settled = tx.logs
      .map((l: Log) => (l instanceof EventLog ? l : registryInterface.parseLog(l)))
      .find(l => l?.fragment.name === 'RunSettled');
    const payment = settled ? String(settled.args.providerPayment) : null;
    const refund = settled ? String(settled.args.clientRefund) : null;
    this.record(runId, 'settled', tx.hash, payment, refund);
    this.o.onEvent(
      runId,
      'settled',
      `settled on-chain: ${payment ?? '?'} paid to the provider, ${refund ?? '?'} refunded`,
      {
        txHash: tx.hash,
        payment,
        refund
      }
    );
    this.o.logger.log('info', 'run-settled', { runId, tx: tx.hash, payment, refund });
  }

  private record(
    runId: Hex32,
    status: string,
    txHash: string | null,
    payment?: string | null,
    refund?: string | null
  ): void {
    this.o.db
      .prepare(
        'INSERT OR REPLACE INTO settlements (run_id, status, tx_hash, payment, refund, at) VALUES (?, ?, ?, ?, ?, ?)'
      )
      .run(runId, status, txHash, payment ?? null, refund ?? null, Date.now());
  }
}
