/**
 * Each deliberate fault of a cheating provider produces exactly the misbehaviour it names, against a real kernel:
 * tamper-outputs (altered outputs, consistent receipts: only a reproduction can tell), skip-execution (nothing
 * runs, receipts are signed anyway), equivocate (two signed receipts for every step).
 */
import { KernelManager } from '@jupyterlab/services';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NbOutput, outputHash } from '../../src/core/outputs-normalize';
import { ISignedReceipt, validateReceiptChain, verifyReceipt } from '../../src/core/receipt';
import { LocalKernelBackend } from '../../src/agent/backend-local';
import { createRunRuntime, IRunRuntimeHandle } from '../../src/agent/run-runtime';
import type { FaultMode } from '../../src/agent/tokens';
import {
  ITestRun,
  executeCell,
  leftoversAfter,
  testBuilder,
  testRun,
  TestRouter
} from './agent-kernel-fixture';

jest.setTimeout(180_000);

const CELLS = ['print(1 + 1)', 'print("no digits here")', 'open("ran.txt", "w").write("x")\nprint("wrote")'];
/** What an honest run of CELLS shows: what a reproduction would hash. */
const HONEST: NbOutput[][] = [
  [{ output_type: 'stream', name: 'stdout', text: '2\n' }],
  [{ output_type: 'stream', name: 'stdout', text: 'no digits here\n' }],
  [
    { output_type: 'execute_result', data: { 'text/plain': '1' }, metadata: {}, execution_count: 3 },
    { output_type: 'stream', name: 'stdout', text: 'wrote\n' }
  ]
];

interface IFaultRun {
  run: ITestRun;
  seen: NbOutput[][];
  replies: string[];
}

const started: { run: ITestRun; runtime: IRunRuntimeHandle; router: TestRouter; manager: KernelManager }[] =
  [];

afterAll(async () => {
  for (const s of started) {
    s.manager.dispose();
    await s.router.close();
    await s.runtime.stop();
    expect(await leftoversAfter(s.run.dir)).toEqual([]);
    s.run.cleanup();
  }
});

/** Runs CELLS on a fresh run with `fault`, returning what the client saw. */
async function runWithFault(fault: FaultMode): Promise<IFaultRun> {
  const run = testRun({ 'main.ipynb': '{}' }, fault);
  const runtime = createRunRuntime(run.ctx, {
    backend: new LocalKernelBackend(),
    envBuilder: testBuilder(),
    store: run.store
  });
  await runtime.start();
  const router = await new TestRouter(runtime).listen();
  const manager = new KernelManager({ serverSettings: router.settings() });
  started.push({ run, runtime, router, manager });
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const seen: NbOutput[][] = [];
  const replies: string[] = [];
  for (const code of CELLS) {
    const { outputs, status } = await executeCell(kernel, code);
    replies.push(status);
    seen.push(outputs);
  }
  await runtime.settled();
  await kernel.shutdown();
  return { run, seen, replies };
}

function hashes(outputs: NbOutput[][], salt: string): string[] {
  return outputs.map(o => outputHash(o, salt));
}

test('tamper-outputs: the client gets altered outputs that match the receipts; a reproduction flags exactly those cells', async () => {
  const { run, seen } = await runWithFault('tamper-outputs');
  expect(seen[0]).toEqual([expect.objectContaining({ text: '3\n' })]);
  expect(seen[1]).toEqual([expect.objectContaining({ text: 'no digits here\n' })]);
  const receipts = run.store.receipts(run.ctx.runId).map(r => r.signed.receipt);
  validateReceiptChain(receipts, run.ctx.runId, run.ctx.domain);
  // The client's own check passes: receipts agree with what it received.
  expect(receipts.map(r => r.outputHash)).toEqual(hashes(seen, run.ctx.salt));
  // An honest re-execution disagrees exactly where digits were changed.
  const honest = hashes(HONEST, run.ctx.salt);
  expect(receipts.map((r, i) => r.outputHash === honest[i])).toEqual([false, true, false]);
  expect(existsSync(join(run.ctx.workDir, 'ran.txt'))).toBe(true);
});

test('skip-execution: nothing runs, the client gets ok replies without outputs, receipts are signed for them', async () => {
  const { run, seen, replies } = await runWithFault('skip-execution');
  expect(replies).toEqual(['ok', 'ok', 'ok']);
  expect(seen).toEqual([[], [], []]);
  expect(existsSync(join(run.ctx.workDir, 'ran.txt'))).toBe(false);
  const stored = run.store.receipts(run.ctx.runId);
  expect(stored).toHaveLength(3);
  for (const r of stored) {
    verifyReceipt(r.signed, run.ctx.domain, run.address);
    expect(r.signed.receipt.outputHash).toBe(outputHash([], run.ctx.salt));
  }
  const honest = hashes(HONEST, run.ctx.salt);
  expect(stored.every((r, i) => r.signed.receipt.outputHash !== honest[i])).toBe(true);
});

test('equivocate: every step has a second, conflicting receipt signed by the provider, published as an event', async () => {
  const { run, seen } = await runWithFault('equivocate');
  const events = run.events.filter(e => e.type === 'receipt');
  expect(events).toHaveLength(6);
  const stored = run.store.receipts(run.ctx.runId);
  expect(stored.map(r => r.signed.receipt.outputHash)).toEqual(hashes(seen, run.ctx.salt));
  for (const [step, r] of stored.entries()) {
    const first = events.find(e => e.data?.step === step && !e.data?.equivocation)!.data!
      .receipt as ISignedReceipt;
    const second = events.find(e => e.data?.step === step && e.data?.equivocation)!.data!
      .receipt as ISignedReceipt;
    expect(first).toEqual(r.signed);
    verifyReceipt(second, run.ctx.domain, run.address);
    expect(second.receipt.step).toBe(step);
    expect(second.receipt.prev).toBe(first.receipt.prev);
    expect(second.receipt.outputHash).not.toBe(first.receipt.outputHash);
  }
});
