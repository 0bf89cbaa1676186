/**
 * Bundles at a provider for the launch-link browser tests, made in Node the way a client makes them: a client opens a
 * run of a small notebook's bundle with `ain dev`'s first provider on the development chain, uploads the bundle to
 * that provider's agent (POST /runs), publishes it (POST /bundles/{hash}/publish) unless told not to, and stops the
 * run, so nothing keeps running. The notebook it returns records that run in metadata.ain, as the extension does.
 */
import { Wallet, parseUnits } from 'ethers';
import { readFileSync } from 'node:fs';
import { createBundle } from '../../lib-node/core/bundle-writer.js';
import { sha256 } from '../../lib-node/core/hash.js';
import { AgentClient } from '../../lib-node/chain/agent-client.js';
import { parseChainConfig } from '../../lib-node/chain/config.js';
import { devPrivateKey } from '../../lib-node/chain/dev-chain.js';
import { ProviderRegistryClient } from '../../lib-node/chain/provider-registry.js';
import { RunRegistryClient } from '../../lib-node/chain/run-registry.js';
import { ChainSession } from '../../lib-node/chain/session.js';
import { devKeyWallet } from '../../lib-node/chain/wallet.js';
import { DEPLOYMENT_FILE } from './evidence-chain';

/** `ain dev`'s first provider. */
export const AGENT_URL = 'http://127.0.0.1:8601';
const PROVIDER_ACCOUNT = 1;

/** A bundle at AGENT_URL and the run of it. */
export interface IPublishedBundle {
  bundleHash: string;
  runId: string;
  client: string;
  notebookName: string;
  /** The notebook's first cell source (carries `tag`). */
  source: string;
  /** The notebook with the run in its metadata.ain. */
  notebook: Record<string, unknown>;
}

/**
 * The bundle of a one-cell notebook tagged `tag` (so each test run has its own hash), run by development account
 * `clientAccount` (9; 3 is the one `ain dev` gives JupyterLab), published unless `publish` is false.
 */
export async function publishedBundle(
  tag: string,
  options: { clientAccount?: number; publish?: boolean; notebookName?: string } = {}
): Promise<IPublishedBundle> {
  const notebookName = options.notebookName ?? 'launched.ipynb';
  const config = parseChainConfig(JSON.parse(readFileSync(DEPLOYMENT_FILE, 'utf8')));
  const source = `print("launched from a bundle link: ${tag}")`;
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' }
    },
    cells: [{ cell_type: 'code', id: 'launch-0', metadata: {}, execution_count: null, outputs: [], source }]
  };
  const encoder = new TextEncoder();
  const bundle = createBundle({
    notebookPath: notebookName,
    files: new Map([
      [notebookName, encoder.encode(JSON.stringify(notebook))],
      ['data/points.csv', encoder.encode(`x,y\n1,2\n# ${tag}\n`)]
    ])
  });
  const provider = new Wallet(devPrivateKey(PROVIDER_ACCOUNT)).address;
  const session = await ChainSession.connect(config, devKeyWallet(devPrivateKey(options.clientAccount ?? 9)));
  const agent = new AgentClient({ endpoint: AGENT_URL, signer: session.requireSigner() });
  try {
    const pricePerHour = (await new ProviderRegistryClient(session).getProvider(provider)).pricePerHour;
    const escrow = parseUnits('1', 18);
    const openedAt = new Date().toISOString();
    const { runId } = await new RunRegistryClient(session).openRun({
      provider,
      bundleHash: bundle.bundleHash,
      nonce: BigInt(Date.now()),
      samplingSecret: sha256(`launch ${tag}`),
      escrow,
      pricePerHour
    });
    await agent.login();
    await agent.createRun(runId, bundle.bytes);
    if (options.publish ?? true) {
      await agent.publishBundle(bundle.bundleHash);
    }
    await agent.stopRun(runId);
    const run = {
      chainId: config.chainId,
      runRegistry: config.contracts.runRegistry,
      runId,
      provider,
      endpoint: AGENT_URL,
      bundleHash: bundle.bundleHash,
      notebookHash: bundle.manifest.notebookHash,
      escrow: escrow.toString(),
      pricePerHour: pricePerHour.toString(),
      openedAt,
      state: 'stopped'
    };
    return {
      bundleHash: bundle.bundleHash,
      runId,
      client: await session.address(),
      notebookName,
      source,
      notebook: {
        ...notebook,
        metadata: {
          ...notebook.metadata,
          ain: { version: 1, runs: [run], receipts: [], checkpoints: [], verifications: [] }
        }
      }
    };
  } finally {
    agent.dispose();
    session.close();
  }
}
