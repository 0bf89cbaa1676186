/**
 * The run's own bundle for `ain verify --bundle FILE|agent`: the very files the provider ran (notebook,
 * environment files, data), so that the verifier's kernel needs no `--data` and sees nothing else. Read with the
 * core's bundle reader (every limit and file hash) and accepted only when its hash is the run's bundle hash on-chain.
 */
import { readFileSync } from 'node:fs';
import type { AgentClient } from '../chain/agent-client.js';
import { fetchPublishedBundle } from '../chain/published-bundles.js';
import { ReadBundle, readBundle } from '../core/bundle-reader.js';
import { isAinError, makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';

/**
 * Reads `spec` — a bundle file, or `agent`: the run's agent, as a published bundle (anyone) or the client's own
 * copy (`agent`, logged in as the run's client) — and checks it is `bundleHash`.
 */
export async function runBundle(
  spec: string,
  bundleHash: Hex32,
  endpoint: string,
  agent: AgentClient | null,
  log: (line: string) => void
): Promise<ReadBundle> {
  let read: ReadBundle;
  if (spec !== 'agent') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(spec);
    } catch (e) {
      throw makeError(
        'VERIFY_INPUT_INVALID',
        `Cannot read the bundle ${spec}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
        { file: spec }
      );
    }
    read = readBundle(bytes);
  } else {
    read = await fromAgent(bundleHash, endpoint, agent, log);
  }
  if (read.bundleHash !== bundleHash) {
    throw makeError(
      'BUNDLE_HASH_MISMATCH',
      `The bundle ${spec === 'agent' ? `from ${endpoint}` : spec} is ${read.bundleHash}, not the run's bundle ` +
        `${bundleHash} (on-chain): its files are not the ones the provider ran. Give the run's bundle, or drop ` +
        '--bundle to use the notebook folder.',
      { expected: bundleHash, actual: read.bundleHash }
    );
  }
  log(`using the run's bundle ${bundleHash.slice(0, 10)}… (${read.files.size} files)`);
  return read;
}

async function fromAgent(
  bundleHash: Hex32,
  endpoint: string,
  agent: AgentClient | null,
  log: (line: string) => void
): Promise<ReadBundle> {
  try {
    return await fetchPublishedBundle(endpoint, bundleHash);
  } catch (e) {
    if (!isAinError(e, 'PROVIDER_REFUSED') || !agent) {
      if (isAinError(e, 'PROVIDER_REFUSED')) {
        throw makeError(
          'VERIFY_INPUT_INVALID',
          `The agent at ${endpoint} has not published bundle ${bundleHash}, and gives it otherwise only to the ` +
            "run's client: verify with the client's key, or pass --bundle FILE (e.g. from `ain pack`).",
          { bundleHash }
        );
      }
      throw e;
    }
    log('the bundle is not published: downloading the client’s copy from the agent');
  }
  const bytes = await agent.bundle(bundleHash);
  if (!bytes) {
    throw makeError('VERIFY_INPUT_INVALID', `The agent at ${endpoint} no longer has bundle ${bundleHash}.`, {
      bundleHash
    });
  }
  return readBundle(bytes);
}
