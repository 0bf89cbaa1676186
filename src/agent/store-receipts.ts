/**
 * The SQLite implementation of IRunStore on the agent's shared database: signed receipts, artifact bytes by hash,
 * and the replay buffer of kernel messages kept while no client is connected.
 *
 * Every write is one statement or one transaction on a WAL database with synchronous=FULL (database.ts), so a
 * receipt acknowledged here survives SIGKILL of the agent; the next receipt's `prev` is read back from here after
 * a restart, so the chain never forks.
 */
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { IArtifact, ISignedReceipt } from '../core/receipt.js';
import type { AgentDatabase } from './database.js';
import type { IBufferLimits, IRunStore, IStoredReceipt } from './tokens.js';

/** Default bounds of the replay buffer of one kernel. */
export const DEFAULT_BUFFER_LIMITS: IBufferLimits = { maxMessages: 10_000, maxBytes: 64 * 1024 * 1024 };

interface IReceiptRow {
  step: number;
  digest: string;
  signed: string;
  outputs: string;
  artifacts: string;
  code: string;
}

/** Receipts, artifacts and replay buffers in the agent database. Create one per database; it is stateless. */
export class ReceiptStore implements IRunStore {
  constructor(private readonly db: AgentDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS receipts (
        run_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        digest TEXT NOT NULL,
        signed TEXT NOT NULL,
        outputs TEXT NOT NULL,
        artifacts TEXT NOT NULL,
        code TEXT NOT NULL,
        PRIMARY KEY (run_id, step)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS artifacts (
        sha256 TEXT PRIMARY KEY,
        bytes BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS buffered_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        kernel_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        is_text INTEGER NOT NULL,
        data BLOB NOT NULL,
        size INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS buffered_messages_kernel ON buffered_messages (run_id, kernel_id, id);
    `);
  }

  /** Receipts of a run in step order. */
  receipts(runId: Hex32): IStoredReceipt[] {
    const rows = this.db
      .prepare('SELECT * FROM receipts WHERE run_id = ? ORDER BY step')
      .all(runId) as IReceiptRow[];
    return rows.map(Private.fromRow);
  }

  /** Receipts from step `from` on (for streaming to a client that already has the earlier ones). */
  receiptsFrom(runId: Hex32, from: number): IStoredReceipt[] {
    const rows = this.db
      .prepare('SELECT * FROM receipts WHERE run_id = ? AND step >= ? ORDER BY step')
      .all(runId, from) as IReceiptRow[];
    return rows.map(Private.fromRow);
  }

  /** One receipt, or undefined. */
  receipt(runId: Hex32, step: number): IStoredReceipt | undefined {
    const row = this.db.prepare('SELECT * FROM receipts WHERE run_id = ? AND step = ?').get(runId, step) as
      | IReceiptRow
      | undefined;
    return row && Private.fromRow(row);
  }

  /** The last receipt of a run (the one the next receipt chains to), or undefined before the first. */
  lastReceipt(runId: Hex32): IStoredReceipt | undefined {
    const row = this.db
      .prepare('SELECT * FROM receipts WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as IReceiptRow | undefined;
    return row && Private.fromRow(row);
  }

  /** Number of receipts of a run. */
  receiptCount(runId: Hex32): number {
    return (
      this.db.prepare('SELECT COUNT(*) AS n FROM receipts WHERE run_id = ?').get(runId) as { n: number }
    ).n;
  }

  /**
   * Appends the next receipt. Throws AGENT_RECEIPT_OUT_OF_ORDER when its step is not one more than the last
   * stored step (or 0 for the first): one receipt per step, in order, even across agent restarts.
   */
  appendReceipt(runId: Hex32, receipt: IStoredReceipt): void {
    const step = receipt.signed.receipt.step;
    this.db
      .transaction(() => {
        const next = this.receiptCount(runId);
        if (step !== next || receipt.signed.receipt.runId !== runId) {
          throw makeError(
            'AGENT_RECEIPT_OUT_OF_ORDER',
            `Receipt for step ${step} of run ${runId} cannot be stored: the next step is ${next}. ` +
              'Receipts are appended once each, in order; reload the run state from the store.',
            { runId, step, next }
          );
        }
        this.db
          .prepare(
            'INSERT INTO receipts (run_id, step, digest, signed, outputs, artifacts, code) VALUES (?, ?, ?, ?, ?, ?, ?)'
          )
          .run(
            runId,
            step,
            receipt.digest,
            JSON.stringify(receipt.signed),
            JSON.stringify(receipt.outputs),
            JSON.stringify(receipt.artifacts),
            receipt.code
          );
      })
      .immediate();
  }

  /** Stores an artifact's bytes by sha256 (content-addressed: storing the same bytes twice is a no-op). */
  putArtifact(sha256: Hex32, bytes: Uint8Array): void {
    this.db
      .prepare('INSERT OR IGNORE INTO artifacts (sha256, bytes) VALUES (?, ?)')
      .run(sha256, Buffer.from(bytes));
  }

  /** An artifact's bytes by sha256, or undefined. */
  getArtifact(sha256: Hex32): Uint8Array | undefined {
    const row = this.db.prepare('SELECT bytes FROM artifacts WHERE sha256 = ?').get(sha256) as
      | { bytes: Buffer }
      | undefined;
    return row?.bytes;
  }

  /**
   * Keeps a kernel message for replay; returns how many of the oldest were dropped to stay within `limits`.
   * Text frames stay text, binary frames stay bytes.
   */
  bufferMessage(
    runId: Hex32,
    kernelId: string,
    channel: string,
    data: string | Uint8Array,
    limits: IBufferLimits = DEFAULT_BUFFER_LIMITS
  ): number {
    const isText = typeof data === 'string';
    const bytes = isText
      ? Buffer.from(data, 'utf8')
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            'INSERT INTO buffered_messages (run_id, kernel_id, channel, is_text, data, size) VALUES (?, ?, ?, ?, ?, ?)'
          )
          .run(runId, kernelId, channel, isText ? 1 : 0, bytes, bytes.length);
        const total = this.db
          .prepare(
            'SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM buffered_messages WHERE run_id = ? AND kernel_id = ?'
          )
          .get(runId, kernelId) as { n: number; bytes: number };
        let { n, bytes: size } = total;
        let dropped = 0;
        if (n <= limits.maxMessages && size <= limits.maxBytes) {
          return 0;
        }
        const rows = this.db
          .prepare('SELECT id, size FROM buffered_messages WHERE run_id = ? AND kernel_id = ? ORDER BY id')
          .iterate(runId, kernelId) as IterableIterator<{ id: number; size: number }>;
        let lastId = -1;
        for (const row of rows) {
          if (n <= limits.maxMessages && size <= limits.maxBytes) {
            break;
          }
          lastId = row.id;
          n -= 1;
          size -= row.size;
          dropped += 1;
        }
        this.db
          .prepare('DELETE FROM buffered_messages WHERE run_id = ? AND kernel_id = ? AND id <= ?')
          .run(runId, kernelId, lastId);
        return dropped;
      })
      .immediate();
  }

  /** Takes (returns and deletes, atomically) the kept messages of a kernel in arrival order. */
  takeBufferedMessages(runId: Hex32, kernelId: string): { channel: string; data: string | Uint8Array }[] {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare(
            'SELECT channel, is_text, data FROM buffered_messages WHERE run_id = ? AND kernel_id = ? ORDER BY id'
          )
          .all(runId, kernelId) as { channel: string; is_text: number; data: Buffer }[];
        this.db
          .prepare('DELETE FROM buffered_messages WHERE run_id = ? AND kernel_id = ?')
          .run(runId, kernelId);
        return rows.map(r => ({ channel: r.channel, data: r.is_text ? r.data.toString('utf8') : r.data }));
      })
      .immediate();
  }

  /** Deletes the replay buffers of a run (at its end). Receipts and artifacts stay. */
  dropBuffers(runId: Hex32): void {
    this.db.prepare('DELETE FROM buffered_messages WHERE run_id = ?').run(runId);
  }
}

namespace Private {
  export function fromRow(row: IReceiptRow): IStoredReceipt {
    return {
      signed: JSON.parse(row.signed) as ISignedReceipt,
      digest: row.digest,
      outputs: JSON.parse(row.outputs) as unknown[],
      artifacts: JSON.parse(row.artifacts) as IArtifact[],
      code: row.code
    };
  }
}
