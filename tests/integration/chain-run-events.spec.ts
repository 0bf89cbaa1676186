/**
 * Where the reads of one run's events start, on a real anvil: at the run's recorded opening block (metadata.ain
 * openedBlock) when the chain confirms it (its RunOpened event is in that block), else at the deployment block. An
 * edited opening block (later, earlier, another run's, past the head) must not hide a checkpoint or the first
 * sampling-secret reveal. The eth_getLogs requests are seen through a spy on the JSON-RPC provider's send.
 */
import { JsonRpcApiProvider, toQuantity } from 'ethers';
import { recheckEvidence } from '../../src/chain/evidence-recheck';
import { runEventsFrom } from '../../src/chain/run-registry';
import { readCheckpointSampling } from '../../src/chain/verify-chain';
import type { Hex32 } from '../../src/core/hash';
import { ReceiptTree } from '../../src/core/merkle';
import { signedEvidence } from '../fixtures/lab-evidence';
import { IChainFixture, random32, startChainWithProvider, TOKEN } from './chain-fixture';

jest.setTimeout(120_000);

describe("reads of a run's events", () => {
  let f: IChainFixture;
  let runId: Hex32;
  let openedBlock: number;
  let otherOpenedBlock: number;
  let firstReveal: { blockNumber: number; hash: string };
  let secret: Hex32;
  let evidence: ReturnType<typeof signedEvidence>['evidence'];
  let send: jest.SpyInstance;

  /** The [fromBlock, toBlock] of every eth_getLogs request `action` makes. */
  async function getLogsRanges(action: () => Promise<unknown>): Promise<[string, string | undefined][]> {
    send.mockClear();
    await action();
    return send.mock.calls
      .filter(([method]) => method === 'eth_getLogs')
      .map(([, params]) => [params[0].fromBlock, params[0].toBlock]);
  }

  beforeAll(async () => {
    f = await startChainWithProvider(TOKEN(36));
    // Blocks between the deployment and the run, so that the two starts differ.
    await f.deployer.session.provider.send('anvil_mine', ['0x20']);
    secret = random32();
    const open = (nonce: bigint) =>
      f.client.runs.openRun({
        provider: f.provider.address,
        bundleHash: '0x' + 'ab'.repeat(32),
        nonce,
        samplingSecret: secret,
        escrow: TOKEN(100),
        pricePerHour: TOKEN(36)
      });
    const opened = await open(1n);
    runId = opened.runId;
    openedBlock = opened.blockNumber;
    const f3 = signedEvidence(['a = 1', 'b = 2', 'c = 3'], {
      domain: f.client.runs.domain,
      runId,
      key: f.provider.key
    });
    evidence = f3.evidence;
    const digests = evidence.receipts.map(r => r.digest);
    await f.provider.runs.anchor(runId, new ReceiptTree(digests.slice(0, 2)).checkpoint(0));
    otherOpenedBlock = (await open(2n)).blockNumber;
    await f.provider.runs.anchor(runId, new ReceiptTree(digests).checkpoint(1));
    firstReveal = await f.client.runs.revealSamplingSecret(runId, secret);
    await f.client.runs.revealSamplingSecret(runId, secret);
    send = jest.spyOn(JsonRpcApiProvider.prototype, 'send');
  });

  afterAll(async () => {
    send?.mockRestore();
    await f?.stop();
  });

  it('start at the recorded opening block when the chain confirms it', async () => {
    const deployed = f.deployment.deploymentBlock;
    expect(openedBlock).toBeGreaterThan(deployed + 0x20);
    expect(await runEventsFrom(f.verifier.runs, runId, openedBlock)).toBe(openedBlock);
    expect(await runEventsFrom(f.verifier.runs, runId, undefined)).toBe(deployed);

    const at = toQuantity(openedBlock);
    let sampling: Awaited<ReturnType<typeof readCheckpointSampling>> | undefined;
    const ranges = await getLogsRanges(async () => {
      sampling = await readCheckpointSampling(f.verifier.runs, runId, 2, openedBlock);
    });
    // One look at the opening block alone (RunOpened), then the checkpoints and the reveals from there.
    expect(ranges).toEqual([
      [at, at],
      [at, 'latest'],
      [at, 'latest']
    ]);
    expect(sampling?.anchored.map(c => c.receiptCount)).toEqual([2, 3]);
    expect(sampling?.secret).toBe(secret);
    const block = await f.verifier.session.provider.getBlock(firstReveal.blockNumber);
    expect(sampling?.blockHash).toBe(block?.hash);

    const recorded = { ...evidence, runs: [{ ...evidence.runs[0], openedBlock }] };
    const access = { rpcUrl: f.anvil.rpcUrl, deploymentBlock: deployed };
    let checked: Awaited<ReturnType<typeof recheckEvidence>> | undefined;
    const recheckRanges = await getLogsRanges(async () => {
      checked = await recheckEvidence(recorded, access);
    });
    expect(recheckRanges).toEqual([
      [at, at],
      [at, 'latest']
    ]);
    expect(checked?.runs[0].checkpoints.map(c => c.receiptCount)).toEqual([2, 3]);
    expect(checked?.receipts.map(c => c.anchored?.checkpoint)).toEqual([1, 1, 1]);
  });

  it('fall back to the deployment block when the chain does not confirm it, and still find every event', async () => {
    const deployed = f.deployment.deploymentBlock;
    const edited = {
      later: firstReveal.blockNumber,
      earlier: openedBlock - 1,
      "another run's": otherOpenedBlock,
      'past the head': (await f.verifier.session.provider.getBlockNumber()) + 1000
    };
    for (const [what, block] of Object.entries(edited)) {
      expect([what, await runEventsFrom(f.verifier.runs, runId, block)]).toEqual([what, deployed]);

      let sampling: Awaited<ReturnType<typeof readCheckpointSampling>> | undefined;
      const ranges = await getLogsRanges(async () => {
        sampling = await readCheckpointSampling(f.verifier.runs, runId, 2, block);
      });
      expect([what, ranges.slice(1)]).toEqual([
        what,
        [
          [toQuantity(deployed), 'latest'],
          [toQuantity(deployed), 'latest']
        ]
      ]);
      // Both checkpoints, and the first reveal (the sample's seed), not the second.
      expect(sampling?.anchored.map(c => c.receiptCount)).toEqual([2, 3]);
      const block0 = await f.verifier.session.provider.getBlock(firstReveal.blockNumber);
      expect(sampling?.blockHash).toBe(block0?.hash);

      const checked = await recheckEvidence(
        { ...evidence, runs: [{ ...evidence.runs[0], openedBlock: block }] },
        { rpcUrl: f.anvil.rpcUrl, deploymentBlock: deployed }
      );
      expect([what, checked.runs[0].checkpoints.map(c => c.receiptCount)]).toEqual([what, [2, 3]]);
      expect(checked.receipts.map(c => c.anchored?.checkpoint)).toEqual([1, 1, 1]);
    }
  });
});
