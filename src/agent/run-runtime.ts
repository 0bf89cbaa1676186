/**
 * The kernel half of one run (IRunRuntime): detect and build the environment, start the kernel server on the
 * chosen backend, and serve the run's Jupyter API through the proxy that signs a receipt for every execution.
 *
 * The service authenticates every request first and hands it over with the path below `/runs/<id>/jupyter/`;
 * nothing here checks who is calling.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { detectEnvironment, isEnvironmentPath } from '../core/environment.js';
import type { IArtifactLimits } from './artifacts.js';
import { proxyHttp } from './proxy-http.js';
import { KernelWsProxy } from './proxy-ws.js';
import { ReceiptSigner } from './receipt-signer.js';
import { DEFAULT_BUFFER_LIMITS } from './store-receipts.js';
import type {
  IBuiltEnvironment,
  IEnvironmentBuilder,
  IKernelBackend,
  IKernelServer,
  IRunContext,
  IRunRuntime,
  IRunStore
} from './tokens.js';

/** Bounds of a run's kernel half. */
export interface IRunLimits {
  /** Replay buffer per kernel while no client is connected (oldest dropped, with a warning event). */
  bufferMessages?: number;
  bufferBytes?: number;
  /** Artifacts: files larger than this are not committed to (listed in the receipt event); default 256 MiB. */
  maxArtifactBytes?: number;
  /** Artifacts per cell; default 1,000. */
  maxArtifactFiles?: number;
}

/** What a run runtime is built from. */
export interface IRunRuntimeDeps {
  backend: IKernelBackend;
  envBuilder: IEnvironmentBuilder;
  store: IRunStore;
  limits?: IRunLimits;
}

/** A run's runtime with what it has started, for the service's status pages and for tests. */
export interface IRunRuntimeHandle extends IRunRuntime {
  /** Set once start() has built the environment. */
  readonly environment: IBuiltEnvironment | undefined;
  /** Set once start() has started the kernel server. */
  readonly server: IKernelServer | undefined;
  /** Resolves when every finished execution has its receipt stored. */
  settled(): Promise<void>;
}

/** Wires environment builder, kernel backend, proxy and receipt signer for one run. */
export function createRunRuntime(ctx: IRunContext, deps: IRunRuntimeDeps): IRunRuntimeHandle {
  let environment: IBuiltEnvironment | undefined;
  let server: IKernelServer | undefined;
  let signer: ReceiptSigner | undefined;
  let ws: KernelWsProxy | undefined;
  let stopped = false;
  const artifactLimits: Partial<IArtifactLimits> = {
    ...(deps.limits?.maxArtifactBytes ? { maxFileBytes: deps.limits.maxArtifactBytes } : {}),
    ...(deps.limits?.maxArtifactFiles ? { maxFiles: deps.limits.maxArtifactFiles } : {})
  };

  return {
    get environment() {
      return environment;
    },
    get server() {
      return server;
    },

    async start(): Promise<void> {
      const report = detectEnvironment(Private.environmentFiles(ctx.manifest.notebook, ctx.files));
      environment = await deps.envBuilder.build(report, ctx.files, (type, message) =>
        ctx.onEvent({ type, message })
      );
      ctx.onEvent({ type: 'kernel-starting', message: `starting the ${deps.backend.kind} kernel server` });
      server = await deps.backend.start({ runId: ctx.runId, workDir: ctx.workDir, environment });
      if (server.process) {
        ctx.onServerProcess?.(server.process);
      }
      if (stopped) {
        await server.stop();
        ctx.onServerProcess?.(null);
        return;
      }
      signer = new ReceiptSigner(ctx, deps.store, artifactLimits);
      ws = new KernelWsProxy({
        ctx,
        server,
        store: deps.store,
        signer,
        bufferLimits: {
          maxMessages: deps.limits?.bufferMessages ?? DEFAULT_BUFFER_LIMITS.maxMessages,
          maxBytes: deps.limits?.bufferBytes ?? DEFAULT_BUFFER_LIMITS.maxBytes
        }
      });
      ctx.onEvent({
        type: 'kernel-ready',
        message: `the ${deps.backend.kind} kernel server is ready`,
        data: {
          backend: deps.backend.kind,
          environmentHash: environment.environmentHash,
          cached: environment.cached
        }
      });
    },

    handleRequest(req: IncomingMessage, res: ServerResponse, path: string): void {
      if (!server || stopped) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(
          JSON.stringify({ message: "The run's kernel is not ready yet (or has stopped): retry shortly." })
        );
        return;
      }
      const restart = req.method === 'POST' ? /^\/?api\/kernels\/([^/?]+)\/restart/.exec(path) : null;
      if (restart) {
        // A restart ends the kernel's running cell without an idle: its receipt says KernelDied.
        res.on('finish', () => res.statusCode < 300 && ws?.kernelRestarted(decodeURIComponent(restart[1])));
      }
      proxyHttp(server, req, res, path);
    },

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
      if (!ws || stopped) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      ws.handleUpgrade(req, socket, head, path);
    },

    async settled(): Promise<void> {
      await signer?.idle();
    },

    async stop(): Promise<void> {
      if (stopped) {
        return;
      }
      stopped = true;
      await ws?.close();
      await signer?.idle();
      await server?.stop();
      ctx.onServerProcess?.(null);
    }
  };
}

namespace Private {
  /** The environment files of a bundle, relative to the notebook's folder (where detection reads them). */
  export function environmentFiles(
    notebook: string,
    files: ReadonlyMap<string, Uint8Array>
  ): Map<string, Uint8Array> {
    const slash = notebook.lastIndexOf('/');
    const folder = slash < 0 ? '' : notebook.slice(0, slash + 1);
    const out = new Map<string, Uint8Array>();
    for (const [path, bytes] of files) {
      if (path.startsWith(folder) && isEnvironmentPath(path.slice(folder.length))) {
        out.set(path.slice(folder.length), bytes);
      }
    }
    return out;
  }
}
