/**
 * Published runs: runs whose client chose to let anyone check them. A shared notebook carries its receipts and the
 * outputs each cell last showed, but a verifier also needs what the notebook does not hold: the outputs of steps
 * whose cell ran again later, and the artifacts the receipts committed to (solution verification recomputes an
 * objective from the committed model). The agent keeps both and, by default, serves them to the run's client only.
 *
 * Publishing is the client's explicit act (POST /runs/{id}/publish; "Publish run evidence" in JupyterLab), kept in
 * SQLite. Then GET /runs/{id}/public/receipts and GET /runs/{id}/public/artifacts/{sha256} answer anyone; an
 * unpublished or unknown run answers the same 404, so a probe learns nothing. Nothing served here needs trust: the
 * verifier accepts outputs only when they hash to the signed receipt's outputHash, artifacts only by their sha256.
 */
import { getAddress } from 'ethers';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { ProviderAgent } from './agent.js';
import type { IStoredReceipt } from './tokens.js';

/** What POST /runs/{id}/publish answers. */
export interface IPublishedRun {
  runId: Hex32;
  /** ISO time of the first publication (publishing again changes nothing). */
  publishedAt: string;
  /** The public reads, relative to the agent's base URL. */
  receipts: string;
  artifacts: string;
}

/** Published runs over the agent's database. */
export class PublishedRuns {
  constructor(private readonly agent: ProviderAgent) {
    agent.db.exec(`
      CREATE TABLE IF NOT EXISTS agent_published_runs (
        run_id TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        published_at INTEGER NOT NULL
      );
    `);
  }

  /** Publishes a run of `client` (AGENT_FORBIDDEN for anyone else, as every run route answers). */
  publish(client: string, runId: Hex32): IPublishedRun {
    this.agent.runOf(client, runId);
    this.agent.db
      .prepare('INSERT OR IGNORE INTO agent_published_runs (run_id, client, published_at) VALUES (?, ?, ?)')
      .run(runId, getAddress(client), Date.now());
    const row = this.agent.db
      .prepare('SELECT published_at FROM agent_published_runs WHERE run_id = ?')
      .get(runId) as { published_at: number };
    this.agent.logger.log('info', 'run-published', { runId, client: getAddress(client) });
    return {
      runId,
      publishedAt: new Date(row.published_at).toISOString(),
      receipts: `/runs/${runId}/public/receipts`,
      artifacts: `/runs/${runId}/public/artifacts/{sha256}`
    };
  }

  /** The receipts of a published run, with their outputs and artifact lists; AGENT_NOT_FOUND otherwise. */
  receipts(runId: Hex32): IStoredReceipt[] {
    this.requirePublished(runId);
    return this.agent.store.receipts(runId);
  }

  /** An artifact one of the published run's receipts committed to; AGENT_NOT_FOUND otherwise. */
  artifact(runId: Hex32, sha256: Hex32): Uint8Array {
    const committed = this.receipts(runId).some(r => r.artifacts.some(a => a.sha256 === sha256));
    const bytes = committed ? this.agent.store.getArtifact(sha256) : undefined;
    if (!bytes) {
      throw makeError(
        'AGENT_NOT_FOUND',
        `No artifact ${sha256} among the receipts of run ${runId}: the receipts name the artifacts they commit to.`
      );
    }
    return bytes;
  }

  private requirePublished(runId: Hex32): void {
    if (!this.agent.db.prepare('SELECT 1 FROM agent_published_runs WHERE run_id = ?').get(runId)) {
      throw makeError(
        'AGENT_NOT_FOUND',
        `Run ${runId} is not published here. Its client publishes it with POST /runs/${runId}/publish ` +
          '("Publish run evidence" in JupyterLab), or the notebook names another agent.'
      );
    }
  }
}
