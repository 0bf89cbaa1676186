/**
 * The agent's service half in-process over real HTTP, against a real anvil: login and tokens, run admission and
 * its refusals, access control on the Jupyter REST and WebSocket API, events as Server-Sent Events with resume,
 * anchoring every N receipts and on request (each checkpoint once on-chain), an RPC outage, budget exhaustion and
 * stop. The run runtime is a small stand-in that answers Jupyter requests, so these tests need no kernel; the
 * receipts are appended to the real SQLite store, as the kernel half does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SigningKey, getAddress } from 'ethers';
import WebSocket, { WebSocketServer } from 'ws';
import { zipSync } from 'fflate';
import { sha256 } from '../../src/core/hash';
import { verifyReceiptProof } from '../../src/core/merkle';
import { validateReceiptChain, verifyReceipt } from '../../src/core/receipt';
import type { ChainSession } from '../../src/chain/session';
import { ProviderAgent } from '../../src/agent/agent';
import { createLogger } from '../../src/agent/metrics';
import type { IRunContext } from '../../src/agent/tokens';
import { IChainFixture, TOKEN, random32, startChainFixture } from './chain-fixture';
import {
  IInProcessAgent,
  PRICE,
  Relay,
  appendReceipts,
  call,
  login,
  loginMessage,
  makeBundle,
  openRun,
  readSse,
  registerProvider,
  standInRuntime,
  startAgent,
  waitFor
} from './agent-service-fixture';

describe('agent service (in-process, real anvil, real HTTP)', () => {
  let chain: IChainFixture;
  let dir: string;
  let fixture: IInProcessAgent;
  let agent: ProviderAgent;
  let base: string;
  let rpc: Relay;
  let session: ChainSession;
  const logLines: string[] = [];
  const contexts = new Map<string, IRunContext>();
  const wss = new WebSocketServer({ noServer: true });
  let clientToken: string;
  let strangerToken: string;

  beforeAll(async () => {
    chain = await startChainFixture();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-agent-'));
    await registerProvider(chain.provider, 'http://127.0.0.1:1');
    await registerProvider(chain.challenger, 'http://127.0.0.1:2');
    fixture = await startAgent(chain, {
      relayed: true,
      dataDir: dir,
      limits: { minEscrowSeconds: 3 },
      checkpoint: { everyReceipts: 3, everySeconds: 0 },
      anchorRetry: { baseMs: 200, maxMs: 800 },
      createRuntime: standInRuntime(contexts, {
        handleRequest(req, res, p) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ path: p, authorization: req.headers.authorization ?? null }));
        },
        handleUpgrade(req, socket, head, p) {
          wss.handleUpgrade(req, socket, head, ws => ws.send(JSON.stringify({ path: p })));
        }
      }),
      logger: createLogger({ level: 'debug', write: l => logLines.push(l) })
    });
    ({ agent, base, session, token: clientToken } = fixture);
    rpc = fixture.rpc!;
    strangerToken = await login(base, chain.stranger.key);
  });

  afterAll(async () => {
    wss.close();
    await fixture?.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves health, info, metrics and its OpenAPI document without a token', async () => {
    expect((await call(base, 'GET', '/health')).json).toMatchObject({
      status: 'ok',
      provider: chain.provider.address
    });
    const info = (await call(base, 'GET', '/info')).json;
    expect(info).toMatchObject({
      provider: chain.provider.address,
      chainId: 31337,
      pricePerHour: PRICE.toString()
    });
    expect((await call(base, 'GET', '/metrics')).text).toMatch(/ain_agent_runs_active/);
    expect((await call(base, 'GET', '/openapi.json')).json.openapi).toBe('3.1.0');
    expect((await call(base, 'GET', '/nowhere')).status).toBe(404);
  });

  it('logs in with a signed EIP-4361 message, refreshes, and refuses replays, forgeries and expired tokens', async () => {
    const signed = await loginMessage(base, chain.client.key);
    const first = await call(base, 'POST', '/auth/login', { json: signed });
    expect(first.status).toBe(200);
    expect(first.json.address).toBe(chain.client.address);
    const replay = await call(base, 'POST', '/auth/login', { json: signed });
    expect(replay.status).toBe(401);
    expect(replay.json.error.code).toBe('AGENT_LOGIN_INVALID');

    const otherDomain = await loginMessage(base, chain.client.key, m => (m.domain = 'evil.example'));
    expect((await call(base, 'POST', '/auth/login', { json: otherDomain })).status).toBe(401);
    const otherAudience = await loginMessage(
      base,
      chain.client.key,
      m => (m.uri = `eip155:31337:${chain.stranger.address}`)
    );
    expect((await call(base, 'POST', '/auth/login', { json: otherAudience })).status).toBe(401);
    const forged = await loginMessage(base, chain.client.key);
    const strangerSig = await loginMessage(base, chain.stranger.key);
    expect(
      (await call(base, 'POST', '/auth/login', { json: { ...forged, signature: strangerSig.signature } }))
        .status
    ).toBe(401);
    // The body is checked against the OpenAPI document first.
    const invalid = await call(base, 'POST', '/auth/login', { json: { message: 'x' } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('AGENT_REQUEST_INVALID');

    const refreshed = await call(base, 'POST', '/auth/refresh', { token: first.json.token });
    expect(refreshed.status).toBe(200);
    expect((await call(base, 'GET', '/runs', { token: first.json.token })).status).toBe(401);
    expect((await call(base, 'GET', '/runs', { token: refreshed.json.token })).status).toBe(200);
    agent.db
      .prepare('UPDATE auth_tokens SET expires_at = ? WHERE token_sha256 = ?')
      .run(Date.now() - 1, sha256(refreshed.json.token));
    const expired = await call(base, 'GET', '/runs', { token: refreshed.json.token });
    expect(expired.status).toBe(401);
    expect(expired.json.error).toEqual({
      code: 'AGENT_UNAUTHORIZED',
      message: 'Log in (POST /auth/nonce, then POST /auth/login) or refresh your token.'
    });
    expect((await call(base, 'GET', '/runs')).status).toBe(401);
  });

  it('refuses runs that are not on-chain, hire another provider, hold another bundle, too little escrow, or a hostile bundle', async () => {
    const bundle = makeBundle('refusals');
    const post = (runId: string, bytes: Uint8Array, token = clientToken) =>
      call(base, 'POST', `/runs?runId=${runId}`, { token, body: bytes });

    const missing = await post(random32(), bundle.bytes);
    expect([missing.status, missing.json.error.code]).toEqual([404, 'AGENT_RUN_NOT_ON_CHAIN']);

    const elsewhere = await openRun(chain.client, chain.challenger.address, bundle.bundleHash, TOKEN(60));
    const wrongProvider = await post(elsewhere, bundle.bytes);
    expect([wrongProvider.status, wrongProvider.json.error.code]).toEqual([409, 'AGENT_RUN_WRONG_PROVIDER']);

    const other = makeBundle('other');
    const forOther = await openRun(chain.client, chain.provider.address, other.bundleHash, TOKEN(60));
    const wrongHash = await post(forOther, bundle.bytes);
    expect([wrongHash.status, wrongHash.json.error.code]).toEqual([409, 'AGENT_BUNDLE_HASH_MISMATCH']);

    const poor = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(2));
    const tooLittle = await post(poor, bundle.bytes);
    expect([tooLittle.status, tooLittle.json.error.code]).toEqual([409, 'AGENT_ESCROW_TOO_LOW']);

    const hostile = zipSync({
      'ain-manifest.json': new Uint8Array([123, 125]),
      '../escape.txt': new Uint8Array([1])
    });
    const forHostile = await openRun(chain.client, chain.provider.address, random32(), TOKEN(60));
    const refusedZip = await post(forHostile, hostile);
    expect(refusedZip.status).toBe(422);
    expect(refusedZip.json.error.code).toBe('BUNDLE_PATH_TRAVERSAL');

    // Another client's run: no detail.
    const notMine = await post(forOther, other.bytes, strangerToken);
    expect(notMine.json.error.code).toBe('AGENT_FORBIDDEN');
    expect(notMine.status).toBe(403);
    expect((await post('0x1234', bundle.bytes)).status).toBe(400);
    expect(agent.runs.list()).toHaveLength(0);
  });

  let runId: string;
  let bundleHash: string;

  it('accepts a run opened on-chain, stores and unpacks its bundle, and gives the salt to its client only', async () => {
    const bundle = makeBundle('accepted');
    bundleHash = bundle.bundleHash;
    runId = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(600));
    const created = await call(base, 'POST', `/runs?runId=${runId}`, {
      token: clientToken,
      body: bundle.bytes
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      runId,
      client: chain.client.address,
      bundleHash,
      jupyterUrl: `/runs/${runId}/jupyter/`
    });
    expect(created.json.salt).toBe(contexts.get(runId)!.salt);
    const again = await call(base, 'POST', `/runs?runId=${runId}`, {
      token: clientToken,
      body: bundle.bytes
    });
    expect(again.status).toBe(200);
    const ctx = contexts.get(runId)!;
    expect(readFileSync(path.join(ctx.workDir, 'data', 'input.csv'), 'utf8')).toContain('accepted');
    expect(ctx.domain).toEqual({ chainId: 31337, verifyingContract: chain.deployment.contracts.runRegistry });
    expect((await call(base, 'GET', `/runs/${runId}`, { token: strangerToken })).status).toBe(403);
    expect((await call(base, 'GET', '/runs', { token: strangerToken })).json.runs).toEqual([]);
    const download = await fetch(`${base}/bundles/${bundleHash}`, {
      headers: { authorization: `Bearer ${clientToken}` }
    });
    expect(Buffer.from(await download.arrayBuffer())).toEqual(Buffer.from(bundle.bytes));
    expect((await call(base, 'GET', `/bundles/${bundleHash}`, { token: strangerToken })).status).toBe(403);
    await waitFor(
      async () => (await call(base, 'GET', `/runs/${runId}`, { token: clientToken })).json.state === 'running'
    );
  });

  it('hands Jupyter REST and WebSocket calls to the runtime only with the run client token', async () => {
    const rest = (token?: string) =>
      call(base, 'GET', `/runs/${runId}/jupyter/api/kernels?x=1`, token ? { token } : {});
    const ok = await rest(clientToken);
    expect(ok.status).toBe(200);
    // The agent's token never travels upstream.
    expect(ok.json).toEqual({ path: 'api/kernels?x=1', authorization: null });
    expect((await rest(strangerToken)).status).toBe(403);
    expect((await rest()).status).toBe(401);
    expect((await rest('not-a-token')).status).toBe(401);

    const ws = (token?: string) =>
      new Promise<{ status?: number; message?: string }>(resolve => {
        const q = token ? `?token=${token}&session_id=s1` : '';
        const socket = new WebSocket(
          `${base.replace('http', 'ws')}/runs/${runId}/jupyter/api/kernels/k1/channels${q}`
        );
        socket.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
        socket.on('message', m => {
          resolve({ message: String(m) });
          socket.close();
        });
        socket.on('error', () => undefined);
      });
    expect(await ws(clientToken)).toEqual({
      message: JSON.stringify({ path: 'api/kernels/k1/channels?session_id=s1' })
    });
    expect((await ws(strangerToken)).status).toBe(403);
    expect((await ws()).status).toBe(401);
  });

  it('anchors every N receipts and on request, each checkpoint once, with proofs that verify', async () => {
    const ctx = contexts.get(runId)!;
    const receipt = () => ctx.onEvent({ type: 'receipt', message: 'receipt' });
    for (let i = 0; i < 7; i++) {
      appendReceipts(agent.store, runId, 1, ctx.domain, ctx.signingKey);
      receipt();
    }
    const onChain = () => chain.client.runs.checkpoints(runId);
    await waitFor(async () => (await onChain()).length === 2, 20000, 'two checkpoints');
    expect((await onChain()).map(c => c.receiptCount)).toEqual([3, 6]);
    const requested = await call(base, 'POST', `/runs/${runId}/anchor`, { token: clientToken });
    expect(requested.json).toEqual({ queued: true, receiptCount: 7 });
    expect((await call(base, 'POST', `/runs/${runId}/anchor`, { token: clientToken })).json.queued).toBe(
      false
    );
    await waitFor(async () => (await onChain()).length === 3, 20000, 'third checkpoint');
    await agent.anchors.idle();
    expect((await onChain()).map(c => c.receiptCount)).toEqual([3, 6, 7]);

    const receipts = (await call(base, 'GET', `/runs/${runId}/receipts`, { token: clientToken })).json
      .receipts;
    const digests = validateReceiptChain(
      receipts.map((r: any) => r.signed.receipt),
      runId,
      ctx.domain
    );
    receipts.forEach((r: any) => verifyReceipt(r.signed, ctx.domain, chain.provider.address));
    const latest = (await onChain())[2];
    const proof = (await call(base, 'GET', `/runs/${runId}/receipts/5/proof`, { token: clientToken })).json;
    expect(proof).toMatchObject({ step: 5, root: latest.root, receiptCount: 7, checkpointIndex: 2 });
    expect(verifyReceiptProof(latest.root, 5, digests[5], proof.proof)).toBe(true);
    const run = await chain.client.runs.getRun(runId);
    expect(run.latestRoot).toBe(latest.root);

    const stream = await readSse(`${base}/runs/${runId}/receipts/stream?follow=false`, clientToken, {
      lastEventId: '4'
    });
    expect(stream.map(e => Number(e.id))).toEqual([5, 6]);
  });

  it('streams progress as Server-Sent Events that resume from Last-Event-ID, live', async () => {
    const all = await readSse(`${base}/runs/${runId}/events?follow=false`, clientToken);
    expect(all[0]).toMatchObject({ id: '1', event: 'accepted' });
    expect(all.map(e => e.event)).toEqual(
      expect.arrayContaining(['kernel-ready', 'receipt', 'anchor-queued', 'anchored'])
    );
    const rest = await readSse(`${base}/runs/${runId}/events?follow=false`, clientToken, {
      lastEventId: '3'
    });
    expect(rest.map(e => Number(e.id))).toEqual(all.slice(3).map(e => Number(e.id)));

    const last = all[all.length - 1].id;
    const live = readSse(`${base}/runs/${runId}/events`, clientToken, {
      lastEventId: last,
      until: events => events.some(e => e.event === 'receipt')
    });
    await new Promise(r => setTimeout(r, 300));
    const ctx = contexts.get(runId)!;
    appendReceipts(agent.store, runId, 1, ctx.domain, ctx.signingKey);
    ctx.onEvent({ type: 'receipt', message: 'step 7' });
    const got = await live;
    expect(got[0].id).toBe(String(Number(last) + 1));
    expect(got.find(e => e.event === 'receipt')!.data.message).toBe('step 7');
  });

  it('queues checkpoints while the RPC endpoint is down and lands them once it is back', async () => {
    const ctx = contexts.get(runId)!;
    rpc.cut();
    appendReceipts(agent.store, runId, 1, ctx.domain, ctx.signingKey);
    expect((await call(base, 'POST', `/runs/${runId}/anchor`, { token: clientToken })).json).toEqual({
      queued: true,
      receiptCount: 9
    });
    const pending = await waitFor(
      () => {
        const c = agent.anchors.checkpoints(runId).find(x => x.receiptCount === 9)!;
        return c.attempts >= 2 ? c : null;
      },
      15000,
      'retries'
    );
    expect(pending.state).toBe('pending');
    expect((await chain.client.runs.getRun(runId)).receiptCount).toBe(7);
    rpc.restore();
    await waitFor(
      () => agent.anchors.checkpoints(runId).find(x => x.receiptCount === 9)!.state === 'anchored',
      15000,
      'landing'
    );
    expect((await chain.client.runs.checkpoints(runId)).map(c => c.receiptCount)).toEqual([3, 6, 7, 9]);
    expect((await call(base, 'GET', '/metrics')).text).toMatch(
      /ain_agent_anchors_total\{result="retry"\} [1-9]/
    );
  });

  it('ends a run when its escrow is used up, with a warning first and a final anchor', async () => {
    const bundle = makeBundle('budget');
    const id = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(4));
    expect(
      (await call(base, 'POST', `/runs?runId=${id}`, { token: clientToken, body: bundle.bytes })).status
    ).toBe(201);
    const ctx = contexts.get(id)!;
    appendReceipts(agent.store, id, 2, ctx.domain, ctx.signingKey);
    ctx.onEvent({ type: 'receipt', message: 'two receipts' });
    const events = await readSse(`${base}/runs/${id}/events`, clientToken, {
      until: e => e.some(x => x.event === 'anchored'),
      timeoutMs: 15000
    });
    const types = events.map(e => e.event);
    expect(types.indexOf('budget-warning')).toBeGreaterThan(0);
    expect(types.indexOf('budget-exhausted')).toBeGreaterThan(types.indexOf('budget-warning'));
    expect(types.indexOf('anchored')).toBeGreaterThan(types.indexOf('budget-exhausted'));
    const run = (await call(base, 'GET', `/runs/${id}`, { token: clientToken })).json;
    expect(run).toMatchObject({ state: 'exhausted', anchoredCount: 2 });
    expect((await call(base, 'GET', `/runs/${id}/jupyter/api/kernels`, { token: clientToken })).status).toBe(
      409
    );
    expect((await chain.client.runs.getRun(id)).receiptCount).toBe(2);
  });

  it('stops a run cleanly with a final checkpoint, and never logs tokens, salts or keys', async () => {
    const stopped = await call(base, 'POST', `/runs/${runId}/stop`, { token: strangerToken });
    expect(stopped.status).toBe(403);
    const ctx = contexts.get(runId)!;
    appendReceipts(agent.store, runId, 1, ctx.domain, ctx.signingKey);
    const ok = await call(base, 'POST', `/runs/${runId}/stop`, { token: clientToken });
    expect(ok.json).toMatchObject({ state: 'stopped', reason: 'stopped by its client' });
    await waitFor(
      async () => (await chain.client.runs.getRun(runId)).receiptCount === 10,
      15000,
      'final anchor'
    );
    const log = logLines.join('\n');
    expect(log).toContain('run-accepted');
    for (const secret of [
      clientToken,
      strangerToken,
      contexts.get(runId)!.salt,
      chain.provider.key.slice(2)
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(getAddress(JSON.parse(logLines.find(l => l.includes('run-accepted'))!).client)).toBe(
      chain.client.address
    );
  });
  it('withholds every anchor under the withhold-anchor fault (development chains only)', async () => {
    const faultyDir = mkdtempSync(path.join(tmpdir(), 'ain-agent-fault-'));
    const faulty = await ProviderAgent.create({
      dataDir: faultyDir,
      session,
      signingKey: new SigningKey(chain.provider.key),
      domain: 'pending',
      pricePerHour: PRICE,
      limits: { minEscrowSeconds: 3 },
      checkpoint: { everyReceipts: 1, everySeconds: 0 },
      fault: 'withhold-anchor',
      logger: createLogger({ write: () => undefined })
    });
    try {
      const bundle = makeBundle('withheld');
      const id = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(60));
      await faulty.createRun(chain.client.address, id, bundle.bytes);
      appendReceipts(faulty.store, id, 2, faulty.registry.domain, new SigningKey(chain.provider.key));
      faulty.emit(id, 'receipt', 'two receipts');
      faulty.anchors.enqueue(id, 'request');
      await faulty.anchors.idle();
      await new Promise(r => setTimeout(r, 500));
      expect(faulty.anchors.checkpoints(id).map(c => c.state)).toEqual(['withheld']);
      expect((await chain.client.runs.getRun(id)).receiptCount).toBe(0);
    } finally {
      await faulty.close();
      rmSync(faultyDir, { recursive: true, force: true });
    }
  });
});
