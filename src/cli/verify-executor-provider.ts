/**
 * A provider's kernel to re-execute cells in (ICellExecutor for `ain verify --reproduce <provider address>`):
 * the same steps as the extension's provisioning (src/lab/runs.ts), from Node — check that the agent answers
 * (before any payment), open the run on-chain with a random nonce and sampling secret, log in with EIP-4361,
 * upload the bundle, wait for the run's kernel, and connect to /runs/{id}/jupyter/ with the agent's token.
 * dispose() stops the run at the agent and closes it on-chain (the escrow is settled after the challenge window).
 *
 * The verifier's own run is an ordinary run: its cells get receipts too, signed by the other provider.
 */
import { randomBytes } from 'node:crypto';
import { ContentsManager, KernelManager } from '@jupyterlab/services';
import { hexlify } from 'ethers';
import { AgentClient, IAgentEvent, probeAgent } from '../chain/agent-client.js';
import { ProviderRegistryClient } from '../chain/provider-registry.js';
import { RunRegistryClient } from '../chain/run-registry.js';
import type { ChainSession } from '../chain/session.js';
import type { Bundle } from '../core/bundle-writer.js';
import { makeError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { KernelExecutor } from '../core/kernel-executor.js';
import type { ICellExecutor } from '../core/verification.js';
import { nodeServerSettings } from './jupyter-settings.js';

export interface IProviderExecutorOptions {
  /** A chain session with the verifier's signer: it pays the escrow and logs in to the agent. */
  session: ChainSession;
  /** The provider's address (registered on the session's ProviderRegistry). */
  provider: string;
  /** The notebook's bundle (what the provider installs and runs). */
  bundle: Bundle;
  /** The escrow, token base units; default the provider's price for 15 minutes. */
  budget?: bigint;
  onProgress?: (line: string) => void;
  /** Give up waiting for the run's kernel after this many ms (default 15 minutes). */
  readyTimeoutMs?: number;
}

export interface IProviderExecutor extends ICellExecutor {
  readonly runId: Hex32;
  readonly endpoint: string;
}

/** Opens a run on `provider` and returns an executor over its kernel. */
export async function startProviderExecutor(options: IProviderExecutorOptions): Promise<IProviderExecutor> {
  const progress = options.onProgress ?? (() => undefined);
  const { session, bundle } = options;
  const providers = new ProviderRegistryClient(session);
  const record = await providers.getProvider(options.provider);
  if (!record.registered || !(await providers.isActive(options.provider))) {
    throw makeError(
      'PROVIDER_REFUSED',
      `${options.provider} is not an active provider on chain ${session.config.chainId}: pick a registered one.`
    );
  }
  const endpoint = record.endpoint.replace(/\/+$/, '');
  const probe = await probeAgent(endpoint, 5000);
  if (!probe.reachable) {
    throw makeError(
      'PROVIDER_UNREACHABLE',
      `The provider ${options.provider} (${endpoint}) does not answer. Nothing was paid; try another provider.`,
      { endpoint }
    );
  }
  const registry = new RunRegistryClient(session);
  const escrow = options.budget ?? (record.pricePerHour * 15n) / 60n;
  progress(`opening a run on ${endpoint}: escrow ${escrow} base units`);
  const opened = await registry.openRun({
    provider: options.provider,
    bundleHash: bundle.bundleHash,
    nonce: BigInt(hexlify(randomBytes(8))),
    samplingSecret: hexlify(randomBytes(32)) as Hex32,
    escrow,
    pricePerHour: record.pricePerHour
  });
  const runId = opened.runId;
  progress(`run ${runId} opened in transaction ${opened.hash}`);
  const agent = new AgentClient({ endpoint, signer: session.requireSigner() });
  const events = new AbortController();
  let manager: KernelManager | undefined;
  const stop = async () => {
    events.abort();
    manager?.dispose();
    await agent.stopRun(runId).catch(() => undefined);
    await registry.closeRun(runId).catch(() => undefined);
    agent.dispose();
  };
  try {
    await agent.login();
    progress('uploading the bundle');
    await agent.createRun(runId, bundle.bytes);
    await Private.waitReady(agent, runId, events.signal, progress, options.readyTimeoutMs ?? 15 * 60_000);
    const base = `${endpoint}/runs/${runId}/jupyter/`;
    const settings = nodeServerSettings(base, agent.token ?? '');
    // The agent's token is refreshed before it expires: later REST calls and websocket reconnections use the new one.
    agent.onToken(token => ((settings as { token: string }).token = token));
    manager = new KernelManager({ serverSettings: settings });
    const kernel = await manager.startNew({ name: 'python3' });
    await kernel.info;
    const contents = new ContentsManager({ serverSettings: settings });
    progress(`the provider's kernel is ready (run ${runId})`);
    let disposed = false;
    const executor = new KernelExecutor({
      kernel,
      label: `provider ${options.provider} at ${endpoint}`,
      writeFile: (path, bytes) => Private.upload(contents, path, bytes),
      async dispose() {
        if (disposed) {
          return;
        }
        disposed = true;
        await kernel.shutdown().catch(() => undefined);
        await stop();
      }
    });
    return Object.assign(executor, { runId, endpoint });
  } catch (e) {
    await stop();
    throw e;
  }
}

namespace Private {
  /** Follows the run's events until its kernel is ready; progress lines for the environment build. */
  export function waitReady(
    agent: AgentClient,
    runId: Hex32,
    signal: AbortSignal,
    progress: (line: string) => void,
    timeoutMs: number
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            makeError(
              'PROVIDER_REFUSED',
              `The provider did not get the run's kernel ready within ${Math.round(timeoutMs / 60_000)} minutes.`
            )
          ),
        timeoutMs
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        f();
      };
      void agent.followEvents(
        runId,
        (e: IAgentEvent) => {
          if (e.type !== 'receipt' && e.type !== 'environment-log') {
            progress(`provider: ${e.message}`);
          }
          if (e.type === 'kernel-ready') {
            done(resolve);
          } else if (e.type === 'error' || e.type === 'environment-failed') {
            done(() =>
              reject(makeError('PROVIDER_REFUSED', `The provider could not start the run: ${e.message}`))
            );
          }
        },
        signal
      );
    });
  }

  /** Writes a file through the Jupyter contents API, creating its folders first. */
  export async function upload(contents: ContentsManager, path: string, bytes: Uint8Array): Promise<void> {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      await contents.get(dir, { content: false }).catch(() => contents.save(dir, { type: 'directory' }));
    }
    await contents.save(path, {
      type: 'file',
      format: 'base64',
      content: Buffer.from(bytes).toString('base64')
    });
  }
}
