/**
 * The gateway backend against a real `jupyter kernelgateway` from the dev .venv: the same cells, the same
 * receipts, the gateway's token kept from the client, and the run's kernels shut down at stop.
 */
import { KernelManager } from '@jupyterlab/services';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { codeHash } from '../../src/core/notebook';
import { NbOutput, outputHash } from '../../src/core/outputs-normalize';
import { validateReceiptChain, verifyReceipt } from '../../src/core/receipt';
import { isAinError } from '../../src/core/errors';
import { GatewayKernelBackend } from '../../src/agent/backend-gateway';
import { NODELAY_PATCH, venvExecutable } from '../../src/agent/backend-local';
import { createRunRuntime, IRunRuntimeHandle } from '../../src/agent/run-runtime';
import {
  ITestRun,
  executeCell,
  leftoversAfter,
  testBuilder,
  testRun,
  TestRouter
} from './agent-kernel-fixture';

jest.setTimeout(180_000);

const token = randomBytes(16).toString('hex');
let gateway: ChildProcess;
let url: string;
let run: ITestRun;
let runtime: IRunRuntimeHandle;
let router: TestRouter;

async function freePort(): Promise<number> {
  return new Promise(resolve => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  run = testRun({ 'main.ipynb': '{}' });
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  const config = join(run.dir, 'kernel_gateway_config.py');
  writeFileSync(config, NODELAY_PATCH);
  // Kernel Gateway starts kernels in its own folder: start it in the run's folder (same host).
  gateway = spawn(
    venvExecutable('jupyter-kernelgateway'),
    [
      `--config=${config}`,
      '--KernelGatewayApp.ip=127.0.0.1',
      `--KernelGatewayApp.port=${port}`,
      '--JupyterWebsocketPersonality.list_kernels=True'
    ],
    { cwd: run.ctx.workDir, env: { ...process.env, KG_AUTH_TOKEN: token }, stdio: 'ignore', detached: true }
  );
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}api`, { headers: { Authorization: `token ${token}` } }).then(
      r => r.ok,
      () => false
    );
    if (ok) {
      break;
    }
    await new Promise(r => setTimeout(r, 100));
  }
  runtime = createRunRuntime(run.ctx, {
    backend: new GatewayKernelBackend({ url, token }),
    envBuilder: testBuilder(),
    store: run.store
  });
  await runtime.start();
  router = await new TestRouter(runtime).listen();
});

afterAll(async () => {
  await router?.close();
  await runtime?.stop();
  if (gateway?.pid) {
    process.kill(-gateway.pid, 'SIGTERM');
    await new Promise(r => gateway.once('exit', r));
  }
  expect(await leftoversAfter(run.dir)).toEqual([]);
  run?.cleanup();
});

test('a notebook runs through the gateway backend with the same signed, chained receipts', async () => {
  const manager = new KernelManager({ serverSettings: router.settings() });
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  const cells = ['1+1', 'print("hello", 6 * 7)', 'raise KeyError("k")', 'import os\nprint(os.getcwd())'];
  const seen: NbOutput[][] = [];
  for (const code of cells) {
    seen.push((await executeCell(kernel, code)).outputs);
  }
  await runtime.settled();
  const stored = run.store.receipts(run.ctx.runId);
  expect(stored).toHaveLength(cells.length);
  validateReceiptChain(
    stored.map(r => r.signed.receipt),
    run.ctx.runId,
    run.ctx.domain
  );
  stored.forEach((r, i) => {
    verifyReceipt(r.signed, run.ctx.domain, run.address);
    expect(r.signed.receipt.codeHash).toBe(codeHash(cells[i]));
    expect(r.signed.receipt.outputHash).toBe(outputHash(seen[i], run.ctx.salt));
  });
  expect(seen[1]).toEqual([expect.objectContaining({ text: 'hello 42\n' })]);
  expect(seen[3]).toEqual([expect.objectContaining({ text: `${run.ctx.workDir}\n` })]);
  manager.dispose();

  // Stopping the run shuts its kernels down on the gateway, which stays up.
  await runtime.stop();
  const res = await fetch(`${url}api/kernels`, { headers: { Authorization: `token ${token}` } });
  expect(await res.json()).toEqual([]);
});

test('an unreachable gateway or a wrong token is a clear error', async () => {
  const wrong = new GatewayKernelBackend({ url, token: 'wrong' });
  const env = { environmentHash: '0x' + '00'.repeat(32), prefix: '', python: '', cached: true };
  const e1 = await wrong
    .start({ runId: run.ctx.runId, workDir: run.ctx.workDir, environment: env })
    .catch(e => e);
  expect(isAinError(e1, 'AGENT_GATEWAY_UNREACHABLE')).toBe(true);
  expect(e1.message).toMatch(/auth token/);
  const down = new GatewayKernelBackend({ url: 'http://127.0.0.1:9/', timeoutMs: 2000 });
  const e2 = await down
    .start({ runId: run.ctx.runId, workDir: run.ctx.workDir, environment: env })
    .catch(e => e);
  expect(isAinError(e2, 'AGENT_GATEWAY_UNREACHABLE')).toBe(true);
});
