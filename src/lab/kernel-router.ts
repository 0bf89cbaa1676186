/**
 * The routing table between JupyterLab's kernel services and AI Network providers. The service-manager plugins
 * (remote-kernels.ts) consult it to list each provider as a kernel spec and to send a kernel's REST calls and
 * websocket to the run server of its provider; the run pipeline (runs.ts) fills it with providers and, when a
 * provider's spec is chosen, provisions the run (after the user confirms) and hands back the run's server.
 */
import { KernelSpec, ServerConnection } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';
import { formatTokens } from './display.js';
import type { Hex32 } from '../core/hash.js';
import { labError } from './errors.js';
import type { IAinProviderListing } from './tokens.js';

/** The kernel name of every provider's spec starts with this. */
export const AIN_SPEC_PREFIX = 'ain-';

/** The run server of a notebook on a provider: where its kernel lives and how to reach it. */
export interface IAinRemoteServer {
  readonly runId: Hex32;
  readonly specName: string;
  readonly provider: IAinProviderListing;
  /** The notebook's local path (kept current on renames). */
  path: string;
  /** The notebook's path inside the run's folder on the provider. */
  readonly remotePath: string;
  /** Base URL `<endpoint>/runs/<id>/jupyter/` with the agent token; the token is replaced on refresh. */
  readonly settings: ServerConnection.ISettings;
}

/** What the router is asked to do when a provider's kernel spec is chosen for a notebook. */
export type Provisioner = (path: string, provider: IAinProviderListing) => Promise<IAinRemoteServer>;

/** The routing table (one per JupyterLab page). */
export interface IAinKernelRouter {
  readonly specsChanged: ISignal<IAinKernelRouter, void>;
  /** Reported when a provider's run server stops answering (and again when it answers). */
  readonly serverStatus: ISignal<IAinKernelRouter, { server: IAinRemoteServer; error: unknown | null }>;
  /** Who provisions a run for a notebook (the run pipeline sets it at activation). */
  provisioner: Provisioner | null;
  setProviders(providers: readonly IAinProviderListing[]): void;
  providers(): readonly IAinProviderListing[];
  /** The kernel specs of the providers, by name. */
  specs(): Record<string, KernelSpec.ISpecModel>;
  isAinSpec(name: string | undefined): boolean;
  specName(provider: IAinProviderListing): string;
  /** A server provisioned ahead (the "Run on AI Network" flow): the next request for `path` takes it. */
  prepare(server: IAinRemoteServer): void;
  /** The server for `path` on the provider of `specName`: a prepared one, or a new one from the provisioner. */
  provision(path: string, specName: string): Promise<IAinRemoteServer>;
  bindKernel(kernelId: string, server: IAinRemoteServer): void;
  serverOfKernel(kernelId: string): IAinRemoteServer | undefined;
  /** Forgets the kernels of a server whose session went back to a local kernel or ended. */
  detach(server: IAinRemoteServer): void;
  reportStatus(server: IAinRemoteServer, error: unknown | null): void;
}

/** The token of the routing table: provided by a service-manager plugin, used by the run pipeline. */
export const IAinKernelRouter = new Token<IAinKernelRouter>(
  'jupyterlab-ain:IAinKernelRouter',
  'Routes AI Network kernels to their providers.'
);

/** The kernel spec name of a provider: stable across prices and endpoints. */
export function providerSpecName(address: string): string {
  return `${AIN_SPEC_PREFIX}${address.toLowerCase()}`;
}

/** A short name for a provider: its capability document's `name`, else its shortened address. */
export function providerLabel(provider: Pick<IAinProviderListing, 'address' | 'capabilities'>): string {
  try {
    const name = (JSON.parse(provider.capabilities || '{}') as { name?: unknown }).name;
    if (typeof name === 'string' && name.trim()) {
      return name.trim().slice(0, 40);
    }
  } catch {
    // not JSON: fall back to the address
  }
  return `${provider.address.slice(0, 6)}…${provider.address.slice(-4)}`;
}

/** The kernel spec of a provider: "AI Network · <provider> · <price>/h", Python, with the offer as metadata. */
export function providerSpec(provider: IAinProviderListing): KernelSpec.ISpecModel {
  return {
    name: providerSpecName(provider.address),
    display_name: `AI Network · ${providerLabel(provider)} · ${formatTokens(provider.pricePerHour)} AIN/h`,
    language: 'python',
    argv: [],
    env: {},
    resources: { 'logo-svg': Private.LOGO, 'logo-64x64': Private.LOGO },
    metadata: {
      ain: {
        provider: provider.address,
        endpoint: provider.endpoint,
        pricePerHour: provider.pricePerHour,
        reachable: provider.reachable
      }
    }
  };
}

/** The routing table. */
export class AinKernelRouter implements IAinKernelRouter {
  provisioner: Provisioner | null = null;
  private _providers: IAinProviderListing[] = [];
  private readonly _prepared = new Map<string, IAinRemoteServer>();
  private readonly _kernels = new Map<string, IAinRemoteServer>();
  private readonly _specsChanged = new Signal<IAinKernelRouter, void>(this);
  private readonly _serverStatus = new Signal<
    IAinKernelRouter,
    { server: IAinRemoteServer; error: unknown | null }
  >(this);

  get specsChanged(): ISignal<IAinKernelRouter, void> {
    return this._specsChanged;
  }

  get serverStatus(): ISignal<IAinKernelRouter, { server: IAinRemoteServer; error: unknown | null }> {
    return this._serverStatus;
  }

  setProviders(providers: readonly IAinProviderListing[]): void {
    this._providers = [...providers];
    this._specsChanged.emit();
  }

  providers(): readonly IAinProviderListing[] {
    return this._providers;
  }

  specs(): Record<string, KernelSpec.ISpecModel> {
    return Object.fromEntries(this._providers.map(p => [providerSpecName(p.address), providerSpec(p)]));
  }

  isAinSpec(name: string | undefined): boolean {
    return typeof name === 'string' && name.startsWith(AIN_SPEC_PREFIX);
  }

  specName(provider: IAinProviderListing): string {
    return providerSpecName(provider.address);
  }

  prepare(server: IAinRemoteServer): void {
    this._prepared.set(server.path, server);
  }

  async provision(path: string, specName: string): Promise<IAinRemoteServer> {
    const prepared = this._prepared.get(path);
    if (prepared && prepared.specName === specName) {
      this._prepared.delete(path);
      return prepared;
    }
    const provider = this._providers.find(p => providerSpecName(p.address) === specName);
    if (!provider) {
      throw labError(
        'LAB_PROVIDER_UNKNOWN',
        `No provider ${specName.slice(AIN_SPEC_PREFIX.length)} in the registry any more. Refresh the providers ` +
          '("Run on AI Network") and pick one that is listed.'
      );
    }
    if (!this.provisioner) {
      throw labError(
        'LAB_SETTINGS_INCOMPLETE',
        'AI Network is not ready in this JupyterLab (its run pipeline did not start); see the browser console.'
      );
    }
    return this.provisioner(path, provider);
  }

  bindKernel(kernelId: string, server: IAinRemoteServer): void {
    this._kernels.set(kernelId, server);
  }

  serverOfKernel(kernelId: string): IAinRemoteServer | undefined {
    return this._kernels.get(kernelId);
  }

  detach(server: IAinRemoteServer): void {
    for (const [id, s] of this._kernels) {
      if (s === server) {
        this._kernels.delete(id);
      }
    }
  }

  reportStatus(server: IAinRemoteServer, error: unknown | null): void {
    this._serverStatus.emit({ server, error });
  }
}

namespace Private {
  /** A small network glyph in the theme's brand colour (kernel logos are images: no CSS variables inside). */
  export const LOGO =
    'data:image/svg+xml;base64,' +
    btoa(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><g fill="none" stroke="#1976d2" stroke-width="4">' +
        '<circle cx="32" cy="14" r="7"/><circle cx="14" cy="48" r="7"/><circle cx="50" cy="48" r="7"/>' +
        '<path d="M28 20 18 42M36 20l10 22M21 48h22"/></g></svg>'
    );
}
