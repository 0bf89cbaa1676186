/**
 * Published bundles, for content-addressed launch links (`?ain-bundle=<sha256>@<agent URL>`): a real agent over
 * real HTTP against a real anvil. Bundles stay private until their run's client publishes one; then anyone, from any
 * origin, reads it by hash, and the client side accepts it only when it is the bundle the link names. The
 * publication survives an agent restart. (The run runtime is a stand-in: no kernel is needed here.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SigningKey, Wallet } from 'ethers';
import { isAinError } from '../../src/core/errors';
import { AgentClient } from '../../src/chain/agent-client';
import { fetchPublishedBundle } from '../../src/chain/published-bundles';
import { ChainSession } from '../../src/chain/session';
import { devKeyWallet } from '../../src/chain/wallet';
import { ProviderAgent } from '../../src/agent/agent';
import { AgentServer } from '../../src/agent/http-server';
import { createLogger } from '../../src/agent/metrics';
import type { IRunRuntime } from '../../src/agent/tokens';
import { IChainFixture, TOKEN, startChainFixture } from './chain-fixture';
import { PRICE, call, login, makeBundle, openRun, registerProvider } from './agent-service-fixture';

describe('published bundles (real agent, real anvil, real HTTP)', () => {
  let chain: IChainFixture;
  let dir: string;
  let session: ChainSession;
  let agent: ProviderAgent;
  let server: AgentServer;
  let base: string;
  const bundle = makeBundle('published');
  const other = makeBundle('other');

  const start = async () => {
    const runtime = (): IRunRuntime => ({
      async start() {},
      handleRequest(_req, res) {
        res.end();
      },
      handleUpgrade(_req, socket) {
        socket.destroy();
      },
      async stop() {}
    });
    agent = await ProviderAgent.create({
      dataDir: dir,
      session,
      signingKey: new SigningKey(chain.provider.key),
      domain: 'pending',
      pricePerHour: PRICE,
      limits: { minEscrowSeconds: 3 },
      createRuntime: runtime,
      logger: createLogger({ level: 'error', write: () => undefined })
    });
    server = new AgentServer(agent);
    base = await server.listen(0);
    agent.auth.domain = new URL(base).host;
  };
  const stop = async () => {
    await server.close();
    await agent.close();
  };

  beforeAll(async () => {
    chain = await startChainFixture();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-published-'));
    await registerProvider(chain.provider, 'http://127.0.0.1:1');
    session = await ChainSession.connect(chain.deployment, devKeyWallet(chain.provider.key));
    await start();
    for (const b of [bundle, other]) {
      const runId = await openRun(chain.client, chain.provider.address, b.bundleHash, TOKEN(60));
      const token = await login(base, chain.client.key);
      expect((await call(base, 'POST', `/runs?runId=${runId}`, { token, body: b.bytes })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await stop().catch(() => undefined);
    session?.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps bundles private until their client publishes them; strangers cannot publish', async () => {
    const unpublished = await call(base, 'GET', `/bundles/${bundle.bundleHash}/public`);
    const unknown = await call(base, 'GET', `/bundles/0x${'42'.repeat(32)}/public`);
    expect(unpublished.status).toBe(404);
    // Unknown and unpublished answer alike: a probe learns nothing about private bundles.
    expect(unknown.status).toBe(404);
    const norm = (m: string) => m.replace(/0x[0-9a-f]{64}/g, '<hash>');
    expect(unpublished.json.error.code).toBe('AGENT_NOT_FOUND');
    expect(norm(unpublished.json.error.message)).toBe(norm(unknown.json.error.message));
    const strangerToken = await login(base, chain.stranger.key);
    expect(
      (await call(base, 'POST', `/bundles/${bundle.bundleHash}/publish`, { token: strangerToken })).status
    ).toBe(403);
    expect((await call(base, 'POST', `/bundles/${bundle.bundleHash}/publish`)).status).toBe(401);
  });

  it('serves a published bundle to anyone and any origin; the client checks it against its hash', async () => {
    const client = new AgentClient({ endpoint: base, signer: new Wallet(chain.client.key) });
    await client.login();
    const first = await client.publishBundle(bundle.bundleHash);
    expect(first).toMatchObject({
      bundleHash: bundle.bundleHash,
      path: `/bundles/${bundle.bundleHash}/public`
    });
    const again = await client.publishBundle(bundle.bundleHash);
    expect(again.publishedAt).toBe(first.publishedAt);
    client.dispose();

    const res = await fetch(`${base}/bundles/${bundle.bundleHash}/public`, {
      headers: { origin: 'https://somewhere-else.example' }
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/immutable/);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(bundle.bytes));

    const read = await fetchPublishedBundle(`${base}/`, bundle.bundleHash);
    expect(read.bundleHash).toBe(bundle.bundleHash);
    expect(read.manifest.notebook).toBe('analysis.ipynb');
    expect([...read.files.keys()]).toEqual(['analysis.ipynb', 'data/input.csv']);
    // The other bundle of the same client stays private.
    expect((await call(base, 'GET', `/bundles/${other.bundleHash}/public`)).status).toBe(404);
  });

  it('refuses a bundle that is not the one the link names, and says why when it is not published', async () => {
    // A lying "agent": answers every public read with another (well-formed) bundle.
    const liar = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(other.bytes);
    });
    await new Promise<void>(r => liar.listen(0, '127.0.0.1', r));
    const liarUrl = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    try {
      const e = await fetchPublishedBundle(liarUrl, bundle.bundleHash).catch(x => x);
      expect(isAinError(e, 'BUNDLE_HASH_MISMATCH')).toBe(true);
      expect(e.message).toContain(`sent bundle ${other.bundleHash}, not the ${bundle.bundleHash}`);
    } finally {
      liar.close();
    }
    const refused = await fetchPublishedBundle(base, other.bundleHash).catch(x => x);
    expect(isAinError(refused, 'PROVIDER_REFUSED')).toBe(true);
    expect(refused.message).toMatch(
      /AGENT_NOT_FOUND: No published bundle .* POST \/bundles\/0x[0-9a-f]{64}\/publish/
    );
    const down = await fetchPublishedBundle('http://127.0.0.1:9', bundle.bundleHash).catch(x => x);
    expect(isAinError(down, 'PROVIDER_UNREACHABLE')).toBe(true);
  });

  it('still serves the publication after an agent restart', async () => {
    await stop();
    await start();
    const read = await fetchPublishedBundle(base, bundle.bundleHash);
    expect(read.bundleHash).toBe(bundle.bundleHash);
  });
});
