/**
 * Faults of the chain: an anchor transaction the chain drops after the agent broadcast it (a reorganisation
 * that discards it, a pool that evicts it), before it was mined. Real anvil with mining paused and
 * anvil_dropTransaction; the agent's real anchoring queue over a session with a short mining timeout (the agent
 * uses 120 s). Without the timeout the queue waited for that transaction forever and the run was never anchored
 * again.
 */
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { waitFor } from '../integration/agent-service-fixture';
import { IAnchorBed, startAnchorBed } from './fixture-anchor';
import { recordCase } from './record';

describe('faults: an anchor transaction dropped before it was mined', () => {
  let bed: IAnchorBed;
  let session: ChainSession;

  beforeAll(async () => {
    bed = await startAnchorBed('dropped-anchor');
    session = await ChainSession.connect(bed.chain.deployment, devKeyWallet(bed.chain.provider.key));
    session.txTimeoutMs = 3000;
  });

  afterAll(async () => {
    session?.close();
    await bed?.close();
  });

  it('is noticed when it is not mined in time, and the checkpoint is anchored anew, once', async () => {
    const { chain } = bed;
    const [runId] = await bed.openRuns(1, 3, 'dropped');
    const events: string[] = [];
    const queue = bed.queue([runId], {
      registry: new RunRegistryClient(session),
      onEvent: (_, type, message) => events.push(`${type}: ${message}`),
      retryBaseMs: 200
    });
    const rpc = chain.client.session.provider;
    let dropped = '';
    let anchored = false;
    try {
      await rpc.send('evm_setAutomine', [false]);
      queue.enqueue(runId, 'request');
      queue.start();
      const sent = await waitFor(
        async () => {
          const pool = (await rpc.send('txpool_content', [])) as {
            pending: Record<string, Record<string, { hash: string }>>;
          };
          return Object.values(pool.pending).flatMap(byNonce => Object.values(byNonce))[0]?.hash;
        },
        20_000,
        'the anchor in the pool'
      );
      dropped = sent!;
      await rpc.send('anvil_dropTransaction', [dropped]);
      expect(await rpc.send('eth_getTransactionByHash', [dropped])).toBeNull();
      await rpc.send('evm_setAutomine', [true]);
      await waitFor(() => queue.checkpoints(runId)[0].state === 'anchored', 30_000, 'anchored anew');
      anchored = true;
    } finally {
      await rpc.send('evm_setAutomine', [true]);
      await queue.stop();
      recordCase({
        id: 'faults.dropped-anchor',
        area: 'faults',
        case: 'An anchor transaction dropped from the pool after it was sent, before it was mined',
        tried: 1,
        survived: anchored ? 1 : 0,
        lost: 0,
        figure: anchored
          ? `noticed after the mining timeout (${session.txTimeoutMs! / 1000} s in the test, 120 s in the agent), anchored anew once`
          : 'never anchored again',
        note: 'anvil_dropTransaction with mining paused; a reorganisation that drops a mined anchor is faults.chain-reorg'
      });
    }
    // (The transaction sent anew may be byte for byte the dropped one: same nonce, fees and signature.)
    expect((await chain.client.runs.checkpoints(runId)).map(c => c.receiptCount)).toEqual([3]);
    expect(events.some(e => e.startsWith('anchor-failed') && e.includes('not mined within 3 s'))).toBe(true);
  });
});
