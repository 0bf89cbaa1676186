/**
 * Real evidence for the browser tests of the evidence side, made in Node against the development chain that
 * `ain dev` started: with `ain dev`'s provider (development account 1), a client (account 8) opens a run, the provider
 * signs one receipt per cell with the core's signReceipt and anchors the checkpoint root on the RunRegistry. The
 * notebook it returns carries that evidence in metadata.ain, exactly as the extension saves it.
 */
import { SigningKey, Wallet, parseUnits } from 'ethers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZERO_HASH, sha256 } from '../../lib-node/core/hash.js';
import { ReceiptTree } from '../../lib-node/core/merkle.js';
import { codeHash } from '../../lib-node/core/notebook.js';
import { IStepReceipt, receiptDigest, signReceipt } from '../../lib-node/core/receipt.js';
import { parseChainConfig } from '../../lib-node/chain/config.js';
import { devPrivateKey } from '../../lib-node/chain/dev-chain.js';
import { ProviderRegistryClient } from '../../lib-node/chain/provider-registry.js';
import { RunRegistryClient } from '../../lib-node/chain/run-registry.js';
import { ChainSession } from '../../lib-node/chain/session.js';
import { devKeyWallet } from '../../lib-node/chain/wallet.js';

/** Where `ain dev` (the test web server) writes its deployment. */
export const DEPLOYMENT_FILE = join(__dirname, 'test-results', 'ain-dev', 'chain', 'deployment.json');

/** `ain dev`'s first local provider: registered and reachable, so the picker's probes of it succeed. */
const DEV_PROVIDER_ACCOUNT = 1;
/** A stand-in provider when `ain dev` started none; unbonded again afterwards so that no listing shows it. */
const SPARE_PROVIDER_ACCOUNT = 7;
const CLIENT_ACCOUNT = 8;

/** A notebook with anchored evidence, and what the test needs to know about it. */
export interface IAnchoredNotebook {
  notebook: Record<string, unknown>;
  runId: string;
  txHash: string;
  provider: string;
  root: string;
  /** Anchors the checkpoint now (when it was left unanchored); resolves with the transaction hash. */
  anchorNow: () => Promise<string>;
}

/**
 * Opens a run on the development chain, signs a receipt for each of `sources` (cell ids `ain-<i>`) and anchors
 * their root. `anchor: false` leaves the checkpoint unanchored (the receipts are then only "signed").
 */
export async function anchoredNotebook(sources: string[], anchor = true): Promise<IAnchoredNotebook> {
  const config = parseChainConfig(JSON.parse(readFileSync(DEPLOYMENT_FILE, 'utf8')));
  const devProvider = new Wallet(devPrivateKey(DEV_PROVIDER_ACCOUNT)).address;
  const probe = await ChainSession.connect(config);
  const useDev = await new ProviderRegistryClient(probe).isActive(devProvider).finally(() => probe.close());
  const providerKey = devPrivateKey(useDev ? DEV_PROVIDER_ACCOUNT : SPARE_PROVIDER_ACCOUNT);
  const providerSession = await ChainSession.connect(config, devKeyWallet(providerKey));
  const clientSession = await ChainSession.connect(config, devKeyWallet(devPrivateKey(CLIENT_ACCOUNT)));
  const registry = new ProviderRegistryClient(providerSession);
  const provider = await providerSession.address();
  try {
    if (!useDev) {
      const record = await registry.getProvider(provider);
      const stake = await registry.minStake();
      if (!record.registered) {
        const offer = {
          endpoint: 'http://127.0.0.1:9777',
          pricePerHour: parseUnits('1', 18),
          capabilitiesHash: ZERO_HASH,
          capabilitiesURI: ''
        };
        await registry.register(offer, stake);
      } else if (record.stake < stake) {
        await registry.addStake(stake - record.stake);
      }
    }
    const pricePerHour = (await registry.getProvider(provider)).pricePerHour;
    const bundleHash = sha256(`evidence ui test ${Date.now()} ${Math.random()}`);
    const escrow = parseUnits('2', 18);
    const opened = await new RunRegistryClient(clientSession).openRun({
      provider,
      bundleHash,
      nonce: BigInt(Date.now()),
      samplingSecret: sha256('secret'),
      escrow,
      pricePerHour
    });
    const runId = opened.runId;
    const domain = { chainId: config.chainId, verifyingContract: config.contracts.runRegistry };
    const key = new SigningKey(providerKey);
    const receipts = [];
    let prev = ZERO_HASH;
    const now = Date.now();
    for (const [step, source] of sources.entries()) {
      const receipt: IStepReceipt = {
        runId,
        step,
        prev,
        codeHash: codeHash(source),
        outputHash: sha256(`salted output ${step}`),
        artifactsHash: ZERO_HASH,
        startedAt: now + step * 10,
        endedAt: now + step * 10 + 5
      };
      const digest = receiptDigest(receipt, domain);
      receipts.push({ runId, cellId: `ain-${step}`, signed: signReceipt(receipt, domain, key), digest });
      prev = digest;
    }
    const tree = new ReceiptTree(receipts.map(r => r.digest));
    const checkpoint = tree.checkpoint(0);
    let txHash = '';
    const checkpoints = [];
    if (anchor) {
      const tx = await new RunRegistryClient(providerSession).anchor(runId, checkpoint);
      txHash = tx.hash;
      checkpoints.push({ ...checkpoint, runId, txHash: tx.hash, blockNumber: tx.blockNumber });
    }
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
        language_info: { name: 'python' },
        ain: {
          version: 1,
          runs: [
            {
              chainId: config.chainId,
              runRegistry: config.contracts.runRegistry,
              runId,
              provider,
              endpoint: 'http://127.0.0.1:9777',
              bundleHash,
              notebookHash: sha256('notebook'),
              escrow: escrow.toString(),
              pricePerHour: pricePerHour.toString(),
              openedAt: new Date(now).toISOString(),
              openedBlock: opened.blockNumber,
              endedAt: new Date(now + 60_000).toISOString(),
              state: 'stopped'
            }
          ],
          receipts,
          checkpoints,
          verifications: []
        }
      },
      cells: sources.map((source, i) => ({
        cell_type: 'code',
        id: `ain-${i}`,
        metadata: {},
        source,
        outputs: [],
        execution_count: null
      }))
    };
    const anchorNow = async () => {
      const session = await ChainSession.connect(config, devKeyWallet(providerKey));
      try {
        return (await new RunRegistryClient(session).anchor(runId, checkpoint)).hash;
      } finally {
        session.close();
      }
    };
    return { notebook, runId, txHash, provider, root: tree.root, anchorNow };
  } finally {
    // The stand-in provider serves nothing: unbonded, it drops out of every listing, so nothing probes it.
    const spare = await ChainSession.connect(config, devKeyWallet(devPrivateKey(SPARE_PROVIDER_ACCOUNT)));
    const spareRegistry = new ProviderRegistryClient(spare);
    const stake = (await spareRegistry.getProvider(await spare.address())).stake;
    if (stake > 0n) {
      await spareRegistry.requestUnbond(stake);
    }
    spare.close();
    providerSession.close();
    clientSession.close();
  }
}
