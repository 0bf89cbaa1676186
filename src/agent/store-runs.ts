/**
 * The service half's run records and run events, in the agent's SQLite database (database.ts). A run row is
 * written when POST /runs accepts a run and updated as it ends, so a restarted agent knows every run it ever
 * accepted; events are appended with a per-run sequence number, the id Server-Sent Events resume from.
 */
import type { Hex32 } from '../core/hash.js';
import type { AgentDatabase } from './database.js';
import type { FaultMode, IRunEvent } from './tokens.js';

/** Where a run is in its life. `starting`/`running` are active; the rest are ends, each with its reason. */
export type RunState = 'starting' | 'running' | 'stopped' | 'exhausted' | 'limit' | 'failed';

/** The states in which a run still holds (or may lazily restart) a kernel. */
export const ACTIVE_STATES: readonly RunState[] = ['starting', 'running'];

/** A run as the agent keeps it. */
export interface IRunRecord {
  runId: Hex32;
  /** Checksummed address of the client that opened the run on-chain. */
  client: string;
  bundleHash: Hex32;
  /** Per-run output-hash salt; shown only to the run's client. */
  salt: Hex32;
  escrow: bigint;
  pricePerHour: bigint;
  state: RunState;
  /** Why it ended (a sentence), or null while active. */
  reason: string | null;
  /** Milliseconds since the epoch: when the agent accepted the run (the budget clock starts here). */
  createdAt: number;
  endedAt: number | null;
  workDir: string;
  fault: FaultMode | null;
}

interface IRow {
  run_id: string;
  client: string;
  bundle_hash: string;
  salt: string;
  escrow: string;
  price_per_hour: string;
  state: RunState;
  reason: string | null;
  created_at: number;
  ended_at: number | null;
  work_dir: string;
  fault: FaultMode | null;
}

/** Runs and their events over SQLite. */
export class RunRecordStore {
  private readonly db: AgentDatabase;

  constructor(db: AgentDatabase) {
    this.db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS agent_runs (
        run_id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        bundle_hash TEXT NOT NULL,
        salt TEXT NOT NULL,
        escrow TEXT NOT NULL,
        price_per_hour TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        ended_at INTEGER,
        work_dir TEXT NOT NULL,
        fault TEXT
      );
      CREATE INDEX IF NOT EXISTS agent_runs_client ON agent_runs (client);
      CREATE TABLE IF NOT EXISTS agent_run_events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
    `);
  }

  /** Inserts a new run; false when the run id is already known (the caller decides what that means). */
  insert(run: IRunRecord): boolean {
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO agent_runs VALUES
         (@run_id, @client, @bundle_hash, @salt, @escrow, @price_per_hour, @state, @reason, @created_at, @ended_at,
          @work_dir, @fault)`
      )
      .run(Private.toRow(run));
    return info.changes === 1;
  }

  get(runId: Hex32): IRunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM agent_runs WHERE run_id = ?').get(runId) as IRow | undefined;
    return row && Private.fromRow(row);
  }

  /** Runs of one client (or all runs), newest first. */
  list(client?: string): IRunRecord[] {
    const rows = (
      client === undefined
        ? this.db.prepare('SELECT * FROM agent_runs ORDER BY created_at DESC').all()
        : this.db.prepare('SELECT * FROM agent_runs WHERE client = ? ORDER BY created_at DESC').all(client)
    ) as IRow[];
    return rows.map(Private.fromRow);
  }

  /** Runs in an active state, as a restarted agent reloads them. */
  active(): IRunRecord[] {
    const marks = ACTIVE_STATES.map(() => '?').join(', ');
    const rows = this.db
      .prepare(`SELECT * FROM agent_runs WHERE state IN (${marks}) ORDER BY created_at`)
      .all(...ACTIVE_STATES) as IRow[];
    return rows.map(Private.fromRow);
  }

  /** Moves a run to `state`; an end state also records the reason and the time, once (ends are final). */
  setState(runId: Hex32, state: RunState, reason: string | null = null): boolean {
    const ending = !ACTIVE_STATES.includes(state);
    const marks = ACTIVE_STATES.map(() => '?').join(', ');
    const info = this.db
      .prepare(
        `UPDATE agent_runs SET state = ?, reason = ?, ended_at = ? WHERE run_id = ? AND state IN (${marks})`
      )
      .run(state, reason, ending ? Date.now() : null, runId, ...ACTIVE_STATES);
    return info.changes === 1;
  }

  /** Appends an event with the next sequence number of its run, and returns it as stored. */
  appendEvent(event: Omit<IRunEvent, 'seq'>): IRunEvent {
    return this.db
      .transaction((): IRunEvent => {
        const last = this.db
          .prepare('SELECT MAX(seq) AS seq FROM agent_run_events WHERE run_id = ?')
          .get(event.runId) as { seq: number | null };
        const seq = (last.seq ?? 0) + 1;
        this.db
          .prepare('INSERT INTO agent_run_events VALUES (?, ?, ?, ?, ?, ?)')
          .run(
            event.runId,
            seq,
            event.type,
            event.message,
            event.data === undefined ? null : JSON.stringify(event.data),
            event.at
          );
        return { ...event, seq };
      })
      .immediate();
  }

  /** Events of a run after sequence number `afterSeq` (0: all), in order. */
  events(runId: Hex32, afterSeq = 0): IRunEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM agent_run_events WHERE run_id = ? AND seq > ? ORDER BY seq')
      .all(runId, afterSeq) as {
      run_id: string;
      seq: number;
      type: IRunEvent['type'];
      message: string;
      data: string | null;
      at: number;
    }[];
    return rows.map(r => ({
      runId: r.run_id,
      seq: r.seq,
      type: r.type,
      message: r.message,
      ...(r.data === null ? {} : { data: JSON.parse(r.data) as Record<string, unknown> }),
      at: r.at
    }));
  }
}

namespace Private {
  export function toRow(r: IRunRecord): IRow {
    return {
      run_id: r.runId,
      client: r.client,
      bundle_hash: r.bundleHash,
      salt: r.salt,
      escrow: r.escrow.toString(),
      price_per_hour: r.pricePerHour.toString(),
      state: r.state,
      reason: r.reason,
      created_at: r.createdAt,
      ended_at: r.endedAt,
      work_dir: r.workDir,
      fault: r.fault
    };
  }

  export function fromRow(r: IRow): IRunRecord {
    return {
      runId: r.run_id,
      client: r.client,
      bundleHash: r.bundle_hash,
      salt: r.salt,
      escrow: BigInt(r.escrow),
      pricePerHour: BigInt(r.price_per_hour),
      state: r.state,
      reason: r.reason,
      createdAt: r.created_at,
      endedAt: r.ended_at,
      workDir: r.work_dir,
      fault: r.fault
    };
  }
}
