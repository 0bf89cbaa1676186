/**
 * Server settings for @jupyterlab/services from Node, for a jupyter server at `baseUrl`: a provider agent's
 * `/runs/{id}/jupyter/` pass-through or a local jupyter server. Node only (the browser code in src/lab keeps
 * `ServerConnection.makeSettings()`), because the defaults of `makeSettings` assume a page:
 * - Node has no browser WebSocket for the kernel channels: the `ws` package stands in for it;
 * - the URLs and the token come from the page's config (PageConfig) unless given, and Node has no page: the
 *   websocket URL is `baseUrl` with `ws` for `http` (so `wss` for `https`);
 * - a websocket cannot carry an Authorization header, so `appendToken` puts `token` in the URL of every
 *   websocket (REST calls send it as a header);
 * - `fetch` is Node's own, read when the settings are made.
 * The returned object is plain: a caller may replace its `token` later (a refreshed agent token) and later REST
 * calls and websocket reconnections use the new one.
 */
import { ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';

/** Settings reaching the jupyter server at `baseUrl` (http or https, ending in `/`) with `token`, from Node. */
export function nodeServerSettings(baseUrl: string, token: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, 'ws'),
    token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch
  });
}
