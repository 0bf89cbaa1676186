/**
 * Load, anchoring (issue 7, item 4): checkpoints of many runs due at once are sent side by side, so they land in
 * one block instead of one block each. Found by load.spec.ts: with 20 runs under load, a one-at-a-time worker
 * left checkpoints 15 s (p50) behind their last receipt. Real anvil with mining paused (no timing involved): the
 * transactions must all be in the pool before one block is mined.
 */
import { waitFor } from '../integration/agent-service-fixture';
import { IAnchorBed, startAnchorBed } from './fixture-anchor';
import { recordCase } from './record';

const RUNS = 6;

describe('load: anchoring queue with many runs', () => {
  let bed: IAnchorBed;

  beforeAll(async () => {
    bed = await startAnchorBed('load-anchor');
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('sends the due checkpoints of different runs together, each run in order', async () => {
    const { chain } = bed;
    const runIds = await bed.openRuns(RUNS, 3, 'anchor');
    const queue = bed.queue(runIds);
    // Two checkpoints per run (3 and 5 receipts) queued while mining is paused.
    const rpc = chain.provider.session.provider;
    await rpc.send('evm_setAutomine', [false]);
    for (const runId of runIds) {
      queue.enqueue(runId, 'request');
      bed.addReceipts(runId, 2);
      queue.enqueue(runId, 'request');
    }
    queue.start();
    const pending = async () => Number(BigInt((await rpc.send('txpool_status', [])).pending));
    let inPool = 0;
    try {
      // Every run's first checkpoint is in the pool at once (a one-at-a-time worker gets no further than one).
      inPool = await waitFor(
        async () => {
          const n = await pending();
          return n >= RUNS ? n : 0;
        },
        20_000,
        'all runs sent'
      );
    } finally {
      recordCase({
        id: 'load.anchoring-together',
        area: 'load',
        case: `Checkpoints of ${RUNS} runs due at once, mining paused: sent side by side, then one block mined`,
        tried: RUNS,
        survived: Math.min(inPool, RUNS),
        lost: 0,
        figure: `${inPool} of ${RUNS} anchor transactions in the pool before the first block`,
        note: 'a run keeps its own order: its second checkpoint waits for its first'
      });
    }
    expect(inPool).toBe(RUNS);
    await rpc.send('evm_mine', []);
    const first = await waitFor(
      () => {
        const rows = runIds.map(id => queue.checkpoints(id)[0]);
        return rows.every(c => c.state === 'anchored') ? rows : null;
      },
      20_000,
      'the first checkpoints'
    );
    expect(new Set(first!.map(c => c.blockNumber)).size).toBe(1);
    // Then the second checkpoints, again together; the chain holds both of every run, in order.
    await waitFor(async () => (await pending()) >= RUNS, 20_000, 'second checkpoints sent');
    await rpc.send('evm_mine', []);
    await rpc.send('evm_setAutomine', [true]);
    await waitFor(
      () => runIds.every(id => queue.checkpoints(id).every(c => c.state === 'anchored')),
      20_000,
      'the second checkpoints'
    );
    await queue.stop();
    for (const runId of runIds) {
      expect((await chain.client.runs.checkpoints(runId)).map(c => c.receiptCount)).toEqual([3, 5]);
    }
  });
});
