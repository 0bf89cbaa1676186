/**
 * The agent gets paid without its client: a run that ended on the agent is closed on-chain by the agent (the
 * client never closes it) and settled once the chain's clock has passed the challenge window. Real anvil, the
 * agent in-process behind its HTTP API (kernel half stood in: only the receipts matter here).
 */
import type { Hex32 } from '../../src/core/hash';
import { TOKEN, timeTravel } from './chain-fixture';
import { IStandInAgent, call, startStandInAgent, waitFor } from './agent-service-fixture';

jest.setTimeout(90_000);

let bed: IStandInAgent;

beforeAll(async () => {
  bed = await startStandInAgent('settlement', {
    pricePerHour: TOKEN(3600), // one token a second
    checkpoint: { everyReceipts: 2, everySeconds: 0 },
    settleEverySeconds: 1
  });
});

afterAll(async () => {
  await bed?.close();
});

const status = async (runId: Hex32) => (await bed.chain.client.runs.getRun(runId)).status;
/** The run's events as its client's event stream delivers them (from the agent's store). */
const eventTypes = async (runId: Hex32): Promise<string[]> => bed.agent.runs.events(runId).map(e => e.type);

test('a run its client stopped but never closed: the agent closes it, then settles it after the window', async () => {
  const runId = await bed.newRun('settle');
  bed.receipts(runId, 2);
  await timeTravel(bed.chain.client.session, 100); // 100 s of work before the last checkpoint
  bed.receipts(runId, 2);
  await waitFor(
    async () => (await bed.chain.client.runs.getRun(runId)).receiptCount === 4,
    20_000,
    'anchored'
  );
  expect((await call(bed.base, 'POST', `/runs/${runId}/stop`, { token: bed.token })).status).toBe(200);

  // Closed by the agent (the client sent no transaction), and not settled inside the challenge window.
  await waitFor(async () => (await status(runId)) === 'closed', 20_000, 'closed by the agent');
  await new Promise(r => setTimeout(r, 2500)); // two more looks of the worker
  expect(await status(runId)).toBe('closed');

  const before = await bed.chain.provider.token.balanceOf(bed.chain.provider.address);
  const window = await bed.chain.client.runs.challengeWindow();
  await timeTravel(bed.chain.client.session, window + 1);
  await waitFor(async () => (await status(runId)) === 'settled', 20_000, 'settled by the agent');
  const onChain = await bed.chain.client.runs.getRun(runId);
  const paid = (await bed.chain.provider.token.balanceOf(bed.chain.provider.address)) - before;
  // Paid for openRun .. last anchor at one token a second: the 100 s travelled and a few seconds of blocks.
  const expected = (TOKEN(3600) * BigInt(onChain.lastAnchorAt - onChain.openedAt)) / 3600n;
  expect(paid).toBe(expected);
  expect(paid).toBeGreaterThanOrEqual(TOKEN(100));
  // The agent records the outcome once its transaction is mined: that can trail the chain by a moment.
  await waitFor(async () => bed.agent.settlement.outcome(runId) !== undefined, 10_000, 'recorded');
  expect(bed.agent.settlement.outcome(runId)).toEqual({
    status: 'settled',
    txHash: expect.stringMatching(/^0x/),
    payment: String(expected)
  });
  await waitFor(async () => (await eventTypes(runId)).includes('settled'), 10_000, 'the settled event');
  expect(await eventTypes(runId)).toEqual(expect.arrayContaining(['stopped', 'closed', 'settled']));
});

test('a run the client closed itself is settled too; one settled by someone else is only recorded', async () => {
  const runId = await bed.newRun('client-closed');
  bed.receipts(runId, 2);
  await waitFor(
    async () => (await bed.chain.client.runs.getRun(runId)).receiptCount === 2,
    20_000,
    'anchored'
  );
  await bed.chain.client.runs.closeRun(runId);
  expect((await call(bed.base, 'POST', `/runs/${runId}/stop`, { token: bed.token })).status).toBe(200);
  await timeTravel(bed.chain.client.session, (await bed.chain.client.runs.challengeWindow()) + 1);
  await waitFor(async () => (await status(runId)) === 'settled', 20_000, 'settled by the agent');
  // Recorded once the agent's settle transaction is mined (a moment after the chain shows it).
  await waitFor(async () => bed.agent.settlement.outcome(runId) !== undefined, 10_000, 'recorded');
  expect(bed.agent.settlement.outcome(runId)?.status).toBe('settled');

  // Someone else settles first: the agent records it and sends nothing.
  const other = await bed.newRun('settled-by-client');
  bed.receipts(other, 2);
  await waitFor(
    async () => (await bed.chain.client.runs.getRun(other)).receiptCount === 2,
    20_000,
    'anchored'
  );
  await bed.chain.client.runs.closeRun(other);
  await timeTravel(bed.chain.client.session, (await bed.chain.client.runs.challengeWindow()) + 1);
  await bed.chain.client.runs.settle(other);
  expect((await call(bed.base, 'POST', `/runs/${other}/stop`, { token: bed.token })).status).toBe(200);
  await waitFor(async () => bed.agent.settlement.outcome(other) !== undefined, 20_000, 'recorded');
  expect(bed.agent.settlement.outcome(other)).toEqual({ status: 'settled', txHash: null, payment: null });
});
