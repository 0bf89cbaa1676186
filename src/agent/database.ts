/**
 * The agent's SQLite database (better-sqlite3): one file under the agent's data folder, shared by the stores of
 * the service half (runs, logins, anchor queue, events) and the kernel half (receipts, artifacts, replay buffer).
 * Each store creates its own tables with CREATE TABLE IF NOT EXISTS, so either can change without the other.
 *
 * WAL mode with synchronous=FULL: a receipt that was acknowledged survives SIGKILL of the agent and power loss,
 * which is the promise "an agent restart loses nothing" rests on.
 *
 * Stores run read-then-write transactions with `.immediate()` (BEGIN IMMEDIATE): a deferred transaction that
 * reads and then writes fails at once with SQLITE_BUSY when another connection wrote in between (busy_timeout
 * cannot help there), while an immediate one waits for the write lock up to busy_timeout.
 */
import Database from 'better-sqlite3';

export type AgentDatabase = Database.Database;

/** Opens (creating if needed) the agent database at `file`, or in memory for ':memory:'. */
export function openDatabase(file: string): AgentDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
