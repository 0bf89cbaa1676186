/**
 * Published bundles as clients see them (browser and Node): a client publishes a bundle of one of its runs
 * (AgentClient.publishBundle) so that a content-addressed launch link can name it, and anyone fetches it back by
 * hash. The agent is a stranger:
 * what it sends is read with the core's bundle reader (every limit, every file's SHA-256, the manifest rebuilt)
 * and accepted only when its hash is the one the link names.
 */
import type { BundleLimits } from '../core/bundle-manifest.js';
import { ReadBundle, readBundle } from '../core/bundle-reader.js';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { normalizeAgentUrl } from '../core/launch-link.js';
import { agentFetch } from './agent-fetch.js';

/** Options of fetchPublishedBundle. */
export interface IFetchBundleOptions {
  limits?: Partial<BundleLimits>;
  signal?: AbortSignal;
}

/**
 * GET /bundles/{hash}/public from `agentUrl`, read and checked: throws BUNDLE_* (the reader's rule that failed),
 * BUNDLE_HASH_MISMATCH (the agent sent another bundle), PROVIDER_UNREACHABLE or PROVIDER_REFUSED.
 */
export async function fetchPublishedBundle(
  agentUrl: string,
  bundleHash: Hex32,
  options: IFetchBundleOptions = {}
): Promise<ReadBundle> {
  const endpoint = normalizeAgentUrl(agentUrl);
  const step = `downloading bundle ${bundleHash}`;
  const res = await agentFetch(`${endpoint}/bundles/${bundleHash}/public`, step, endpoint, {
    signal: options.signal
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const read = readBundle(bytes, options.limits);
  if (read.bundleHash !== bundleHash) {
    throw makeError(
      'BUNDLE_HASH_MISMATCH',
      `The agent at ${endpoint} sent bundle ${read.bundleHash}, not the ${bundleHash} the link names: nothing was ` +
        'written. The agent is misconfigured or dishonest; ask the link’s author for another source.',
      { expected: bundleHash, actual: read.bundleHash }
    );
  }
  return read;
}
