/**
 * Admission of a run (POST /runs): the on-chain checks and the bundle checks, each refusal a typed error that
 * says what to do. The chain is the authority on who the client is, which provider was hired, for which bundle
 * and with how much escrow; the agent trusts nothing the request says beyond the run id and the bundle bytes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { getAddress, formatUnits } from 'ethers';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { ReadBundle, readBundle } from '../core/bundle-reader.js';
import type { IRunRecord as IChainRun, RunRegistryClient } from '../chain/run-registry.js';
import { IAgentLimits, budgetMs, bundleReaderLimits } from './run-limits.js';

/**
 * Reads run `runId` on-chain and checks that it is open, hires `provider`, was opened by `client` and holds
 * escrow for at least `limits.minEscrowSeconds` at its price.
 */
export async function checkRunOnChain(
  registry: RunRegistryClient,
  runId: Hex32,
  provider: string,
  client: string,
  limits: IAgentLimits
): Promise<IChainRun> {
  const run = await registry.getRun(runId);
  if (run.status === 'none') {
    throw makeError(
      'AGENT_RUN_NOT_ON_CHAIN',
      `Run ${runId} does not exist on chain ${registry.session.config.chainId}. Open it with RunRegistry.openRun ` +
        'first, and send the run id it returned.',
      { runId }
    );
  }
  if (getAddress(run.provider) !== getAddress(provider)) {
    throw makeError(
      'AGENT_RUN_WRONG_PROVIDER',
      `Run ${runId} hires provider ${run.provider}, not this one (${getAddress(provider)}). Send it to its provider.`,
      { runId }
    );
  }
  if (getAddress(run.client) !== getAddress(client)) {
    // No detail: the caller is not the run's client.
    throw makeError('AGENT_FORBIDDEN', 'This token does not give access to that run; log in as its client.');
  }
  if (run.status !== 'open') {
    throw makeError('AGENT_RUN_NOT_OPEN', `Run ${runId} is ${run.status} on-chain; open a new run.`, {
      runId
    });
  }
  const seconds = budgetMs(run.escrow, run.pricePerHour) / 1000;
  if (seconds < limits.minEscrowSeconds) {
    const needed = (run.pricePerHour * BigInt(limits.minEscrowSeconds) + 3599n) / 3600n;
    throw makeError(
      'AGENT_ESCROW_TOO_LOW',
      `Run ${runId} escrows ${formatUnits(run.escrow, 18)} tokens, which pays ${Math.floor(seconds)} s at ` +
        `${formatUnits(run.pricePerHour, 18)} tokens/h; this provider needs at least ${limits.minEscrowSeconds} s ` +
        `(${formatUnits(needed, 18)} tokens). Open a run with more escrow.`,
      { runId, escrow: run.escrow.toString(), needed: needed.toString() }
    );
  }
  return run;
}

/**
 * Reads the bundle under the agent's limits (BUNDLE_* errors name the rule) and checks that it is the one the
 * run was opened for.
 */
export function checkBundle(bytes: Uint8Array, limits: IAgentLimits, expectedHash: Hex32): ReadBundle {
  const bundle = readBundle(bytes, bundleReaderLimits(limits));
  if (bundle.bundleHash !== expectedHash.toLowerCase()) {
    throw makeError(
      'AGENT_BUNDLE_HASH_MISMATCH',
      `The bundle's hash is ${bundle.bundleHash}, but the run was opened for ${expectedHash}. Send the bundle the ` +
        'run was opened with (or open a run for this one).',
      { bundleHash: bundle.bundleHash, expected: expectedHash }
    );
  }
  return bundle;
}

/** Where a bundle is stored: `<dataDir>/bundles/<hash>.ainb`. */
export function bundlePath(dataDir: string, bundleHash: Hex32): string {
  return path.join(dataDir, 'bundles', `${bundleHash.slice(2)}.ainb`);
}

/** Stores the bundle by hash (atomically: written aside, then renamed), unless it is already there. */
export async function storeBundle(dataDir: string, bundleHash: Hex32, bytes: Uint8Array): Promise<void> {
  const file = bundlePath(dataDir, bundleHash);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, bytes);
  await fs.rename(temp, file);
}

/**
 * Writes the bundle's files under `workDir`. The reader already refused absolute paths, `..`, links and
 * duplicates; the resolved-path check below is a second fence, so a reader bug cannot write outside the folder.
 */
export async function unpackBundle(files: ReadonlyMap<string, Uint8Array>, workDir: string): Promise<void> {
  const root = path.resolve(workDir);
  await fs.mkdir(root, { recursive: true });
  for (const [name, bytes] of files) {
    const target = path.resolve(root, name);
    if (!target.startsWith(root + path.sep)) {
      throw makeError(
        'BUNDLE_PATH_TRAVERSAL',
        `The bundle path ${name} leaves the run folder; refusing it.`,
        {
          path: name
        }
      );
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, bytes, { flag: 'wx' }).catch(async e => {
      // A retried admission finds its own files: same bytes, so overwrite.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        await fs.writeFile(target, bytes);
      } else {
        throw e;
      }
    });
  }
}
