/**
 * REST pass-through of a run's Jupyter API to its kernel server (IKernelServer.baseUrl).
 *
 * The service has already authenticated the client with the agent's own token; here the client's credentials
 * (`Authorization`, cookies, a `token` query parameter) are removed and the upstream token is added, so neither
 * side's token reaches the other. Nothing else is rewritten, except that a gateway backend's `kernelEnv` is merged
 * into the `env` of `POST api/kernels` bodies (how a gateway learns the run's working folder), and the ids of
 * kernels started are reported to the server (so a gateway's kernels are shut down with the run).
 */
import { IncomingMessage, request, ServerResponse } from 'node:http';
import type { IKernelServer } from './tokens.js';

/** Headers never forwarded upstream: the client's credentials and hop-by-hop headers. */
const DROPPED_REQUEST_HEADERS = new Set([
  'authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'upgrade'
]);

/** Forwards one REST request; `path` is relative to the Jupyter base URL and may carry a query string. */
export function proxyHttp(
  server: IKernelServer,
  req: IncomingMessage,
  res: ServerResponse,
  path: string
): void {
  const target = new URL(upstreamPath(path, req.url), server.baseUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) {
      headers[name] = value;
    }
  }
  if (server.token) {
    headers.authorization = `token ${server.token}`;
  }
  const startsKernel =
    req.method === 'POST' &&
    /^api\/kernels\/?$/.test(target.pathname.slice(new URL(server.baseUrl).pathname.length));
  const send = (body?: Buffer) => {
    if (body) {
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
    }
    const upstream = request(target, { method: req.method, headers }, up => {
      if (startsKernel && server.onKernelStarted && up.statusCode && up.statusCode < 300) {
        // Read the kernel model to learn its id, then send it on unchanged.
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const bytes = Buffer.concat(chunks);
          try {
            server.onKernelStarted!(String(JSON.parse(bytes.toString('utf8')).id));
          } catch {
            // not a kernel model: nothing to record
          }
          res.writeHead(up.statusCode!, up.headers);
          res.end(bytes);
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', e => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
      }
      res.end(
        JSON.stringify({
          message: `The run's kernel server did not answer (${e.message}). Retry, or restart the run.`
        })
      );
    });
    if (body) {
      upstream.end(body);
    } else {
      req.pipe(upstream);
    }
  };
  if (startsKernel && server.kernelEnv) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => send(withKernelEnv(Buffer.concat(chunks), server.kernelEnv!)));
  } else {
    send();
  }
}

/** The upstream path with the client's `token` query parameter removed (the upstream would check it first). */
export function upstreamPath(path: string, requestUrl = ''): string {
  const [pathname, pathQuery] = path.split('?', 2) as [string, string | undefined];
  let query = pathQuery;
  if (query === undefined && requestUrl.includes('?')) {
    query = requestUrl.slice(requestUrl.indexOf('?') + 1);
  }
  const params = new URLSearchParams(query ?? '');
  params.delete('token');
  const rest = params.toString();
  return pathname.replace(/^\/+/, '') + (rest ? `?${rest}` : '');
}

/** A kernel start body with `env` added (the client's own `env` entries win only where the server adds none). */
function withKernelEnv(body: Buffer, env: Record<string, string>): Buffer {
  let model: Record<string, unknown> = {};
  try {
    const parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
    model = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return body; // let the server answer 400 for a malformed body
  }
  const clientEnv = model.env && typeof model.env === 'object' ? (model.env as Record<string, string>) : {};
  model.env = { ...clientEnv, ...env };
  return Buffer.from(JSON.stringify(model), 'utf8');
}
