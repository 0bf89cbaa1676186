/**
 * The verification worker's re-check against a real chain: anvil with the contracts, a registered provider, a run
 * opened by a client, checkpoints anchored by the provider. Receipts are proven under the roots the RunRegistry's
 * events hold; a root the provider anchored that contradicts its own signed receipts is reported as such.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseUnits } from 'ethers';
import { ZERO_HASH, sha256 } from '../../src/core/hash.js';
import { ReceiptTree } from '../../src/core/merkle.js';
import { IDevChain, devPrivateKey, startDevChain } from '../../src/chain/dev-chain.js';
import { ProviderRegistryClient } from '../../src/chain/provider-registry.js';
import { RunRegistryClient } from '../../src/chain/run-registry.js';
import { ChainSession } from '../../src/chain/session.js';
import { devKeyWallet } from '../../src/chain/wallet.js';
import { recheck } from '../../src/lab/verify-api.js';
import { signedEvidence } from '../fixtures/lab-evidence.js';

describe('re-check of notebook evidence against the chain', () => {
  let dir: string;
  let chain: IDevChain;
  let provider: ChainSession;
  let client: ChainSession;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ain-lab-recheck-'));
    chain = await startDevChain({ dataDir: dir, port: 0, fundAccounts: 3 });
    provider = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(1)));
    client = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(2)));
    const registry = new ProviderRegistryClient(provider);
    await registry.register(
      {
        endpoint: 'http://127.0.0.1:1',
        pricePerHour: parseUnits('1', 18),
        capabilitiesHash: ZERO_HASH,
        capabilitiesURI: ''
      },
      await registry.minStake()
    );
  });

  afterAll(async () => {
    provider?.close();
    client?.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openRun(): Promise<string> {
    const opened = await new RunRegistryClient(client).openRun({
      provider: await provider.address(),
      bundleHash: sha256(`bundle ${Math.random()}`),
      nonce: BigInt(Date.now()),
      samplingSecret: sha256('secret'),
      escrow: parseUnits('1', 18),
      pricePerHour: parseUnits('1', 18)
    });
    return opened.runId;
  }

  function evidenceFor(runId: string, n: number) {
    const domain = {
      chainId: chain.deployment.chainId,
      verifyingContract: chain.deployment.contracts.runRegistry
    };
    return signedEvidence(
      Array.from({ length: n }, (_, i) => `y = ${i}`),
      { domain, runId, key: devPrivateKey(1) }
    );
  }

  const access = () => ({ rpcUrl: chain.rpcUrl, deploymentBlock: chain.deployment.deploymentBlock });

  it('proves receipts under the anchored root and says which steps no checkpoint covers yet', async () => {
    const runId = await openRun();
    const f = evidenceFor(runId, 3);
    const firstTwo = new ReceiptTree(f.evidence.receipts.slice(0, 2).map(r => r.digest));
    const tx = await new RunRegistryClient(provider).anchor(runId, firstTwo.checkpoint(0));

    const result = await recheck(f.evidence, access());
    expect(result.runs[0].status).toBe('open');
    expect(result.runs[0].checkpoints).toHaveLength(1);
    const [s0, s1, s2] = result.receipts;
    expect(s0.anchored).toMatchObject({
      checkpoint: 0,
      root: firstTwo.root,
      txHash: tx.hash,
      blockNumber: tx.blockNumber
    });
    expect(s0.anchored?.proof).toEqual(firstTwo.proof(0));
    expect(s1.anchored?.checkpoint).toBe(0);
    expect(s2.anchored).toBeUndefined();
    expect(s2.anchorNote).toMatch(/No anchored checkpoint covers step 2/);
    expect(result.receipts.every(c => c.signature === null && c.integrity === null && !c.contradicted)).toBe(
      true
    );
  });

  it('reports a root that contradicts the signed receipts', async () => {
    const runId = await openRun();
    const f = evidenceFor(runId, 2);
    // The provider anchors a root over a receipt it never gave the client.
    const other = evidenceFor(runId, 2);
    const forged = sha256('another output');
    const r1 = { ...other.evidence.receipts[1].signed.receipt, outputHash: forged };
    const digests = [f.evidence.receipts[0].digest, sha256(JSON.stringify(r1))];
    await new RunRegistryClient(provider).anchor(runId, new ReceiptTree(digests).checkpoint(0));

    const result = await recheck(f.evidence, access());
    expect(result.receipts.map(c => c.contradicted)).toEqual([true, true]);
    expect(result.receipts[0].anchorNote).toMatch(/contradicts the signed receipts/);
    expect(result.receipts.every(c => c.signature === null)).toBe(true);
  });

  it('says so when the run is not on this chain', async () => {
    const f = evidenceFor(sha256('never opened'), 1);
    const result = await recheck(f.evidence, access());
    expect(result.runs[0].status).toBe('none');
    expect(result.runs[0].chainNote).toMatch(/does not exist on chain/);
    expect(result.receipts[0].anchored).toBeUndefined();
  });
});
