/**
 * Shared set-up of the agent kernel tests: a run context with a fresh provider key and salt, a small HTTP server
 * standing in for the service's router (it mounts a run runtime at /jupyter/ and can drop or refuse client
 * websockets), and @jupyterlab/services settings that reach the kernel through it.
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKey, Wallet, hexlify, randomBytes } from 'ethers';
import { Kernel, KernelManager, ServerConnection, KernelMessage } from '@jupyterlab/services';
import type { JSONObject } from '@lumino/coreutils';
import type { NbOutput } from '../../src/core/outputs-normalize';
import { openDatabase } from '../../src/agent/database';
import { ReceiptStore } from '../../src/agent/store-receipts';
import { UvEnvironmentBuilder } from '../../src/agent/env-builder-uv';
import { ILocalBackendOptions, LocalKernelBackend } from '../../src/agent/backend-local';
import { createRunRuntime, IRunRuntimeHandle } from '../../src/agent/run-runtime';
import type { FaultMode, IRunContext, IRunEvent, IRunRuntime } from '../../src/agent/tokens';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';

/** One folder for built environments and uv's cache, kept across test runs so only the first one downloads. */
export const ENV_CACHE = join(tmpdir(), 'ain-agent-test-envs');

export function testBuilder(): UvEnvironmentBuilder {
  return new UvEnvironmentBuilder({
    cacheDir: ENV_CACHE,
    uv: join(__dirname, '..', '..', '.venv', 'bin', 'uv')
  });
}

export interface ITestRun {
  ctx: IRunContext;
  events: IRunEvent[];
  address: string;
  store: ReceiptStore;
  dir: string;
  cleanup(): void;
}

/** A run context over a bundle of `files` unpacked in a temporary folder. */
export function testRun(files: Record<string, string> = {}, fault?: FaultMode): ITestRun {
  const dir = mkdtempSync(join(tmpdir(), 'ain-agent-run-'));
  const workDir = join(dir, 'work');
  require('node:fs').mkdirSync(workDir);
  for (const [path, text] of Object.entries(files)) {
    require('node:fs').mkdirSync(join(workDir, path, '..'), { recursive: true });
    require('node:fs').writeFileSync(join(workDir, path), text);
  }
  const key = new SigningKey(hexlify(randomBytes(32)));
  const events: IRunEvent[] = [];
  const runId = hexlify(randomBytes(32));
  const db = openDatabase(join(dir, 'agent.db'));
  const ctx: IRunContext = {
    runId,
    client: Wallet.createRandom().address,
    manifest: { notebook: 'main.ipynb' } as IRunContext['manifest'],
    files: new Map(Object.entries(files).map(([p, t]) => [p, new TextEncoder().encode(t)])),
    workDir,
    domain: { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    signingKey: key,
    salt: hexlify(randomBytes(32)),
    fault,
    onEvent: e => events.push({ ...e, runId, at: Date.now() })
  };
  return {
    ctx,
    events,
    address: new Wallet(key).address,
    store: new ReceiptStore(db),
    dir,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The service's router stand-in: /jupyter/<path> -> the runtime; can drop and refuse client websockets. */
export class TestRouter {
  readonly server: Server;
  readonly clientSockets = new Set<Socket>();
  refuseUpgrades = false;
  port = 0;

  constructor(private readonly runtime: IRunRuntime) {
    this.server = createServer((req, res) => this.runtime.handleRequest(req, res, this.path(req)));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (this.refuseUpgrades) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.clientSockets.add(socket);
      socket.on('close', () => this.clientSockets.delete(socket));
      this.runtime.handleUpgrade(req, socket, head, this.path(req));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>(r => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Cuts every client websocket, as a network drop would. */
  dropClients(): void {
    for (const s of this.clientSockets) {
      s.destroy();
    }
  }

  settings(): ServerConnection.ISettings {
    return nodeServerSettings(`http://127.0.0.1:${this.port}/jupyter/`, 'agent-client-token');
  }

  close(): Promise<void> {
    this.dropClients();
    return new Promise(r => this.server.close(() => r()));
  }

  private path(req: IncomingMessage): string {
    return (req.url ?? '/').replace(/^\/jupyter\//, '');
  }
}

/** The nbformat output of an iopub message, as JupyterLab's output area would add it (undefined if none). */
/** A run's kernel half on the local backend behind a TestRouter, and a KernelManager that goes through it. */
export interface ILocalRuntime {
  run: ITestRun;
  runtime: IRunRuntimeHandle;
  router: TestRouter;
  manager: KernelManager;
  /** Stops everything and returns the processes left behind (expected: none). */
  stop(): Promise<string[]>;
}

/** Starts a run on the local backend (real uv environment, jupyter server, ipykernel) with `options`. */
export async function startLocalRuntime(options: ILocalBackendOptions = {}): Promise<ILocalRuntime> {
  const run = testRun({ 'main.ipynb': '{}' });
  const runtime = createRunRuntime(run.ctx, {
    backend: new LocalKernelBackend(options),
    envBuilder: testBuilder(),
    store: run.store
  });
  await runtime.start();
  const router = await new TestRouter(runtime).listen();
  const manager = new KernelManager({ serverSettings: router.settings() });
  return {
    run,
    runtime,
    router,
    manager,
    async stop() {
      manager.dispose();
      await router.close();
      await runtime.stop();
      const left = await leftoversAfter(run.dir);
      run.cleanup();
      return left;
    }
  };
}

/** Executes `code` as JupyterLab does, collecting the outputs the client receives and the reply's status. */
export async function executeCell(
  kernel: Kernel.IKernelConnection,
  code: string,
  metadata: JSONObject = {},
  onOutput?: (o: NbOutput) => void
): Promise<{ outputs: NbOutput[]; status: string }> {
  const outputs: NbOutput[] = [];
  const future = kernel.requestExecute({ code }, false, metadata);
  future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
    const output = outputOf(msg);
    if (output) {
      outputs.push(output);
      onOutput?.(output);
    }
  };
  const reply = await future.done.catch(() => undefined);
  return { outputs, status: reply?.content.status ?? 'no reply' };
}

export function outputOf(msg: KernelMessage.IIOPubMessage): NbOutput | undefined {
  const c = msg.content as Record<string, never>;
  switch (msg.header.msg_type) {
    case 'stream':
      return { output_type: 'stream', name: c.name, text: c.text };
    case 'execute_result':
      return {
        output_type: 'execute_result',
        data: c.data,
        metadata: c.metadata,
        execution_count: c.execution_count
      };
    case 'display_data':
      return { output_type: 'display_data', data: c.data, metadata: c.metadata };
    case 'error':
      return { output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback };
    default:
      return undefined;
  }
}

/** Processes of the test left behind (jupyter servers and kernels whose command line names `dir`). */
export function leftovers(dir: string): string[] {
  const out = require('node:child_process').spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' })
    .stdout as string;
  return out.split('\n').filter(l => l.trim() && !l.includes('pgrep'));
}

/**
 * The processes of `dir` still running after up to `graceMs`: a process killed a moment ago can still be exiting
 * when its killer returns (seen under load), and only one that outlives the grace is really left behind.
 */
export async function leftoversAfter(dir: string, graceMs = 5000): Promise<string[]> {
  const until = Date.now() + graceMs;
  let left = leftovers(dir);
  while (left.length > 0 && Date.now() < until) {
    await new Promise(resolve => setTimeout(resolve, 100));
    left = leftovers(dir);
  }
  return left;
}
