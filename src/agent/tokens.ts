/**
 * The seams of the provider agent (DESIGN.md "Provider agent"): the service half (HTTP API, auth, store, chain,
 * anchoring) and the kernel half (environment builder, kernel backends, Jupyter proxy, receipts) meet only through
 * these interfaces, so each can change, and be tested, on its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SigningKey } from 'ethers';
import type { BundleManifest } from '../core/bundle-manifest.js';
import type { EnvironmentReport } from '../core/environment.js';
import type { Hex32 } from '../core/hash.js';
import type { IArtifact, IReceiptDomain, ISignedReceipt } from '../core/receipt.js';

/** Misbehaviours the agent can be told to commit, on development chains only, so verification can be tested. */
export type FaultMode = 'tamper-outputs' | 'skip-execution' | 'equivocate' | 'withhold-anchor';

/** Progress of a run, streamed to the client as Server-Sent Events and kept in the store. */
export interface IRunEvent {
  runId: Hex32;
  /** Monotonic per run, so a reconnecting client can resume with Last-Event-ID. */
  seq?: number;
  type:
    | 'accepted'
    | 'environment-cached'
    | 'environment-building'
    | 'environment-log'
    | 'environment-ready'
    | 'environment-failed'
    | 'kernel-starting'
    | 'kernel-ready'
    | 'receipt'
    | 'anchor-queued'
    | 'anchored'
    | 'anchor-failed'
    | 'budget-warning'
    | 'budget-exhausted'
    | 'stopped'
    | 'closed'
    | 'settled'
    | 'error';
  /** A line a person can read ("installing numpy==2.1.0", "anchored checkpoint 3 in block 42"). */
  message: string;
  data?: Record<string, unknown>;
  at: number;
}

/** A built (or reused) Python environment for runs. */
export interface IBuiltEnvironment {
  environmentHash: Hex32;
  /** The environment's folder (a venv) and its python executable. */
  prefix: string;
  python: string;
  /** True when it came from the cache without building. */
  cached: boolean;
}

/**
 * Builds run environments with uv into a cache keyed by the environment hash. Concurrent builds of one hash run
 * once; a failed or refused build throws an AinError whose message has the reason and the log tail.
 */
export interface IEnvironmentBuilder {
  build(
    environment: EnvironmentReport,
    files: ReadonlyMap<string, Uint8Array>,
    onEvent: (type: IRunEvent['type'], message: string) => void
  ): Promise<IBuiltEnvironment>;
}

/** A Jupyter server API (REST + kernel websockets) that runs one run's kernels. */
export interface IKernelServer {
  /** Base URL of the Jupyter REST API, e.g. http://127.0.0.1:41234/ (ends with /). */
  baseUrl: string;
  /** Token the agent uses upstream; never shown to clients (they use the agent's own tokens). */
  token: string;
  /**
   * Added to the `env` of every `POST api/kernels` body (a gateway's way to pass `KERNEL_WORKING_DIR` and the
   * like); undefined for servers that need nothing added.
   */
  kernelEnv?: Record<string, string>;
  /** Told the id of each kernel started through the proxy (a gateway backend shuts them down at stop). */
  onKernelStarted?(kernelId: string): void;
  /** The local process the agent started for it (none for a gateway): recorded so a restart can reap it. */
  process?: IServerProcess;
  stop(): Promise<void>;
}

/** A kernel server process: its pid, and a marker every process it starts names on its command line. */
export interface IServerProcess {
  pid: number;
  marker: string;
}

/** Where kernels run: `local` (a jupyter server the agent starts) or `gateway` (a Kernel/Enterprise Gateway). */
export interface IKernelBackend {
  readonly kind: 'local' | 'gateway';
  start(options: { runId: Hex32; workDir: string; environment: IBuiltEnvironment }): Promise<IKernelServer>;
}

/** A receipt as the agent stores it: signed, with its digest and what was committed to. */
export interface IStoredReceipt {
  signed: ISignedReceipt;
  digest: Hex32;
  /** The raw outputs the client saw (kept so a verifier can compare, and for replay). */
  outputs: unknown[];
  artifacts: IArtifact[];
  /** The code executed, as received. */
  code: string;
}

/** Bounds of the replay buffer of one kernel. */
export interface IBufferLimits {
  maxMessages: number;
  maxBytes: number;
}

/** What the kernel half needs from the store (implemented over SQLite by the service half). */
export interface IRunStore {
  /** Receipts of a run in step order. */
  receipts(runId: Hex32): IStoredReceipt[];
  /** Appends the next receipt; throws if its step is not the next one (one receipt per step). */
  appendReceipt(runId: Hex32, receipt: IStoredReceipt): void;
  /** Stores an artifact file's bytes by its sha256 (downloadable by hash). */
  putArtifact(sha256: Hex32, bytes: Uint8Array): void;
  /** An artifact's bytes by sha256, or undefined when none is stored (GET /artifacts/{sha256}). */
  getArtifact(sha256: Hex32): Uint8Array | undefined;
  /**
   * Kernel messages kept while no client is connected (bounded by `limits`, oldest dropped first), replayed on
   * reconnect. Returns how many old messages were dropped to stay within the limits.
   */
  bufferMessage(
    runId: Hex32,
    kernelId: string,
    channel: string,
    data: string | Uint8Array,
    limits?: IBufferLimits
  ): number | void;
  takeBufferedMessages(runId: Hex32, kernelId: string): { channel: string; data: string | Uint8Array }[];
}

/** Everything a run's kernel half is given when the service accepts a run. */
export interface IRunContext {
  runId: Hex32;
  /** The client's address: the only one whose token reaches this run's kernel. */
  client: string;
  manifest: BundleManifest;
  files: ReadonlyMap<string, Uint8Array>;
  /** The unpacked bundle: the kernel's working folder. */
  workDir: string;
  domain: IReceiptDomain;
  /** The provider's signing key: used to sign receipts, never logged or written. */
  signingKey: SigningKey;
  /** Per-run salt of output hashes; revealed only to the run's client. */
  salt: Hex32;
  fault?: FaultMode;
  onEvent(event: Omit<IRunEvent, 'runId' | 'at' | 'seq'>): void;
  /** Told the kernel server process once started, and null once stopped (the agent records it, store-processes). */
  onServerProcess?(process: IServerProcess | null): void;
}

/**
 * The kernel half of one run: environment, kernel server, and the proxy that turns every execution into a signed
 * receipt. The service authenticates each request and hands it over with the path below `/runs/<id>/jupyter`.
 */
export interface IRunRuntime {
  start(): Promise<void>;
  /** A Jupyter REST request (path relative to the Jupyter base URL, e.g. `api/kernels`). */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string): void;
  /** A kernel websocket upgrade (path e.g. `api/kernels/<id>/channels`). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void;
  stop(): Promise<void>;
}
