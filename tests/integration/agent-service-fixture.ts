/**
 * Shared set-up of the agent service specs: a real anvil with the contracts (chain-fixture), a registered
 * provider, the agent in-process behind its real HTTP API, bundles from core createBundle, runs opened on-chain by
 * the real client, EIP-4361 logins signed by real keys, and small HTTP and Server-Sent Events helpers over fetch.
 * No mocks of the chain or the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SigningKey, Wallet, ZeroHash } from 'ethers';
import { SiweMessage } from 'siwe';
import { Hex32, ZERO_HASH, keccak256 } from '../../src/core/hash';
import { createBundle, Bundle } from '../../src/core/bundle-writer';
import { receiptDigest, signReceipt, IReceiptDomain } from '../../src/core/receipt';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { ProviderAgent } from '../../src/agent/agent';
import type { IProviderAgentOptions } from '../../src/agent/agent-options';
import { AgentServer } from '../../src/agent/http-server';
import type { IRunContext, IRunRuntime, IRunStore } from '../../src/agent/tokens';
import { createLogger } from '../../src/agent/metrics';
import { IActor, IChainFixture, TOKEN, random32, startChainFixture } from './chain-fixture';

/** Price of the test provider: 3,600 tokens an hour, one token a second, so escrow reads as seconds. */
export const PRICE = TOKEN(3600);

/** Registers `actor` as a provider at `price`. */
export async function registerProvider(actor: IActor, endpoint: string, price = PRICE): Promise<void> {
  await actor.providers.register(
    { endpoint, pricePerHour: price, capabilitiesHash: ZeroHash, capabilitiesURI: '' },
    TOKEN(100)
  );
}

const encoder = new TextEncoder();

/** A bundle of a small notebook; `tag` changes its hash. */
export function makeBundle(tag = 'a', cells = 1): Bundle {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3' },
      language_info: { name: 'python' }
    },
    cells: Array.from({ length: cells }, (_, i) => ({
      cell_type: 'code',
      id: `c${i}`,
      metadata: {},
      execution_count: null,
      outputs: [],
      source: [`x${i} = ${i} + 1  # ${tag}\n`, `print(x${i})`]
    }))
  };
  return createBundle({
    notebookPath: 'analysis.ipynb',
    files: new Map([
      ['analysis.ipynb', encoder.encode(JSON.stringify(notebook))],
      ['data/input.csv', encoder.encode(`a,b\n1,2\n# ${tag}\n`)]
    ])
  });
}

/** Opens a run of `bundleHash` with `provider` for `escrow` and returns its id. */
export async function openRun(
  client: IActor,
  provider: string,
  bundleHash: Hex32,
  escrow: bigint
): Promise<Hex32> {
  const nonce = BigInt(random32()) & ((1n << 64n) - 1n);
  const { runId } = await client.runs.openRun({
    provider,
    bundleHash,
    nonce,
    samplingSecret: random32(),
    escrow,
    pricePerHour: PRICE
  });
  return runId;
}

/** A fetch answer with its body read. */
export interface IAnswer {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test answers are read loosely
  text: string;
  headers: Headers;
}

/** One request to the agent. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string> } = {}
): Promise<IAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) {
    headers.authorization = `Bearer ${options.token}`;
  }
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body) {
    headers['content-type'] = 'application/octet-stream';
    body = options.body;
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (metrics, bundles)
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** The signed EIP-4361 login of `key` as the agent's challenge describes it. */
export async function loginMessage(
  base: string,
  key: string,
  tweak: (m: Partial<SiweMessage>) => void = () => undefined
): Promise<{ message: string; signature: string }> {
  const challenge = (await call(base, 'POST', '/auth/nonce')).json;
  const wallet = new Wallet(key);
  const fields: Partial<SiweMessage> = {
    domain: challenge.domain,
    address: wallet.address,
    uri: challenge.uri,
    version: '1',
    chainId: challenge.chainId,
    nonce: challenge.nonce,
    statement: challenge.statement,
    issuedAt: new Date().toISOString(),
    expirationTime: challenge.expirationTime
  };
  tweak(fields);
  const message = new SiweMessage(fields).prepareMessage();
  return { message, signature: await wallet.signMessage(message) };
}

/** Logs in with `key` and returns the token. */
export async function login(base: string, key: string): Promise<string> {
  const answer = await call(base, 'POST', '/auth/login', { json: await loginMessage(base, key) });
  expect(answer.status).toBe(200);
  return answer.json.token;
}

/** One Server-Sent Event. */
export interface ISse {
  id: string;
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- event payloads are read loosely
}

/**
 * Reads a Server-Sent Events stream until `until` holds for the events so far (or `timeoutMs` passes), then
 * closes it and returns the events.
 */
export async function readSse(
  url: string,
  token: string,
  options: { lastEventId?: string; until?: (events: ISse[]) => boolean; timeoutMs?: number } = {}
): Promise<ISse[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 20000);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (options.lastEventId !== undefined) {
    headers['last-event-id'] = options.lastEventId;
  }
  const events: ISse[] = [];
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      if (options.until?.(events)) {
        break;
      }
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const m = /^(id|event|data): (.*)$/.exec(line);
          if (m) {
            e[m[1]] = m[2];
          }
        }
        if (e.data !== undefined) {
          events.push({ id: e.id, event: e.event, data: JSON.parse(e.data) });
        }
      }
    }
    await reader.cancel().catch(() => undefined);
  } catch (e) {
    if ((e as Error).name !== 'AbortError') {
      throw e;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}

/** Appends `n` signed receipts to a run in the store (the kernel half's real store API), chained from the last. */
export function appendReceipts(
  store: IRunStore,
  runId: Hex32,
  n: number,
  domain: IReceiptDomain,
  key: SigningKey
): void {
  const existing = store.receipts(runId);
  let prev = existing.length ? existing[existing.length - 1].digest : ZERO_HASH;
  for (let i = 0; i < n; i++) {
    const step = existing.length + i;
    const receipt = {
      runId,
      step,
      prev,
      codeHash: keccak256(`code ${step}`),
      outputHash: keccak256(`output ${step}`),
      artifactsHash: ZERO_HASH,
      startedAt: 1764000000000 + step,
      endedAt: 1764000000001 + step
    };
    const digest = receiptDigest(receipt, domain);
    store.appendReceipt(runId, {
      signed: signReceipt(receipt, domain, key),
      digest,
      outputs: [{ output_type: 'stream', name: 'stdout', text: `${step}\n` }],
      artifacts: [],
      code: `print(${step})`
    });
    prev = digest;
  }
}

/** Polls `check` until it returns a truthy value. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 20000,
  what = 'condition'
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) {
      return v;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

/** A TCP relay in front of anvil that can be cut, to take the agent's RPC endpoint down and back up. */
export function relay(
  target: number
): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  let down = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer(sock => {
    if (down) {
      sock.destroy();
      return;
    }
    const up = connect(target, '127.0.0.1');
    sockets.add(sock).add(up);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
    sock.on('close', () => sockets.delete(sock));
    up.on('close', () => sockets.delete(up));
    sock.pipe(up).pipe(sock);
  });
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        cut() {
          down = true;
          sockets.forEach(s => s.destroy());
        },
        restore() {
          down = false;
        },
        close: () =>
          new Promise(r => {
            sockets.forEach(s => s.destroy());
            server.close(() => r());
          })
      });
    })
  );
}

/** A relay in front of anvil (see `relay`). */
export type Relay = Awaited<ReturnType<typeof relay>>;

/**
 * A stand-in for the kernel half, for specs that do not test it: it records each run's context in `contexts`
 * (to append receipts as the kernel half does) and says the kernel is ready; Jupyter requests get `jupyter`'s
 * answers, by default a 404 and a closed socket.
 */
export function standInRuntime(
  contexts: Map<string, IRunContext>,
  jupyter: Partial<Pick<IRunRuntime, 'handleRequest' | 'handleUpgrade'>> = {}
): (ctx: IRunContext) => IRunRuntime {
  return ctx => {
    contexts.set(ctx.runId, ctx);
    return {
      start: async () => ctx.onEvent({ type: 'kernel-ready', message: 'stand-in kernel ready' }),
      handleRequest: jupyter.handleRequest ?? ((_req, res) => res.writeHead(404).end()),
      handleUpgrade: jupyter.handleUpgrade ?? ((_req, socket) => socket.destroy()),
      stop: async () => undefined
    };
  };
}

/** The agent's options that startAgent does not fill itself (the price defaults to PRICE). */
export interface IInProcessAgentOptions
  extends Omit<IProviderAgentOptions, 'session' | 'signingKey' | 'domain' | 'pricePerHour'> {
  pricePerHour?: bigint;
  /**
   * Reach anvil through a relay the spec can cut (`rpc`), with a provider session of the agent's own over it;
   * otherwise the agent uses the chain fixture's provider session.
   */
  relayed?: boolean;
}

/** An agent in-process behind its HTTP API, with the chain fixture's client logged in. */
export interface IInProcessAgent {
  agent: ProviderAgent;
  server: AgentServer;
  /** The agent's URL, which is also its login domain. */
  base: string;
  /** The client's token. */
  token: string;
  /** The agent's chain session. */
  session: ChainSession;
  /** The relay in front of anvil, when `relayed`. */
  rpc?: Relay;
  /** Opens a run of a new bundle as the client (600 tokens of escrow), uploads it and waits until it runs. */
  newRun(tag: string): Promise<Hex32>;
  /** Closes the server, the agent, and the relayed session and relay (not the chain, nor the data folder). */
  close(): Promise<void>;
}

/**
 * Starts `chain`'s provider (registered by the spec) as an agent in-process, behind its real HTTP server on a free
 * loopback port whose host is the login domain, and logs the client in.
 */
export async function startAgent(
  chain: IChainFixture,
  options: IInProcessAgentOptions
): Promise<IInProcessAgent> {
  const { relayed, pricePerHour, ...agentOptions } = options;
  let rpc: Relay | undefined;
  let ownSession: ChainSession | undefined;
  let agent: ProviderAgent | undefined;
  let server: AgentServer | undefined;
  const close = async () => {
    await server?.close();
    await agent?.close();
    ownSession?.close();
    await rpc?.close();
  };
  try {
    if (relayed) {
      rpc = await relay(chain.anvil.port);
      ownSession = await ChainSession.connect(
        { ...chain.deployment, rpcUrl: rpc.url },
        devKeyWallet(chain.provider.key)
      );
    }
    const session = ownSession ?? chain.provider.session;
    agent = await ProviderAgent.create({
      ...agentOptions,
      session,
      signingKey: new SigningKey(chain.provider.key),
      domain: 'pending',
      pricePerHour: pricePerHour ?? PRICE
    });
    server = new AgentServer(agent);
    const base = await server.listen(0);
    agent.auth.domain = new URL(base).host;
    const token = await login(base, chain.client.key);
    const newRun = async (tag: string): Promise<Hex32> => {
      const bundle = makeBundle(tag);
      const runId = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(600));
      const created = await call(base, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
      if (created.status !== 201) {
        throw new Error(`run ${runId} not created: ${created.status} ${created.text}`);
      }
      await waitFor(
        async () => (await call(base, 'GET', `/runs/${runId}`, { token })).json.state === 'running'
      );
      return runId;
    };
    return { agent, server, base, token, session, rpc, newRun, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}

/** An in-process agent on a chain of its own whose kernel half is stood in (standInRuntime): receipts by hand. */
export interface IStandInAgent extends IInProcessAgent {
  chain: IChainFixture;
  /** `n` new receipts of a run, stored and announced one by one as the kernel half does (which queues checkpoints). */
  receipts(runId: Hex32, n: number): void;
}

/**
 * A chain fixture, its provider registered, and that provider as an in-process agent (startAgent) in a new data
 * folder `ain-<prefix>-*`, the kernel half stood in; close() stops the agent and the chain and removes the folder.
 */
export async function startStandInAgent(
  prefix: string,
  options: Omit<IInProcessAgentOptions, 'dataDir' | 'createRuntime'>
): Promise<IStandInAgent> {
  const chain = await startChainFixture();
  const dir = mkdtempSync(path.join(tmpdir(), `ain-${prefix}-`));
  const contexts = new Map<string, IRunContext>();
  let fixture: IInProcessAgent | undefined;
  const close = async () => {
    await fixture?.close();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await registerProvider(chain.provider, 'http://127.0.0.1:1');
    fixture = await startAgent(chain, {
      logger: createLogger({ level: 'error' }),
      ...options,
      dataDir: dir,
      createRuntime: standInRuntime(contexts)
    });
    const { agent } = fixture;
    const receipts = (runId: Hex32, n: number) => {
      const ctx = contexts.get(runId)!;
      for (let i = 0; i < n; i++) {
        appendReceipts(agent.store, runId, 1, ctx.domain, ctx.signingKey);
        ctx.onEvent({
          type: 'receipt',
          message: 'receipt',
          data: { step: agent.store.receipts(runId).length - 1 }
        });
      }
    };
    return { ...fixture, chain, receipts, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
