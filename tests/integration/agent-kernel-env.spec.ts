/**
 * Real uv environments from PyPI: a requirements.txt built once (concurrent builds of one hash share the work,
 * the next run reuses it), a kernel that runs in it, and the clear errors of a refused or failing environment.
 */
import { KernelManager, KernelMessage } from '@jupyterlab/services';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectEnvironment } from '../../src/core/environment';
import { isAinError } from '../../src/core/errors';
import { LocalKernelBackend } from '../../src/agent/backend-local';
import { UvEnvironmentBuilder } from '../../src/agent/env-builder-uv';
import { createRunRuntime } from '../../src/agent/run-runtime';
import type { IRunEvent } from '../../src/agent/tokens';
import { ENV_CACHE, leftoversAfter, testBuilder, testRun, TestRouter } from './agent-kernel-fixture';

jest.setTimeout(240_000);

const UV = join(__dirname, '..', '..', '.venv', 'bin', 'uv');
const cacheDir = mkdtempSync(join(tmpdir(), 'ain-agent-envs-'));

afterAll(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

function files(entries: Record<string, string>): Map<string, Uint8Array> {
  return new Map(Object.entries(entries).map(([p, t]) => [p, new TextEncoder().encode(t)]));
}

test('a requirements.txt is built once with uv, reused after, and the kernel runs in it', async () => {
  // A fresh environment folder, but uv's package cache shared with the other tests: nothing re-downloaded.
  const builder = new UvEnvironmentBuilder({ cacheDir, uvCacheDir: join(ENV_CACHE, 'uv-cache'), uv: UV });
  const bundle = files({ 'requirements.txt': 'tabulate==0.9.0\n' });
  const report = detectEnvironment(bundle);
  const events: [IRunEvent['type'], string][] = [];
  const onEvent = (type: IRunEvent['type'], message: string) => events.push([type, message]);
  const [a, b] = await Promise.all([
    builder.build(report, bundle, onEvent),
    builder.build(report, bundle, onEvent)
  ]);
  expect(a).toEqual(b);
  expect(a.cached).toBe(false);
  expect(events.filter(([t]) => t === 'environment-ready')).toHaveLength(1);
  expect(events.some(([t, m]) => t === 'environment-log' && /tabulate/.test(m))).toBe(true);
  expect(readdirSync(cacheDir).filter(n => n.includes('.tmp-') || n.endsWith('.lock'))).toEqual([]);
  const again = await builder.build(report, bundle, onEvent);
  expect(again).toEqual({ ...a, cached: true });
  expect(events[events.length - 1][0]).toBe('environment-cached');

  // The same environment through a run: the kernel imports the package from the built venv.
  const run = testRun({ 'main.ipynb': '{}', 'requirements.txt': 'tabulate==0.9.0\n' });
  const runtime = createRunRuntime(run.ctx, {
    backend: new LocalKernelBackend(),
    envBuilder: builder,
    store: run.store
  });
  try {
    await runtime.start();
    expect(runtime.environment).toEqual({ ...a, cached: true });
    const router = await new TestRouter(runtime).listen();
    const manager = new KernelManager({ serverSettings: router.settings() });
    const kernel = await manager.startNew({ name: 'python3' });
    await kernel.info;
    let text = '';
    const future = kernel.requestExecute({
      code: 'import sys, tabulate\nprint(tabulate.__version__, sys.prefix)'
    });
    future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
      if (msg.header.msg_type === 'stream') {
        text += (msg.content as { text: string }).text;
      }
    };
    await future.done;
    expect(text.trim()).toBe(`0.9.0 ${a.prefix}`);
    await kernel.shutdown();
    manager.dispose();
    await router.close();
  } finally {
    await runtime.stop();
    expect(await leftoversAfter(run.dir)).toEqual([]);
    run.cleanup();
  }
});

test('a half-built environment folder (no completion marker) is never reused', async () => {
  const builder = testBuilder();
  const bundle = files({});
  const report = detectEnvironment(bundle);
  const ok = await builder.build(report, bundle, () => undefined);
  // Simulate a folder left by a build that crashed before completion for another hash.
  const other = { ...report, environmentHash: '0x' + 'ab'.repeat(32) };
  const prefix = (builder as UvEnvironmentBuilder).prefixOf(other.environmentHash);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  const built = await builder.build(other, bundle, () => undefined);
  expect(built.cached).toBe(false);
  expect(existsSync(built.python)).toBe(true);
  expect(ok.prefix).not.toBe(built.prefix);
  rmSync(prefix, { recursive: true, force: true });
});

test('a refused requirement fails the run with the reason, before anything is built', async () => {
  const run = testRun({ 'main.ipynb': '{}', 'requirements.txt': 'git+https://github.com/psf/requests\n' });
  const runtime = createRunRuntime(run.ctx, {
    backend: new LocalKernelBackend(),
    envBuilder: testBuilder(),
    store: run.store
  });
  const error = await runtime.start().then(
    () => undefined,
    (e: unknown) => e
  );
  expect(isAinError(error, 'AGENT_ENV_REFUSED')).toBe(true);
  expect((error as Error).message).toMatch(/requirements\.txt:1: .*git\+https/);
  expect(run.events.map(e => e.type)).toEqual(['environment-failed']);
  await runtime.stop();
  run.cleanup();
});

test('a build that fails reports the reason and the tail of the uv log', async () => {
  const builder = new UvEnvironmentBuilder({ cacheDir, uvCacheDir: join(ENV_CACHE, 'uv-cache'), uv: UV });
  const bundle = files({ 'requirements.txt': 'ain-no-such-package-4e1f9c==1.0\n' });
  const error = await builder
    .build(detectEnvironment(bundle), bundle, () => undefined)
    .then(
      () => undefined,
      (e: unknown) => e
    );
  expect(isAinError(error, 'AGENT_ENV_BUILD_FAILED')).toBe(true);
  expect((error as Error).message).toMatch(/ain-no-such-package-4e1f9c/);
  expect(readdirSync(cacheDir).filter(n => n.includes('.tmp-') || n.endsWith('.lock'))).toEqual([]);
});
