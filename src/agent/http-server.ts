/**
 * The agent's HTTP server: every request goes through the same ordered passes (STYLE.md §10) — match an operation
 * of the OpenAPI document, authenticate, validate parameters, read and validate the body, call the route, answer
 * — and every kernel WebSocket upgrade through match, authenticate, authorize, hand over to the run's runtime.
 *
 * Errors become `{ error: { code, message } }` with a status from the error code. 401 and 403 answers carry one
 * fixed message each, whatever the reason, so a probe learns nothing about tokens or runs it cannot reach.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AinErrorCode, isAinError, makeError } from '../core/errors.js';
import type { ProviderAgent } from './agent.js';
import { forbidden, requestToken, unauthorized } from './auth.js';
import { corsDecision, upgradeOriginAllowed } from './cors.js';
import { OpenApi } from './openapi.js';
import { Handler, IReply, createRoutes } from './router.js';

/** HTTP status of each error code that is the caller's to fix (anything else is a 500). */
const STATUS: Partial<Record<AinErrorCode, number>> = {
  AGENT_REQUEST_INVALID: 400,
  AGENT_UNAUTHORIZED: 401,
  AGENT_LOGIN_INVALID: 401,
  AGENT_FORBIDDEN: 403,
  AGENT_RUN_WRONG_CLIENT: 403,
  AGENT_NOT_FOUND: 404,
  AGENT_RUN_NOT_ON_CHAIN: 404,
  AGENT_RUN_WRONG_PROVIDER: 409,
  AGENT_RUN_NOT_OPEN: 409,
  AGENT_RUN_ENDED: 409,
  AGENT_BUNDLE_HASH_MISMATCH: 409,
  AGENT_ESCROW_TOO_LOW: 409,
  AGENT_NOT_ANCHORED: 409,
  AGENT_BODY_TOO_LARGE: 413,
  AGENT_RUNTIME_UNAVAILABLE: 503,
  CHAIN_UNREACHABLE: 503
};

/** The status of an error: by code; BUNDLE_*, NOTEBOOK_* and ENV_* (a refused bundle) are 422. */
export function statusOf(e: unknown): number {
  if (!isAinError(e)) {
    return 500;
  }
  return STATUS[e.code] ?? (/^(BUNDLE|NOTEBOOK|ENV)_/.test(e.code) ? 422 : 500);
}

/** Options of the HTTP server. */
export interface IAgentServerOptions {
  /** Origins whose pages may call the agent (CORS) and open its WebSockets; `*` for any. None by default. */
  allowedOrigins?: readonly string[];
}

/** The HTTP face of a ProviderAgent. */
export class AgentServer {
  readonly server: Server;
  readonly api: OpenApi;
  private readonly routes: Record<string, Handler>;
  private readonly allowedOrigins: readonly string[];

  constructor(
    private readonly agent: ProviderAgent,
    api: OpenApi = OpenApi.load(),
    options: IAgentServerOptions = {}
  ) {
    this.api = api;
    this.allowedOrigins = options.allowedOrigins ?? [];
    this.routes = createRoutes(agent, api);
    const documented = new Set(api.operations.map(o => o.id));
    const missing = [...documented].filter(id => !this.routes[id]);
    const undocumented = Object.keys(this.routes).filter(id => !documented.has(id));
    if (missing.length || undocumented.length) {
      throw makeError(
        'AGENT_OPENAPI_INVALID',
        `The router and openapi.yaml disagree: no handler for [${missing.join(', ')}]; not documented: ` +
          `[${undocumented.join(', ')}]. Fix openapi.yaml or router.ts.`
      );
    }
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
    // Long polls and kernel websockets stay open; the defaults would cut idle keep-alive streams.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on `host`:`port` (0: a free port) and resolves with the base URL. */
  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        resolve(`http://${host.includes(':') ? `[${host}]` : host}:${a.port}`);
      });
    });
  }

  /** Stops listening and drops open connections (event streams, websockets). */
  close(): Promise<void> {
    return new Promise(resolve => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://agent.invalid');
    let route = 'unknown';
    // CORS first: a preflight never reaches authentication (browsers send it without the token).
    const cors = corsDecision(req.method ?? 'GET', req.headers, this.allowedOrigins);
    for (const [name, value] of Object.entries(cors.headers)) {
      res.setHeader(name, value);
    }
    if (cors.preflight) {
      res.writeHead(cors.status);
      res.end();
      return;
    }
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.agent.metrics.requestDuration.observe(
        { method: req.method ?? '', route, status: res.statusCode },
        seconds
      );
    });
    try {
      const found = this.api.find(req.method ?? 'GET', url.pathname);
      if (!found) {
        throw this.api.knowsPath(url.pathname)
          ? makeError('AGENT_REQUEST_INVALID', `${req.method} is not allowed here; see GET /openapi.json.`)
          : makeError('AGENT_NOT_FOUND', `No route ${url.pathname}; see GET /openapi.json.`);
      }
      const { op, params: pathParams } = found;
      route = op.id;
      const client = this.agent.auth.authenticate(requestToken(req.headers.authorization, url));
      if (op.secured && client === null) {
        throw unauthorized();
      }
      const params = {
        path: pathParams as Record<string, unknown>,
        query: Object.fromEntries(url.searchParams) as Record<string, unknown>,
        headers: { ...req.headers } as Record<string, unknown>
      };
      const problems = op.validateParams(params);
      if (problems.length) {
        throw makeError(
          'AGENT_REQUEST_INVALID',
          `The request does not match the API: ${problems.join('; ')}.`,
          {
            details: problems
          }
        );
      }
      let body: unknown;
      if (op.body === 'json') {
        body = Private.parseJson(await Private.readBody(req, 64 * 1024));
        const bodyProblems = op.validateBody(body);
        if (bodyProblems.length) {
          throw makeError(
            'AGENT_REQUEST_INVALID',
            `The body does not match the API: ${bodyProblems.join('; ')}.`
          );
        }
      } else if (op.body === 'binary') {
        body = await Private.readBody(req, this.agent.limits.maxBundleBytes);
      }
      const reply = await this.routes[op.id]({ req, res, url, params, body, client: client ?? '' });
      if (reply) {
        Private.send(res, reply);
      }
    } catch (e) {
      this.fail(res, e, req);
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent.invalid');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    try {
      const found = this.api.find('GET', url.pathname);
      if (!found || found.op.id !== 'jupyterGet') {
        return refuse(404, 'Not Found');
      }
      if (!upgradeOriginAllowed(req.headers, this.allowedOrigins)) {
        return refuse(403, 'Forbidden');
      }
      const client = this.agent.auth.authenticate(requestToken(req.headers.authorization, url));
      if (client === null) {
        return refuse(401, 'Unauthorized');
      }
      const runtime = await this.agent.runtimeOf(client, found.params.runId);
      delete req.headers.authorization;
      url.searchParams.delete('token');
      const search = url.searchParams.toString();
      runtime.handleUpgrade(req, socket, head, `${found.params.jupyterPath}${search ? `?${search}` : ''}`);
    } catch (e) {
      const status = statusOf(e);
      this.agent.logger.log(status >= 500 ? 'error' : 'info', 'upgrade-refused', { status, error: e });
      refuse(status, status === 403 ? 'Forbidden' : status === 409 ? 'Conflict' : 'Service Unavailable');
    }
  }

  private fail(res: ServerResponse, e: unknown, req: IncomingMessage): void {
    const status = statusOf(e);
    let error: { code: string; message: string };
    if (status === 401) {
      error = {
        code: isAinError(e) ? e.code : 'AGENT_UNAUTHORIZED',
        message: (isAinError(e) ? e : unauthorized()).message
      };
    } else if (status === 403) {
      error = { code: 'AGENT_FORBIDDEN', message: forbidden().message };
    } else if (status === 500) {
      this.agent.logger.log('error', 'request-failed', {
        method: req.method,
        path: req.url?.split('?')[0],
        error: e
      });
      error = { code: 'AGENT_INTERNAL', message: 'The agent failed to answer; its log has the reason.' };
    } else {
      error = { code: (e as { code: string }).code, message: (e as Error).message };
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    // Drop whatever body the client is still sending (a refused upload) instead of reading it, and say so: without
    // `Connection: close` the client keeps the connection for its next request, which then fails as "other side
    // closed" (seen with undici: a refused POST, then the next request on the same keep-alive connection).
    if (!req.complete) {
      res.setHeader('connection', 'close');
      res.once('finish', () => req.destroy());
    }
    Private.send(res, { status, json: { error } });
  }
}

namespace Private {
  export function send(res: ServerResponse, reply: IReply): void {
    if (reply.json !== undefined) {
      const text = JSON.stringify(reply.json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(text);
    } else if (reply.bytes) {
      res.writeHead(reply.status, {
        'content-type': reply.contentType ?? 'application/octet-stream',
        'content-length': reply.bytes.length
      });
      res.end(reply.bytes);
    } else {
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/plain; charset=utf-8' });
      res.end(reply.text ?? '');
    }
  }

  /** Reads the body, refusing (AGENT_BODY_TOO_LARGE) as soon as it passes `max` bytes. */
  export function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      return Promise.reject(tooLarge(max));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          req.removeAllListeners('data');
          req.pause();
          reject(tooLarge(max));
        } else {
          chunks.push(chunk);
        }
      });
      req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      req.on('error', reject);
    });
  }

  function tooLarge(max: number): Error {
    return makeError(
      'AGENT_BODY_TOO_LARGE',
      `The body is larger than this agent accepts (${max} bytes); send less.`,
      {
        max
      }
    );
  }

  export function parseJson(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw makeError('AGENT_REQUEST_INVALID', 'The body is not valid JSON.');
    }
  }
}
