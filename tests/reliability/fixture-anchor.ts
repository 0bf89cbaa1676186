/**
 * The anchoring queue's test bed, shared by the anchoring specs: a real anvil with the provider registered, an
 * agent database and receipt store, runs opened on-chain with signed receipts, and the agent's real AnchorQueue
 * over them with checkpoints queued by hand (no count or timer policy), so a spec decides when each one is due.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SigningKey } from 'ethers';
import type { Hex32 } from '../../src/core/hash';
import { AnchorQueue, IAnchorQueueOptions } from '../../src/agent/anchor-queue';
import { AgentDatabase, openDatabase } from '../../src/agent/database';
import { AgentMetrics, createLogger } from '../../src/agent/metrics';
import { ReceiptStore } from '../../src/agent/store-receipts';
import { IChainFixture, TOKEN, startChainFixture } from '../integration/chain-fixture';
import { appendReceipts, makeBundle, openRun, registerProvider } from '../integration/agent-service-fixture';

export interface IAnchorBed {
  chain: IChainFixture;
  db: AgentDatabase;
  store: ReceiptStore;
  /** Opens `count` runs of the chain fixture's client, each with `receipts` receipts signed by the provider. */
  openRuns(count: number, receipts: number, tag: string): Promise<Hex32[]>;
  /** `n` more signed receipts of a run. */
  addReceipts(runId: Hex32, n: number): void;
  /** The agent's queue over the bed's runs `runIds`, queuing by hand only; `options` override the rest. */
  queue(runIds: Hex32[], options?: Partial<IAnchorQueueOptions>): AnchorQueue;
  close(): Promise<void>;
}

export async function startAnchorBed(prefix: string): Promise<IAnchorBed> {
  const dir = mkdtempSync(path.join(tmpdir(), `ain-${prefix}-`));
  const chain = await startChainFixture();
  await registerProvider(chain.provider, 'http://127.0.0.1:9000');
  const db = openDatabase(path.join(dir, 'agent.sqlite'));
  const store = new ReceiptStore(db);
  const key = new SigningKey(chain.provider.key);
  const addReceipts = (runId: Hex32, n: number) =>
    appendReceipts(store, runId, n, chain.provider.runs.domain, key);
  return {
    chain,
    db,
    store,
    addReceipts,
    async openRuns(count, receipts, tag) {
      const runIds: Hex32[] = [];
      for (let r = 0; r < count; r++) {
        const bundle = makeBundle(`${tag} ${r}`);
        const runId = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(600));
        addReceipts(runId, receipts);
        runIds.push(runId);
      }
      return runIds;
    },
    queue: (runIds, options = {}) =>
      new AnchorQueue({
        db,
        store,
        registry: chain.provider.runs,
        everyReceipts: 0,
        everySeconds: 0,
        activeRuns: () => runIds.map(runId => ({ runId, since: Date.now() })),
        onEvent: () => undefined,
        logger: createLogger({ level: 'error' }),
        metrics: new AgentMetrics(),
        ...options
      }),
    async close() {
      db.close();
      await chain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
