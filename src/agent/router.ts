/**
 * The agent's routes: one handler per operationId of openapi.yaml. The HTTP server (http-server.ts) has already
 * matched the operation, authenticated the caller, validated and coerced the parameters and read the body; a
 * handler only calls the agent and says what to answer. Handlers that stream (Server-Sent Events) or hand the
 * request over (the Jupyter proxy) write the response themselves and answer nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hex32 } from '../core/hash.js';
import type { ProviderAgent } from './agent.js';
import type { OpenApi } from './openapi.js';
import type { IRunEvent } from './tokens.js';
import { PublishedBundles } from './store-published.js';
import { PublishedRuns } from './store-published-runs.js';

/** What a handler gets. */
export interface IRequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path, query and header parameters after validation and coercion. */
  params: { path: Record<string, unknown>; query: Record<string, unknown>; headers: Record<string, unknown> };
  /** The parsed JSON body or the raw bytes, per the operation. */
  body: unknown;
  /** The authenticated client's address (secured operations only). */
  client: string;
}

/** A handler's answer; undefined when the handler wrote the response itself. */
export interface IReply {
  status: number;
  json?: unknown;
  bytes?: Uint8Array;
  text?: string;
  contentType?: string;
}

/** A route handler. */
export type Handler = (ctx: IRequestContext) => Promise<IReply | void> | IReply | void;

/** The handlers, by operationId; the server checks at start-up that they match the document exactly. */
export function createRoutes(agent: ProviderAgent, api: OpenApi): Record<string, Handler> {
  const runId = (ctx: IRequestContext) => ctx.params.path.runId as Hex32;
  const json = (status: number, body: unknown): IReply => ({ status, json: body });
  // Made on first use: the router is also built without an agent, to check it against openapi.yaml.
  let publishedStore: PublishedBundles | undefined;
  const published = () => (publishedStore ??= new PublishedBundles(agent));
  let publishedRunStore: PublishedRuns | undefined;
  const publishedRuns = () => (publishedRunStore ??= new PublishedRuns(agent));
  /** Public reads: any page may read them (no credentials involved). */
  const anyOrigin = (ctx: IRequestContext) => ctx.res.setHeader('access-control-allow-origin', '*');
  const jupyter: Handler = async ctx => {
    const runtime = await agent.runtimeOf(ctx.client, runId(ctx));
    // The agent's token stays here: the runtime talks upstream with its own.
    delete ctx.req.headers.authorization;
    ctx.url.searchParams.delete('token');
    const search = ctx.url.searchParams.toString();
    runtime.handleRequest(
      ctx.req,
      ctx.res,
      `${ctx.params.path.jupyterPath as string}${search ? `?${search}` : ''}`
    );
  };
  return {
    getHealth: () => json(200, agent.health()),
    getInfo: () =>
      json(200, {
        provider: agent.address,
        chainId: agent.options.session.config.chainId,
        runRegistry: agent.options.session.config.contracts.runRegistry,
        pricePerHour: agent.options.pricePerHour.toString(),
        capabilities: agent.options.capabilities ?? {},
        limits: agent.limits,
        checkpoint: {
          everyReceipts: agent.options.checkpoint?.everyReceipts ?? 10,
          everySeconds: agent.options.checkpoint?.everySeconds ?? 60
        },
        ...(agent.options.fault ? { fault: agent.options.fault } : {})
      }),
    getMetrics: async () => ({
      status: 200,
      text: await agent.metrics.registry.metrics(),
      contentType: agent.metrics.registry.contentType
    }),
    getOpenApi: () => json(200, api.document),
    createNonce: () => json(200, agent.auth.challenge()),
    login: async ctx => {
      const body = ctx.body as { message: string; signature: string };
      return json(200, await agent.auth.login(body.message, body.signature));
    },
    refreshToken: ctx => json(200, agent.auth.refresh(Private.token(ctx))),
    listRuns: ctx => json(200, { runs: agent.runs.list(ctx.client).map(r => agent.views.run(r)) }),
    createRun: async ctx => {
      const { created, run } = await agent.createRun(
        ctx.client,
        ctx.params.query.runId as Hex32,
        ctx.body as Uint8Array
      );
      return json(created ? 201 : 200, agent.views.run(run));
    },
    getRun: ctx => json(200, agent.views.run(agent.runOf(ctx.client, runId(ctx)))),
    stopRun: async ctx => json(200, agent.views.run(await agent.stopRun(ctx.client, runId(ctx)))),
    anchorRun: ctx => {
      agent.runOf(ctx.client, runId(ctx));
      return json(202, agent.anchors.enqueue(runId(ctx), 'request'));
    },
    listCheckpoints: ctx => json(200, { checkpoints: agent.views.checkpoints(ctx.client, runId(ctx)) }),
    listReceipts: ctx => json(200, { receipts: agent.views.receipts(ctx.client, runId(ctx)) }),
    getReceiptProof: ctx =>
      json(200, agent.views.proof(ctx.client, runId(ctx), ctx.params.path.step as number)),
    getBundle: async ctx => ({
      status: 200,
      bytes: await agent.views.bundle(ctx.client, ctx.params.path.bundleHash as Hex32),
      contentType: 'application/octet-stream'
    }),
    publishBundle: ctx => json(200, published().publish(ctx.client, ctx.params.path.bundleHash as Hex32)),
    getPublishedBundle: async ctx => {
      const bytes = await published().read(ctx.params.path.bundleHash as Hex32);
      // Public and content-addressed: any page may read it (no credentials involved), and it never changes.
      ctx.res.setHeader('access-control-allow-origin', '*');
      ctx.res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      return { status: 200, bytes, contentType: 'application/octet-stream' };
    },
    publishRun: ctx => json(200, publishedRuns().publish(ctx.client, runId(ctx))),
    getPublishedReceipts: ctx => {
      const receipts = publishedRuns().receipts(runId(ctx));
      anyOrigin(ctx);
      return json(200, { receipts });
    },
    getPublishedArtifact: ctx => {
      const bytes = publishedRuns().artifact(runId(ctx), ctx.params.path.sha256 as Hex32);
      anyOrigin(ctx);
      return { status: 200, bytes, contentType: 'application/octet-stream' };
    },
    getArtifact: ctx => ({
      status: 200,
      bytes: agent.views.artifact(ctx.client, ctx.params.path.sha256 as Hex32),
      contentType: 'application/octet-stream'
    }),
    streamEvents: ctx => {
      const id = runId(ctx);
      agent.runOf(ctx.client, id);
      const after = Number(ctx.params.headers['last-event-id'] ?? 0);
      const stream = Private.sse(ctx);
      const send = (e: IRunEvent) => stream.send(String(e.seq), e.type, e);
      agent.runs.events(id, after).forEach(send);
      if (ctx.params.query.follow === false) {
        return stream.end();
      }
      stream.onClose(agent.subscribe(id, send));
    },
    streamReceipts: ctx => {
      const id = runId(ctx);
      agent.runOf(ctx.client, id);
      const header = ctx.params.headers['last-event-id'];
      let next = header === undefined ? 0 : Number(header) + 1;
      const stream = Private.sse(ctx);
      const flush = () => {
        for (const r of agent.store.receipts(id).slice(next)) {
          stream.send(String(r.signed.receipt.step), 'receipt', r);
          next = r.signed.receipt.step + 1;
        }
      };
      flush();
      if (ctx.params.query.follow === false) {
        return stream.end();
      }
      stream.onClose(agent.subscribe(id, e => e.type === 'receipt' && flush()));
    },
    jupyterGet: jupyter,
    jupyterPost: jupyter,
    jupyterPut: jupyter,
    jupyterPatch: jupyter,
    jupyterDelete: jupyter
  };
}

namespace Private {
  export function token(ctx: IRequestContext): string | undefined {
    const m = /^(?:Bearer|token)\s+(\S+)$/i.exec(ctx.req.headers.authorization ?? '');
    return m ? m[1] : (ctx.url.searchParams.get('token') ?? undefined);
  }

  /** A Server-Sent Events response with a heartbeat that keeps proxies from closing an idle stream. */
  export function sse(ctx: IRequestContext) {
    const { req, res } = ctx;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    });
    res.flushHeaders();
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    heartbeat.unref();
    const closers: (() => void)[] = [() => clearInterval(heartbeat)];
    const close = () => closers.splice(0).forEach(f => f());
    req.on('close', close);
    return {
      send(id: string, event: string, data: unknown) {
        res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      onClose(f: () => void) {
        closers.push(f);
      },
      end() {
        close();
        res.end();
      }
    };
  }
}
