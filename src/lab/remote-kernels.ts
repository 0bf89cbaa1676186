/**
 * Remote kernels the JupyterLab way (STYLE.md §5): service-manager plugins that replace the stock kernel-spec,
 * kernel and session managers (disabled in package.json) with the same classes over routing API clients
 * (kernel-clients.ts), so AI Network providers appear as kernel specs beside the local kernels in the kernel
 * picker, the launcher and the status bar, and their kernels talk to the provider's run server.
 */
import {
  IKernelManager,
  IKernelSpecManager,
  IServerSettings,
  ISessionManager,
  Kernel,
  KernelConnection,
  KernelManager,
  KernelSpec,
  KernelSpecManager,
  ServerConnection,
  ServiceManagerPlugin,
  Session,
  SessionManager
} from '@jupyterlab/services';
import { AinKernelRouter, IAinKernelRouter } from './kernel-router.js';
import {
  RoutingKernelAPIClient,
  RoutingKernelSpecAPIClient,
  RoutingSessionAPIClient
} from './kernel-clients.js';

/**
 * How often a remote kernel's websocket reconnects before giving up. JupyterLab stops after 7 attempts (about a
 * minute of backoff); a provider's network blip or restart can last longer, and the agent keeps and replays the
 * outputs produced meanwhile.
 */
export const REMOTE_RECONNECT_LIMIT = 60;

/** The routing table, shared by the plugins below and the run pipeline. */
export const kernelRouterPlugin: ServiceManagerPlugin<IAinKernelRouter> = {
  id: 'jupyterlab-ain:kernel-router',
  description: 'Routes AI Network kernels to their providers.',
  autoStart: true,
  provides: IAinKernelRouter,
  activate: (): IAinKernelRouter => new AinKernelRouter()
};

/** The clients the three managers share (one set per page). */
const clients = new WeakMap<
  IAinKernelRouter,
  { specs: RoutingKernelSpecAPIClient; kernels: RoutingKernelAPIClient; sessions: RoutingSessionAPIClient }
>();

function clientsOf(router: IAinKernelRouter, serverSettings: ServerConnection.ISettings | null) {
  let c = clients.get(router);
  if (!c) {
    const settings = serverSettings ?? ServerConnection.makeSettings();
    const kernels = new RoutingKernelAPIClient(settings, router);
    c = {
      specs: new RoutingKernelSpecAPIClient(settings, router),
      kernels,
      sessions: new RoutingSessionAPIClient(settings, router, kernels)
    };
    clients.set(router, c);
  }
  return c;
}

export const kernelSpecManagerPlugin: ServiceManagerPlugin<KernelSpec.IManager> = {
  id: 'jupyterlab-ain:kernel-spec-manager',
  description: 'Kernel specs of the Jupyter server and of the AI Network providers.',
  autoStart: true,
  provides: IKernelSpecManager,
  requires: [IAinKernelRouter],
  optional: [IServerSettings],
  activate: (_: null, router: IAinKernelRouter, serverSettings: ServerConnection.ISettings | null) => {
    const manager = new KernelSpecManager({
      serverSettings: serverSettings ?? undefined,
      kernelSpecAPIClient: clientsOf(router, serverSettings).specs
    });
    router.specsChanged.connect(() => void manager.refreshSpecs().catch(() => undefined));
    return manager;
  }
};

/** A KernelManager whose connections to AI Network kernels use their run server's settings. */
export class AinKernelManager extends KernelManager {
  private readonly _router: IAinKernelRouter;
  private readonly _kernels: RoutingKernelAPIClient;
  private readonly _specs: RoutingKernelSpecAPIClient;

  constructor(options: AinKernelManager.IOptions) {
    super({ ...options, kernelAPIClient: options.kernels, kernelSpecAPIClient: options.specs });
    this._router = options.router;
    this._kernels = options.kernels;
    this._specs = options.specs;
  }

  connectTo(options: Omit<Kernel.IKernelConnection.IOptions, 'serverSettings'>): Kernel.IKernelConnection {
    const server = this._router.serverOfKernel(options.model.id);
    if (!server) {
      return super.connectTo(options);
    }
    const connection = new KernelConnection({
      handleComms: true,
      ...options,
      serverSettings: server.settings,
      kernelAPIClient: this._kernels,
      kernelSpecAPIClient: this._specs
    });
    // JupyterLab offers no option for the limit (jupyterlab#6545): set the field its reconnect loop reads.
    (connection as unknown as { _reconnectLimit: number })._reconnectLimit = REMOTE_RECONNECT_LIMIT;
    return connection;
  }
}

export namespace AinKernelManager {
  export interface IOptions extends KernelManager.IOptions {
    router: IAinKernelRouter;
    kernels: RoutingKernelAPIClient;
    specs: RoutingKernelSpecAPIClient;
  }
}

export const kernelManagerPlugin: ServiceManagerPlugin<Kernel.IManager> = {
  id: 'jupyterlab-ain:kernel-manager',
  description: 'Kernels of the Jupyter server and of the AI Network providers.',
  autoStart: true,
  provides: IKernelManager,
  requires: [IAinKernelRouter],
  optional: [IServerSettings],
  activate: (_: null, router: IAinKernelRouter, serverSettings: ServerConnection.ISettings | null) => {
    const c = clientsOf(router, serverSettings);
    return new AinKernelManager({
      serverSettings: serverSettings ?? undefined,
      router,
      kernels: c.kernels,
      specs: c.specs
    });
  }
};

export const sessionManagerPlugin: ServiceManagerPlugin<Session.IManager> = {
  id: 'jupyterlab-ain:session-manager',
  description: 'Sessions on the Jupyter server and on AI Network providers.',
  autoStart: true,
  provides: ISessionManager,
  requires: [IAinKernelRouter, IKernelManager],
  optional: [IServerSettings],
  activate: (
    _: null,
    router: IAinKernelRouter,
    kernelManager: Kernel.IManager,
    serverSettings: ServerConnection.ISettings | null
  ) =>
    new SessionManager({
      kernelManager,
      serverSettings: serverSettings ?? undefined,
      sessionAPIClient: clientsOf(router, serverSettings).sessions
    })
};
