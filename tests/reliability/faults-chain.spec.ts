/**
 * Faults of the chain as the agent sees it, with a real anvil and the agent's real anchoring queue (in-process,
 * behind its HTTP API): receipts are appended through the kernel half's store API, as in the agent service specs.
 * - The RPC endpoint down for a while (a TCP relay in front of anvil, cut): checkpoints queue, the run's checkpoint
 *   view says pending, and they land after recovery, each exactly once, in order.
 * - A chain reorganisation (evm_snapshot before an anchor, evm_revert after it landed): the agent notices that the
 *   chain holds fewer receipts than it recorded as anchored and anchors those checkpoints again; the on-chain
 *   history ends up complete.
 */
import type { Hex32 } from '../../src/core/hash';
import { ReceiptTree } from '../../src/core/merkle';
import type { ProviderAgent } from '../../src/agent/agent';
import { IChainFixture, TOKEN } from '../integration/chain-fixture';
import {
  IStandInAgent,
  Relay,
  call,
  readSse,
  startStandInAgent,
  waitFor
} from '../integration/agent-service-fixture';
import { recordCase } from './record';

jest.setTimeout(90_000);

let bed: IStandInAgent;
let chain: IChainFixture;
let rpc: Relay;
let agent: ProviderAgent;
let base: string;
let token: string;

beforeAll(async () => {
  bed = await startStandInAgent('fault-chain', {
    relayed: true,
    pricePerHour: TOKEN(3600),
    checkpoint: { everyReceipts: 3, everySeconds: 0 },
    // The agent's default backoff (0.5 s doubling, at most 30 s); reconciliation every second for the test.
    anchorRetry: { reconcileSeconds: 1 }
  });
  ({ chain, agent, base, token } = bed);
  rpc = bed.rpc!;
});

afterAll(async () => {
  await bed?.close();
});

const newRun = (tag: string) => bed.newRun(tag);
const receipts = (runId: Hex32, n: number) => bed.receipts(runId, n);

async function checkpointView(runId: Hex32): Promise<{ receiptCount: number; state: string }[]> {
  return (await call(base, 'GET', `/runs/${runId}/checkpoints`, { token })).json.checkpoints;
}

/** The on-chain checkpoints of the run, each checked against the tree over the agent's receipts. */
async function onChainCounts(runId: Hex32): Promise<number[]> {
  const digests = agent.store.receipts(runId).map(r => r.digest);
  const checkpoints = await chain.client.runs.checkpoints(runId);
  for (const c of checkpoints) {
    expect(c.root).toBe(new ReceiptTree(digests.slice(0, c.receiptCount)).root);
  }
  return checkpoints.map(c => c.receiptCount);
}

/** Waits until the chain holds `n` receipts of the run and the agent has recorded that checkpoint as anchored. */
async function landed(runId: Hex32, n: number): Promise<void> {
  await waitFor(
    async () => (await chain.client.runs.getRun(runId)).receiptCount === n,
    20_000,
    `${n} on-chain`
  );
  await waitFor(
    async () => (await checkpointView(runId)).some(c => c.receiptCount === n && c.state === 'anchored'),
    10_000,
    `checkpoint ${n} recorded`
  );
}

async function anvil(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${chain.anvil.port}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  });
  return ((await res.json()) as { result: unknown }).result;
}

test('the RPC endpoint down for 10 s: checkpoints queue as pending and land once each after recovery', async () => {
  const runId = await newRun('rpc-down');
  receipts(runId, 3);
  await landed(runId, 3);

  rpc.cut();
  const cutAt = Date.now();
  for (let i = 0; i < 3; i++) {
    receipts(runId, 3);
    await new Promise(r => setTimeout(r, 1000));
  }
  const during = await checkpointView(runId);
  expect(during.map(c => [c.receiptCount, c.state])).toEqual([
    [3, 'anchored'],
    [6, 'pending'],
    [9, 'pending'],
    [12, 'pending']
  ]);
  await new Promise(r => setTimeout(r, Math.max(0, 10_000 - (Date.now() - cutAt))));
  const attempts = (await checkpointView(runId)).find(c => c.receiptCount === 6) as unknown as {
    attempts: number;
  };
  rpc.restore();
  const restoredAt = Date.now();
  await waitFor(async () => (await chain.client.runs.getRun(runId)).receiptCount === 12, 60_000, 'recovery');
  const landedS = (Date.now() - restoredAt) / 1000;

  expect(await onChainCounts(runId)).toEqual([3, 6, 9, 12]);
  // The agent records each landing once its transaction is mined: that can trail the chain by a moment.
  await waitFor(
    async () => (await checkpointView(runId)).every(c => c.state === 'anchored'),
    10_000,
    'records'
  );
  const events = await readSse(`${base}/runs/${runId}/events?follow=false`, token);
  expect(events.filter(e => e.event === 'anchored').map(e => e.data.data.receiptCount)).toEqual([
    3, 6, 9, 12
  ]);
  expect(events.some(e => e.event === 'anchor-failed' && e.data.data?.retrying)).toBe(true);
  recordCase({
    id: 'faults.rpc-down',
    area: 'faults',
    case: 'The RPC endpoint down for 10 s (a cut TCP relay in front of anvil) while receipts come in',
    tried: 3,
    survived: 3,
    lost: 0,
    figure:
      `RPC down 10 s: 3 checkpoints queued (pending in GET /runs/{id}/checkpoints, ${attempts.attempts} tries of ` +
      `the first), all landed ${landedS.toFixed(1)} s after recovery, each once, in order`,
    note:
      'The agent retries with its default backoff (0.5 s doubling, at most 30 s), so landing waits for the next ' +
      'try. JupyterLab: the sidebar counts receipts as signed until a re-check finds them anchored, and an ' +
      'anchor-failed event raises a warning; no explicit "anchor pending" label.'
  });
});

test('a chain reorganisation drops anchors: the agent anchors them again and the on-chain history is complete', async () => {
  const runId = await newRun('reorg');
  let reorged = 0;

  // 1. The reverted anchor is the run's latest: periodic reconciliation finds it.
  const snapshot1 = await anvil('evm_snapshot');
  receipts(runId, 3);
  await landed(runId, 3);
  const firstTx = (await checkpointView(runId))[0] as unknown as { txHash: string };
  expect(await anvil('evm_revert', [snapshot1])).toBe(true);
  expect((await chain.client.runs.getRun(runId)).receiptCount).toBe(0);
  const revertedAt = Date.now();
  await waitFor(
    async () => (await chain.client.runs.getRun(runId)).receiptCount === 3,
    20_000,
    're-anchor 3'
  );
  const reanchorS = (Date.now() - revertedAt) / 1000;
  reorged++;
  await waitFor(async () => (await checkpointView(runId))[0].state === 'anchored', 10_000, 'the record');
  const again = (await checkpointView(runId))[0] as unknown as { txHash: string; state: string };
  // The same transaction again (same nonce and fees, deterministic signature), now in the surviving chain.
  expect(again.txHash).toBe(firstTx.txHash);

  // 2. A new checkpoint is queued right after the revert: the dropped one is anchored again first.
  const snapshot2 = await anvil('evm_snapshot');
  receipts(runId, 3);
  await landed(runId, 6);
  expect(await anvil('evm_revert', [snapshot2])).toBe(true);
  receipts(runId, 3);
  await landed(runId, 9);
  reorged++;

  expect(await onChainCounts(runId)).toEqual([3, 6, 9]);
  const events = await readSse(`${base}/runs/${runId}/events?follow=false`, token);
  const requeued = events.filter(e => e.event === 'anchor-queued' && e.data.data.reason === 'reorg');
  expect(requeued.map(e => e.data.data.receiptCount)).toEqual([3, 6]);
  recordCase({
    id: 'faults.chain-reorg',
    area: 'faults',
    case: 'A chain reorganisation on anvil (evm_snapshot before an anchor, evm_revert after it landed), twice',
    tried: reorged,
    survived: reorged,
    lost: 0,
    figure:
      `${reorged} dropped anchors noticed and anchored again (the first ${reanchorS.toFixed(1)} s after the ` +
      'revert, reconciling every 1 s); on-chain history complete: checkpoints 3, 6, 9',
    note:
      'The agent compares the on-chain receipt count with what it recorded as anchored, periodically ' +
      '(default every 30 s, runs anchored in the last day) and before each new anchor.'
  });
});
