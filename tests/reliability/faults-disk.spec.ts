/**
 * Fault: the disk fills up during a run's environment build. The agent's environment folder is a real 30 MiB
 * tmpfs mounted for the test (an environment with ipykernel takes about 80 MiB), so uv fails with ENOSPC half-way
 * through the install. Promised: a clear error to the client (an environment-failed event and the run failed with
 * the reason), nothing half-built left in the cache, and once there is space (the tmpfs grown in place) the same
 * environment builds and a run starts on it. uv's package cache is the kernel tests' (on the real disk, warm),
 * so nothing is downloaded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Hex32 } from '../../src/core/hash';
import { LocalKernelBackend } from '../../src/agent/backend-local';
import { UvEnvironmentBuilder } from '../../src/agent/env-builder-uv';
import { createLogger } from '../../src/agent/metrics';
import { createRunRuntime } from '../../src/agent/run-runtime';
import { IChainFixture, TOKEN, startChainFixture } from '../integration/chain-fixture';
import {
  IInProcessAgent,
  call,
  makeBundle,
  openRun,
  readSse,
  registerProvider,
  startAgent,
  waitFor
} from '../integration/agent-service-fixture';
import { ENV_CACHE, leftoversAfter } from '../integration/agent-kernel-fixture';
import { recordCase } from './record';

jest.setTimeout(180_000);

let chain: IChainFixture;
let dir: string;
let envDir: string;
let mounted = false;
let fixture: IInProcessAgent;
let base: string;
let token: string;

beforeAll(async () => {
  chain = await startChainFixture();
  dir = mkdtempSync(path.join(tmpdir(), 'ain-fault-disk-'));
  envDir = path.join(dir, 'environments');
  mkdirSync(envDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=30m', 'tmpfs', envDir]);
  mounted = true;
  await registerProvider(chain.provider, 'http://127.0.0.1:1');
  const backend = new LocalKernelBackend();
  const envBuilder = new UvEnvironmentBuilder({
    cacheDir: envDir,
    uvCacheDir: path.join(ENV_CACHE, 'uv-cache'),
    uv: path.join(__dirname, '..', '..', '.venv', 'bin', 'uv')
  });
  fixture = await startAgent(chain, {
    dataDir: path.join(dir, 'agent'),
    pricePerHour: TOKEN(3600),
    createRuntime: (ctx, store) => createRunRuntime(ctx, { backend, envBuilder, store }),
    logger: createLogger({ level: 'error' })
  });
  ({ base, token } = fixture);
});

afterAll(async () => {
  await fixture?.close();
  await chain?.stop();
  if (mounted) {
    execFileSync('umount', [envDir]);
  }
  expect(await leftoversAfter(dir)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

async function startRun(tag: string): Promise<Hex32> {
  const bundle = makeBundle(tag);
  const runId = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(600));
  expect((await call(base, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes })).status).toBe(201);
  return runId;
}

async function settled(runId: Hex32): Promise<{ state: string; reason: string | null }> {
  return (await waitFor(
    async () => {
      const run = (await call(base, 'GET', `/runs/${runId}`, { token })).json;
      return run.state === 'starting' ? undefined : run;
    },
    150_000,
    'the run to start or fail'
  ))!;
}

test('the disk fills during an environment build: a clear error, no half-built environment, a later build succeeds', async () => {
  const startedAt = Date.now();
  const first = await startRun('disk-full');
  const failed = await settled(first);
  const failS = (Date.now() - startedAt) / 1000;
  expect(failed.state).toBe('failed');
  expect(failed.reason).toMatch(/Building the environment failed/);
  expect(failed.reason).toMatch(/No space left on device/);
  const events = await readSse(`${base}/runs/${first}/events?follow=false`, token);
  const failedEvent = events.find(e => e.event === 'environment-failed');
  expect(failedEvent?.data.message).toMatch(/No space left on device/);
  // Nothing half-built stays behind: no environment folder, no temporary build folder, no lock.
  expect(readdirSync(envDir).filter(f => f !== 'lost+found')).toEqual([]);

  // Space again (the filesystem grown in place): the same environment builds, completely, and a run starts.
  execFileSync('mount', ['-o', 'remount,size=300m', envDir]);
  const second = await startRun('disk-space');
  const ok = await settled(second);
  expect(ok.state).toBe('running');
  const ready = (await readSse(`${base}/runs/${second}/events?follow=false`, token)).find(
    e => e.event === 'kernel-ready'
  );
  expect(ready?.data.data.cached).toBe(false);
  const built = readdirSync(envDir);
  expect(built).toHaveLength(1);
  expect(existsSync(path.join(envDir, built[0], '.ain-environment.json'))).toBe(true);
  expect((await call(base, 'POST', `/runs/${second}/stop`, { token })).json.state).toBe('stopped');

  recordCase({
    id: 'faults.disk-full',
    area: 'faults',
    case: "The disk full during a run's uv environment build (a 30 MiB tmpfs for the environment folder)",
    tried: 1,
    survived: 1,
    lost: 0,
    figure:
      `ENOSPC: run failed after ${failS.toFixed(1)} s with "No space left on device" in its reason and an ` +
      'environment-failed event; 0 half-built folders left; the same environment built after space was freed',
    note:
      'A real ENOSPC (tmpfs mounted by the test, as root). A build goes into a temporary folder that is removed ' +
      'on failure and renamed into place only complete, with its marker file (env-builder-uv.ts).'
  });
});
