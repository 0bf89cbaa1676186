/**
 * The provider agent's core (STYLE.md §11: command line -> core class -> pluggable store -> router -> metrics and
 * logging): admits runs opened on-chain, hands each to its runtime (the kernel half, tokens.ts IRunRuntime),
 * records and fans out its events, watches its budget and limits, and feeds the anchoring queue. It knows nothing
 * of HTTP: the router (http-server.ts) authenticates callers and calls these methods with the caller's address.
 *
 * After a restart, the runs that were active are reloaded with their budget clocks; the kernel servers and kernels
 * a SIGKILL of the previous process left running are reaped first (store-processes.ts), and each run's runtime is
 * started again lazily, on the first Jupyter request (an event says the kernel's state was lost). Receipts, events
 * and queued checkpoints are all in SQLite and lose nothing.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { computeAddress, getAddress } from 'ethers';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { readBundle } from '../core/bundle-reader.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import { AnchorQueue } from './anchor-queue.js';
import { SettlementWorker } from './settlement.js';
import { Authenticator } from './auth.js';
import { IProviderAgentOptions, checkFault } from './agent-options.js';
import { AgentDatabase, openDatabase } from './database.js';
import { AgentMetrics, ILogger, createLogger } from './metrics.js';
import { RunViews } from './agent-views.js';
import { bundlePath, checkBundle, checkRunOnChain, storeBundle, unpackBundle } from './run-admission.js';
import { ClockEnd, DEFAULT_LIMITS, IAgentLimits, RunClock, bundleReaderLimits } from './run-limits.js';
import { IRunRecord, RunRecordStore, RunState } from './store-runs.js';
import { ReceiptStore } from './store-receipts.js';
import { ProcessStore } from './store-processes.js';
import type { IRunContext, IRunEvent, IRunRuntime, IRunStore } from './tokens.js';

export { checkFault };
export type { IProviderAgentOptions };

interface IRunHandle {
  record: IRunRecord;
  runtime: IRunRuntime | null;
  started: Promise<void> | null;
  clock: RunClock | null;
  outputBytes: number;
}

/** The provider agent. */
export class ProviderAgent {
  readonly address: string;
  readonly db: AgentDatabase;
  readonly store: IRunStore;
  readonly runs: RunRecordStore;
  readonly auth: Authenticator;
  readonly anchors: AnchorQueue;
  readonly settlement: SettlementWorker;
  readonly metrics = new AgentMetrics();
  readonly logger: ILogger;
  readonly limits: IAgentLimits;
  readonly registry: RunRegistryClient;
  readonly views: RunViews;
  readonly processes: ProcessStore;
  private readonly handles = new Map<Hex32, IRunHandle>();
  private readonly listeners = new Map<Hex32, Set<(e: IRunEvent) => void>>();

  constructor(readonly options: IProviderAgentOptions) {
    const chainId = options.session.config.chainId;
    checkFault(options.fault, chainId);
    this.address = getAddress(computeAddress(options.signingKey.publicKey));
    this.logger = options.logger ?? createLogger();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.registry = new RunRegistryClient(options.session);
    this.db = openDatabase(path.join(options.dataDir, 'agent.sqlite'));
    this.store = options.createStore ? options.createStore(this.db) : new ReceiptStore(this.db);
    this.runs = new RunRecordStore(this.db);
    this.processes = new ProcessStore(this.db);
    this.auth = new Authenticator(this.db, {
      domain: options.domain,
      chainId,
      agentAddress: this.address,
      logger: this.logger,
      ...options.auth
    });
    this.anchors = new AnchorQueue({
      db: this.db,
      store: this.store,
      registry: this.registry,
      everyReceipts: options.checkpoint?.everyReceipts ?? 10,
      everySeconds: options.checkpoint?.everySeconds ?? 60,
      withhold: options.fault === 'withhold-anchor',
      activeRuns: () =>
        [...this.handles.values()].map(h => ({ runId: h.record.runId, since: h.record.createdAt })),
      onEvent: (runId, type, message, data) => this.emit(runId, type, message, data),
      logger: this.logger,
      metrics: this.metrics,
      retryBaseMs: options.anchorRetry?.baseMs,
      retryMaxMs: options.anchorRetry?.maxMs,
      reconcileSeconds: options.anchorRetry?.reconcileSeconds
    });
    this.settlement = new SettlementWorker({
      db: this.db,
      runs: this.runs,
      registry: this.registry,
      anchors: this.anchors,
      everySeconds: options.settleEverySeconds ?? 300,
      onEvent: (runId, type, message, data) => this.emit(runId, type, message, data),
      logger: this.logger
    });
    this.views = new RunViews(this);
  }

  /**
   * Creates the data folder, reloads active runs and (unless `start` is false) starts the anchoring queue. The
   * CLI starts the queue itself after registering: both send from one account, and their nonces must not race.
   */
  static async create(options: IProviderAgentOptions, start = true): Promise<ProviderAgent> {
    checkFault(options.fault, options.session.config.chainId);
    await fs.mkdir(options.dataDir, { recursive: true });
    const agent = new ProviderAgent(options);
    agent.reapOrphans();
    agent.reload();
    if (start) {
      agent.anchors.start();
      agent.settlement.start();
    }
    return agent;
  }

  /** Admits run `runId` of `client` with its bundle (see run-admission.ts) and starts it; idempotent per run. */
  async createRun(
    client: string,
    runId: Hex32,
    bytes: Uint8Array
  ): Promise<{ created: boolean; run: IRunRecord }> {
    const existing = this.runs.get(runId);
    if (existing) {
      if (getAddress(existing.client) !== getAddress(client)) {
        throw makeError(
          'AGENT_FORBIDDEN',
          'This token does not give access to that run; log in as its client.'
        );
      }
      return { created: false, run: existing };
    }
    const onChain = await checkRunOnChain(this.registry, runId, this.address, client, this.limits);
    const bundle = checkBundle(bytes, this.limits, onChain.bundleHash);
    await storeBundle(this.options.dataDir, bundle.bundleHash, bytes);
    const workDir = path.join(this.options.dataDir, 'runs', runId.slice(2), 'work');
    await unpackBundle(bundle.files, workDir);
    const record: IRunRecord = {
      runId,
      client: getAddress(client),
      bundleHash: bundle.bundleHash,
      salt: '0x' + randomBytes(32).toString('hex'),
      escrow: onChain.escrow,
      pricePerHour: onChain.pricePerHour,
      state: 'starting',
      reason: null,
      createdAt: Date.now(),
      endedAt: null,
      workDir,
      fault: this.options.fault ?? null
    };
    if (!this.runs.insert(record)) {
      // A concurrent admission of the same run won: answer that one.
      return { created: false, run: this.runs.get(runId)! };
    }
    this.metrics.runsTotal.inc({ outcome: 'accepted' });
    this.logger.log('info', 'run-accepted', { runId, client: record.client, bundleHash: record.bundleHash });
    this.emit(
      runId,
      'accepted',
      `run accepted: bundle ${bundle.bundleHash}, escrow ${onChain.escrow} at ${onChain.pricePerHour}/h`,
      {
        bundleHash: bundle.bundleHash,
        notebook: bundle.manifest.notebook
      }
    );
    const handle = this.attach(record, bundle.manifest, bundle.files);
    handle.started = this.startRuntime(handle);
    return { created: true, run: record };
  }

  /** A run of `client`; AGENT_FORBIDDEN when it is another client's or unknown (no detail either way). */
  runOf(client: string, runId: Hex32): IRunRecord {
    const run = this.runs.get(runId);
    if (!run || getAddress(run.client) !== getAddress(client)) {
      throw makeError(
        'AGENT_FORBIDDEN',
        'This token does not give access to that run; log in as its client.'
      );
    }
    return run;
  }

  /** Ends a run cleanly: runtime stopped, final checkpoint queued. */
  async stopRun(client: string, runId: Hex32): Promise<IRunRecord> {
    this.runOf(client, runId);
    await this.endRun(runId, 'stopped', 'stopped by its client');
    return this.runs.get(runId)!;
  }

  /** The runtime of an active run of `client`, started (again) if needed; AGENT_RUN_ENDED after its end. */
  async runtimeOf(client: string, runId: Hex32): Promise<IRunRuntime> {
    const run = this.runOf(client, runId);
    const handle = this.handles.get(runId);
    if (!handle) {
      throw makeError(
        'AGENT_RUN_ENDED',
        `Run ${runId} has ended (${run.state}: ${run.reason}); open a new run.`
      );
    }
    if (!handle.runtime) {
      throw makeError(
        'AGENT_RUNTIME_UNAVAILABLE',
        'This agent has no kernel backend configured; start it with --backend local or --backend <gateway URL>.'
      );
    }
    if (!handle.started) {
      this.emit(
        runId,
        'kernel-starting',
        'the agent restarted: starting a new kernel (the previous kernel state is lost)'
      );
      handle.started = this.startRuntime(handle);
    }
    await handle.started;
    return handle.runtime;
  }

  /** Subscribes to a run's new events; returns the unsubscribe function. */
  subscribe(runId: Hex32, listener: (e: IRunEvent) => void): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      this.listeners.set(runId, (set = new Set()));
    }
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** Records a run event, tells subscribers, and reacts to receipts (anchoring, output volume). */
  emit(runId: Hex32, type: IRunEvent['type'], message: string, data?: Record<string, unknown>): IRunEvent {
    const event = this.runs.appendEvent({ runId, type, message, ...(data ? { data } : {}), at: Date.now() });
    // Subscribers first: a receipt can queue a checkpoint, whose own event must reach them after the receipt's.
    this.listeners.get(runId)?.forEach(l => l(event));
    if (type === 'receipt') {
      this.onReceipt(runId);
    }
    return event;
  }

  /** Health summary. */
  health(): { status: 'ok'; provider: string; chainId: number; runsActive: number; anchorsPending: number } {
    return {
      status: 'ok',
      provider: this.address,
      chainId: this.options.session.config.chainId,
      runsActive: this.handles.size,
      anchorsPending: this.anchors.pendingCount()
    };
  }

  /** Stops timers, runtimes and the queue, and closes the database; runs stay active for the next start. */
  async close(): Promise<void> {
    await this.settlement.stop();
    await this.anchors.stop();
    // All runs' servers stop side by side: one after another, an agent with many runs outlived the 10 s its
    // supervisor (ain dev, a service manager) waits before SIGKILL, which orphaned the remaining servers.
    await Promise.all(
      [...this.handles.values()].map(handle => {
        handle.clock?.cancel();
        return handle.runtime?.stop().catch(() => undefined);
      })
    );
    this.handles.clear();
    this.db.close();
  }

  /** Ends a run once: stops its runtime, queues the final checkpoint, records the state and why. */
  async endRun(
    runId: Hex32,
    state: Exclude<RunState, 'starting' | 'running'>,
    reason: string
  ): Promise<void> {
    const handle = this.handles.get(runId);
    if (!handle) {
      return;
    }
    this.handles.delete(runId);
    handle.clock?.cancel();
    try {
      await handle.runtime?.stop();
    } catch (e) {
      this.logger.log('warn', 'runtime-stop-failed', { runId, error: e });
    }
    this.runs.setState(runId, state, reason);
    this.metrics.runsTotal.inc({ outcome: state });
    this.metrics.runsActive.set(this.handles.size);
    this.emit(runId, state === 'exhausted' ? 'budget-exhausted' : 'stopped', `run ended: ${reason}`, {
      state
    });
    this.anchors.enqueue(runId, 'final');
    this.logger.log('info', 'run-ended', { runId, state, reason });
  }

  /** Kills the kernel servers and kernels a killed predecessor left running (before any run restarts). */
  private reapOrphans(): void {
    for (const { runId, pids } of this.processes.reapOrphans()) {
      this.logger.log('warn', 'orphans-reaped', { runId, pids });
    }
  }

  private reload(): void {
    for (const record of this.runs.active()) {
      let bundle;
      try {
        bundle = readBundle(
          new Uint8Array(readFileSync(bundlePath(this.options.dataDir, record.bundleHash))),
          bundleReaderLimits(this.limits)
        );
      } catch (e) {
        this.runs.setState(
          record.runId,
          'failed',
          `its bundle could not be read after a restart: ${(e as Error).message}`
        );
        continue;
      }
      this.attach(record, bundle.manifest, bundle.files);
      this.logger.log('info', 'run-reloaded', { runId: record.runId });
    }
  }

  private attach(
    record: IRunRecord,
    manifest: IRunContext['manifest'],
    files: IRunContext['files']
  ): IRunHandle {
    const handle: IRunHandle = { record, runtime: null, started: null, clock: null, outputBytes: 0 };
    handle.outputBytes = this.store
      .receipts(record.runId)
      .reduce((n, r) => n + JSON.stringify(r.outputs).length, 0);
    this.handles.set(record.runId, handle);
    this.metrics.runsActive.set(this.handles.size);
    if (this.options.createRuntime) {
      const ctx: IRunContext = {
        runId: record.runId,
        client: record.client,
        manifest,
        files,
        workDir: record.workDir,
        domain: this.registry.domain,
        signingKey: this.options.signingKey,
        salt: record.salt,
        ...(record.fault ? { fault: record.fault } : {}),
        onEvent: e => this.emit(record.runId, e.type, e.message, e.data),
        onServerProcess: p =>
          p ? this.processes.record(record.runId, p) : this.processes.forget(record.runId)
      };
      handle.runtime = this.options.createRuntime(ctx, this.store);
    }
    handle.clock = new RunClock(
      {
        createdAt: record.createdAt,
        escrow: record.escrow,
        pricePerHour: record.pricePerHour,
        limits: this.limits
      },
      {
        warn: (message, data) => this.emit(record.runId, 'budget-warning', message, data),
        end: (end: ClockEnd) => void this.endRun(record.runId, end.state, end.reason)
      }
    );
    return handle;
  }

  private startRuntime(handle: IRunHandle): Promise<void> {
    const { runId } = handle.record;
    if (!handle.runtime) {
      // Service only (--backend none): nothing to start; receipts still anchor and budgets still run.
      this.runs.setState(runId, 'running');
      return Promise.resolve();
    }
    const started = handle.runtime.start().then(
      () => {
        this.runs.setState(runId, 'running');
      },
      async (e: Error) => {
        this.emit(runId, 'error', `the run could not start: ${e.message}`);
        await this.endRun(runId, 'failed', e.message);
        throw e;
      }
    );
    started.catch(() => undefined);
    return started;
  }

  private onReceipt(runId: Hex32): void {
    this.metrics.receiptsTotal.inc();
    const handle = this.handles.get(runId);
    const receipts = this.store.receipts(runId);
    if (handle && receipts.length) {
      handle.outputBytes += JSON.stringify(receipts[receipts.length - 1].outputs).length;
      const max = this.limits.maxOutputBytes;
      if (max > 0 && handle.outputBytes > max) {
        void this.endRun(runId, 'limit', `the output limit of ${max} bytes was exceeded`);
        return;
      }
    }
    this.anchors.noteReceipt(runId);
  }
}
