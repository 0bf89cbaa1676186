/**
 * REST clients that route JupyterLab's kernel-spec, kernel and session calls: local kernels to the Jupyter server
 * as before, AI Network kernels to their provider's run server. The stock managers use them unchanged
 * (KernelSpecManager, KernelManager and SessionManager accept API clients since @jupyterlab/services 7.4).
 *
 * A notebook's session keeps one id for its whole life, whichever backend serves it: SessionConnection keeps the
 * id it was created with, so when the kernel moves to a provider (or back), the visible id stays and only the
 * route behind it changes. Remote models are rewritten to the local path and the provider's kernel spec name, so
 * the kernel picker, the status bar and SessionContext see one notebook with one session.
 */
import {
  Kernel,
  KernelAPI,
  KernelSpec,
  KernelSpecAPI,
  ServerConnection,
  Session,
  SessionAPI
} from '@jupyterlab/services';
import { isLabError, labError } from './errors.js';
import type { IAinKernelRouter, IAinRemoteServer } from './kernel-router.js';

type KernelAPIClient = KernelAPI.KernelAPIClient;
const KernelAPIClient = KernelAPI.KernelAPIClient;
type KernelSpecAPIClient = KernelSpecAPI.KernelSpecAPIClient;
const KernelSpecAPIClient = KernelSpecAPI.KernelSpecAPIClient;
type SessionAPIClient = SessionAPI.SessionAPIClient;
const SessionAPIClient = SessionAPI.SessionAPIClient;

/** The kernel name of the run servers (the agent's local backend offers `python3` only). */
const REMOTE_KERNEL = 'python3';

/** Kernel specs: the server's plus one per provider. */
export class RoutingKernelSpecAPIClient implements KernelSpec.IKernelSpecAPIClient {
  readonly serverSettings: ServerConnection.ISettings;
  private readonly _local: KernelSpecAPIClient;

  constructor(
    serverSettings: ServerConnection.ISettings,
    private readonly _router: IAinKernelRouter
  ) {
    this.serverSettings = serverSettings;
    this._local = new KernelSpecAPIClient({ serverSettings });
  }

  async get(): Promise<KernelSpec.ISpecModels> {
    const local = await this._local.get();
    return { default: local.default, kernelspecs: { ...local.kernelspecs, ...this._router.specs() } };
  }
}

/** Kernels: by id to the run server that holds them, else to the Jupyter server. */
export class RoutingKernelAPIClient implements Kernel.IKernelAPIClient {
  readonly serverSettings: ServerConnection.ISettings;
  private readonly _local: KernelAPIClient;
  private readonly _remote = new WeakMap<IAinRemoteServer, KernelAPIClient>();
  private readonly _lastKnown = new Map<string, Kernel.IModel>();

  constructor(
    serverSettings: ServerConnection.ISettings,
    private readonly _router: IAinKernelRouter
  ) {
    this.serverSettings = serverSettings;
    this._local = new KernelAPIClient({ serverSettings });
  }

  /** The REST client of a run server. */
  remote(server: IAinRemoteServer): KernelAPIClient {
    let client = this._remote.get(server);
    if (!client) {
      client = new KernelAPIClient({ serverSettings: server.settings });
      this._remote.set(server, client);
    }
    return client;
  }

  async listRunning(): Promise<Kernel.IModel[]> {
    const local = await this._local.listRunning();
    const remote = await Promise.all(
      this.remoteKernelIds().map(async id => {
        const server = this._router.serverOfKernel(id)!;
        try {
          const model = await this.remote(server).getModel(id);
          this._router.reportStatus(server, null);
          return model ? this.rename(model, server) : undefined;
        } catch (e) {
          // The provider is unreachable: keep showing the kernel (its connection reconnects) and say so.
          this._router.reportStatus(server, e);
          return this._lastKnown.get(id);
        }
      })
    );
    return [...local, ...remote.filter((m): m is Kernel.IModel => m !== undefined)];
  }

  async getModel(id: string): Promise<Kernel.IModel | undefined> {
    const server = this._router.serverOfKernel(id);
    if (!server) {
      return this._local.getModel(id);
    }
    const model = await this.remote(server).getModel(id);
    return model ? this.rename(model, server) : undefined;
  }

  async startNew(options: Kernel.IKernelOptions = {}): Promise<Kernel.IModel> {
    if (this._router.isAinSpec(options.name)) {
      throw labError(
        'LAB_NO_NOTEBOOK',
        'AI Network kernels run a notebook: open a notebook and choose the provider in its kernel picker or ' +
          'with "Run on AI Network".'
      );
    }
    return this._local.startNew(options);
  }

  async restart(id: string): Promise<void> {
    const server = this._router.serverOfKernel(id);
    return server ? this.remote(server).restart(id) : this._local.restart(id);
  }

  async interrupt(id: string): Promise<void> {
    const server = this._router.serverOfKernel(id);
    return server ? this.remote(server).interrupt(id) : this._local.interrupt(id);
  }

  async shutdown(id: string): Promise<void> {
    const server = this._router.serverOfKernel(id);
    return server ? this.remote(server).shutdown(id) : this._local.shutdown(id);
  }

  private remoteKernelIds(): string[] {
    return [...this._lastKnown.keys()].filter(id => this._router.serverOfKernel(id) !== undefined);
  }

  /** Shows a run server's kernel under its provider's spec name, and remembers it. */
  rename(model: Kernel.IModel, server: IAinRemoteServer): Kernel.IModel {
    const renamed = { ...model, name: server.specName };
    this._lastKnown.set(model.id, renamed);
    return renamed;
  }

  /** Forgets a kernel that ended. */
  forget(id: string): void {
    this._lastKnown.delete(id);
  }
}

/** Where a visible session id really lives. */
interface IRoute {
  server: IAinRemoteServer | null;
  realId: string;
  lastKnown?: Session.IModel;
}

/** Sessions: local ones pass through; AI Network ones go to their run server under a stable visible id. */
export class RoutingSessionAPIClient implements Session.ISessionAPIClient {
  readonly serverSettings: ServerConnection.ISettings;
  private readonly _local: SessionAPIClient;
  private readonly _remote = new WeakMap<IAinRemoteServer, SessionAPIClient>();
  private readonly _routes = new Map<string, IRoute>();
  private readonly _specs: KernelSpecAPIClient;

  constructor(
    serverSettings: ServerConnection.ISettings,
    private readonly _router: IAinKernelRouter,
    private readonly _kernels: RoutingKernelAPIClient
  ) {
    this.serverSettings = serverSettings;
    this._local = new SessionAPIClient({ serverSettings });
    this._specs = new KernelSpecAPIClient({ serverSettings });
  }

  async listRunning(): Promise<Session.IModel[]> {
    const local = await this._local.listRunning();
    const visibleOf = new Map<string, string>();
    for (const [visible, route] of this._routes) {
      if (route.server === null) {
        visibleOf.set(route.realId, visible);
      }
    }
    const out = local.map(m => ({ ...m, id: visibleOf.get(m.id) ?? m.id }));
    for (const [visible, route] of this._routes) {
      if (route.server) {
        const model = await this.remoteModel(visible, route);
        if (model) {
          out.push(model);
        }
      }
    }
    return out;
  }

  async getModel(id: string): Promise<Session.IModel> {
    const route = this._routes.get(id);
    if (!route) {
      return this._local.getModel(id);
    }
    if (!route.server) {
      return { ...(await this._local.getModel(route.realId)), id };
    }
    const model = await this.remoteModel(id, route);
    if (!model) {
      throw labError('LAB_RUN_FAILED', `The session of ${route.server.path} ended at its provider.`);
    }
    return model;
  }

  async startNew(options: Session.ISessionOptions): Promise<Session.IModel> {
    const name = options.kernel?.name;
    if (!this._router.isAinSpec(name)) {
      return this._local.startNew(options);
    }
    let server: IAinRemoteServer;
    try {
      server = await this._router.provision(options.path, name!);
    } catch (e) {
      if (!isLabError(e, 'LAB_CANCELLED')) {
        throw e;
      }
      // JupyterLab ends the old session before it asks for the new one: a cancelled choice gets the default local
      // kernel back instead of leaving the notebook without one.
      const specs = await this._specs.get();
      return this._local.startNew({ ...options, kernel: { name: specs.default } });
    }
    const model = await this.startRemote(server, options);
    this._routes.set(model.id, { server, realId: model.id });
    return this.rewrite(model, model.id, server);
  }

  async update(
    model: Pick<Session.IModel, 'id'> &
      Partial<Omit<Session.IModel, 'id' | 'kernel'>> & {
        kernel?: Partial<Kernel.IModel>;
      }
  ): Promise<Session.IModel> {
    const id = model.id;
    const route = this._routes.get(id) ?? { server: null, realId: id };
    const wanted = model.kernel?.name;
    const changesKernel = wanted !== undefined && model.kernel?.id === undefined;
    if (changesKernel && this._router.isAinSpec(wanted) && route.server?.specName !== wanted) {
      // Local (or another provider) -> this provider: start there first, then let the old kernel go.
      const current = await this.getModel(id);
      let server: IAinRemoteServer;
      try {
        server = await this._router.provision(current.path, wanted!);
      } catch (e) {
        if (isLabError(e, 'LAB_CANCELLED')) {
          return current; // cancelled in the confirmation: the notebook keeps its kernel
        }
        throw e;
      }
      const started = await this.startRemote(server, {
        path: current.path,
        name: current.name,
        type: current.type
      });
      await this.endRoute(route);
      this._routes.set(id, { server, realId: started.id });
      return this.rewrite(started, id, server);
    }
    if (changesKernel && !this._router.isAinSpec(wanted) && route.server) {
      // Provider -> a local kernel: the notebook gets a local session again under the same visible id.
      const current = await this.getModel(id);
      const started = await this._local.startNew({
        path: current.path,
        name: current.name,
        type: current.type,
        kernel: { name: wanted! }
      });
      await this.endRoute(route);
      this._routes.set(id, { server: null, realId: started.id });
      return { ...started, id };
    }
    if (!route.server) {
      const updated = await this._local.update({ ...model, id: route.realId } as Parameters<
        SessionAPIClient['update']
      >[0]);
      return { ...updated, id };
    }
    // A rename or a new kernel of the same provider: paths differ on the run server, so only the kernel goes there.
    if (model.path) {
      route.server.path = model.path;
    }
    if (changesKernel) {
      const updated = await this.remote(route.server).update({
        id: route.realId,
        kernel: { name: REMOTE_KERNEL }
      });
      return this.rewrite(updated, id, route.server);
    }
    return this.getModel(id);
  }

  async shutdown(id: string): Promise<void> {
    const route = this._routes.get(id);
    if (!route) {
      return this._local.shutdown(id);
    }
    this._routes.delete(id);
    await this.endRoute(route);
  }

  private remote(server: IAinRemoteServer): SessionAPIClient {
    let client = this._remote.get(server);
    if (!client) {
      client = new SessionAPIClient({ serverSettings: server.settings });
      this._remote.set(server, client);
    }
    return client;
  }

  private async startRemote(
    server: IAinRemoteServer,
    options: Pick<Session.ISessionOptions, 'name' | 'type'> & { path: string }
  ): Promise<Session.IModel> {
    return this.remote(server).startNew({
      path: server.remotePath,
      name: options.name || server.remotePath,
      type: options.type || 'notebook',
      kernel: { name: REMOTE_KERNEL }
    });
  }

  /** Shuts the session behind a route down; an unreachable provider does not keep the notebook from moving on. */
  private async endRoute(route: IRoute): Promise<void> {
    if (!route.server) {
      await this._local.shutdown(route.realId).catch(() => undefined);
      return;
    }
    const kernelId = route.lastKnown?.kernel?.id;
    await this.remote(route.server)
      .shutdown(route.realId)
      .catch(() => undefined);
    if (kernelId) {
      this._kernels.forget(kernelId);
    }
    this._router.detach(route.server);
  }

  private async remoteModel(visible: string, route: IRoute): Promise<Session.IModel | undefined> {
    try {
      const model = await this.remote(route.server!).getModel(route.realId);
      this._router.reportStatus(route.server!, null);
      return this.rewrite(model, visible, route.server!);
    } catch (e) {
      const status = (e as { response?: Response }).response?.status;
      if (status === 404) {
        this._routes.delete(visible);
        return undefined;
      }
      // Unreachable: keep the last model so JupyterLab keeps the notebook's session while the kernel reconnects.
      this._router.reportStatus(route.server!, e);
      return route.lastKnown;
    }
  }

  /** A run server's session as JupyterLab should see it: the visible id, the local path, the provider's spec. */
  private rewrite(model: Session.IModel, visible: string, server: IAinRemoteServer): Session.IModel {
    const kernel = model.kernel ? this._kernels.rename(model.kernel, server) : null;
    if (kernel) {
      this._router.bindKernel(kernel.id, server);
    }
    const rewritten: Session.IModel = { ...model, id: visible, path: server.path, kernel };
    const route = this._routes.get(visible);
    if (route) {
      route.lastKnown = rewritten;
    }
    return rewritten;
  }
}
