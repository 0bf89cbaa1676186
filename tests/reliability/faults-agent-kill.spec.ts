/**
 * Fault: the provider agent is SIGKILLed mid-run — a cell executing on a real kernel, a checkpoint pending because
 * the RPC endpoint is down — and restarted on the same data folder. Promised: no receipt lost (the agent's receipts
 * before and after, and every receipt the client saw on the live event stream), the pending checkpoint lands on
 * the chain once, the kernel server and kernel the dead agent left running are reaped (they run in process groups
 * of their own), the client resumes its event stream with Last-Event-ID and starts a new kernel through
 * /runs/{id}/jupyter, and the run goes on with an intact receipt chain. The live stream delivers events in order
 * (a receipt before the checkpoint it causes).
 */
import type { Kernel } from '@jupyterlab/services';
import { validateReceiptChain } from '../../src/core/receipt';
import { call, readSse, waitFor, ISse } from '../integration/agent-service-fixture';
import { killProcess } from '../integration/cli-process-fixture';
import { executeCell, leftovers, leftoversAfter } from '../integration/agent-kernel-fixture';
import { IFaultBed, alive, openAgentRun, runKernelManager, startFaultBed } from './fixture-agent';
import { recordCase } from './record';

jest.setTimeout(150_000);

let bed: IFaultBed;

beforeAll(async () => {
  bed = await startFaultBed('fault-agent-kill');
});

afterAll(async () => {
  await bed?.close();
});

/** Runs `n` cells printing numbered lines; returns the lines the client received. */
async function runCells(kernel: Kernel.IKernelConnection, from: number, n: number): Promise<string[]> {
  const lines: string[] = [];
  for (let c = from; c < from + n; c++) {
    const { outputs, status } = await executeCell(kernel, `for i in range(3): print(f"cell ${c} line {i}")`);
    expect(status).toBe('ok');
    outputs.forEach(o =>
      lines.push(
        ...String((o as { text?: string }).text)
          .split('\n')
          .filter(Boolean)
      )
    );
  }
  return lines;
}

/** Follows a run's live event stream; `events` fills as they arrive (also after the stream breaks). */
function follow(
  url: string,
  token: string,
  lastEventId?: string
): { events: ISse[]; done: Promise<unknown> } {
  const out: { events: ISse[]; done: Promise<unknown> } = { events: [], done: Promise.resolve() };
  out.done = readSse(url, token, {
    ...(lastEventId ? { lastEventId } : {}),
    until: events => ((out.events = events), false),
    timeoutMs: 120_000
  }).catch(() => undefined);
  return out;
}

/** Events whose ids do not follow the one before (the live stream must deliver them in order, none missing). */
function outOfOrder(events: ISse[]): string[] {
  return events
    .filter((e, i) => i > 0 && Number(e.id) !== Number(events[i - 1].id) + 1)
    .map(e => `${e.id} ${e.event} after ${events[events.indexOf(e) - 1].id}`);
}

test('SIGKILL of the agent mid-cell with a checkpoint pending: nothing lost, orphans reaped, anchoring and the client resume', async () => {
  const flags = ['--checkpoint-receipts', '3', '--checkpoint-seconds', '0'];
  let agent = await bed.startAgent(flags);
  const { runId, token } = await openAgentRun(bed, agent.url, 'agent-kill');
  const live = follow(`${agent.url}/runs/${runId}/events`, token);

  let manager = runKernelManager(agent.url, runId, token);
  let kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  expect(await runCells(kernel, 0, 3)).toHaveLength(9);
  await waitFor(async () => (await bed.runs.getRun(runId)).receiptCount === 3, 30_000, 'checkpoint 3');

  // The RPC endpoint goes down; three more cells queue a checkpoint that cannot land.
  bed.rpc.cut();
  expect(await runCells(kernel, 3, 3)).toHaveLength(9);
  const checkpoints = async () =>
    (await call(agent.url, 'GET', `/runs/${runId}/checkpoints`, { token })).json.checkpoints;
  await waitFor(async () => (await checkpoints()).length === 2, 10_000, 'the second checkpoint queued');

  // A long cell is running when the agent is killed.
  const printed: string[] = [];
  const future = kernel.requestExecute({
    code: 'import time\nfor i in range(600):\n    print("tick", i, flush=True)\n    time.sleep(0.05)'
  });
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') {
      printed.push(String((msg.content as { text: string }).text));
    }
  };
  future.done.catch(() => undefined);
  await waitFor(() => printed.length >= 3, 20_000, 'the long cell to print');
  const before = (await call(agent.url, 'GET', `/runs/${runId}/receipts`, { token })).json.receipts;
  const agentPid = agent.child.pid!;
  const started = leftovers(bed.dataDir)
    .map(l => Number(l.trim().split(/\s+/)[0]))
    .filter(pid => pid !== agentPid);
  await killProcess(agent.child, 'SIGKILL');
  await live.done;
  kernel.dispose();
  manager.dispose();
  // Left behind: the jupyter server and the kernel run on (process groups of their own).
  const orphans = started.filter(alive);
  expect(orphans.length).toBeGreaterThanOrEqual(2);

  bed.rpc.restore();
  const restartedAt = Date.now();
  agent = await bed.startAgent(flags);
  // Reaped at start, before any request reaches the run.
  expect(orphans.filter(alive)).toEqual([]);

  // The pending checkpoint lands once; the receipts are those of before, identical.
  await waitFor(async () => (await bed.runs.getRun(runId)).receiptCount === 6, 30_000, 'checkpoint 6');
  const landedMs = Date.now() - restartedAt;
  expect((await bed.runs.checkpoints(runId)).map(c => c.receiptCount)).toEqual([3, 6]);
  const after = (await call(agent.url, 'GET', `/runs/${runId}/receipts`, { token })).json.receipts;
  expect(after).toEqual(before);
  expect(after).toHaveLength(6);

  // Every receipt the client saw live is the agent's, and the live stream came in order.
  const seen = live.events.filter(e => e.event === 'receipt').map(e => e.data.data.receipt);
  expect(seen).toEqual(before.map((r: { signed: unknown }) => r.signed));
  expect(outOfOrder(live.events)).toEqual([]);

  // The client resumes the stream from its last event, and starts a new kernel (the old one was reaped).
  const resumed = follow(`${agent.url}/runs/${runId}/events`, token, live.events[live.events.length - 1].id);
  manager = runKernelManager(agent.url, runId, token);
  kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  expect(await runCells(kernel, 6, 1)).toEqual(['cell 6 line 0', 'cell 6 line 1', 'cell 6 line 2']);
  const firstReceiptMs = Date.now() - restartedAt;
  expect(await runCells(kernel, 7, 2)).toHaveLength(6);
  await waitFor(async () => (await bed.runs.getRun(runId)).receiptCount === 9, 30_000, 'checkpoint 9');
  await waitFor(() => resumed.events.some(e => e.event === 'anchored' && e.data.data.receiptCount === 9));
  const receipts = (await call(agent.url, 'GET', `/runs/${runId}/receipts`, { token })).json.receipts;
  validateReceiptChain(
    receipts.map((r: { signed: { receipt: never } }) => r.signed.receipt),
    runId,
    bed.runs.domain
  );
  expect(receipts).toHaveLength(9);
  expect(Number(resumed.events[0].id)).toBe(Number(live.events[live.events.length - 1].id) + 1);
  expect(outOfOrder(resumed.events)).toEqual([]);
  expect(resumed.events.map(e => e.event)).toContain('kernel-starting');
  expect(resumed.events.filter(e => e.event === 'anchored').map(e => e.data.data.receiptCount)).toEqual([
    6, 9
  ]);

  await kernel.shutdown();
  expect((await call(agent.url, 'POST', `/runs/${runId}/stop`, { token })).json.state).toBe('stopped');
  kernel.dispose();
  manager.dispose();
  await killProcess(agent.child, 'SIGTERM');
  await resumed.done;
  const left = await leftoversAfter(bed.dataDir);
  expect(left).toEqual([]);

  recordCase({
    id: 'faults.agent-sigkill',
    area: 'faults',
    case: 'SIGKILL the agent mid-cell (real kernel) with a checkpoint pending (RPC down), restart it on the same data folder',
    tried: 1,
    survived: 1,
    lost: 0,
    figure:
      `${orphans.length} orphaned processes (the run's jupyter server and kernel) reaped at restart; 6 of 6 receipts kept, ` +
      `identical to what the client saw; pending checkpoint landed once ${(landedMs / 1000).toFixed(1)} s after ` +
      `restart; restart to first new receipt ${(firstReceiptMs / 1000).toFixed(1)} s (new kernel included)`,
    note:
      'The cell in flight when the agent died has no receipt (its kernel died with the agent; it never finished). ' +
      'The client resumes its event stream with Last-Event-ID (no gap, in order) and starts a new kernel: the old ' +
      "kernel's state is lost, as the kernel-starting event says."
  });
});
