/**
 * The `gateway` kernel backend: kernels run on a Jupyter Kernel Gateway or Enterprise Gateway that the provider
 * operates (a cluster), reached at a URL with an auth token. The agent does not start or stop the gateway; a run's
 * "server" is the gateway itself, and stopping a run shuts down the kernels it started there.
 *
 * Limits, by the nature of a gateway:
 * - the gateway runs its own kernel specs: the run's uv environment is not used (install what runs need into the
 *   gateway's kernel images/specs); the environment hash is sent as `KERNEL_AIN_ENVIRONMENT_HASH` so a gateway
 *   with matching specs can pick one;
 * - the run's folder is sent as `KERNEL_WORKING_DIR` (Enterprise Gateway starts kernels there; Kernel Gateway
 *   ignores it and uses its own working folder), so artifacts are read from the run's folder only when the gateway
 *   shares this machine's file system;
 * - Kernel Gateway serves kernels and kernel specs, not sessions or contents (`/api/sessions` answers 404);
 * - the round trip pays Nagle + delayed ACK unless the gateway sets TCP_NODELAY (start it with a config that
 *   runs backend-local.ts's NODELAY_PATCH, as the tests do).
 */
import { makeError } from '../core/errors.js';
import type { IBuiltEnvironment, IKernelBackend, IKernelServer } from './tokens.js';

/** Options of GatewayKernelBackend. */
export interface IGatewayBackendOptions {
  /** The gateway's base URL, e.g. http://gateway:8888/ (a trailing slash is added). */
  url: string;
  /** The gateway's auth token (`KG_AUTH_TOKEN` / `EG_AUTH_TOKEN`); empty for none. */
  token?: string;
  /** Give up on the first contact after this many ms (default 10 s). */
  timeoutMs?: number;
}

/** Runs kernels on a Kernel/Enterprise Gateway. */
export class GatewayKernelBackend implements IKernelBackend {
  readonly kind = 'gateway';

  constructor(private readonly options: IGatewayBackendOptions) {}

  async start(options: {
    runId: string;
    workDir: string;
    environment: IBuiltEnvironment;
  }): Promise<IKernelServer> {
    const baseUrl = this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`;
    const token = this.options.token ?? '';
    const headers: Record<string, string> = token ? { Authorization: `token ${token}` } : {};
    // The gateway must answer with its kernel specs before a run is accepted on it.
    let status = 0;
    try {
      const res = await fetch(`${baseUrl}api/kernelspecs`, {
        headers,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000)
      });
      status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      throw makeError(
        'AGENT_GATEWAY_UNREACHABLE',
        `The kernel gateway at ${baseUrl} cannot be reached (${(e as Error).message}). Check the gateway URL and ` +
          'that the gateway is running.',
        { url: baseUrl }
      );
    }
    if (status !== 200) {
      throw makeError(
        'AGENT_GATEWAY_UNREACHABLE',
        `The kernel gateway at ${baseUrl} answered ${status} to GET api/kernelspecs. ` +
          (status === 401 || status === 403 ? "Check the gateway's auth token." : 'Check the gateway URL.'),
        { url: baseUrl, status }
      );
    }
    const started = new Set<string>();
    const server: IKernelServer = {
      baseUrl,
      token,
      kernelEnv: {
        KERNEL_WORKING_DIR: options.workDir,
        KERNEL_AIN_RUN_ID: options.runId,
        KERNEL_AIN_ENVIRONMENT_HASH: options.environment.environmentHash
      },
      onKernelStarted: (id: string) => started.add(id),
      stop: async () => {
        // The gateway outlives the run: shut down only this run's kernels.
        await Promise.all(
          [...started].map(id =>
            fetch(`${baseUrl}api/kernels/${encodeURIComponent(id)}`, { method: 'DELETE', headers }).then(
              r => r.arrayBuffer(),
              () => undefined
            )
          )
        );
        started.clear();
      }
    };
    return server;
  }
}
