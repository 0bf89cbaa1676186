/**
 * A provider agent's HTTP API as its clients see it, in the browser and in Node (src/agent/openapi.yaml), layered as STYLE.md §7 says: requests ->
 * checked answers -> a client that logs in with the wallet (EIP-4361), keeps its token fresh before it expires,
 * creates runs, and follows a run's events as Server-Sent Events (resuming with Last-Event-ID after a drop).
 * Tokens never reach a log or the notebook.
 */
import { Signer, getAddress } from 'ethers';
import type { Hex32 } from '../core/hash.js';
import type { IArtifact, ISignedReceipt } from '../core/receipt.js';
import { makeError } from '../core/errors.js';
import { refusal, unreachable } from './agent-fetch.js';
import { siweMessage } from './siwe.js';

/** What GET /info and its timing say about an agent. */
export interface IAgentProbe {
  reachable: boolean;
  latencyMs: number | null;
  capabilities: Record<string, unknown> | null;
  provider: string | null;
}

/** A run as the agent shows it. */
export interface IAgentRun {
  runId: Hex32;
  state: 'starting' | 'running' | 'stopped' | 'exhausted' | 'limit' | 'failed';
  reason?: string | null;
  jupyterUrl: string;
  receiptCount: number;
  escrow: string;
  pricePerHour: string;
  salt?: Hex32;
}

/** A receipt as the agent keeps it: with the outputs the client saw, the code executed and the artifacts. */
export interface IAgentReceipt {
  signed: ISignedReceipt;
  digest: Hex32;
  outputs?: unknown[];
  artifacts?: IArtifact[];
  code?: string;
}

/** A step's Merkle proof under an anchored checkpoint, as the agent built it. */
export interface IAgentProof {
  step: number;
  digest: Hex32;
  root: Hex32;
  receiptCount: number;
  checkpointIndex: number | null;
  txHash: string | null;
  proof: Hex32[];
}

/** One progress event of a run. */
export interface IAgentEvent {
  runId: Hex32;
  seq: number;
  type: string;
  message: string;
  data?: Record<string, unknown>;
  at: number;
}

/** GET /info with a timeout: reachability, round-trip time and the capability document. */
export async function probeAgent(endpoint: string, timeoutMs = 3000): Promise<IAgentProbe> {
  const started = performance.now();
  try {
    const res = await fetch(`${endpoint.replace(/\/+$/, '')}/info`, {
      signal: AbortSignal.timeout(timeoutMs)
    });
    if (!res.ok) {
      return { reachable: false, latencyMs: null, capabilities: null, provider: null };
    }
    const info = (await res.json()) as { provider?: string; capabilities?: Record<string, unknown> };
    return {
      reachable: true,
      latencyMs: Math.round(performance.now() - started),
      capabilities: info.capabilities ?? null,
      provider: info.provider ?? null
    };
  } catch {
    return { reachable: false, latencyMs: null, capabilities: null, provider: null };
  }
}

/** A logged-in connection to one agent. */
/** What the agent answers to a bundle's publication. */
export interface IPublishedBundle {
  bundleHash: Hex32;
  publishedAt: string;
  /** The public read, relative to the agent's URL. */
  path: string;
}

/** What the agent answers to a run's publication: the public reads, relative to the agent's URL. */
export interface IPublishedRun {
  runId: Hex32;
  publishedAt: string;
  receipts: string;
  artifacts: string;
}

export class AgentClient {
  readonly endpoint: string;
  private readonly _signer: Signer;
  private _token: string | null = null;
  private _expiresAt = 0;
  private _refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly _tokenListeners = new Set<(token: string) => void>();

  constructor(options: AgentClient.IOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this._signer = options.signer;
  }

  /** The current token (null before login). */
  get token(): string | null {
    return this._token;
  }

  /** Calls `listener` with every new token (after refresh), e.g. to update the kernels' server settings. */
  onToken(listener: (token: string) => void): () => void {
    this._tokenListeners.add(listener);
    return () => this._tokenListeners.delete(listener);
  }

  /** Logs in: asks a nonce, signs the EIP-4361 message it describes with the wallet, keeps the token. */
  async login(): Promise<void> {
    const challenge = (await this.request('POST', '/auth/nonce', { step: 'logging in to the provider' })) as {
      nonce: string;
      domain: string;
      uri: string;
      chainId: number;
      statement: string;
      expirationTime: string;
    };
    const message = siweMessage({
      domain: challenge.domain,
      address: getAddress(await this._signer.getAddress()),
      statement: challenge.statement,
      uri: challenge.uri,
      version: '1',
      chainId: challenge.chainId,
      nonce: challenge.nonce,
      issuedAt: new Date().toISOString(),
      expirationTime: challenge.expirationTime
    });
    const signature = await this._signer.signMessage(message);
    const token = (await this.request('POST', '/auth/login', {
      json: { message, signature },
      step: 'logging in to the provider'
    })) as { token: string; expiresAt: string };
    this.setToken(token.token, token.expiresAt);
  }

  /** Exchanges the token for a fresh one (the agent revokes the old one). */
  async refresh(): Promise<void> {
    const token = (await this.request('POST', '/auth/refresh', {
      auth: true,
      step: 'refreshing the provider token'
    })) as { token: string; expiresAt: string };
    this.setToken(token.token, token.expiresAt);
  }

  /** POST /runs?runId= with the bundle. */
  async createRun(runId: Hex32, bundle: Uint8Array): Promise<IAgentRun> {
    return (await this.request('POST', `/runs?runId=${runId}`, {
      auth: true,
      body: bundle,
      step: 'uploading the notebook'
    })) as IAgentRun;
  }

  async getRun(runId: Hex32): Promise<IAgentRun> {
    return (await this.request('GET', `/runs/${runId}`, {
      auth: true,
      step: 'reading the run'
    })) as IAgentRun;
  }

  async stopRun(runId: Hex32): Promise<IAgentRun> {
    return (await this.request('POST', `/runs/${runId}/stop`, {
      auth: true,
      step: 'stopping the run'
    })) as IAgentRun;
  }

  /** GET /runs/{id}/receipts: the run's receipts in step order (to the run's client). */
  async receipts(runId: Hex32): Promise<IAgentReceipt[]> {
    const body = (await this.request('GET', `/runs/${runId}/receipts`, {
      auth: true,
      step: 'reading the receipts'
    })) as { receipts: IAgentReceipt[] };
    return body.receipts;
  }

  /** GET /runs/{id}/receipts/{step}/proof: the step's Merkle proof under the latest anchored checkpoint. */
  async proof(runId: Hex32, step: number): Promise<IAgentProof> {
    return (await this.request('GET', `/runs/${runId}/receipts/${step}/proof`, {
      auth: true,
      step: `reading the proof of step ${step}`
    })) as IAgentProof;
  }

  /** GET /artifacts/{sha256}: a file a receipt committed to, or null when the agent does not have it. */
  artifact(sha256: Hex32): Promise<Uint8Array | null> {
    return this.bytes(`/artifacts/${sha256}`, `downloading artifact ${sha256}`);
  }

  /** GET /bundles/{hash}: a bundle of one of the client's runs (unchecked bytes: read them with readBundle). */
  bundle(bundleHash: Hex32): Promise<Uint8Array | null> {
    return this.bytes(`/bundles/${bundleHash}`, `downloading bundle ${bundleHash}`);
  }

  /** An authenticated binary GET; null on 404. */
  private async bytes(path: string, step: string): Promise<Uint8Array | null> {
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, {
        headers: { authorization: `Bearer ${this.requireToken()}` }
      });
    } catch (e) {
      throw unreachable(this.endpoint, e, step);
    }
    if (res.status === 404) {
      return null;
    }
    if (!res.ok) {
      throw await refusal(res, step, this.endpoint);
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * POST /bundles/{hash}/publish: makes a bundle of one of the client's runs readable by anyone who knows its hash
   * (content-addressed launch links; published-bundles.ts reads it back). Permanent.
   */
  async publishBundle(bundleHash: Hex32): Promise<IPublishedBundle> {
    return (await this.request('POST', `/bundles/${bundleHash}/publish`, {
      auth: true,
      step: `publishing bundle ${bundleHash}`
    })) as IPublishedBundle;
  }

  /**
   * POST /runs/{id}/publish: lets anyone read the run's receipts with outputs and its committed artifacts, so that
   * a shared notebook can be verified without the client's key (published-runs.ts reads them). Permanent.
   */
  async publishRun(runId: Hex32): Promise<IPublishedRun> {
    return (await this.request('POST', `/runs/${runId}/publish`, {
      auth: true,
      step: `publishing run ${runId}`
    })) as IPublishedRun;
  }

  async anchorRun(runId: Hex32): Promise<void> {
    await this.request('POST', `/runs/${runId}/anchor`, { auth: true, step: 'asking for a checkpoint' });
  }

  /**
   * Follows the run's events until `signal` aborts, reconnecting after drops from the last event seen (the agent
   * replays what came after it). `onDrop` hears about each drop, `onEvent` about each event once.
   */
  async followEvents(
    runId: Hex32,
    onEvent: (e: IAgentEvent) => void,
    signal: AbortSignal,
    onDrop?: (error: unknown, attempt: number) => void
  ): Promise<void> {
    let last = 0;
    let attempt = 0;
    const seen = new Set<number>();
    while (!signal.aborted) {
      try {
        // `accept` too: proxies such as jupyter-server-proxy stream only requests that ask for an event stream.
        const headers: Record<string, string> = {
          authorization: `Bearer ${this.requireToken()}`,
          accept: 'text/event-stream'
        };
        if (last > 0) {
          headers['last-event-id'] = String(last);
        }
        const res = await fetch(`${this.endpoint}/runs/${runId}/events`, { headers, signal });
        if (!res.ok || !res.body) {
          throw await refusal(res, 'following the run', this.endpoint);
        }
        attempt = 0;
        await Private.readSse(res.body, signal, data => {
          const e = JSON.parse(data) as IAgentEvent;
          // By sequence number, not "greater than the last": a live stream can deliver an event after one with a
          // higher number (a receipt and the checkpoint it triggers are numbered and sent from different places).
          if (!seen.has(e.seq)) {
            seen.add(e.seq);
            last = Math.max(last, e.seq);
            onEvent(e);
          }
        });
      } catch (e) {
        if (signal.aborted) {
          return;
        }
        attempt += 1;
        onDrop?.(e, attempt);
      }
      // Back off (capped) and try again: the run goes on at the provider while the page is cut off.
      await Private.sleep(Math.min(500 * 2 ** Math.min(attempt, 5), 10_000), signal);
    }
  }

  /** Stops refreshing the token. */
  dispose(): void {
    if (this._refreshTimer) {
      clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
    }
    this._tokenListeners.clear();
  }

  private setToken(token: string, expiresAt: string): void {
    this._token = token;
    this._expiresAt = Date.parse(expiresAt);
    this._tokenListeners.forEach(l => l(token));
    if (this._refreshTimer) {
      clearTimeout(this._refreshTimer);
    }
    // Refresh at 80% of the lifetime, so the kernels' websockets never reconnect with an expired token.
    const delay = Math.max(5_000, (this._expiresAt - Date.now()) * 0.8);
    this._refreshTimer = setTimeout(() => {
      this.refresh().catch(() =>
        // A refused refresh (the agent restarted and lost nothing but tokens): log in again.
        this.login().catch(e => console.warn(`jupyterlab-ain: cannot renew the provider token: ${e}`))
      );
    }, delay);
    // In Node, a pending refresh must not keep a finished command alive.
    (this._refreshTimer as { unref?: () => void }).unref?.();
  }

  private requireToken(): string {
    if (!this._token) {
      throw makeError('PROVIDER_REFUSED', 'Not logged in to the provider; log in (provision the run) again.');
    }
    return this._token;
  }

  private async request(
    method: string,
    path: string,
    options: { json?: unknown; body?: Uint8Array; auth?: boolean; step: string }
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (options.auth) {
      headers.authorization = `Bearer ${this.requireToken()}`;
    }
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body as unknown as BodyInit;
    }
    let res: Response;
    try {
      res = await fetch(this.endpoint + path, { method, headers, body });
    } catch (e) {
      throw unreachable(this.endpoint, e, options.step);
    }
    if (!res.ok) {
      throw await refusal(res, options.step, this.endpoint);
    }
    return res.json();
  }
}

export namespace AgentClient {
  export interface IOptions {
    endpoint: string;
    /** The client's wallet: signs the login message. */
    signer: Signer;
  }
}

namespace Private {
  /** Reads an event stream, calling `onData` with each event's data. */
  export async function readSse(
    body: ReadableStream<Uint8Array>,
    signal: AbortSignal,
    onData: (data: string) => void
  ): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      while (!signal.aborted) {
        const { value, done } = await reader.read();
        if (done) {
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter(l => l.startsWith('data:'))
            .map(l => l.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data) {
            onData(data);
          }
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }

  export function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
