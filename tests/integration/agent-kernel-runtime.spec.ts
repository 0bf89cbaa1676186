/**
 * A run's kernel half with real processes: a uv-built environment, a jupyter server started by the local backend,
 * ipykernel, driven from Node with @jupyterlab/services through the agent's proxy. Receipts, replay after a
 * dropped websocket, a kernel killed mid-cell, and the JSON protocol spoken by a raw websocket client.
 */
import { KernelManager, Kernel } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';
import WebSocket from 'ws';
import { OutputCollector } from '../../src/core/kernel-outputs';
import { codeHash } from '../../src/core/notebook';
import { NbOutput, outputHash } from '../../src/core/outputs-normalize';
import { validateReceiptChain, verifyReceipt } from '../../src/core/receipt';
import type { IRunRuntimeHandle } from '../../src/agent/run-runtime';
import {
  executeCell,
  ILocalRuntime,
  outputOf,
  startLocalRuntime,
  TestRouter,
  ITestRun
} from './agent-kernel-fixture';

jest.setTimeout(180_000);

let local: ILocalRuntime;
let run: ITestRun;
let runtime: IRunRuntimeHandle;
let router: TestRouter;
let manager: KernelManager;

beforeAll(async () => {
  local = await startLocalRuntime();
  ({ run, runtime, router, manager } = local);
});

afterAll(async () => {
  expect(await local?.stop()).toEqual([]);
});

/** Executes `code`, collecting the outputs the client receives. */
async function execute(
  kernel: Kernel.IKernelConnection,
  code: string,
  metadata: JSONObject = {},
  onOutput?: (o: NbOutput) => void
): Promise<NbOutput[]> {
  return (await executeCell(kernel, code, metadata, onOutput)).outputs;
}

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise(r => setTimeout(r, 50));
  }
}

test('every executed cell gets a signed, chained receipt over the outputs the client received', async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const cells: [string, string[]][] = [
    ['1+1', []],
    ['print("hello")\nprint(40 + 2)', []],
    ['import sys; sys.stderr.write("to stderr\\n")', []],
    ['raise ValueError("boom 7")', []],
    ['from IPython.display import display, HTML\ndisplay(HTML("<b>bold</b>"))', []],
    ['import os\nos.makedirs("outputs", exist_ok=True)\nopen("outputs/a.txt", "w").write("A")', []],
    [
      'os.makedirs("data", exist_ok=True)\nopen("data/x.csv", "w").write("1,2\\n")',
      ['ain:artifacts=data/*.csv']
    ]
  ];
  const start = run.store.receipts(run.ctx.runId).length;
  const seen: NbOutput[][] = [];
  for (const [i, [code, tags]] of cells.entries()) {
    seen.push(await execute(kernel, code, { cellId: `cell-${i}`, tags }));
  }
  await until(() => run.store.receipts(run.ctx.runId).length === start + cells.length);
  await runtime.settled();
  const receipts = run.store.receipts(run.ctx.runId);
  validateReceiptChain(
    receipts.map(r => r.signed.receipt),
    run.ctx.runId,
    run.ctx.domain
  );
  receipts.slice(start).forEach((stored, i) => {
    const r = stored.signed.receipt;
    verifyReceipt(stored.signed, run.ctx.domain, run.address);
    expect(r.codeHash).toBe(codeHash(cells[i][0]));
    expect(r.outputHash).toBe(outputHash(seen[i], run.ctx.salt));
    expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt);
  });
  expect(seen[0]).toEqual([expect.objectContaining({ output_type: 'execute_result' })]);
  expect(seen[3]).toEqual([expect.objectContaining({ output_type: 'error', ename: 'ValueError' })]);
  expect(receipts[start + 5].artifacts).toEqual([
    expect.objectContaining({ path: 'outputs/a.txt', size: 1 })
  ]);
  expect(receipts[start + 6].artifacts).toEqual([expect.objectContaining({ path: 'data/x.csv', size: 4 })]);
  expect(receipts[start + 4].artifacts).toEqual([]);
  const events = run.events.filter(e => e.type === 'receipt').slice(start);
  expect(events.map(e => e.data?.cellId)).toEqual(cells.map((_, i) => `cell-${i}`));
  await kernel.shutdown();
});

test('output produced while the client websocket is down arrives after reconnect, each exactly once', async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const lines: string[] = [];
  let dropped = false;
  const code = 'import time\nfor i in range(40):\n    print(f"line {i}", flush=True)\n    time.sleep(0.05)';
  const done = execute(kernel, code, {}, o => {
    if (o.output_type === 'stream') {
      lines.push(...String(o.text).split('\n').filter(Boolean));
    }
    if (!dropped && lines.length >= 5) {
      // A network drop: the socket dies, and reconnecting fails for a while.
      dropped = true;
      router.refuseUpgrades = true;
      router.dropClients();
      setTimeout(() => (router.refuseUpgrades = false), 800);
    }
  });
  const outputs = await done;
  expect(dropped).toBe(true);
  expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i}`));
  await runtime.settled();
  const last = run.store.receipts(run.ctx.runId).slice(-1)[0];
  expect(last.signed.receipt.outputHash).toBe(outputHash(outputs, run.ctx.salt));
  await kernel.shutdown();
});

test("a help request's pager output (obj?) is in the receipt, as JupyterLab's notebook saves it", async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const before = run.store.receipts(run.ctx.runId).length;
  // JupyterLab's output area: iopub outputs, then the reply's pager payload as a display_data.
  const collector = new OutputCollector();
  const future = kernel.requestExecute({ code: 'len?' });
  future.onIOPub = msg => void collector.iopub(msg);
  const reply = await future.done;
  collector.executeReply(reply.content);
  const outputs = collector.outputs;
  expect(outputs).toEqual([
    expect.objectContaining({
      output_type: 'display_data',
      data: expect.objectContaining({ 'text/plain': expect.stringContaining('len(obj, /)') })
    })
  ]);
  await until(() => run.store.receipts(run.ctx.runId).length === before + 1);
  const stored = run.store.receipts(run.ctx.runId)[before];
  expect(stored.signed.receipt.outputHash).toBe(outputHash(outputs, run.ctx.salt));
  await kernel.shutdown();
});

test('a kernel killed mid-cell gives a receipt whose outputs end with KernelDied', async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const before = run.store.receipts(run.ctx.runId).length;
  const outputs: NbOutput[] = [];
  const future = kernel.requestExecute({
    code: 'import os, time\nprint("before", flush=True)\ntime.sleep(0.3)\nos.kill(os.getpid(), 9)'
  });
  future.onIOPub = msg => {
    const o = outputOf(msg);
    if (o) {
      outputs.push(o);
    }
  };
  await until(() => run.store.receipts(run.ctx.runId).length === before + 1, 30_000);
  const stored = run.store.receipts(run.ctx.runId)[before];
  expect(stored.outputs).toEqual([
    expect.objectContaining({ output_type: 'stream', text: 'before\n' }),
    expect.objectContaining({ output_type: 'error', ename: 'KernelDied' })
  ]);
  expect(outputs.map(o => o.output_type)).toEqual(['stream', 'error']);
  expect(stored.signed.receipt.outputHash).toBe(outputHash(outputs, run.ctx.salt));
  await kernel.shutdown().catch(() => undefined);
});

test('a client speaking the JSON protocol is translated from the v1 upstream', async () => {
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const ws = new WebSocket(`ws://127.0.0.1:${router.port}/jupyter/api/kernels/${kernel.id}/channels?token=x`);
  await new Promise(r => ws.once('open', r));
  expect(ws.protocol).toBe('');
  const msgId = 'raw-json-1';
  const got: any[] = [];
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    got.push(JSON.parse(String(data)));
  });
  ws.send(
    JSON.stringify({
      channel: 'shell',
      header: {
        msg_id: msgId,
        msg_type: 'execute_request',
        session: 's',
        username: 'u',
        version: '5.3',
        date: ''
      },
      parent_header: {},
      metadata: {},
      content: { code: '6*7', silent: false, store_history: true, user_expressions: {}, allow_stdin: false }
    })
  );
  await until(() =>
    got.some(m => m.parent_header?.msg_id === msgId && m.content?.execution_state === 'idle')
  );
  const result = got.find(m => m.parent_header?.msg_id === msgId && m.header.msg_type === 'execute_result');
  expect(result.content.data['text/plain']).toBe('42');
  ws.close();
  await kernel.shutdown();
});
