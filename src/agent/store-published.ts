/**
 * Published bundles: the bundles whose client chose to make them readable by anyone who knows their hash, so that
 * a content-addressed launch link (`?ain-bundle=<sha256>@<agent URL>`, src/core/launch-link.ts) can fetch them.
 *
 * Bundles are private by default: a client's notebook and data files may be nobody else's business, and the agent
 * serves them only to the clients of runs of them (GET /bundles/{hash}). Publishing is the client's explicit act
 * (POST /bundles/{hash}/publish, by a client with a run of that bundle) and is kept in SQLite, so it survives
 * restarts. The public read answers the same 404 for "unknown" and "not published": a probe learns nothing about
 * private bundles. What it serves is checked by the reader anyway (the hash is the manifest's), never trusted.
 */
import { promises as fs } from 'node:fs';
import { getAddress } from 'ethers';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import type { ProviderAgent } from './agent.js';
import { bundlePath } from './run-admission.js';

/** What POST /bundles/{hash}/publish answers. */
export interface IPublishedBundle {
  bundleHash: Hex32;
  /** ISO time of the first publication (publishing again changes nothing). */
  publishedAt: string;
  /** The public read, relative to the agent's base URL. */
  path: string;
}

/** Published bundles over the agent's database. */
export class PublishedBundles {
  constructor(private readonly agent: ProviderAgent) {
    agent.db.exec(`
      CREATE TABLE IF NOT EXISTS agent_published_bundles (
        bundle_hash TEXT PRIMARY KEY,
        client TEXT NOT NULL,
        published_at INTEGER NOT NULL
      );
    `);
  }

  /** Publishes a bundle of a run of `client`; AGENT_FORBIDDEN for anyone else (same answer as GET /bundles). */
  publish(client: string, bundleHash: Hex32): IPublishedBundle {
    const mine = this.agent.runs.list(getAddress(client)).some(r => r.bundleHash === bundleHash);
    if (!mine) {
      throw makeError(
        'AGENT_FORBIDDEN',
        'This token does not give access to that bundle; log in as a client of a run of it.'
      );
    }
    this.agent.db
      .prepare(
        'INSERT OR IGNORE INTO agent_published_bundles (bundle_hash, client, published_at) VALUES (?, ?, ?)'
      )
      .run(bundleHash, getAddress(client), Date.now());
    const row = this.agent.db
      .prepare('SELECT published_at FROM agent_published_bundles WHERE bundle_hash = ?')
      .get(bundleHash) as { published_at: number };
    this.agent.logger.log('info', 'bundle-published', { bundleHash, client: getAddress(client) });
    return {
      bundleHash,
      publishedAt: new Date(row.published_at).toISOString(),
      path: `/bundles/${bundleHash}/public`
    };
  }

  /** The bytes of a published bundle; AGENT_NOT_FOUND when it is unknown or not published. */
  async read(bundleHash: Hex32): Promise<Uint8Array> {
    const row = this.agent.db
      .prepare('SELECT 1 FROM agent_published_bundles WHERE bundle_hash = ?')
      .get(bundleHash);
    const bytes = row
      ? await fs.readFile(bundlePath(this.agent.options.dataDir, bundleHash)).catch(() => null)
      : null;
    if (!bytes) {
      throw makeError(
        'AGENT_NOT_FOUND',
        `No published bundle ${bundleHash} here. Its client publishes it with POST /bundles/${bundleHash}/publish ` +
          '("Copy bundle launch link" in JupyterLab does it), or the link names the wrong agent.'
      );
    }
    return new Uint8Array(bytes);
  }
}
