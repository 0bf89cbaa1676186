/**
 * The verification worker's re-check against a real chain: anvil with the contracts, a registered provider, a run
 * opened by a client, checkpoints anchored by the provider. Receipts are proven under the roots the RunRegistry's
 * events hold; a root the provider anchored that contradicts its own signed receipts is reported as such.
 */
import { parseUnits } from 'ethers';
import { sha256 } from '../../src/core/hash.js';
import { ReceiptTree } from '../../src/core/merkle.js';
import { recheck } from '../../src/lab/verify-api.js';
import { signedEvidence } from '../fixtures/lab-evidence.js';
import { IChainFixture, startChainWithProvider } from './chain-fixture.js';

describe('re-check of notebook evidence against the chain', () => {
  let chain: IChainFixture;

  beforeAll(async () => {
    chain = await startChainWithProvider(parseUnits('1', 18));
  });

  afterAll(async () => {
    await chain?.stop();
  });

  async function openRun(): Promise<string> {
    const opened = await chain.client.runs.openRun({
      provider: chain.provider.address,
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
      { domain, runId, key: chain.provider.key }
    );
  }

  const access = () => ({ rpcUrl: chain.anvil.rpcUrl, deploymentBlock: chain.deployment.deploymentBlock });

  it('proves receipts under the anchored root and says which steps no checkpoint covers yet', async () => {
    const runId = await openRun();
    const f = evidenceFor(runId, 3);
    const firstTwo = new ReceiptTree(f.evidence.receipts.slice(0, 2).map(r => r.digest));
    const tx = await chain.provider.runs.anchor(runId, firstTwo.checkpoint(0));

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
    await chain.provider.runs.anchor(runId, new ReceiptTree(digests).checkpoint(0));

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
