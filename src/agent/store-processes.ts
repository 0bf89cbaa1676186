/**
 * The kernel server processes of the agent's runs, in SQLite, so that the next start of an agent that was killed
 * (SIGKILL, a crash, power loss) reaps what the dead one left running.
 *
 * The local backend starts each run's jupyter server in its own process group, and jupyter starts each kernel in
 * a session of its own: neither dies with the agent. A row holds the server's pid and a marker, the run's private
 * server folder, which every one of those processes names on its command line (the server its config file, a
 * kernel its connection file). Reaping kills only processes whose command line holds a recorded marker, so a pid
 * reused by an unrelated process since is never touched.
 */
import { execFileSync } from 'node:child_process';
import type { Hex32 } from '../core/hash.js';
import type { AgentDatabase } from './database.js';
import type { IServerProcess } from './tokens.js';

/** What a reap found and killed. */
export interface IReaped {
  runId: Hex32;
  /** Pids killed (the server and its kernels), empty when they were already gone. */
  pids: number[];
}

/** Recorded kernel server processes. */
export class ProcessStore {
  constructor(private readonly db: AgentDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS agent_processes (
        run_id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        marker TEXT NOT NULL,
        started_at INTEGER NOT NULL
      );
    `);
  }

  /** Records the kernel server of run `runId` (one per run: a new one replaces the old record). */
  record(runId: Hex32, process: IServerProcess): void {
    this.db
      .prepare('INSERT OR REPLACE INTO agent_processes (run_id, pid, marker, started_at) VALUES (?, ?, ?, ?)')
      .run(runId, process.pid, process.marker, Date.now());
  }

  /** The run's server was stopped cleanly. */
  forget(runId: Hex32): void {
    this.db.prepare('DELETE FROM agent_processes WHERE run_id = ?').run(runId);
  }

  /** Kills every process left by a previous agent (call before starting any runtime) and forgets them. */
  reapOrphans(): IReaped[] {
    const rows = this.db.prepare('SELECT run_id, pid, marker FROM agent_processes').all() as {
      run_id: Hex32;
      pid: number;
      marker: string;
    }[];
    if (rows.length === 0) {
      return [];
    }
    const running = Private.processes();
    const reaped: IReaped[] = [];
    for (const row of rows) {
      const pids = running.filter(p => p.args.includes(row.marker) && p.pid !== process.pid).map(p => p.pid);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      this.forget(row.run_id);
      reaped.push({ runId: row.run_id, pids });
    }
    return reaped;
  }
}

namespace Private {
  /** Every process with its full command line (`ps -ww`: never cut at a terminal's width). */
  export function processes(): { pid: number; args: string }[] {
    const out = execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' });
    return out
      .split('\n')
      .map(line => /^\s*(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(m => ({ pid: Number(m[1]), args: m[2] }));
  }
}
