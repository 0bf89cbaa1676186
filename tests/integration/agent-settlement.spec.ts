/**
 * The agent gets paid without its client: a run that ended on the agent is closed on-chain by the agent (the
 * client never closes it) and settled once the chain's clock has passed the challenge window. Real anvil, the
 * agent in-process behind its HTTP API (kernel half stood in: only the receipts matter here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Hex32 } from '../../src/core/hash';
import type { ProviderAgent } from '../../src/agent/agent';
import { createLogger } from '../../src/agent/metrics';
import type { IRunContext } from '../../src/agent/tokens';
import { IChainFixture, TOKEN, startChainFixture, timeTravel } from './chain-fixture';
import {
  IInProcessAgent,
  announceReceipts,
  call,
  registerProvider,
  standInRuntime,
  startAgent,
  waitFor
} from './agent-service-fixture';

jest.setTimeout(90_000);

let chain: IChainFixture;
let dir: string;
let fixture: IInProcessAgent;
let agent: ProviderAgent;
let base: string;
let token: string;
const contexts = new Map<string, IRunContext>();

beforeAll(async () => {
  chain = await startChainFixture();
  dir = mkdtempSync(path.join(tmpdir(), 'ain-settlement-'));
  await registerProvider(chain.provider, 'http://127.0.0.1:1');
  fixture = await startAgent(chain, {
    dataDir: dir,
    pricePerHour: TOKEN(3600), // one token a second
    checkpoint: { everyReceipts: 2, everySeconds: 0 },
    settleEverySeconds: 1,
    createRuntime: standInRuntime(contexts),
    logger: createLogger({ level: 'error' })
  });
  ({ agent, base, token } = fixture);
});

afterAll(async () => {
  await fixture?.close();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const newRun = (tag: string) => fixture.newRun(tag);
/** `n` new receipts, stored and announced one by one as the kernel half does (which queues checkpoints). */
const receipts = (runId: Hex32, n: number) => announceReceipts(agent, contexts, runId, n);

const status = async (runId: Hex32) => (await chain.client.runs.getRun(runId)).status;
/** The run's events as its client's event stream delivers them (from the agent's store). */
const eventTypes = async (runId: Hex32): Promise<string[]> => agent.runs.events(runId).map(e => e.type);

test('a run its client stopped but never closed: the agent closes it, then settles it after the window', async () => {
  const runId = await newRun('settle');
  receipts(runId, 2);
  await timeTravel(chain.client.session, 100); // 100 s of work before the last checkpoint
  receipts(runId, 2);
  await waitFor(async () => (await chain.client.runs.getRun(runId)).receiptCount === 4, 20_000, 'anchored');
  expect((await call(base, 'POST', `/runs/${runId}/stop`, { token })).status).toBe(200);

  // Closed by the agent (the client sent no transaction), and not settled inside the challenge window.
  await waitFor(async () => (await status(runId)) === 'closed', 20_000, 'closed by the agent');
  await new Promise(r => setTimeout(r, 2500)); // two more looks of the worker
  expect(await status(runId)).toBe('closed');

  const before = await chain.provider.token.balanceOf(chain.provider.address);
  const window = await chain.client.runs.challengeWindow();
  await timeTravel(chain.client.session, window + 1);
  await waitFor(async () => (await status(runId)) === 'settled', 20_000, 'settled by the agent');
  const onChain = await chain.client.runs.getRun(runId);
  const paid = (await chain.provider.token.balanceOf(chain.provider.address)) - before;
  // Paid for openRun .. last anchor at one token a second: the 100 s travelled and a few seconds of blocks.
  const expected = (TOKEN(3600) * BigInt(onChain.lastAnchorAt - onChain.openedAt)) / 3600n;
  expect(paid).toBe(expected);
  expect(paid).toBeGreaterThanOrEqual(TOKEN(100));
  expect(agent.settlement.outcome(runId)).toEqual({
    status: 'settled',
    txHash: expect.stringMatching(/^0x/),
    payment: String(expected)
  });
  await waitFor(async () => (await eventTypes(runId)).includes('settled'), 10_000, 'the settled event');
  expect(await eventTypes(runId)).toEqual(expect.arrayContaining(['stopped', 'closed', 'settled']));
});

test('a run the client closed itself is settled too; one settled by someone else is only recorded', async () => {
  const runId = await newRun('client-closed');
  receipts(runId, 2);
  await waitFor(async () => (await chain.client.runs.getRun(runId)).receiptCount === 2, 20_000, 'anchored');
  await chain.client.runs.closeRun(runId);
  expect((await call(base, 'POST', `/runs/${runId}/stop`, { token })).status).toBe(200);
  await timeTravel(chain.client.session, (await chain.client.runs.challengeWindow()) + 1);
  await waitFor(async () => (await status(runId)) === 'settled', 20_000, 'settled by the agent');
  expect(agent.settlement.outcome(runId)?.status).toBe('settled');

  // Someone else settles first: the agent records it and sends nothing.
  const other = await newRun('settled-by-client');
  receipts(other, 2);
  await waitFor(async () => (await chain.client.runs.getRun(other)).receiptCount === 2, 20_000, 'anchored');
  await chain.client.runs.closeRun(other);
  await timeTravel(chain.client.session, (await chain.client.runs.challengeWindow()) + 1);
  await chain.client.runs.settle(other);
  expect((await call(base, 'POST', `/runs/${other}/stop`, { token })).status).toBe(200);
  await waitFor(async () => agent.settlement.outcome(other) !== undefined, 20_000, 'recorded');
  expect(agent.settlement.outcome(other)).toEqual({ status: 'settled', txHash: null, payment: null });
});
