/**
 * Endpoints named relative to the JupyterLab page. On a JupyterHub such as mybinder.org the chain and a provider run
 * next to the notebook server, on loopback, and the browser reaches them only through the server
 * (jupyter-server-proxy: `/user/<name>/proxy/8545/`). Their public origin is known to the browser alone, so the
 * settings and the provider registry may name them by path (`/user/<name>/proxy/8545/`); the page makes such paths
 * absolute against its own origin before using them. Absolute URLs pass unchanged.
 */

/** `url` made absolute against `page` when it is a path (`/…`, not `//host`); anything else as it is. */
export function pageUrl(url: string, page: string | undefined = globalThis.location?.href): string {
  if (!page || !url.startsWith('/') || url.startsWith('//')) {
    return url;
  }
  return new URL(url, page).href;
}
