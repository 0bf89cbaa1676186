/**
 * Published runs as clients and verifiers see them (browser and Node): the run's client publishes it
 * (AgentClient.publishRun) so that anyone holding the shared notebook can verify it fully; a verifier reads the run's receipts (with the outputs of every
 * step) and committed artifacts without logging in. The agent is a stranger: the verification engine accepts
 * outputs only when they hash to the signed receipt's outputHash, artifacts only by their sha256.
 */
import { isAinError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { normalizeAgentUrl } from '../core/launch-link.js';
import type { IAgentReceipt } from './agent-client.js';
import { agentFetch } from './agent-fetch.js';

/** GET /runs/{id}/public/receipts: the published run's receipts, or null when it is not published there. */
export async function publishedReceipts(agentUrl: string, runId: Hex32): Promise<IAgentReceipt[] | null> {
  const endpoint = normalizeAgentUrl(agentUrl);
  const res = await Private.orNull(
    agentFetch(
      `${endpoint}/runs/${runId}/public/receipts`,
      `reading the published receipts of run ${runId}`,
      endpoint,
      {}
    )
  );
  return res ? ((await res.json()) as { receipts: IAgentReceipt[] }).receipts : null;
}

/** GET /runs/{id}/public/artifacts/{sha256}: unchecked bytes, or null when the agent does not serve them. */
export async function publishedArtifact(
  agentUrl: string,
  runId: Hex32,
  sha256: Hex32
): Promise<Uint8Array | null> {
  const endpoint = normalizeAgentUrl(agentUrl);
  const res = await Private.orNull(
    agentFetch(
      `${endpoint}/runs/${runId}/public/artifacts/${sha256}`,
      `downloading artifact ${sha256} of run ${runId}`,
      endpoint,
      {}
    )
  );
  return res ? new Uint8Array(await res.arrayBuffer()) : null;
}

namespace Private {
  /** The response, or null for a 404 (not published, or not there). */
  export async function orNull(request: Promise<Response>): Promise<Response | null> {
    try {
      return await request;
    } catch (e) {
      if (isAinError(e, 'PROVIDER_REFUSED') && e.info.status === 404) {
        return null;
      }
      throw e;
    }
  }
}
