/**
 * A published bundle for the launch-link browser tests, made in Node the way a client makes one: a client
 * (development account 9) opens a run of a small notebook's bundle with `ain dev`'s first provider on the
 * development chain, uploads the bundle to that provider's agent (POST /runs), publishes it
 * (POST /bundles/{hash}/publish) and stops the run, so nothing keeps running.
 */
import { Wallet, parseUnits } from 'ethers';
import { readFileSync } from 'node:fs';
import { createBundle } from '../../lib-node/core/bundle-writer.js';
import { sha256 } from '../../lib-node/core/hash.js';
import { AgentClient } from '../../lib-node/chain/agent-client.js';
import { parseChainConfig } from '../../lib-node/chain/config.js';
import { devPrivateKey } from '../../lib-node/chain/dev-chain.js';
import { ProviderRegistryClient } from '../../lib-node/chain/provider-registry.js';
import { publishBundle } from '../../lib-node/chain/published-bundles.js';
import { RunRegistryClient } from '../../lib-node/chain/run-registry.js';
import { ChainSession } from '../../lib-node/chain/session.js';
import { devKeyWallet } from '../../lib-node/chain/wallet.js';
import { DEPLOYMENT_FILE } from './evidence-chain';

/** `ain dev`'s first provider. */
export const AGENT_URL = 'http://127.0.0.1:8601';
const PROVIDER_ACCOUNT = 1;
const CLIENT_ACCOUNT = 9;

/** A bundle published at AGENT_URL. */
export interface IPublishedBundle {
  bundleHash: string;
  runId: string;
  client: string;
  notebookName: string;
  /** The notebook's first cell source (carries `tag`). */
  source: string;
}

/** Publishes the bundle of a one-cell notebook tagged `tag` (so each test run has its own hash). */
export async function publishedBundle(tag: string): Promise<IPublishedBundle> {
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
    notebookPath: 'launched.ipynb',
    files: new Map([
      ['launched.ipynb', encoder.encode(JSON.stringify(notebook))],
      ['data/points.csv', encoder.encode(`x,y\n1,2\n# ${tag}\n`)]
    ])
  });
  const provider = new Wallet(devPrivateKey(PROVIDER_ACCOUNT)).address;
  const session = await ChainSession.connect(config, devKeyWallet(devPrivateKey(CLIENT_ACCOUNT)));
  const agent = new AgentClient({ endpoint: AGENT_URL, signer: session.requireSigner() });
  try {
    const pricePerHour = (await new ProviderRegistryClient(session).getProvider(provider)).pricePerHour;
    const { runId } = await new RunRegistryClient(session).openRun({
      provider,
      bundleHash: bundle.bundleHash,
      nonce: BigInt(Date.now()),
      samplingSecret: sha256(`launch ${tag}`),
      escrow: parseUnits('1', 18),
      pricePerHour
    });
    await agent.login();
    await agent.createRun(runId, bundle.bytes);
    await publishBundle(agent, bundle.bundleHash);
    await agent.stopRun(runId);
    return {
      bundleHash: bundle.bundleHash,
      runId,
      client: await session.address(),
      notebookName: 'launched.ipynb',
      source
    };
  } finally {
    agent.dispose();
    session.close();
  }
}
