/**
 * Fault of a run's kernel with real processes (uv environment, jupyter server, ipykernel), driven with
 * @jupyterlab/services through the agent's proxy as JupyterLab does: the kernel process SIGKILLed from outside
 * during a cell. That step's receipt says KernelDied and is over what the client received; the server restarts
 * the kernel, the client's connection goes on with it, the next cell gets a receipt and the chain stays intact.
 */
import { execFileSync } from 'node:child_process';
import { NbOutput, outputHash } from '../../src/core/outputs-normalize';
import { validateReceiptChain } from '../../src/core/receipt';
import { executeCell, ILocalRuntime, outputOf, startLocalRuntime } from '../integration/agent-kernel-fixture';
import { waitFor } from '../integration/agent-service-fixture';
import { recordCase } from './record';

jest.setTimeout(150_000);

let local: ILocalRuntime;

beforeAll(async () => {
  local = await startLocalRuntime();
});

afterAll(async () => {
  expect(await local?.stop()).toEqual([]);
});

function receipts() {
  return local.run.store.receipts(local.run.ctx.runId);
}

function chainIntact(): void {
  validateReceiptChain(
    receipts().map(r => r.signed.receipt),
    local.run.ctx.runId,
    local.run.ctx.domain
  );
}

/** Pids of the processes of kernel `id` (the kernel, and its sandbox wrapper if any). */
function kernelPids(id: string): number[] {
  const out = execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(l => l.includes(`kernel-${id}.json`))
    .map(l => Number(l.trim().split(/\s+/)[0]));
}

test('the kernel process SIGKILLed mid-cell: a KernelDied receipt, a restarted kernel, the run goes on', async () => {
  const kernel = await local.manager.startNew({ name: 'python3' });
  await kernel.info;
  expect((await executeCell(kernel, 'x = 41\nprint("ready")')).status).toBe('ok');
  await local.runtime.settled();
  const before = receipts().length;
  const outputs: NbOutput[] = [];
  const future = kernel.requestExecute({ code: 'import time\nprint("working", flush=True)\ntime.sleep(60)' });
  future.onIOPub = msg => {
    const o = outputOf(msg);
    if (o) {
      outputs.push(o);
    }
  };
  future.done.catch(() => undefined);
  await waitFor(() => outputs.length > 0, 20_000, 'the cell to print');
  const pids = kernelPids(kernel.id);
  expect(pids.length).toBeGreaterThan(0);
  const killedAt = Date.now();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // a sandbox wrapper already gone with its kernel
    }
  }

  await waitFor(() => receipts().length === before + 1, 30_000, 'the KernelDied receipt');
  const receiptMs = Date.now() - killedAt;
  const died = receipts()[before];
  expect(died.outputs).toEqual([
    expect.objectContaining({ output_type: 'stream', text: 'working\n' }),
    expect.objectContaining({ output_type: 'error', ename: 'KernelDied' })
  ]);
  // What the client received is what the receipt signs.
  await waitFor(() => outputs.length === 2, 10_000, 'the KernelDied output at the client');
  expect(died.signed.receipt.outputHash).toBe(outputHash(outputs, local.run.ctx.salt));

  // The server restarts the dead kernel under the same id; the client's connection goes on with it.
  const next = (await waitFor(
    async () => {
      const r = await executeCell(kernel, 'print("x" in dir(), 6 * 7)');
      return r.status === 'ok' ? r : undefined;
    },
    60_000,
    'a cell on the restarted kernel'
  ))!;
  const backMs = Date.now() - killedAt;
  expect(next.outputs).toEqual([expect.objectContaining({ text: 'False 42\n' })]);
  await waitFor(() => receipts().length >= before + 2, 10_000, 'the next receipt');
  chainIntact();
  expect(receipts()[receipts().length - 1].signed.receipt.outputHash).toBe(
    outputHash(next.outputs, local.run.ctx.salt)
  );
  await kernel.shutdown();
  recordCase({
    id: 'faults.kernel-sigkill',
    area: 'faults',
    case: 'SIGKILL the kernel process during a cell, then go on',
    tried: 1,
    survived: 1,
    lost: 0,
    figure:
      `KernelDied receipt ${(receiptMs / 1000).toFixed(1)} s after the kill; next cell answered on the ` +
      `restarted kernel ${(backMs / 1000).toFixed(1)} s after it; receipt chain intact`,
    note: "jupyter_server restarts the dead kernel under the same id; the kernel's state is lost (x is gone)."
  });
});
